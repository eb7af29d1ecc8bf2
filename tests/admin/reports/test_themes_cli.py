"""The command-line path for large consultations: import a codebook, code from its
rules, export and approve quotes, build a report with themes and quotes."""

from __future__ import annotations

import csv
import io
import json

from admin.reports.draft import DraftReport, FindingDraft, store_draft
from survey.models import AuditEntry, db
from tests.factories import CUSTODIAN_EMAIL, CUSTODIAN_PASSWORD, answered_small_survey, person

STORY = "They deleted the evidence before I could report it, Dave saw it all."
PEOPLE = (
    [person("adult", 3, ["detect"], story=STORY, consent=True) for _ in range(30)]
    + [person("under_18", 4, ["detect"], story=STORY, consent=True) for _ in range(15)]
    + [person("adult", 2, ["report"], story="I was fine.", consent=True) for _ in range(12)]
)
CODEBOOK = (
    "id,label,description,feature,harm,keywords\n"
    "evidence,Evidence disappears,Messages vanish,disappearing messages,no proof,"
    "evidence; deleted\n"
    "ignored,Not listened to,,reporting,,listened\n"
)
PASSWORD_IN = CUSTODIAN_PASSWORD + "\n"


def chorus(app, *args):
    result = app.test_cli_runner().invoke(
        args=[*args, "--custodian", CUSTODIAN_EMAIL], input=PASSWORD_IN
    )
    assert result.exit_code == 0, result.output
    return result.output


def test_codebook_rules_quotes_and_a_themed_report_from_the_command_line(app, tmp_path):
    survey, _ = answered_small_survey(PEOPLE)
    book = tmp_path / "codebook.csv"
    book.write_text(CODEBOOK, "utf-8")
    assert "Added 2 themes, updated 0." in chorus(app, "themes", "import", "small", str(book))
    assert chorus(app, "themes", "export", "small") == CODEBOOK.replace(
        "evidence; deleted", "evidence; deleted"
    )

    coded = chorus(app, "themes", "code", "small", "--from-rules")
    assert "evidence  45 answers" in coded and "ignored   0 answers" in coded

    candidates = tmp_path / "quotes.csv"
    chorus(app, "quotes", "export", "small", "--out", str(candidates), "--theme", "evidence")
    rows = list(csv.DictReader(io.StringIO(candidates.read_text("utf-8"))))
    assert len(rows) == 45 and all("Dave" not in r["text"] for r in rows)
    assert rows[0]["themes"] == "evidence" and rows[0]["approved"] == ""
    rows[0]["approved"] = "yes"
    rows[0]["text"] = "They deleted the evidence before I could report it."
    rows[1]["approved"] = "no"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    candidates.write_text(out.getvalue(), "utf-8")
    approved = chorus(app, "quotes", "approve", "small", str(candidates))
    assert "Approved 1, rejected 1, left 43 undecided." in approved

    store_draft(
        survey,
        DraftReport(
            theme_breakdown_by="age_band",
            findings=[FindingDraft(id="lost", title="Evidence is lost", themes=["evidence"])],
        ),
    )
    built = tmp_path / "report"
    chorus(app, "report", "build", "small", "--out", str(built))
    report = json.loads((built / "report.json").read_text("utf-8"))
    evidence, ignored = report["themes"]
    assert (evidence["count"], evidence["answered"]) == (45, 57)
    assert evidence["breakdown"]["counts"] == [15, 30, 0]
    assert evidence["quotes"] == ["They deleted the evidence before I could report it."]
    assert ignored["count"] == 0 and ignored["quotes"] == []  # nobody: shown, not hidden
    assert report["findings"][0]["quotes"] == evidence["quotes"]
    html = (built / "report.html").read_text("utf-8")
    assert html.index('id="report-themes"') < html.index('id="report-questions"')
    assert "They deleted the evidence before I could report it." in html

    # The audit log says what was done, never which answer or what words.
    db.session.rollback()
    details = " ".join(f"{e.action} {e.details}" for e in db.session.scalars(db.select(AuditEntry)))
    assert "themes.code" in details and "quotes.decide" in details
    assert "deleted the evidence" not in details and ":story:" not in details


def test_a_bad_codebook_file_is_refused_whole(app, tmp_path):
    answered_small_survey(PEOPLE[:3])
    book = tmp_path / "codebook.csv"
    book.write_text("id,label,description,feature,harm,keywords\nBad Id,,,,,\n", "utf-8")
    result = app.test_cli_runner().invoke(
        args=["themes", "import", "small", str(book), "--custodian", CUSTODIAN_EMAIL],
        input=PASSWORD_IN,
    )
    assert result.exit_code == 1
    assert "nothing changed" in result.output and "row 2, id" in result.output
    coded = app.test_cli_runner().invoke(
        args=["themes", "code", "small", "--from-rules", "--custodian", CUSTODIAN_EMAIL],
        input=PASSWORD_IN,
    )
    assert coded.exit_code == 1 and "has no themes yet" in coded.output


def test_quotes_of_a_survey_in_a_language_without_a_masker_are_never_exported(app, tmp_path):
    from tests.admin.reports.test_theme_pages import in_languages
    from tests.factories import small_survey_document

    document = in_languages(small_survey_document(), ("fr", "en"))
    answered_small_survey(PEOPLE[:12], **document)
    out = tmp_path / "quotes.csv"
    result = app.test_cli_runner().invoke(
        args=["quotes", "export", "small", "--out", str(out), "--custodian", CUSTODIAN_EMAIL],
        input=PASSWORD_IN,
    )
    assert result.exit_code == 1
    assert "Chorus can't mask answers written in French (fr)" in result.output
    assert "no answer is offered as a quote" in result.output
    assert not out.exists() and "Dave" not in result.output


def test_importing_a_codebook_warns_about_names_places_and_contact_details(app, tmp_path):
    answered_small_survey(PEOPLE[:3])
    book = tmp_path / "codebook.csv"
    book.write_text(
        "id,label,description,feature,harm,keywords\n"
        'blocked,"Block, account, jamie",,,,blocked; leeds\n',
        "utf-8",
    )
    imported = chorus(app, "themes", "import", "small", str(book))
    assert "Added 1 themes, updated 0." in imported
    assert "blocked, label: “jamie” looks like a person's name" in imported
    assert "blocked, keywords: “leeds” looks like a place" in imported
