"""Previewing and publishing reports, and `chorus report build`."""

from __future__ import annotations

import json
import subprocess

from sqlalchemy import select

from admin.reports.draft import DraftReport, FindingDraft, save_draft
from survey.models import AuditEntry, Organisation, ReportVersion, Response, Role, db
from survey.surveys import find_survey
from tests.factories import (
    CUSTODIAN_EMAIL,
    CUSTODIAN_PASSWORD,
    Respondent,
    csrf,
    page_text,
    sign_in_enrolled,
    unlocked_analyst,
)

ORG = "Example Messaging Ltd"


def with_findings(survey):
    save_draft(
        survey,
        DraftReport(
            findings=[
                FindingDraft(
                    id="harm",
                    title="Encryption without safeguards harms children",
                    feature="end-to-end encryption",
                    affected_by=["age_band"],
                    severity_question="harm_scale",
                    mitigation_questions=["wanted"],
                    narrative="Keep **detection** working.",
                )
            ]
        ),
    )


def publish(client, data):
    path = "/staff/surveys/small/report/publish"
    return client.post(path, data={"csrf_token": csrf(client, path), **data})


def test_preview_then_publish_freezes_a_version_for_the_chosen_organisation(app, answered_survey):
    survey, _ = answered_survey
    with_findings(survey)
    org = Organisation(name=ORG)
    other = Organisation(name="Elsewhere Ltd")
    db.session.add_all([org, other])
    db.session.commit()
    client = unlocked_analyst(app)

    preview = page_text(client.get("/staff/surveys/small/report/preview"))
    assert "Preview of the next version" in preview
    assert "Encryption without safeguards harms children" in preview
    assert db.session.scalar(select(ReportVersion)) is None  # a preview stores nothing

    nobody = publish(client, {"understood": "yes"})
    assert nobody.status_code == 422 and "at least one organisation" in page_text(nobody)
    careless = publish(client, {"organisation": org.id})
    assert careless.status_code == 422 and "can't be changed" in page_text(careless)

    done = publish(client, {"organisation": org.id, "understood": "yes"})
    assert done.status_code == 200 and "Version 1 is published" in page_text(done)
    version = db.session.scalar(select(ReportVersion))
    assert [o.name for o in version.addressees] == [ORG]
    document = json.loads(version.snapshot_json)
    assert document["format"] == "chorus-report/1" and document["version"] == 1
    assert document["addressed_to"] == [ORG] and document["respondents"] == 60
    assert version.pdf.startswith(b"%PDF") and "<html" in version.html
    assert find_survey("small").report_published_week == version.published_week
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "report.publish"))
    assert json.loads(entry.details)["organisations"] == [ORG]

    # A second version links to the first; the same respondents differ by 0: allowed.
    again = publish(client, {"organisation": [org.id, other.id], "understood": "yes"})
    assert again.status_code == 200
    second = db.session.scalar(select(ReportVersion).where(ReportVersion.version == 2))
    assert second.previous_id == version.id
    assert json.loads(second.snapshot_json)["previous_version"] == 1


def test_publishing_ends_withdrawal_of_the_answers_it_counts(app, make_open_survey):
    from survey.synthetic import add_synthetic_responses

    survey, _ = make_open_survey()
    add_synthetic_responses(survey, 25, seed=3)
    db.session.add(Organisation(name=ORG))
    db.session.commit()
    client = unlocked_analyst(app)
    org = db.session.scalar(select(Organisation))
    results_only = {"organisation": org.id, "understood": "yes", "no_findings": "yes"}
    assert publish(client, results_only).status_code == 200
    assert all(db.session.scalars(select(Response.counted)))
    page = page_text(Respondent(app.test_client(), "small").get("/s/small/withdraw"))
    assert "Answers in it can no longer be withdrawn" in page
    assert "until the next version of the report is published" in page


def test_a_report_without_findings_is_published_only_when_that_is_confirmed(app, answered_survey):
    """A draft with no findings would reach the companies as "0 of 0 findings": the
    page says so, and publishing needs "Publish it without findings" ticked."""
    db.session.add(Organisation(name=ORG))
    db.session.commit()
    org = db.session.scalar(select(Organisation))
    client = unlocked_analyst(app)
    page = page_text(client.get("/staff/surveys/small/report/publish"))
    assert "This report has no findings" in page
    assert "Publish it without findings" in page

    refused = publish(client, {"organisation": org.id, "understood": "yes"})
    assert refused.status_code == 422
    assert "Tick “Publish it without findings”" in page_text(refused)
    assert 'href="#no_findings"' in refused.get_data(as_text=True)
    assert db.session.scalar(select(ReportVersion)) is None
    # What was ticked stays ticked.
    assert 'id="understood" name="understood" value="yes" checked' in refused.get_data(as_text=True)

    done = publish(client, {"organisation": org.id, "understood": "yes", "no_findings": "yes"})
    assert done.status_code == 200 and "Version 1 is published" in page_text(done)


