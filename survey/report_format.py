"""The fixed words of the report format (docs/report-format.md): its name, the text
every hidden count shows, and the "no answer" row and column of a breakdown. The
staff side writes them, the renderer and any reader's tools read them."""

FORMAT = "chorus-report/1"
# What a hidden count shows instead of a number, everywhere (cells, CSV, XLSX, pages).
SUPPRESSED = "suppressed"
NO_ANSWER = "no_answer"
NO_ANSWER_LABEL = "No answer"
