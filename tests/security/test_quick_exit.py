"""Quick exit goes through the server: it forgets the respondent's session first,
so Back after leaving finds a neutral page that names no survey, no topic and no
helpline (issue 21), never the answers, and it ends the draft's binding on the
server, so a copy of the cookie taken before leaving opens nothing either (issue 20)."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from sqlalchemy import func, select

from survey.i18n import shipped_languages, translate_to
from survey.models import Draft, db
from survey.respondent import session as respondent_session
from survey.respondent.session import LEFT_COOKIE, LEFT_QUIET_MINUTES
from tests.factories import Respondent, make_user, page_text, sign_in, small_survey_document

SECRET_WORDS = "cobalt-lantern-5521 is private"
EXIT = "/s/exit"
# What a bystander pressing Back must not learn: the survey, its topic, its helplines,
# that there was an exit to press, or the session's idle limit.
GIVEAWAYS = (
    "Messaging safety",
    "Encrypted messaging",
    "About you",
    "Helpline",
    "0800 000 000",
    "support",
    "Leave this page quickly",
    "Your session has ended",
    "60 minutes",
    "Survey",
)


def assert_neutral(response, words: tuple[str, ...] = ("This page is not available",)) -> None:
    """The page after leaving: "not available", a title like any browser's, and nothing
    that says what was here."""
    html = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "<title>Page not available</title>" in html or "<title>" in html
    for word in words:
        assert word in html
    for giveaway in GIVEAWAYS:
        assert giveaway not in html, giveaway
    assert SECRET_WORDS not in html
    assert response.headers["Cache-Control"] == "no-store"


def another_browser(r: Respondent) -> None:
    """The cookie's copy used elsewhere: that browser never pressed the exit."""
    r.client.delete_cookie(LEFT_COOKIE, path="/s/")


def answered(r: Respondent) -> None:
    r.start()
    r.answer("you", {"age_band": "adult", "apps": "3"})
    r.answer("you", {"age_band": "adult", "apps": "3", "adult_only": SECRET_WORDS})
    r.section("you")
    assert SECRET_WORDS in r.last_html


def test_every_respondent_page_links_to_the_exit_route(respondent: Respondent):
    r = respondent
    r.get("/s/small")
    assert f'href="{EXIT}"' in r.last_html
    r.start()
    r.section("you")
    assert f'href="{EXIT}"' in r.last_html


def test_exit_forgets_the_draft_and_leaves_without_a_trace(app, respondent: Respondent):
    r = respondent
    answered(r)
    left = r.client.get(EXIT)
    assert left.status_code in (302, 303)
    assert left.location == app.config["CHORUS_QUICK_EXIT_URL"]
    assert left.headers["Cache-Control"] == "no-store"
    assert left.headers["Referrer-Policy"] == "no-referrer"
    # Back: the section is fetched again (no-store), the session is gone, and the
    # page says nothing about what was there.
    assert_neutral(r.section("you"))
    assert "<title>Page not available</title>" in r.last_html
    assert r.client.get_cookie("chorus") is None
    marker = r.client.get_cookie(LEFT_COOKIE, path="/s/")
    assert marker is not None and marker.http_only and marker.expires is None


def test_exit_keeps_a_staff_sign_in(client, make_open_survey):
    make_open_survey()
    make_user()
    sign_in(client)
    assert client.get("/staff/").status_code == 200
    r = Respondent(client, "small")
    answered(r)
    client.get(EXIT)
    assert_neutral(r.section("you"))
    assert client.get("/staff/").status_code == 200