def test_a_report_with_findings_asks_no_such_question(app, answered_survey):
    survey, _ = answered_survey
    with_findings(survey)
    client = unlocked_analyst(app)
    page = page_text(client.get("/staff/surveys/small/report/publish"))
    assert "no findings" not in page and "without findings" not in page


def test_the_publish_page_says_it_takes_a_while_and_a_second_press_publishes_nothing(
    app, answered_survey
):
    """Publishing takes seconds (the PDF): the page says so before the button, and the
    form carries the version it publishes, so the same form sent twice publishes once."""
    survey, _ = answered_survey
    with_findings(survey)
    db.session.add(Organisation(name=ORG))
    db.session.commit()
    org = db.session.scalar(select(Organisation))
    client = unlocked_analyst(app)
    html = client.get("/staff/surveys/small/report/publish").get_data(as_text=True)
    assert "it can take up to a minute" in html
    assert "Publish version 1" in html
    assert 'data-busy="publish-status"' in html and 'role="status"' in html
    assert "busy.js" in html
    assert 'name="version" value="1"' in html

    form = {"organisation": org.id, "understood": "yes", "version": "1"}
    first = publish(client, form)
    assert "Version 1 is published" in page_text(first)
    second = publish(client, form)
    assert second.status_code == 200
    assert "already published, so nothing more was published" in page_text(second)
    assert [v.version for v in db.session.scalars(select(ReportVersion))] == [1]
    # A fresh form publishes the next version.
    assert 'name="version" value="2"' in client.get("/staff/surveys/small/report/publish").get_data(
        as_text=True
    )


def test_too_few_respondents_are_refused_before_anything_is_stored(app, make_open_survey):
    make_open_survey()
    db.session.add(Organisation(name=ORG))
    db.session.commit()
    client = unlocked_analyst(app)
    page = page_text(client.get("/staff/surveys/small/report/publish"))
    assert "need at least 20" in page
    org = db.session.scalar(select(Organisation))
    refused = publish(client, {"organisation": org.id, "understood": "yes"})
    assert refused.status_code == 422 and db.session.scalar(select(ReportVersion)) is None


def test_preview_and_publish_need_the_survey_unlocked(app, answered_survey):
    client = app.test_client()
    sign_in_enrolled(client, CUSTODIAN_EMAIL, CUSTODIAN_PASSWORD)
    for path in ("/staff/surveys/small/report/preview", "/staff/surveys/small/report/publish"):
        response = client.get(path)
        assert response.status_code == 302 and response.location.endswith("/keys")


