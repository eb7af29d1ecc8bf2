"""Cells that a spreadsheet shows as text and never runs as a formula.

Respondents, facilitators, analysts and companies all type text that ends up
in CSV and XLSX files, and those are opened in Excel, LibreOffice or Google
Sheets. A cell that starts with "=", "+", "-", "@" or "|" is read as a formula
there (or as a command, `|cmd`): it can fetch a URL with the data beside it or
run a command. So can one that only looks different to a plain comparison: the
full-width "＝" and "＋" and the other compatibility forms of those signs (which
NFKC folds into them), or a sign after spaces, line breaks or invisible
characters that a spreadsheet skips. Following OWASP's advice on CSV injection,
such text gets a leading apostrophe, which every spreadsheet reads as "this is
text" and which a person reading the file understands; the text after it is
exactly what was typed. A cell that starts with any control character (a tab,
carriage return, line feed, NUL) is guarded whatever follows, as OWASP and ASVS
ask.

Only text is touched: a real number (-3, 2.5) is written as the number it is.
Every CSV and XLSX writer in Chorus puts its cells through `safe_cell`.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any

# What a spreadsheet may read as the start of a formula (or of a command).
FORMULA_SIGNS = frozenset("=+-@|")


def first_visible(text: str) -> str:
    """The first character of `text` a spreadsheet would read, in its NFKC form
    ("＝" is "="): spaces, line breaks and invisible (format) characters before it
    skipped. Empty when there is none. Only that one character is normalised, so a
    combining mark after "=" (NFKC would make "=\u0338" into "≠") changes nothing."""
    for character in text:
        if not (character.isspace() or unicodedata.category(character) in ("Cc", "Cf")):
            return unicodedata.normalize("NFKC", character)[:1]
    return ""


def looks_like_formula(value: Any) -> bool:
    """Whether a spreadsheet could read `value` as a formula (text only): it starts
    with a control character, or its first visible character is a formula sign."""
    if not isinstance(value, str) or not value:
        return False
    return unicodedata.category(value[0]) == "Cc" or first_visible(value) in FORMULA_SIGNS


def safe_cell(value: Any) -> Any:
    """`value` ready for a CSV cell: text that starts like a formula gets a leading
    apostrophe; numbers, None and everything else are returned unchanged."""
    return "'" + value if looks_like_formula(value) else value


def safe_row(row: Any) -> list[Any]:
    """Every cell of a row through `safe_cell`."""
    return [safe_cell(value) for value in row]


def protect_xlsx_cell(cell: Any) -> None:
    """The XLSX form of the same rule, for an openpyxl cell already filled in.

    XLSX cells have types, so text is stored as text (never as a formula) and
    keeps its exact wording; text that starts like a formula also gets Excel's
    "quote prefix", the stored form of a typed leading apostrophe, so it stays
    text when someone edits the cell or saves the sheet as CSV.
    """
    if isinstance(cell.value, str):
        cell.data_type = "s"
        if looks_like_formula(cell.value):
            cell.quotePrefix = True


def rows_csv(header: Sequence[Any], rows: Iterable[Sequence[Any]]) -> str:
    """CSV text: a header row, then `rows`, every cell through `safe_cell`.

    None is an empty cell, numbers are written as Python writes them, and lines
    end with "\n".
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(safe_row(header))
    writer.writerows(safe_row(row) for row in rows)
    return out.getvalue()
