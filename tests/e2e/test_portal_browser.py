"""A company reader in the browser: reads the report addressed to their organisation
(findings first, results by question folded), answers a finding on its own page with
the keyboard alone and comes back to the report at that finding; a reader of another
company sees nothing of it; staff read every company's answers. axe on every page,
with JavaScript on and off, and the pages fit a 320 px screen."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from admin.accounts.sign_in import create_user
from survey.models import Role, db
from tests.e2e.helpers import Hands, Person, screenshot

ORG = "Example Messaging Ltd"
ELSEWHERE = "Elsewhere Ltd"
PASSWORD = "company reader passphrase"
TITLE = "Product-risk consultation, version 1"
F1_TITLE = "Survivors want detection kept when encryption is added"


def until(page, script: str) -> None:
    """Wait for a condition on the page (its CSP forbids wait_for_function's eval):
    an upper bound, not a timing."""
    for _ in range(300):
        if page.evaluate(script):
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"never true: {script}")


def tab_past_date_segments(me: Hands, target) -> None:
    """Tab out of a date input: Chromium's has a stop for each of its day, month and
    year, in the browser's locale's order."""
    for _ in range(4):
        me.keys.press("Tab")
        if target.evaluate("e => e === document.activeElement"):
            return
    raise AssertionError("Tab never left the date field")


def account(email: str, role: Role, organisation: str | None = None) -> None:
    user = create_user(email, [role], PASSWORD, organisation)
    user.must_change_password = False
    db.session.commit()


@pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
def test_a_company_answers_a_finding_on_its_page_and_another_sees_nothing(
    app, live_server, new_context, make_published_report, js
):
    version = make_published_report([ORG])
    account("reader@acme.example", Role.COMPANY, ORG)
    account("reader@else.example", Role.COMPANY, ELSEWHERE)
    account("facilitator@example.org", Role.FACILITATOR)

    reader = Person(new_context(js=js).new_page())
    me = Hands(reader)
    me.sign_in(
        "reader@acme.example", PASSWORD, heading="Company portal"
    )  # company readers need no second factor
    # A company reader's header names their portal, never "staff".
    expect(reader.page.locator(".staff-brand")).to_have_text(f"Company portal: {ORG}")
    me.follow("Your reports", f"Reports for {ORG}")
    assert "answered 0 of 2 findings" in reader.html()
    me.follow(TITLE, TITLE)
    answer = reader.page.locator("#answer-f1")
    expect(answer.locator(".answer-none")).to_have_text("Not answered yet.")
    assert reader.page.locator("main form").count() == 0  # answering is on its own page

    me.follow(f"Answer this finding — {F1_TITLE}", F1_TITLE)
    form = reader.page.locator("form.portal-form")
    # "Planned" without a date: refused, with a summary linking to the date field.
    form.get_by_label("Accepted", exact=True).focus()
    me.keys.press("ArrowDown")
    expect(form.get_by_label("Planned", exact=True)).to_be_checked()
    me.keys.press("Tab")
    date_field = form.get_by_label("Planned for (only when you choose “Planned”)")
    expect(date_field).to_be_focused()
    expect(date_field).to_have_attribute("type", "date")  # a calendar, which sends ISO
    text = form.locator("textarea")
    tab_past_date_segments(me, text)
    me.keys.type("We will keep detection in the encrypted service.")
    me.keys.press("Tab")
    expect(form.get_by_role("button", name="Save answer")).to_be_focused()
    me.keys.press("Enter")
    reader.check(F1_TITLE)
    summary = reader.page.locator(".error-summary")
    expect(summary.get_by_role("link")).to_have_text("Enter the date by which you plan to act.")
    expect(summary.get_by_role("link")).to_have_attribute("href", "#planned_for")
    form = reader.page.locator("form.portal-form")
    expect(form.get_by_label("Planned", exact=True)).to_be_checked()  # what was typed stays
    expect(form.locator("textarea")).to_have_value(
        "We will keep detection in the encrypted service."
    )
    screenshot(reader.page, "portal-finding-refused")

    reader.page.locator("#planned_for").fill("2027-03-31")  # what the calendar sends
    form.get_by_role("button", name="Save answer").focus()
    me.keys.press("Enter")
    # Saved: back to the report, at that finding.
    reader.check(TITLE)
    assert reader.page.url.endswith(f"/portal/reports/{version.id}#answer-f1")
    answer = reader.page.locator("#answer-f1")
    expect(answer.get_by_role("status")).to_contain_text(f"Your answer to “{F1_TITLE}” is saved")
    expect(answer.locator(".status-tag")).to_have_text("Planned, for 2027-03-31")
    expect(answer).to_be_in_viewport()

    # A change of mind is kept as history, newest first.
    me.follow(f"Change your answer — {F1_TITLE}", F1_TITLE)
    form = reader.page.locator("form.portal-form")
    form.get_by_label("Accepted", exact=True).focus()
    me.keys.press("Space")
    me.keys.press("Tab")
    tab_past_date_segments(me, form.locator("textarea"))
    me.keys.press("Control+A")
    me.keys.type("Detection stays; it ships with encryption.")
    me.keys.press("Tab")
    me.keys.press("Enter")
    reader.check(TITLE)
    expect(reader.page.locator("#answer-f1 .status-tag")).to_have_text("Accepted")
    me.follow(f"Change your answer — {F1_TITLE}", F1_TITLE)
    expect(reader.page.locator(".answer-history__status")).to_have_text(
        ["Accepted", "Planned, for 2027-03-31"]
    )
    screenshot(reader.page, "portal-finding")
    me.follow("Back to the report", TITLE)
    me.follow(f"All reports for {ORG}", f"Reports for {ORG}")
    assert "answered 1 of 2 findings" in reader.html()

    # Another company's reader: no list entry, and the addresses are a plain 404.
    other = Person(new_context(js=js).new_page())
    them = Hands(other)
    them.sign_in("reader@else.example", PASSWORD, heading="Company portal")
    them.follow("Your reports", f"Reports for {ELSEWHERE}")
    assert f"There are no reports addressed to {ELSEWHERE} yet." in other.html()
    assert TITLE not in other.html()
    for path in (f"/portal/reports/{version.id}", f"/portal/reports/{version.id}/findings/f1"):
        missing = other.goto(path, "Page not found")
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


@pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
def test_results_are_folded_and_open_without_javascript(
    app, live_server, new_context, make_published_report, js
):
    """Findings come first; each part of the survey's results is a <details> that
    opens by keyboard with or without JavaScript, and a finding's evidence link opens
    the part it points into. Charts are files of the site's own, loaded under its CSP
    (only once their part is opened)."""
    version = make_published_report([ORG])
    account("reader@acme.example", Role.COMPANY, ORG)
    context = new_context(js=js, viewport={"width": 320, "height": 700})
    reader = Person(context.new_page())
    violations: list[str] = []
    reader.page.on(
        "console",
        lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
    )
    charts: list[str] = []
    reader.page.on(
        "response",
        lambda r: charts.append(r.url) if "/charts/" in r.url and r.status == 200 else None,
    )
    Hands(reader).sign_in("reader@acme.example", PASSWORD, heading="Company portal")
    reader.goto(f"/portal/reports/{version.id}", TITLE)
    page = reader.page
    headings = page.locator("main h2:not(.visually-hidden)").all_inner_texts()
    assert headings.index("Findings") < headings.index("Results by question")

    parts = page.locator("#report-questions details.report-fold")
    expect(parts).to_have_count(3)  # the sample report's three parts of the survey
    for index in range(3):
        expect(parts.nth(index)).not_to_have_attribute("open", "")
    question = page.locator("#question-detect_images")
    expect(question).to_be_hidden()
    severity = page.locator("#finding-f1 img.report-chart__image")
    severity.scroll_into_view_if_needed()
    expect(severity).to_be_visible()
    until(page, "document.querySelector('#finding-f1 img.report-chart__image').naturalWidth > 0")
    if js:
        # While every part is folded, no chart of theirs is fetched (without
        # JavaScript, Chromium loads lazy images at once).
        assert charts and all("severity-f1" in url for url in charts), charts

    # The keyboard opens a part.
    summary = parts.nth(1).locator("summary")
    summary.focus()
    page.keyboard.press("Enter")
    expect(question).to_be_visible()
    expect(question.locator("img.report-chart__image")).to_be_visible()
    until(page, "document.querySelector('#question-detect_images img').naturalWidth > 0")
    assert any("question-detect_images" in url for url in charts)
    reader.check(TITLE)
    page.keyboard.press("Enter")
    expect(question).to_be_hidden()

    # An evidence link opens the part its question is in.
    page.locator("#finding-f1").get_by_role("link", name="How much could end-to-end").click()
    expect(page.locator("#question-harm_scale")).to_be_visible()
    expect(page.locator("#question-harm_scale")).to_be_in_viewport()
    reader.check(TITLE)
    assert violations == []
    # Hidden numbers read alike, in plain words.
    texts = set(page.locator("#question-harm_scale .report-suppressed").all_inner_texts())
    assert len(texts) == 1 and texts.pop().startswith("hidden")
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    screenshot(page, f"portal-report-{'js' if js else 'nojs'}")


def test_the_portal_fits_a_narrow_screen(app, live_server, new_context, make_published_report):
    version = make_published_report([ORG])
    account("reader@acme.example", Role.COMPANY, ORG)
    account("facilitator@example.org", Role.FACILITATOR)
    for email, paths in (
        (
            "reader@acme.example",
            (
                ("/portal/", f"Reports for {ORG}"),
                (f"/portal/reports/{version.id}", TITLE),
                (f"/portal/reports/{version.id}/findings/f1", F1_TITLE),
            ),
        ),
        (
            "facilitator@example.org",
            ((f"/staff/reports/{version.id}/answers", f"Companies' answers: {TITLE}"),),
        ),
    ):
        person = Person(new_context(viewport={"width": 320, "height": 640}).new_page())
        Hands(person).sign_in(
            email,
            PASSWORD,
            heading="Chorus staff" if email.startswith("facilitator") else "Company portal",
        )
        for path, heading in paths:
            person.goto(path, heading)
            person.page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
            width = person.page.evaluate("document.documentElement.scrollWidth")
            assert width <= 320, (path, width)
            # The heading keeps its distance from the header's line.
            gap = person.page.evaluate(
                "document.querySelector('main h1').getBoundingClientRect().top"
                " - document.querySelector('.site-header').getBoundingClientRect().bottom"
            )
            assert gap >= 16, (path, gap)


def test_a_spanish_report_reads_in_spanish_in_the_browser(
    app, live_server, new_context, make_published_report
):
    """A Spanish survey's report in the portal: the report in Spanish (marked lang="es"),
    the page around it in English, axe clean, at 320 px too."""
    from admin.reports.build import build_report
    from admin.reports.draft import DraftReport
    from tests.admin.reports.test_report_language import FINDING, PUBLISHED, spanish_survey

    survey, frame = spanish_survey()
    document = build_report(survey, frame, DraftReport(findings=[FINDING]), PUBLISHED)
    make_published_report([ORG], document=document, survey=survey)
    account("reader@acme.example", Role.COMPANY, ORG)

    reader = Person(new_context(js=True).new_page())
    me = Hands(reader)
    me.sign_in("reader@acme.example", PASSWORD, heading="Company portal")
    me.follow("Your reports", f"Reports for {ORG}")
    title = "Seguridad en la mensajería, version 1"
    me.follow(title, title)
    report = reader.page.locator("article.report")
    expect(report).to_have_attribute("lang", "es")
    expect(report.get_by_role("heading", name="Conclusiones", exact=True)).to_be_visible()
    expect(report.get_by_role("heading", name="Resultados por pregunta")).to_be_visible()
    expect(report.locator(".report-meta")).to_contain_text("Semana del 1 de febrero de 2027")
    expect(reader.page.get_by_role("link", name="Report (PDF)")).to_be_visible()
    screenshot(reader.page, "portal-report-spanish")

    me.follow(f"Answer this finding — {FINDING.title}", FINDING.title)
    expect(reader.page.get_by_role("heading", name="Gravedad")).to_be_visible()
    expect(reader.page.get_by_role("button", name="Save answer")).to_be_visible()


def test_chart_text_is_at_least_12_px_on_a_320_px_phone(
    app, live_server, new_context, make_published_report
):
    """Issue 21, point 13: a chart is an image scaled to its column, so its words are
    as big as the SVG's font size times the scale it is shown at."""
    version = make_published_report([ORG])
    account("reader@acme.example", Role.COMPANY, ORG)
    context = new_context(js=True, viewport={"width": 320, "height": 568})
    reader = Person(context.new_page())
    Hands(reader).sign_in("reader@acme.example", PASSWORD, heading="Company portal")
    reader.goto(f"/portal/reports/{version.id}", TITLE)
    page = reader.page
    for summary in page.locator("#report-questions details.report-fold summary").all():
        summary.click()
    images = page.locator("img.report-chart__image")
    assert images.count() >= 2
    for index in range(images.count()):
        image = images.nth(index)
        image.scroll_into_view_if_needed()
        until(page, f"document.querySelectorAll('img.report-chart__image')[{index}].complete")
        shown = image.bounding_box()["width"]
        svg = context.request.get(live_server.base_url + image.get_attribute("src")).text()
        view_width = float(re.search(r'viewBox="0 0 ([\d.]+) ', svg).group(1))
        sizes = [float(size) for size in re.findall(r'<text[^>]* font-size="([\d.]+)"', svg)]
        assert sizes and min(sizes) * shown / view_width >= 12, (shown, min(sizes))
    screenshot(page, "portal-charts", widths=(320,))