def test_report_build_writes_json_html_and_pdf(app, make_open_survey, tmp_path):
    from survey.synthetic import add_synthetic_responses

    survey, code = make_open_survey()
    add_synthetic_responses(survey, 30, seed=5)
    with_findings(survey)
    runner = app.test_cli_runner()
    out = tmp_path / "report"
    wrong = runner.invoke(args=["report", "build", "small", "--out", str(out)], input="nope\n")
    assert wrong.exit_code == 1 and "recovery code" in wrong.output and not out.exists()
    result = runner.invoke(args=["report", "build", "small", "--out", str(out)], input=code + "\n")
    assert result.exit_code == 0, result.output
    assert "not published" in result.output
    document = json.loads((out / "report.json").read_text("utf-8"))
    assert document["respondents"] == 30 and document["findings"][0]["id"] == "harm"
    assert (out / "report.html").read_text("utf-8").startswith("<!doctype html>")
    text = subprocess.run(
        ["pdftotext", str(out / "report.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Encryption without safeguards harms children" in text
    by_password = runner.invoke(
        args=["report", "build", "small", "--out", str(out), "--custodian", CUSTODIAN_EMAIL],
        input=CUSTODIAN_PASSWORD + "\n",
    )
    assert by_password.exit_code == 0, by_password.output
    assert db.session.scalar(select(ReportVersion)) is None  # built, never published


def test_tables_download_for_the_addressed_company_and_staff_only(app, make_published_report):
    import csv
    import io

    from openpyxl import load_workbook

    from tests.factories import make_user, sign_in

    version = make_published_report(["Example Messaging Ltd"])
    make_user("reader@example.org", roles=(Role.COMPANY,), org="Example Messaging Ltd")
    make_user("other@example.org", roles=(Role.COMPANY,), org="Elsewhere Ltd")
    make_user("fac@example.org")
    base = f"/portal/reports/{version.id}"
    for email, expected in (
        ("reader@example.org", 200),
        ("fac@example.org", 200),
        ("other@example.org", 404),
    ):
        client = app.test_client()
        sign_in(client, email)
        for path in ("/tables.csv", "/tables.xlsx", "/report.pdf", "/report.html"):
            assert client.get(base + path).status_code == expected, (email, path)
    client = app.test_client()
    sign_in(client, "reader@example.org")
    rows = list(csv.reader(io.StringIO(client.get(base + "/tables.csv").get_data(as_text=True))))
    assert any("suppressed" in row for row in rows)
    workbook = load_workbook(io.BytesIO(client.get(base + "/tables.xlsx").get_data()))
    assert len(workbook.sheetnames) >= 2


def test_the_audit_log_holds_only_the_published_respondent_figure(app, make_open_survey, tmp_path):
    """23 respondents in a report rounded to base 5: the report says 25, and so must
    the audit log (readable by admins who hold no key); never the exact 23."""
    from admin.analysis.frame import answers_frame
    from admin.reports.draft import draft_for
    from admin.reports.publish import publish as publish_report
    from survey.surveys import unwrap_with_recovery_code
    from survey.synthetic import add_synthetic_responses

    survey, code = make_open_survey()
    add_synthetic_responses(survey, 23, seed=7)
    with_findings(survey)
    draft = draft_for(survey)
    draft.rounding = True
    save_draft(survey, draft)
    org = Organisation(name=ORG)
    db.session.add(org)
    db.session.commit()

    frame = answers_frame(survey, unwrap_with_recovery_code(survey, code))
    version = publish_report(survey, frame, draft_for(survey), [org], "ana@example.org")
    assert json.loads(version.snapshot_json)["respondents"] == 25
    runner = app.test_cli_runner()
    built = runner.invoke(
        args=["report", "build", "small", "--out", str(tmp_path / "r")], input=code + "\n"
    )
    assert built.exit_code == 0, built.output

    for action in ("report.publish", "report.build"):
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == action))
        details = json.loads(entry.details)
        assert details.get("respondents") in (25, None), (action, details)
        assert "23" not in entry.details, (action, entry.details)


def refuse_every_fetch(monkeypatch):
    """Make WeasyPrint's fetcher fail fatally, as it does for a URL it must not read,
    and give the document an image to fetch (its charts are drawn in the page, so a
    report fetches nothing of itself)."""
    import weasyprint.urls

    from admin.reports import render

    def fatal(self, url, headers=None):
        raise weasyprint.urls.FatalURLFetchingError(f'Error fetching "{url}"')

    monkeypatch.setattr(weasyprint.urls.URLFetcher, "fetch", fatal)
    drawn = render.standalone_html
    image = '<img src="data:image/png;base64,iVBORw0KGgo=" alt=""></body>'
    monkeypatch.setattr(
        render, "standalone_html", lambda report: drawn(report).replace("</body>", image)
    )


def test_a_fatal_fetch_while_rendering_the_pdf_is_an_ordinary_error(
    app, answered_survey, monkeypatch
):
    from admin.reports import render
    from tests.factories import sample_report

    refuse_every_fetch(monkeypatch)
    try:
        render.report_pdf(sample_report())
    except render.RenderError as exc:
        assert "PDF" in str(exc)
    else:
        raise AssertionError("no RenderError")

    survey, _ = answered_survey
    with_findings(survey)
    org = Organisation(name=ORG)
    db.session.add(org)
    db.session.commit()
    client = unlocked_analyst(app)
    refused = publish(client, {"organisation": org.id, "understood": "yes"})
    assert refused.status_code == 422
    assert "PDF" in page_text(refused)
    assert db.session.scalar(select(ReportVersion)) is None


def test_a_fatal_fetch_in_report_build_is_a_clear_message(
    app, make_open_survey, tmp_path, monkeypatch
):
    from survey.synthetic import add_synthetic_responses

    survey, code = make_open_survey()
    add_synthetic_responses(survey, 30, seed=5)
    refuse_every_fetch(monkeypatch)
    out = tmp_path / "report"
    result = app.test_cli_runner().invoke(
        args=["report", "build", "small", "--out", str(out)], input=code + "\n"
    )
    assert result.exit_code == 1
    assert "PDF" in result.output and "Traceback" not in result.output
    assert not (out / "report.pdf").exists()
