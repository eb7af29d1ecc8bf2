"""The fixed words of the report format (docs/report-format.md): its name, the text
every hidden count shows, and the "no answer" row and column of a breakdown. The
staff side writes them, the renderer and any reader's tools read them."""

from survey.i18n import N_

FORMAT = "chorus-report/1"
# What a hidden count shows instead of a number, everywhere (cells, CSV, XLSX, pages).
SUPPRESSED = "suppressed"
NO_ANSWER = "no_answer"
# The row and column label; written into the document in the report's language.
NO_ANSWER_LABEL = N_("No answer")
