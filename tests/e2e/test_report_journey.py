"""Issue 5 end to end in the browser: an analyst writes a finding, previews and
publishes the report to one company; that company's reader reads it and answers
the finding; a reader of another company gets nothing. axe on every page."""

from __future__ import annotations

import pyotp
from playwright.sync_api import expect
from sqlalchemy import select

from admin.accounts.sign_in import confirm_totp, create_user, start_totp_enrolment
from survey.models import Organisation, ReportVersion, Role, User, db
from survey.synthetic import add_synthetic_responses
from tests.e2e.helpers import Hands, Person, screenshot
from tests.factories import (
    CUSTODIAN_EMAIL,
    CUSTODIAN_PASSWORD,
    custodian_user,
    person,
    store_people,
)

ORG = "Example Messaging Ltd"
ELSEWHERE = "Elsewhere Ltd"
READER_PASSWORD = "company reader passphrase"
FINDING = "Encryption without safeguards harms children"


def test_analyst_publishes_company_answers_other_company_sees_nothing(
    app, live_server, new_context, make_open_survey
):
    survey, _ = make_open_survey()
    add_synthetic_responses(survey, 40, seed=11)
    analyst = custodian_user()
    backup_codes = confirm_totp(analyst, pyotp.TOTP(start_totp_enrolment(analyst)).now())
    for email, organisation in (("reader@acme.example", ORG), ("reader@else.example", ELSEWHERE)):
        user = create_user(email, [Role.COMPANY], READER_PASSWORD, organisation)
        user.must_change_password = False
    db.session.commit()

    # The analyst unlocks, writes a finding, previews and publishes.
    me = Hands(Person(new_context().new_page()))
    me.sign_in(CUSTODIAN_EMAIL, CUSTODIAN_PASSWORD, second_factor=backup_codes[0])
    me.follow("Surveys", "Surveys")
    me.follow("Messaging safety", "Messaging safety")
    me.follow("Who can unlock the answers", "Who can unlock the answers")
    me.person.type("Your password", CUSTODIAN_PASSWORD)
    me.person.press("Unlock", "Who can unlock the answers")
    me.person.goto("/staff/surveys/small/report", "Report")
    me.follow("Add a finding", "Add a finding")
    page = me.page
    me.person.type("Title", FINDING)
    me.person.type("Product feature", "end-to-end encryption")
    me.person.type("Who is adversely affected", "Children groomed in private messages.")
    page.locator("#affected_by-age_band").check()
    page.get_by_label("Severity").select_option("harm_scale")
    page.locator("#mitigation_questions-wanted").check()
    me.person.type("Narrative", "Respondents asked for **detection** to be kept.")
    me.person.press("Add the finding", "Report")
    me.follow("Preview the report", "Messaging safety")
    expect(page.get_by_role("heading", name=FINDING)).to_be_visible()
    screenshot(page, "report-preview")
    me.person.goto("/staff/surveys/small/report/publish", "Publish a version")
    page.get_by_label(ORG).check()
    page.get_by_label("I understand that a published version can't be changed.").check()
    me.person.press("Publish version 1", "Version 1 is published")
    version = db.session.scalar(select(ReportVersion))
    assert [o.name for o in version.addressees] == [ORG]

    # The addressed company reads it and answers the finding.
    reader = Hands(Person(new_context().new_page()))
    reader.sign_in("reader@acme.example", READER_PASSWORD, heading="Company portal")
    reader.follow("Your reports", f"Reports for {ORG}")
    reader.follow("Messaging safety, version 1", "Messaging safety, version 1")
    body = reader.page.locator("main")
    expect(body.get_by_role("heading", name=FINDING).first).to_be_visible()
    finding_id = version_finding_id(version)
    reader.follow(f"Answer this finding — {FINDING}", FINDING)
    form = reader.page.locator("form.portal-form")
    form.get_by_label("Accepted", exact=True).check()
    form.locator("textarea").fill("Detection stays when encryption ships.")
    form.get_by_role("button", name="Save answer").click()
    reader.person.check("Messaging safety, version 1")
    assert reader.page.url.endswith(f"#answer-{finding_id}")
    expect(reader.page.locator(f"#answer-{finding_id} .status-tag")).to_have_text("Accepted")
    screenshot(reader.page, "portal-report")

    # Another company's reader gets nothing.
    other = Hands(Person(new_context().new_page()))
    other.sign_in("reader@else.example", READER_PASSWORD, heading="Company portal")
    other.follow("Your reports", f"Reports for {ELSEWHERE}")
    assert "Messaging safety" not in other.page.content()
    missing = other.person.goto(f"/portal/reports/{version.id}", "Page not found")
    assert missing.status == 404

    # The analyst's report page leads to the company's answer.
    me.person.goto("/staff/surveys/small/report", "Report")
    me.follow(
        "Version 1: answers, PDF, HTML, tables", "Companies' answers: Messaging safety, version 1"
    )
    expect(me.page.locator(f"#answer-{finding_id}")).to_contain_text(ORG)
    assert db.session.scalar(select(Organisation).where(Organisation.name == ORG))
    assert db.session.scalar(select(User).where(User.email == CUSTODIAN_EMAIL))

    # Ten more people answer: the next version's preview says what it hides because
    # the company holds version 1 (axe checks that page too).
    people = [person("adult", 2, ["detect"], apps=3) for _ in range(9)]
    store_people(survey, [*people, person("adult", 5, ["detect"], apps=3)])
    me.person.goto("/staff/surveys/small/report/preview", "Messaging safety")
    expect(me.page.get_by_text("Hidden because of earlier versions.")).to_be_visible()
    screenshot(me.page, "report-preview-after-version-1")


def version_finding_id(version: ReportVersion) -> str:
    import json

    db.session.refresh(version)
    return json.loads(version.snapshot_json)["findings"][0]["id"]
