"""A company reader in the browser: reads the report addressed to their organisation
and answers a finding with the keyboard alone; a reader of another company sees
nothing of it; staff read every company's answers. axe on every page, with
JavaScript on and off, and the pages fit a 320 px screen."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from admin.accounts.sign_in import create_user
from survey.models import Role, db
from tests.e2e.helpers import Hands, Person

ORG = "Example Messaging Ltd"
ELSEWHERE = "Elsewhere Ltd"
PASSWORD = "company reader passphrase"
TITLE = "Product-risk consultation, version 1"
F1_TITLE = "Survivors want detection kept when encryption is added"


def account(email: str, role: Role, organisation: str | None = None) -> None:
    user = create_user(email, [role], PASSWORD, organisation)
    user.must_change_password = False
    db.session.commit()


@pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
def test_a_company_answers_a_finding_and_another_sees_nothing(
    app, live_server, new_context, make_published_report, js
):
    version = make_published_report([ORG])
    account("reader@acme.example", Role.COMPANY, ORG)
    account("reader@else.example", Role.COMPANY, ELSEWHERE)
    account("facilitator@example.org", Role.FACILITATOR)

    reader = Person(new_context(js=js).new_page())
    me = Hands(reader)
    me.sign_in("reader@acme.example", PASSWORD)  # company readers need no second factor
    me.follow("Your reports", f"Reports for {ORG}")
    assert "answered 0 of 2 findings" in reader.html()
    me.follow(TITLE, TITLE)
    finding = reader.page.locator("#answer-f1")
    expect(finding.get_by_role("heading", level=3)).to_have_text(F1_TITLE)
    expect(finding.locator(".answer-none")).to_have_text("Not answered yet.")

    # "Planned" without a date: refused, with a summary linking to the date field.
    finding.get_by_label("Accepted", exact=True).focus()
    me.keys.press("ArrowDown")
    expect(finding.get_by_label("Planned", exact=True)).to_be_checked()
    me.keys.press("Tab")
    expect(finding.get_by_label("Planned for (only when you choose “Planned”)")).to_be_focused()
    me.keys.press("Tab")
    me.keys.type("We will keep detection in the encrypted service.")
    me.keys.press("Tab")
    expect(finding.get_by_role("button")).to_be_focused()
    me.keys.press("Enter")
    reader.check(TITLE)
    summary = reader.page.locator(".error-summary")
    expect(summary.get_by_role("link")).to_have_text("Enter the date by which you plan to act.")
    expect(summary.get_by_role("link")).to_have_attribute("href", "#planned_for-f1")
    finding = reader.page.locator("#answer-f1")
    expect(finding.get_by_label("Planned", exact=True)).to_be_checked()  # what was typed stays
    expect(finding.locator("textarea")).to_have_value(
        "We will keep detection in the encrypted service."
    )

    me.fill("#planned_for-f1", "2027-03-31")
    me.keys.press("Tab")
    me.keys.press("Tab")
    me.keys.press("Enter")
    reader.check(TITLE)
    assert reader.page.url.endswith("#answer-f1")
    finding = reader.page.locator("#answer-f1")
    expect(finding.get_by_role("status")).to_contain_text(f"Your answer to “{F1_TITLE}” is saved")
    expect(finding.locator(".status-tag")).to_have_text("Planned, for 2027-03-31")
    expect(finding.locator(".answer-history__item")).to_have_count(1)

    # A change of mind is kept as history, newest first.
    finding.get_by_label("Accepted", exact=True).focus()
    me.keys.press("Space")
    me.keys.press("Tab")
    me.keys.press("Tab")
    me.keys.press("Control+A")
    me.keys.type("Detection stays; it ships with encryption.")
    me.keys.press("Tab")
    me.keys.press("Enter")
    reader.check(TITLE)
    finding = reader.page.locator("#answer-f1")
    expect(finding.locator(".status-tag")).to_have_text("Accepted")
    history = finding.locator(".answer-history__status")
    expect(history).to_have_text(["Accepted", "Planned, for 2027-03-31"])
    me.follow(f"All reports for {ORG}", f"Reports for {ORG}")
    assert "answered 1 of 2 findings" in reader.html()

    # Another company's reader: no list entry, and the address is a plain 404.
    other = Person(new_context(js=js).new_page())
    them = Hands(other)
    them.sign_in("reader@else.example", PASSWORD)
    them.follow("Your reports", f"Reports for {ELSEWHERE}")
    assert f"There are no reports addressed to {ELSEWHERE} yet." in other.html()
    assert TITLE not in other.html()
    missing = other.goto(f"/portal/reports/{version.id}", "Page not found")
    assert missing.status == 404 and ORG not in other.html()

    # Staff see the company's answer and its history.
    facilitator = Person(new_context(js=js).new_page())
    Hands(facilitator).sign_in("facilitator@example.org", PASSWORD)
    facilitator.goto(f"/staff/reports/{version.id}/answers", f"Companies' answers: {TITLE}")
    answers = facilitator.page.locator("#answer-f1")
    expect(answers.get_by_role("heading", level=3)).to_have_text(ORG)
    expect(answers.locator(".answer-history__status")).to_have_text(
        ["Accepted", "Planned, for 2027-03-31"]
    )


def test_the_portal_fits_a_narrow_screen(app, live_server, new_context, make_published_report):
    version = make_published_report([ORG])
    account("reader@acme.example", Role.COMPANY, ORG)
    account("facilitator@example.org", Role.FACILITATOR)
    for email, paths in (
        (
            "reader@acme.example",
            (("/portal/", f"Reports for {ORG}"), (f"/portal/reports/{version.id}", TITLE)),
        ),
        (
            "facilitator@example.org",
            ((f"/staff/reports/{version.id}/answers", f"Companies' answers: {TITLE}"),),
        ),
    ):
        person = Person(new_context(viewport={"width": 320, "height": 640}).new_page())
        Hands(person).sign_in(email, PASSWORD)
        for path, heading in paths:
            person.goto(path, heading)
            width = person.page.evaluate("document.documentElement.scrollWidth")
            assert width <= 320, (path, width)