def test_exit_without_a_session_sets_only_the_mark_that_it_left(app, client, make_open_survey):
    make_open_survey()
    assert "Messaging safety" in client.get("/s/small").get_data(as_text=True)
    left = client.get(EXIT)
    assert left.status_code in (302, 303)
    assert left.location == app.config["CHORUS_QUICK_EXIT_URL"]
    cookies = left.headers.getlist("Set-Cookie")
    assert len(cookies) == 1 and cookies[0].startswith(f"{LEFT_COOKIE}=")
    # It says when, and in which language; it dies with the browser.
    assert "HttpOnly" in cookies[0] and "SameSite=Lax" in cookies[0] and "Path=/s/" in cookies[0]
    assert "Expires" not in cookies[0] and "Max-Age" not in cookies[0]
    # Back to the landing page: nothing about the survey either.
    assert_neutral(client.get("/s/small"))


def test_exit_from_another_site_changes_nothing(respondent: Respondent):
    r = respondent
    answered(r)
    refused = r.client.get(EXIT, headers={"Sec-Fetch-Site": "cross-site"})
    assert refused.status_code == 403
    assert "Set-Cookie" not in refused.headers
    r.section("you")
    assert SECRET_WORDS in r.last_html


def test_exit_after_submitting_forgets_the_receipt(respondent: Respondent):
    r = respondent
    r.start()
    r.answer("you", {"age_band": "under_18"})
    r.submit()
    code = r.receipt_code()
    r.client.get(EXIT)
    page = page_text(r.client.get("/s/small/receipt"))
    assert code not in page


# --- a copy of the cookie, taken before leaving ----------------------------------------------


def drafts() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Draft)) or 0


def replay(r: Respondent, cookie: str) -> None:
    """Put the copied cookie back, as whoever took it off the device would."""
    r.client.set_cookie("chorus", cookie)


def test_a_copied_cookie_opens_nothing_after_the_exit(respondent: Respondent):
    r = respondent
    answered(r)
    copy = r.client.get_cookie("chorus").value
    r.client.get(EXIT)
    replay(r, copy)
    another_browser(r)
    page = r.section("you")
    assert page.status_code == 200
    assert "Your session has ended" in r.last_html
    assert SECRET_WORDS not in r.last_html
    r.get("/s/small/review")
    assert SECRET_WORDS not in r.last_html
    # Without a resume code nothing could ever reach the draft again: it is gone.
    assert drafts() == 0


def test_after_the_exit_saved_answers_come_back_with_the_resume_code_only(
    app, respondent: Respondent
):
    r = respondent
    r.start()
    r.answer("you", {"age_band": "adult", "apps": "3"})
    r.answer("you", {"age_band": "adult", "apps": "3", "adult_only": SECRET_WORDS}, "save")
    r.get("/s/small/code")
    code = r.shown_code()
    r.post("/s/small/code", {"saved": "1"})
    copy = r.client.get_cookie("chorus").value
    r.client.get(EXIT)
    assert drafts() == 1

    # The copy opens nothing and changes nothing.
    replay(r, copy)
    another_browser(r)
    r.section("you")
    assert "Your session has ended" in r.last_html and SECRET_WORDS not in r.last_html
    r.client.post("/s/small/section/you", data={"adult_only": "overwritten", "action": "next"})

    # The resume code still brings the answers back, as they were.
    again = Respondent(app.test_client(), "small")
    again.get("/s/small/resume")
    again.post("/s/small/resume", {"code": code})
    again.section("you")
    assert SECRET_WORDS in again.last_html and "overwritten" not in again.last_html
    # The copy still opens nothing while the resumed session answers.
    r.section("you")
    assert SECRET_WORDS not in r.last_html


def test_the_exit_leaves_even_when_the_database_is_away(app, respondent: Respondent, caplog):
    """Leaving comes first: with the database away the person still goes (the binding
    stays until the draft lapses), and the log says only what kind of failure it was."""
    r = respondent
    answered(r)
    dbapi = db.engine.dialect.loaded_dbapi

    def server_gone(cursor, statement, parameters, context=None):
        raise dbapi.OperationalError("terminating connection due to administrator command")

    caplog.set_level(logging.INFO)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(db.engine.dialect, "do_execute", server_gone)
        left = r.client.get(EXIT)
    assert left.status_code == 303
    assert left.location == app.config["CHORUS_QUICK_EXIT_URL"]
    assert r.client.get_cookie("chorus") is None
    assert "administrator command" not in caplog.text
    assert "Quick exit could not end the draft's binding (OperationalError)" in caplog.text


