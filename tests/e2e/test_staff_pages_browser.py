"""Issue 21 point 14 in the browser at 1280 px: the analysis page's tables use a wide
screen's width; publishing says what it does and how long it takes, shows a status and
can't be pressed twice (JavaScript on), and a report with no findings needs a tick.
axe on every page."""

from __future__ import annotations

import pyotp
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from admin.accounts.sign_in import confirm_totp, start_totp_enrolment
from survey.models import Organisation, ReportVersion, db
from survey.synthetic import add_synthetic_responses
from tests.e2e.helpers import Hands, Person, screenshot
from tests.factories import CUSTODIAN_EMAIL, CUSTODIAN_PASSWORD, custodian_user

ORG = "Example Messaging Ltd"
WIDE = {"width": 1280, "height": 900}


def unlocked_analyst(app, new_context, make_open_survey, js: bool = True) -> Hands:
    survey, _ = make_open_survey()
    add_synthetic_responses(survey, 40, seed=11)
    analyst = custodian_user()
    backup_codes = confirm_totp(analyst, pyotp.TOTP(start_totp_enrolment(analyst)).now())
    db.session.add(Organisation(name=ORG))
    db.session.commit()
    me = Hands(Person(new_context(js=js, viewport=WIDE).new_page()))
    me.sign_in(CUSTODIAN_EMAIL, CUSTODIAN_PASSWORD, second_factor=backup_codes[0])
    me.person.goto("/staff/surveys/small/keys", "Who can unlock the answers")
    me.person.type("Your password", CUSTODIAN_PASSWORD)
    me.person.press("Unlock", "Who can unlock the answers")
    return me


def test_the_analysis_tables_use_the_width_of_a_wide_screen(
    app, live_server, new_context, make_open_survey
):
    me = unlocked_analyst(app, new_context, make_open_survey)
    me.person.goto("/staff/surveys/small/analysis", "Analysis")
    page = me.page
    screenshot(page, "analysis-wide", widths=(1280,))
    main_width = page.evaluate("document.querySelector('main').getBoundingClientRect().width")
    assert main_width > 1100  # it was 42rem (672 px) at any width
    # The many small tables sit side by side; the prose keeps its reading width.
    boxes = page.locator(".analysis-grid .table-scroll").evaluate_all(
        "els => els.slice(0, 2).map(e => e.getBoundingClientRect().top)"
    )
    assert len(boxes) == 2 and boxes[0] == boxes[1]
    lead = page.locator("main > .notice").evaluate("e => e.getBoundingClientRect().width")
    assert lead <= 42 * 16 + 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    # At 320 px nothing is wider than the screen.
    page.set_viewport_size({"width": 320, "height": 640})
    assert page.evaluate("document.documentElement.scrollWidth") <= 320


@pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
def test_publishing_says_how_long_it_takes_and_asks_about_no_findings(
    app, live_server, new_context, make_open_survey, js
):
    me = unlocked_analyst(app, new_context, make_open_survey, js=js)
    page = me.page
    me.person.goto("/staff/surveys/small/report/publish", "Publish a version")
    expect(page.locator("#no-findings")).to_contain_text("This report has no findings")
    expect(page.locator("#publish-hint")).to_contain_text("it can take up to a minute")
    expect(page.get_by_role("status")).to_be_hidden()
    page.get_by_label(ORG).check()
    page.get_by_label("I understand that a published version can't be changed.").check()
    me.person.press("Publish version 1", "Publish a version")
    summary = page.locator(".error-summary")
    expect(summary.get_by_role("link")).to_contain_text("Publish it without findings")
    expect(
        page.get_by_label("I understand that a published version can't be changed.")
    ).to_be_checked()
    assert db.session.scalar(select(ReportVersion)) is None
    page.get_by_label(ORG).check()
    page.get_by_label("Publish it without findings (0 findings)").check()
    screenshot(page, "publish-no-findings", widths=(1280,))
    if js:
        # Held back from sending, the form shows its status and its button can't be
        # pressed again.
        page.evaluate(
            "document.querySelector('form[data-busy]')"
            ".addEventListener('submit', e => e.preventDefault())"
        )
        page.get_by_role("button", name="Publish version 1").click()
        status = page.get_by_role("status")
        expect(status).to_be_visible()
        expect(status).to_contain_text("Publishing version 1… Making the HTML and the PDF")
        expect(page.get_by_role("button", name="Publish version 1")).to_be_disabled()
        screenshot(page, "publish-busy", widths=(1280,))
        page.reload()
        me.person.check("Publish a version")
        page.get_by_label(ORG).check()
        page.get_by_label("Publish it without findings (0 findings)").check()
        page.get_by_label("I understand that a published version can't be changed.").check()
    me.person.press("Publish version 1", "Version 1 is published")
    assert [v.version for v in db.session.scalars(select(ReportVersion))] == [1]
