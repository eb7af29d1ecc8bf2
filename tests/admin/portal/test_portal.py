"""The company portal: who sees which report, answering findings, history, exports."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date

import pytest
from sqlalchemy import select

from admin.portal.answers import (
    AnswerError,
    all_answers,
    answer_finding,
    answer_history,
    current_answers,
    versions_for,
)
from survey.definition import parse_definition
from survey.models import AuditEntry, FindingAnswer, FindingStatus, Organisation, Role, db
from survey.surveys import import_definition
from tests.factories import (
    csrf,
    make_user,
    page_text,
    sign_in,
    sign_in_enrolled,
    small_survey_document,
)

ACME = "Example Messaging Ltd"
OTHER = "Elsewhere Ltd"
F1 = "f1"
F1_TITLE = "Survivors want detection kept when encryption is added"


def org(name: str) -> Organisation:
    return db.session.scalar(select(Organisation).where(Organisation.name == name))


def reader(app, email="reader@acme.example", organisation=ACME):
    """A client signed in as a company reader of `organisation`."""
    make_user(email, roles=(Role.COMPANY,), org=organisation)
    client = app.test_client()
    sign_in(client, email)
    return client


def staff(app, role=Role.FACILITATOR, email="staff@example.org"):
    make_user(email, roles=(role,))
    client = app.test_client()
    sign_in_enrolled(client, email)
    return client


def finding_path(version, finding_id=F1):
    return f"/portal/reports/{version.id}/findings/{finding_id}"


def answer(client, version, finding_id=F1, status="accepted", planned_for="", text=""):
    """Answer a finding on its own page, as the form there does."""
    path = finding_path(version, finding_id)
    return client.post(
        path,
        data={
            "csrf_token": csrf(client, f"/portal/reports/{version.id}"),
            "status": status,
            "planned_for": planned_for,
            "text": text,
        },
    )


# --- operations ------------------------------------------------------------------------


def test_versions_for_lists_only_addressed_versions_newest_first(app, make_published_report):
    first = make_published_report([ACME])
    make_published_report([OTHER])
    both = make_published_report([ACME, OTHER])
    assert [v.version for v in (first, both)] == [1, 3]
    assert both.previous_id is not None
    assert [v.id for v in versions_for(org(ACME))] == [both.id, first.id]
    assert [v.id for v in versions_for(org(OTHER))] == [both.id, both.previous_id]
    assert versions_for(None) == []
    assert versions_for(Organisation(name="Nobody")) == []


def test_answer_finding_validates_in_plain_words(app, make_published_report):
    version = make_published_report([ACME])
    acme = org(ACME)

    def refused(message, field, **changes):
        arguments = {
            "finding_id": F1,
            "status": "accepted",
            "planned_for": None,
            "text": "",
            **changes,
        }
        with pytest.raises(AnswerError, match=message) as caught:
            answer_finding(version, organisation=acme, author="a@acme.example", **arguments)
        assert caught.value.field == field

    refused("Enter the date by which you plan to act", "planned_for", status="planned")
    refused("Enter a real date", "planned_for", status="planned", planned_for="2027-02-30")
    refused("day/month/year", "planned_for", status="planned", planned_for="next spring")
    refused("Enter a real date", "planned_for", status="planned", planned_for="31/02/2027")
    refused("Give your reasons for declining", "text", status="declined", text="  \r\n ")
    refused("at most 5,000 characters", "text", text="x" * 5001)
    refused("Choose a finding of this report", "finding", finding_id="f99")
    refused("Choose what you will do", "status", status="maybe")
    refused("Choose what you will do", "status", status="")
    assert db.session.scalars(select(FindingAnswer)).all() == []

    # 5,000 characters with Windows line ends still fit: they count as one each.
    fits = answer_finding(version, F1, acme, "accepted", None, "x\r\n" * 2500, "a@acme.example")
    assert len(fits.text) == 4999
    planned = answer_finding(
        version, F1, acme, "planned", "2027-03-31", "By spring.", "a@acme.example"
    )
    assert planned.planned_for == date(2027, 3, 31)
    # A date typed with another status is not kept: only a plan has a date.
    accepted = answer_finding(version, F1, acme, "accepted", "2027-03-31", "", "a@acme.example")
    assert accepted.planned_for is None


def test_only_addressed_organisations_can_answer(app, make_published_report):
    version = make_published_report([ACME])
    other = Organisation(name=OTHER)
    db.session.add(other)
    db.session.commit()
    with pytest.raises(AnswerError, match="isn't addressed"):
        answer_finding(version, F1, other, "accepted", None, "", "b@else.example")


def test_history_is_kept_and_the_newest_answer_is_current(app, make_published_report):
    version = make_published_report([ACME, OTHER])
    acme, other = org(ACME), org(OTHER)
    answer_finding(version, F1, acme, "needs_information", None, "Which apps?", "a@acme.example")
    answer_finding(version, F1, acme, "planned", date(2027, 6, 1), "Reviewing.", "a@acme.example")
    answer_finding(version, "f2", acme, "accepted", None, "", "a@acme.example")
    answer_finding(version, F1, other, "declined", None, "Not our product.", "b@else.example")
    history = answer_history(version, F1, acme)
    assert [a.status for a in history] == ["planned", "needs_information"]
    current = current_answers(version, acme)
    assert {k: a.status for k, a in current.items()} == {F1: "planned", "f2": "accepted"}
    assert {k: a.status for k, a in current_answers(version, other).items()} == {F1: "declined"}
    assert len(all_answers(version)) == 4


# --- who sees what ---------------------------------------------------------------------


def test_listing_shows_only_the_readers_organisations_reports(app, make_published_report):
    mine = make_published_report([ACME])
    theirs = make_published_report([OTHER])
    client = reader(app)
    page = page_text(client.get("/portal/"))
    assert f"Reports for {ACME}" in page
    assert f"/portal/reports/{mine.id}" in page
    assert f"/portal/reports/{theirs.id}" not in page
    assert "answered 0 of 2 findings" in page
    # The week it was published, as people say it (the data keeps 2027-W05).
    assert "Published in the week of 1 February 2027." in page and "2027-W05" not in page
    home = page_text(client.get("/staff/"))
    assert 'href="/portal/"' in home and "Your reports" in home


def test_a_reader_without_an_organisation_sees_an_empty_list(app, make_published_report):
    version = make_published_report([ACME])
    user = make_user("loose@example.org", roles=(Role.COMPANY,), org=ACME)
    user.organisation = None
    db.session.commit()
    client = app.test_client()
    sign_in(client, "loose@example.org")
    response = client.get("/portal/")
    assert response.status_code == 200
    assert "doesn't belong to an organisation" in page_text(response)
    assert client.get(f"/portal/reports/{version.id}").status_code == 404


def test_another_companys_report_is_404_everywhere(app, make_published_report):
    version = make_published_report([ACME])
    client = reader(app, "b@else.example", OTHER)
    base = f"/portal/reports/{version.id}"
    for path in (
        base,
        f"{base}/report.pdf",
        f"{base}/report.html",
        f"{base}/answers.csv",
        f"{base}/findings/{F1}",
        f"{base}/charts/question-detect_images.svg",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert ACME not in page_text(response) and "Product-risk" not in page_text(response)
    token = csrf(client, "/portal/")
    posted = client.post(
        f"{base}/findings/{F1}", data={"csrf_token": token, "status": "accepted", "text": ""}
    )
    assert posted.status_code == 404
    assert db.session.scalars(select(FindingAnswer)).all() == []
    # Same answer as for an id that names nothing.
    assert client.get("/portal/reports/999999").status_code == 404


def test_unaddressed_and_other_survey_versions_are_404(app, make_published_report):
    mine = make_published_report([ACME])
    unaddressed = make_published_report([])
    survey = import_definition(parse_definition(small_survey_document(slug="another")))
    other_survey = make_published_report([OTHER], survey=survey)
    assert other_survey.version == 1 and other_survey.previous_id is None
    client = reader(app)
    assert client.get(f"/portal/reports/{mine.id}").status_code == 200
    assert client.get(f"/portal/reports/{unaddressed.id}").status_code == 404
    assert client.get(f"/portal/reports/{other_survey.id}").status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/portal/reports/0",
        "/portal/reports/-1",
        "/portal/reports/x",
        "/portal/reports/99999999999999999999",
        "/portal/reports/2147483648/report.pdf",
        "/portal/reports/1e3/answers.csv",
        "/staff/reports/0/answers",
        "/staff/reports/99999999999999999999/answers",
        "/staff/reports/2147483648/answers.csv",
    ],
)
def test_junk_ids_are_404_not_errors(app, make_published_report, path):
    make_published_report([ACME])
    client = staff(app) if path.startswith("/staff/") else reader(app)
    assert client.get(path).status_code == 404
    token = csrf(client, "/staff/password")
    assert client.post(path, data={"csrf_token": token}).status_code in (404, 405)


# --- answering through the page --------------------------------------------------------


def test_reading_and_answering_a_report(app, make_published_report):
    version = make_published_report([ACME])
    client = reader(app)
    page = page_text(client.get(f"/portal/reports/{version.id}"))
    # The survey's title keeps its own direction inside the English page (an Arabic
    # title stays whole before ", version 1").
    assert "<h1><bdi>Product-risk consultation</bdi>, version 1</h1>" in page
    assert F1_TITLE in page and 'id="answer-f1"' in page and 'id="answer-f2"' in page
    assert "Not answered yet." in page and "You have answered 0 of 2 findings." in page
    # The report links each finding to its own page, where it is answered.
    assert f'href="{finding_path(version)}"' in page
    assert "<form" not in page[page.index('id="report-findings"') :]

    finding = page_text(client.get(finding_path(version)))
    assert f'<h1 class="portal-finding__title">{F1_TITLE}</h1>' in finding
    assert "Survivors want detection kept" in finding and "How severe" in finding
    # Its evidence links lead back to the report's sections.
    assert f'href="/portal/reports/{version.id}#question-detect_images"' in finding
    assert 'name="status"' in finding and "Not answered yet." in finding

    saved = answer(client, version, status="planned", planned_for="2027-03-31", text="By March.")
    assert saved.status_code == 303
    assert saved.location.endswith(f"/portal/reports/{version.id}#answer-f1")
    after = page_text(client.get(saved.location))
    assert f"Your answer to “{F1_TITLE}” is saved: Planned." in after
    assert "Planned, for 2027-03-31" in after and "By March." in after
    assert "You have answered 1 of 2 findings." in after
    summary = after[after.index('id="answer-f1"') : after.index('id="answer-f2"')]
    assert "Change your answer" in summary and "Your answer to" in summary

    answer(client, version, status="declined", text="We have other plans.")
    page = page_text(client.get(finding_path(version)))
    answers = page[page.index('id="answers"') :]
    # The current answer, then the history newest first.
    assert answers.index("We have other plans.") < answers.index("By March.")
    history = answers[answers.index("Status over time") :]
    assert history.index("Declined") < history.index("Planned, for 2027-03-31")
    assert "(current)" in history
    # The form starts from the current answer, to change it.
    assert re.search(r'value="declined" [^>]*checked', answers)
    assert "Change your answer" in answers


def test_a_finding_page_needs_the_form_token(app, make_published_report):
    version = make_published_report([ACME])
    client = reader(app)
    refused = client.post(finding_path(version), data={"status": "accepted", "text": "No token."})
    assert refused.status_code == 400
    forged = client.post(
        finding_path(version),
        data={"csrf_token": "forged", "status": "accepted", "text": "Forged token."},
    )
    assert forged.status_code == 400
    assert db.session.scalars(select(FindingAnswer)).all() == []


@pytest.mark.parametrize("finding_id", ["f99", "F1", "f1%00", "x" * 1000, "%2e%2e"])
def test_a_finding_that_isnt_in_the_report_is_404(app, make_published_report, finding_id):
    version = make_published_report([ACME])
    client = reader(app)
    assert client.get(finding_path(version, finding_id)).status_code == 404
    assert answer(client, version, finding_id=finding_id).status_code == 404
    assert db.session.scalars(select(FindingAnswer)).all() == []


@pytest.mark.parametrize(
    ("data", "message", "field"),
    [
        ({"status": "planned"}, "Enter the date by which you plan to act", "planned_for"),
        ({"status": "planned", "planned_for": "2027-02-30"}, "Enter a real date", "planned_for"),
        ({"status": "declined", "text": "   "}, "Give your reasons for declining", "text"),
        ({"status": "accepted", "text": "y" * 5001}, "at most 5,000 characters", "text"),
        ({"status": "accepted", "text": "z" * 500_000}, "at most 5,000 characters", "text"),
        ({"status": "sometime", "text": "Kept."}, "Choose what you will do", "status-accepted"),
        ({"text": "Kept without a choice."}, "Choose what you will do", "status-accepted"),
        ({"finding_id": "f2", "status": "planned"}, "Enter the date", "planned_for"),
    ],
)
def test_refused_answers_say_why_and_keep_what_was_typed(
    app, make_published_report, data, message, field
):
    version = make_published_report([ACME])
    client = reader(app)
    data = {"finding_id": F1, "status": "", "planned_for": "", "text": "", **data}
    response = answer(client, version, **data)
    assert response.status_code == 422
    page = page_text(response)
    assert "There is a problem" in page and message in page
    assert f'href="#{field}"' in page and f'id="{field}"' in page
    # The page is the finding's own, its form sending to itself.
    assert f'action="{finding_path(version, data["finding_id"])}"' in page
    if data["planned_for"]:
        assert f'value="{data["planned_for"]}"' in page
    checked = re.findall(r'id="status-(\w+)"[^>]*checked', page)
    valid = {status.value for status in FindingStatus}
    assert checked == ([data["status"]] if data["status"] in valid else [])
    if data["text"].strip() and len(data["text"]) < 10_000:
        assert data["text"] in page
    assert db.session.scalars(select(FindingAnswer)).all() == []


def test_junk_form_values_never_crash(app, make_published_report):
    version = make_published_report([ACME])
    client = reader(app)
    for data in (
        {"status": "accepted\x00"},
        {"status": "planned", "planned_for": "9999-99-99"},
        {"status": "planned", "planned_for": "２０２７-01-01"},
        {"status": "x" * 1000},
    ):
        assert answer(client, version, **data).status_code == 422, data
    done = answer(client, version, status="accepted", text="nul\x00 byte and\x07 bell")
    assert done.status_code == 303
    assert db.session.scalar(select(FindingAnswer)).text == "nul byte and bell"


def test_an_answer_is_audited_without_its_text(app, make_published_report):
    version = make_published_report([ACME])
    client = reader(app)
    answer(client, version, status="declined", text="Confidential reasoning 7731.")
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "report.answer"))
    assert entry.actor == "reader@acme.example"
    assert entry.target == f"{version.survey.slug} v1"
    details = json.loads(entry.details)
    assert details == {"finding": F1, "status": "declined", "organisation": ACME}
    everything = " ".join(f"{e.target} {e.details}" for e in db.session.scalars(select(AuditEntry)))
    assert "Confidential reasoning" not in everything
    assert app.test_cli_runner().invoke(args=["audit", "verify"]).exit_code == 0


# --- downloads -------------------------------------------------------------------------


def test_downloads_are_the_stored_files(app, make_published_report):
    version = make_published_report([ACME])
    client = reader(app)
    pdf = client.get(f"/portal/reports/{version.id}/report.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF-") and pdf.data == version.pdf
    assert "attachment" in pdf.headers["Content-Disposition"]
    assert f'filename="{version.survey.slug}-v1-report.pdf"' in pdf.headers["Content-Disposition"]
    html = client.get(f"/portal/reports/{version.id}/report.html")
    assert html.status_code == 200 and html.mimetype == "text/html"
    assert html.get_data(as_text=True) == version.html
    assert "attachment" in html.headers["Content-Disposition"]


def read_csv(response):
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def test_a_company_csv_holds_only_its_own_answers_and_staff_get_all(app, make_published_report):
    version = make_published_report([ACME, OTHER])
    acme, other = org(ACME), org(OTHER)
    answer_finding(
        version, F1, acme, "planned", date(2027, 3, 31), "=HYPERLINK(1)", "a@acme.example"
    )
    answer_finding(version, F1, acme, "accepted", None, "Done.", "a@acme.example")
    answer_finding(version, "f2", other, "declined", None, "Other's reasons.", "b@else.example")

    rows = read_csv(reader(app).get(f"/portal/reports/{version.id}/answers.csv"))
    assert rows[0] == [
        "finding_id",
        "finding_title",
        "status",
        "planned_for",
        "text",
        "answered_at",
        "by",
    ]
    assert [r[:5] for r in rows[1:]] == [
        [F1, F1_TITLE, "accepted", "", "Done."],
        [F1, F1_TITLE, "planned", "2027-03-31", "'=HYPERLINK(1)"],  # never a formula
    ]
    assert all(r[6] == "a@acme.example" and r[5].endswith(" UTC") for r in rows[1:])

    facilitator = staff(app)
    all_rows = read_csv(facilitator.get(f"/staff/reports/{version.id}/answers.csv"))
    assert all_rows[0][0] == "organisation"
    assert [(r[0], r[1], r[3]) for r in all_rows[1:]] == [
        (OTHER, "f2", "declined"),  # organisations by name
        (ACME, F1, "accepted"),
        (ACME, F1, "planned"),
    ]


@pytest.mark.parametrize("role", [Role.FACILITATOR, Role.ANALYST, Role.ADMIN])
def test_staff_see_every_organisations_answers(app, make_published_report, role):
    version = make_published_report([ACME, OTHER])
    answer_finding(version, F1, org(ACME), "planned", date(2027, 3, 31), "Soon.", "a@acme.example")
    answer_finding(version, F1, org(ACME), "needs_information", None, "", "a@acme.example")
    answer_finding(version, "f2", org(OTHER), "declined", None, "No.", "b@else.example")
    client = staff(app, role, f"{role.value}@example.org")
    response = client.get(f"/staff/reports/{version.id}/answers")
    assert response.status_code == 200
    page = page_text(response)
    assert ACME in page and OTHER in page and F1_TITLE in page
    f1 = page[page.index('id="answer-f1"') : page.index('id="answer-f2"')]
    assert f1.index("Needs more information") < f1.index("Planned, for 2027-03-31")
    assert "Not answered yet." in f1  # Elsewhere Ltd hasn't answered f1
    assert "No." in page[page.index('id="answer-f2"') :]


def test_company_readers_cant_see_the_staff_answers(app, make_published_report):
    version = make_published_report([ACME])
    client = reader(app)
    assert client.get(f"/staff/reports/{version.id}/answers").status_code == 403
    assert client.get(f"/staff/reports/{version.id}/answers.csv").status_code == 403


def test_a_date_is_read_as_the_reader_writes_it(app, make_published_report):
    """30/06/2027 and the other common ways of writing a date are read; where both
    numbers could be the month, the portal's language decides (its English writes
    the day first); what can't be read is refused with how to write it, and comes
    back as typed."""
    version = make_published_report([ACME])
    client = reader(app)
    for typed in (
        "30/06/2027",
        "30-06-2027",
        "30.06.2027",
        "2027-06-30",
        "30 June 2027",
        "June 30, 2027",
        "30 Jun 2027",
        " 30/6/2027 ",
    ):
        saved = answer(client, version, status="planned", planned_for=typed, text="x")
        assert saved.status_code == 303, typed
        newest = db.session.scalars(select(FindingAnswer).order_by(FindingAnswer.id.desc())).first()
        assert newest.planned_for == date(2027, 6, 30), typed

    answer(client, version, status="planned", planned_for="05/06/2027", text="x")
    newest = db.session.scalars(select(FindingAnswer).order_by(FindingAnswer.id.desc())).first()
    assert newest.planned_for == date(2027, 6, 5)

    refused = answer(client, version, status="planned", planned_for="the 30th", text="kept")
    assert refused.status_code == 422
    text = page_text(refused)
    assert "Write the date as day/month/year, for example 31/03/2027" in text
    assert 'value="the 30th"' in refused.get_data(as_text=True)
    assert "kept" in text


def test_the_date_field_is_a_date_input_with_the_readers_format_in_its_hint(
    app, make_published_report
):
    version = make_published_report([ACME])
    html = reader(app).get(finding_path(version)).get_data(as_text=True)
    assert 'type="date" id="planned_for"' in html
    assert (
        "Use the date picker; where there is none, write it as day/month/year, "
        "for example 31/03/2027" in html
    )


def test_month_first_locales_read_month_first():
    from babel import Locale

    from admin.portal.dates import DateError, parse_date

    us, gb = Locale.parse("en_US"), Locale.parse("en_GB")
    assert parse_date("05/06/2027", us) == date(2027, 5, 6)
    assert parse_date("05/06/2027", gb) == date(2027, 6, 5)
    # Only one reading is a real date: that one is meant, whichever the locale.
    assert parse_date("06/30/2027", gb) == date(2027, 6, 30)
    assert parse_date("30 junio 2027", Locale.parse("es")) == date(2027, 6, 30)
    with pytest.raises(DateError, match="month/day/year"):
        parse_date("soon", us)
    with pytest.raises(DateError, match="not a month"):
        parse_date("30 Smarch 2027", gb)
    with pytest.raises(DateError, match="real date"):
        parse_date("31/31/2027", gb)


def test_company_readers_see_their_portal_never_staff(app, make_published_report):
    make_published_report([ACME])
    page = reader(app).get("/staff/").get_data(as_text=True)
    assert "Chorus staff" not in page
    assert "Company portal" in page and ACME in page
    portal = reader(app, email="second@acme.example").get("/portal/").get_data(as_text=True)
    assert "Chorus staff" not in portal and "Company portal" in portal
    assert "Chorus staff" in staff(app).get("/staff/").get_data(as_text=True)