# --- Back after leaving: a neutral page, whatever the page ---------------------------------


def test_back_after_the_exit_shows_a_neutral_page_on_every_respondent_page(
    respondent: Respondent,
):
    r = respondent
    answered(r)
    r.answer("you", {"age_band": "adult", "apps": "3"})
    r.client.get(EXIT)
    for path in (
        "/s/small",
        "/s/small/section/you",
        "/s/small/section/e2ee",
        "/s/small/review",
        "/s/small/code",
        "/s/small/receipt",
        "/s/small/resume",
        "/s/small/withdraw",
        "/s/small/thanks",
    ):
        assert_neutral(r.client.get(path))
    # A form from before leaving, sent again: nothing is saved, nothing is shown.
    assert_neutral(r.client.post("/s/small/section/you", data={"apps": "9", "action": "next"}))


def test_after_the_exit_the_neutral_page_speaks_the_persons_language(client, make_open_survey):
    make_open_survey()
    r = Respondent(client, "small")
    r.start(lang="es")
    r.section("you")
    assert "Sobre ti" in r.last_html
    client.get(EXIT)
    assert_neutral(r.section("you"), ("Esta página no está disponible", 'lang="es"'))
    assert "Sobre ti" not in r.last_html and "Seguridad" not in r.last_html


def test_open_pages_come_back_after_a_while_and_starting_again_ends_the_mark(
    respondent: Respondent, monkeypatch
):
    r = respondent
    answered(r)
    r.client.get(EXIT)
    assert_neutral(r.client.get("/s/small"))
    later = respondent_session.now_minute() + LEFT_QUIET_MINUTES + 1
    monkeypatch.setattr(respondent_session, "now_minute", lambda: later)
    # The survey's link works again; a page that needed the session still says nothing.
    assert "Messaging safety" in r.get("/s/small").get_data(as_text=True)
    assert_neutral(r.client.get("/s/small/section/you"))
    # Starting again removes the mark, and the pages work as before.
    r.start()
    assert r.client.get_cookie(LEFT_COOKIE, path="/s/") is None
    r.section("you")
    assert "About you" in r.last_html


def test_a_mark_that_isnt_the_exits_is_ignored(respondent: Respondent):
    r = respondent
    r.client.set_cookie(LEFT_COOKIE, "<script>", path="/s/")
    assert "Messaging safety" in r.get("/s/small").get_data(as_text=True)


QUICK_EXIT_NOTE = (
    "Leaving ends your session: answers you haven't saved are lost, and to come back to "
    "saved answers you need your resume code."
)


def also_in(document: Any, languages: list[str], language: str) -> Any:
    """The document with `language` added: each text in it also in `language`, worded
    as in English (the app's words around them are what the test reads)."""
    if isinstance(document, dict):
        if document and set(document) <= set(languages):
            return {**document, language: document["en"]}
        return {key: also_in(value, languages, language) for key, value in document.items()}
    if isinstance(document, list):
        return [also_in(item, languages, language) for item in document]
    return document


@pytest.mark.parametrize("language", ["en", *shipped_languages()])
def test_the_hint_says_what_leaving_costs_in_every_language(client, make_open_survey, language):
    note = translate_to(language, QUICK_EXIT_NOTE)
    assert note and (language == "en") == (note == QUICK_EXIT_NOTE)
    document = small_survey_document()
    if language not in document["languages"]:
        languages = document["languages"]
        document = also_in(document, languages, language)
        document["languages"] = [*languages, language]
    survey, _ = make_open_survey(document)
    r = Respondent(client, survey.slug)
    # Once answering has begun: before, leaving loses nothing, and the landing page
    # keeps its first screen for who runs the survey, how long it takes and Start.
    r.start(lang=language)
    r.section("you")
    assert note in r.last_html
