"""Issue 11 in the browser: an analyst codes free-text answers with the keyboard
alone, approves a masked quote, builds a finding from a theme and publishes; a
company reader then reads the theme and the quote. Every theme page passes axe
and fits a 320 px screen, and the coding form works without JavaScript."""

from __future__ import annotations

import re

import pyotp
from playwright.sync_api import expect
from sqlalchemy import select

from admin.accounts.sign_in import confirm_totp, create_user, start_totp_enrolment
from admin.reports import coding, quotes
from survey.models import ReportVersion, Role, db
from survey.surveys import unwrap_with_password
from tests.e2e.helpers import Hands, Person, screenshot
from tests.factories import (
    CUSTODIAN_EMAIL,
    CUSTODIAN_PASSWORD,
    EVIDENCE_STORY,
    custodian_user,
    told_small_survey,
)

ORG = "Example Messaging Ltd"
READER_PASSWORD = "company reader passphrase"
MASKED = "They deleted the evidence before I could report it, [name] said nothing."


def enrolled_analyst() -> list[str]:
    analyst = custodian_user()
    codes = confirm_totp(analyst, pyotp.TOTP(start_totp_enrolment(analyst)).now())
    db.session.commit()
    return codes


def unlocked(me: Hands, backup_code: str) -> None:
    me.sign_in(CUSTODIAN_EMAIL, CUSTODIAN_PASSWORD, second_factor=backup_code)
    me.person.goto("/staff/surveys/small/keys", "Who can unlock the answers")
    me.person.type("Your password", CUSTODIAN_PASSWORD)
    me.person.press("Unlock", "Who can unlock the answers")


def fits(person: Person, width: int = 320) -> None:
    """The page as it is now, at `width`: nothing wider than the screen, and axe."""
    page = person.page
    before = page.viewport_size
    page.set_viewport_size({"width": width, "height": 800})
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, (page.url, scroll_width)
    person.check()
    if before:
        page.set_viewport_size(before)


def report_codes(survey, name=coding.REPORT_CODING):
    db.session.expire_all()
    key = unwrap_with_password(survey, custodian_user(), CUSTODIAN_PASSWORD)
    return coding.load_coding(survey, key, name)


def shown_answer(me: Hands) -> str:
    return me.page.locator(".answer-box .answer-text").inner_text()


