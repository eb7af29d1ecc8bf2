"""Privacy, end to end: what a real browser leaves behind on the server.

The browser reaches the live server from CLIENT_ADDRESS (see relay.py), an
address found nowhere else; after a respondent has sent answers and another
has saved a draft, neither that address nor the words they typed may be in the
database (every table, and the SQLite file's raw bytes), the server's log, or
any page.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from survey.models import Draft, Response, db
from survey.surveys import response_count
from tests.e2e.helpers import CLIENT_ADDRESS, SERVER_HOST, Person
from tests.factories import small_survey_document, template_document

pytestmark = pytest.mark.browser

SECRET_TEXT = "zebra-lantern-4417 should never appear"
SECRET_DRAFT = "quokka-meridian-2903 kept only sealed"
SECRET_SHORT = "okapi-7719"
FRAGMENTS = ("zebra-lantern", "quokka-meridian", "okapi-7719")
IPV4 = re.compile(r"\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b")


def every_stored_value() -> str:
    """Every value in every table: its repr, and bytes also decoded and as hex."""
    parts = []
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(select(table)):
            for value in row:
                parts.append(repr(value))
                if isinstance(value, bytes | memoryview):
                    raw = bytes(value)
                    parts += [raw.decode("utf-8", errors="ignore"), raw.hex()]
    return "\n".join(parts)


def raw_database_files(database_url: str) -> list[Path]:
    """The SQLite file and its journals, or nothing for PostgreSQL."""
    url = make_url(database_url)
    if not url.drivername.startswith("sqlite") or not url.database:
        return []
    main = Path(url.database)
    candidates = [main, Path(f"{main}-wal"), Path(f"{main}-journal")]
    return [path for path in candidates if path.exists()]


def answer_and_send_without_js(p: Person) -> str:
    """The template survey, no JavaScript, with distinctive words in free text."""
    page = p.page
    p.goto("/s/demo", "Product-risk consultation")
    assert page.context.cookies() == [], "the landing page set a cookie"
    p.press("Start the survey", "The apps and services you use")
    p.type("How many different messaging apps do you use in a typical week?", "7")
    p.press("Save and continue", "Reporting and blocking tools")
    p.press("Save and continue", "Friend and contact suggestions")
    p.press("Skip this section", "Disappearing messages")
    p.press("Skip this section", "Tools that find abuse images and grooming")
    p.press("Skip this section", "End-to-end encrypted messaging")
    p.press("Continue to this section", "End-to-end encrypted messaging")
    p.type(
        "What, if anything, should a company do to protect children before it switches on "
        "end-to-end encryption?",
        SECRET_TEXT,
    )
    p.press("Save and continue", "What companies should do")
    p.type("In a few words, which product feature, if any, worries you most?", SECRET_SHORT)
    p.press("Save and continue", "About you")
    p.press("Save and review your answers", "Check your answers")
    # The person sees their own words before sending them...
    expect(page.locator("main")).to_contain_text(SECRET_TEXT)
    p.press("Send my answers", "Your answers have been sent")
    receipt = p.code_shown()
    page.get_by_label("I have saved my code").check()
    p.press("Finish", "Thank you")
    return receipt


def save_a_draft_with_js(p: Person) -> str:
    """The small survey with JavaScript: a draft saved with a resume code, not sent."""
    page = p.page
    p.goto("/s/small", "Messaging safety")
    p.press("Start the survey", "About you")
    p.choose("How old are you?", "18 or older")
    # With JavaScript the follow-up question appears at once.
    p.type("Adults: one word", SECRET_DRAFT)
    p.press("Save and get a resume code", "Your resume code")
    code = p.code_shown()
    page.get_by_label("I have saved my code").check()
    p.press("Continue answering", "About you")
    expect(page.get_by_label("Adults: one word")).to_have_value(SECRET_DRAFT)
    return code


def test_nothing_identifying_is_kept(open_survey_live, new_context, live_server, database_url):
    demo = template_document()
    demo["slug"] = "demo"
    demo_survey = open_survey_live(demo)
    small = open_survey_live(small_survey_document())

    seen: list[tuple[str, str]] = []
    requests: list[str] = []
    sender_context = new_context(js=False)
    sender_context.on("request", lambda request: requests.append(request.url))
    sender = Person(sender_context.new_page(), seen)
    receipt = answer_and_send_without_js(sender)
    chorus_cookies = [c for c in sender_context.cookies() if c["name"] == "chorus"]
    assert chorus_cookies == [], "the session cookie outlived the confirmed receipt"

    saver_context = new_context()
    saver_context.on("request", lambda request: requests.append(request.url))
    saver = Person(saver_context.new_page(), seen)
    save_a_draft_with_js(saver)
    # Withdrawal with a wrong code leaves no trace either.
    saver.goto("/s/small/withdraw", "Withdraw your answers")
    saver.page.get_by_label("Receipt code").fill("ABCD-EFGH-JKMN-PQRS")
    saver.press("Find my answers", "Withdraw your answers")
    user_agent = saver.page.evaluate("navigator.userAgent")

    # The browser only ever talked to the app (no third-party requests) ...
    assert requests and all(url.startswith(live_server.base_url + "/") for url in requests), {
        url for url in requests if not url.startswith(live_server.base_url + "/")
    }
    # ... and the server saw it at CLIENT_ADDRESS: the needle is really in the haystack.
    assert live_server.relay.sources_seen == {CLIENT_ADDRESS}
    assert live_server.relay.connections > 0

    # The database: one sealed response (waiting in the encrypted inbox until the
    # week's shuffled write) and one sealed draft, nothing readable.
    db.session.expire_all()
    assert response_count(small) == 0
    assert response_count(demo_survey) == 1
    assert db.session.scalar(select(func.count()).select_from(Response)) == 0
    assert db.session.scalar(select(func.count()).select_from(Draft)) == 1
    stored = every_stored_value()
    needles = (
        CLIENT_ADDRESS,
        SERVER_HOST,
        SECRET_TEXT,
        SECRET_DRAFT,
        SECRET_SHORT,
        *FRAGMENTS,
        user_agent,
        "HeadlessChrome",
        receipt,
    )
    for needle in needles:
        assert needle not in stored, f"{needle!r} is stored in the database"
    for path in raw_database_files(database_url):
        raw = path.read_bytes()
        for needle in (CLIENT_ADDRESS, SECRET_TEXT, SECRET_DRAFT, SECRET_SHORT, *FRAGMENTS):
            assert needle.encode() not in raw, f"{needle!r} is in the bytes of {path.name}"

    # The server's log: it logs requests, but not a respondent's (their times would
    # date the person), and no address or answer anywhere.
    log = live_server.log_text()
    assert '"GET /' in log, log[-2000:]
    assert '"GET /s/' not in log and '"POST /s/' not in log, log[-2000:]
    for needle in (CLIENT_ADDRESS, *FRAGMENTS, SECRET_TEXT, SECRET_DRAFT, "HeadlessChrome"):
        assert needle not in log, f"{needle!r} is in the server log"
    request_lines = [line for line in log.splitlines() if '"GET ' in line or '"POST ' in line]
    assert request_lines
    for line in request_lines:
        assert not IPV4.search(line), f"an address in a request log line: {line}"
        assert "?" not in line.split('"')[1], f"a query string was logged: {line}"

    # The pages: never the person's address.
    assert len(seen) >= 15
    for url, html in seen:
        assert CLIENT_ADDRESS not in html, url


def test_respondent_pages_send_strict_headers_and_cookies(open_survey_live, new_context):
    open_survey_live(small_survey_document())
    context = new_context()
    p = Person(context.new_page())
    page = p.page

    landing = p.goto("/s/small", "Messaging safety")
    assert landing.status == 200
    assert "set-cookie" not in landing.all_headers()
    assert context.cookies() == []

    with page.expect_response(lambda r: r.url.endswith("/s/small/section/you")) as info:
        p.press("Start the survey", "About you")
    section = info.value
    cookies = context.cookies()
    assert [c["name"] for c in cookies] == ["chorus"]
    assert cookies[0]["httpOnly"] and cookies[0]["sameSite"] == "Strict"
    assert cookies[0]["expires"] == -1, "the session cookie must not outlive the browser"

    for response in (landing, section):
        headers = response.all_headers()
        csp = headers["content-security-policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp, csp
        assert headers["referrer-policy"] == "no-referrer"
        assert "no-store" in headers["cache-control"]
        assert headers["x-content-type-options"] == "nosniff"
    expect(page).to_have_title("Survey")