def test_analyst_codes_by_keyboard_quotes_builds_a_finding_and_a_company_reads_it(
    app, live_server, new_context
):
    survey, _ = told_small_survey()
    backup_codes = enrolled_analyst()
    reader_account = create_user("reader@acme.example", [Role.COMPANY], READER_PASSWORD, ORG)
    reader_account.must_change_password = False
    db.session.commit()

    me = Hands(Person(new_context().new_page()))
    unlocked(me, backup_codes[0])
    # The analysis page fits a phone (its count tables scroll by themselves), and
    # "Break a question down" starts with two different questions in its boxes.
    me.person.goto("/staff/surveys/small/analysis", "Analysis")
    fits(me.person)
    assert me.page.locator("#q").input_value() != me.page.locator("#by").input_value()
    me.person.press("Show the breakdown", "Analysis")
    expect(me.page.locator("#breakdown ~ .table-scroll caption").first).to_be_visible()
    fits(me.person)
    screenshot(me.page, "analysis", widths=(320, 1280))
    me.person.goto("/staff/surveys/small/report", "Report")
    me.follow("Themes", "Themes")
    fits(me.person)
    screenshot(me.page, "themes-codebook", widths=(320, 1280))
    me.person.press("Add the theme", "Themes")  # nothing typed: each problem by its field
    expect(me.page.locator(".error-summary")).to_contain_text("label: required")
    expect(me.page.locator("#id-error")).to_contain_text("id: required")
    fits(me.person)

    # Coding with the keyboard alone: "1" ticks the first theme, "n" saves and goes on.
    me.follow("Code answers", "Coding")
    coded = {}
    for position in range(1, 4):
        expect(me.page.get_by_role("heading", name=f"Answer {position} of 60")).to_be_visible()
        box = me.page.locator("#theme-0-evidence")
        expect(box).not_to_be_checked()
        is_evidence = shown_answer(me) == EVIDENCE_STORY
        me.keys.press("1")
        expect(box).to_be_checked()
        expect(me.page.locator("[data-coding-status]")).to_have_text("Evidence disappears: ticked")
        if not is_evidence:
            me.keys.press("1")  # changed my mind: untick it again
            expect(box).not_to_be_checked()
        coded[position] = is_evidence
        if position == 1:
            fits(me.person)
            screenshot(me.page, "themes-code", widths=(320, 1280))
        me.keys.press("n")
        me.person.check("Coding")
    expect(me.page.get_by_role("heading", name="Answer 4 of 60")).to_be_visible()
    me.keys.press("p")  # back, without saving
    me.person.check("Coding")
    expect(me.page.get_by_role("heading", name="Answer 3 of 60")).to_be_visible()
    if coded[3]:
        expect(me.page.locator("#theme-0-evidence")).to_be_checked()
    assert sum(1 for ids in report_codes(survey).codes.values() if "evidence" in ids) == sum(
        coded.values()
    )

    # Then every answer the keywords find, by keyboard too.
    me.page.get_by_role("button", name="Accept all", exact=False).first.focus()
    me.keys.press("Enter")
    me.person.check("Coding")
    expect(me.page.get_by_text("“Evidence disappears” was added to")).to_be_visible()
    carried = [k for k, ids in report_codes(survey).codes.items() if "evidence" in ids]
    assert len(carried) == 45

    # The list view, and my own independent coding for the agreement page.
    me.person.goto("/staff/surveys/small/themes/code?view=list", "Coding")
    fits(me.person)
    me.person.goto("/staff/surveys/small/themes/code?coding=mine", "Coding")
    me.keys.press("2")
    me.keys.press("n")
    me.person.check("Coding")
    mine = report_codes(survey, coding.independent_coding(custodian_user()))
    assert list(mine.codes.values()) == [frozenset({"ignored"})]
    me.follow("Agreement", "Agreement between coders")
    expect(me.page.get_by_role("table")).to_contain_text("Evidence disappears")
    fits(me.person)

    # A masked quote, approved as shown.
    me.follow("Quotes", "Quotes")
    fits(me.person)
    me.page.get_by_label("Theme", exact=True).select_option("evidence")
    me.person.press("Show these quotes", "Quotes")
    first = me.page.locator("#text-1")
    expect(first).to_have_value(MASKED)
    assert "Dave" not in me.page.content()
    first.fill(" ")
    me.person.press("Approve this text (quote 1)", "Quotes")
    expect(me.page.locator("#text-1-error")).to_contain_text("Write the text to publish")
    fits(me.person)
    me.page.locator("#text-1").fill(MASKED)
    me.person.press("Approve this text (quote 1)", "Quotes")
    expect(me.page.locator("#quote-1 .status-tag")).to_have_text("Approved")
    db.session.expire_all()
    key = unwrap_with_password(survey, custodian_user(), CUSTODIAN_PASSWORD)
    assert [d.text for d in quotes.load_decisions(survey, key).values()] == [MASKED]

    # The other theme pages pass axe and fit too.
    for path, heading in (
        ("/staff/surveys/small/themes/topics", "Topic suggestions"),
        ("/staff/surveys/small/themes/import", "Import a codebook"),
        ("/staff/surveys/small/themes/ignored/edit", "Edit the theme “Not listened to”"),
        ("/staff/surveys/small/themes/ignored/delete", "Delete the theme “Not listened to”?"),
        ("/staff/surveys/small/report/settings", "Method, limitations, rounding and themes"),
    ):
        me.person.goto(path, heading)
        fits(me.person)

    # A finding from the theme, then publish.
    me.person.goto("/staff/surveys/small/themes", "Themes")
    build = re.compile(r"Build a finding from this theme\W+Evidence disappears")
    me.page.get_by_role("button", name=build).focus()
    me.keys.press("Enter")
    me.person.check("Edit finding evidence")
    expect(me.page.get_by_label("Evidence disappears (evidence)")).to_be_checked()
    expect(me.page.get_by_label("Title")).to_have_value("Evidence disappears")
    fits(me.person)
    me.person.press("Save the finding", "Report")
    me.person.goto("/staff/surveys/small/report/publish", "Publish a version")
    me.page.get_by_label(ORG).check()
    me.page.get_by_label("I understand that a published version can't be changed.").check()
    me.person.press("Publish version 1", "Version 1 is published")
    version = db.session.scalar(select(ReportVersion))

    # The company reads the theme and the quote.
    reader = Hands(Person(new_context().new_page()))
    reader.sign_in("reader@acme.example", READER_PASSWORD, heading="Company portal")
    reader.follow("Your reports", f"Reports for {ORG}")
    reader.follow("Messaging safety, version 1", "Messaging safety, version 1")
    body = reader.page.locator("main")
    expect(body.get_by_role("heading", name="Evidence disappears").first).to_be_visible()
    expect(body.locator(".report-quote").first).to_have_text(MASKED)
    assert "Dave" not in reader.page.content()
    screenshot(reader.page, "themes-portal")
    assert version.addressees[0].name == ORG


def test_the_coding_form_works_without_javascript_at_320_px(app, live_server, new_context):
    survey, _ = told_small_survey()
    backup_codes = enrolled_analyst()
    me = Hands(Person(new_context(js=False, viewport={"width": 320, "height": 640}).new_page()))
    unlocked(me, backup_codes[0])
    me.person.goto("/staff/surveys/small/themes/code", "Coding")
    assert me.page.evaluate("document.documentElement.scrollWidth") <= 320
    expect(me.page.locator(".key-hint").first).to_be_hidden()  # keys need the script
    first = me.page.locator('input[name="answer-0"]').get_attribute("value")
    me.tick("Not listened to")
    me.press("Save and next", "Coding")
    expect(me.page.get_by_role("heading", name="Answer 2 of 60")).to_be_visible()
    assert report_codes(survey).themes_of(first) == {"ignored"}


def test_a_theme_whose_words_look_like_a_name_or_place_is_saved_only_after_a_warning(
    app, live_server, new_context
):
    survey, _ = told_small_survey()
    backup_codes = enrolled_analyst()
    me = Hands(Person(new_context().new_page()))
    unlocked(me, backup_codes[0])
    me.person.goto("/staff/surveys/small/themes", "Themes")
    me.person.type("Id", "blocked")
    me.person.type("Label", "Block, account, jamie")
    me.person.type("Keywords", "blocked; leeds")
    me.person.press("Add the theme", "Themes")
    warning = me.page.locator(".error-summary")
    expect(warning).to_contain_text("Check before you save")
    expect(warning).to_contain_text("label: “jamie” looks like a person's name")
    expect(warning).to_contain_text("keywords: “leeds” looks like a place")
    assert coding.find_theme(survey, "blocked") is None
    expect(me.page.get_by_label("Keywords", exact=True)).to_have_value("blocked; leeds")
    fits(me.person)
    screenshot(me.page, "themes-identifying", widths=(320, 1280))
    me.person.press("Add it anyway", "Themes")
    expect(me.page.locator(".notice, [role=status]").first).to_contain_text("was added")
    db.session.expire_all()
    assert coding.find_theme(survey, "blocked").keywords == ("blocked", "leeds")
