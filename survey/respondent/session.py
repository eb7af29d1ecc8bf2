"""The respondent's session: the only cookie a respondent gets, and only once they start.

The cookie (encrypted, see survey/session_cookie.py) holds `r`: the draft id and
key, a pre-drawn receipt code, the language and the minute of last activity.
Submitting replaces it with `done` (the receipt to show once, for a few minutes),
and confirming the receipt or the quick exit forgets it; the quick exit also ends
the draft's binding on the server (`leave`), so a copy of the cookie opens nothing.
Only these two keys are the respondent's: a staff sign-in and the form token in the
same browser are never cleared from here.

Leaving also sets a second, tiny cookie (`LEFT_COOKIE`: the minute of leaving and
the language, nothing else) that lasts until the browser closes: Back after leaving
then finds a neutral page that names no survey, no topic and no helpline (see
`left_page_language`), never "your session has ended". It is SameSite=Lax, so a page
first opened from a link in another app finds it too.
"""

from __future__ import annotations

import contextlib
import logging
import re
import time
from typing import Any

from flask import Response, after_this_request, current_app, g, request, session
from sqlalchemy.exc import SQLAlchemyError

from survey import crypto
from survey.models import Survey, autocommit_statements, db
from survey.responses import (
    DraftGone,
    DraftHandle,
    DraftState,
    open_draft,
    read_draft,
    release_draft,
    survey_and_draft,
)

logger = logging.getLogger(__name__)

# The session's keys that belong to the respondent (nothing else is cleared here).
RESPONDENT_KEYS = ("r", "done")
# Keys that alone are no reason to keep a cookie (the form token, Flask-Login's
# marks for an anonymous visitor); a staff sign-in has more.
NOTHING_TO_KEEP = frozenset({"csrf_token", "_fresh", "_id"})
# How long the receipt stays on screen after submitting.
RECEIPT_SHOWN_MINUTES = 10
# Set by the quick exit; a session cookie of its own (it dies with the browser).
LEFT_COOKIE = "chorus-left"
# For this long after leaving, the survey's open pages (landing, resume, withdraw,
# thanks) show the neutral page too; pages that need a session always do while the
# cookie is there. Starting or resuming again removes it.
LEFT_QUIET_MINUTES = 30
_LEFT_VALUE = re.compile(r"^(\d{1,12})\.([a-z]{2,3}(?:-[A-Za-z0-9]{1,8})?)$")


class SessionEnded(Exception):
    """The respondent's session is gone or idle too long: explain how to resume."""

    def __init__(self, survey: Survey):
        self.survey = survey


def now_minute() -> int:
    return int(time.time() // 60)


def forget_respondent() -> None:
    """Drop the respondent's part of the session, and nothing else.

    The session is touched only when it holds respondent state, so a request
    without it never rewrites the cookie. When nothing else (a staff sign-in)
    is left beside the form token and Flask-Login's anonymous marks, the cookie
    goes altogether.
    """
    if not any(key in session for key in RESPONDENT_KEYS):
        return
    for key in RESPONDENT_KEYS:
        session.pop(key, None)
    if set(session) <= NOTHING_TO_KEEP:
        session.clear()


def leave() -> str | None:
    """The quick exit: end the server's binding to this session's draft
    (responses.release_draft), then forget the respondent's part of the session.
    Returns the language the person was reading in, if the session knew it.

    Leaving comes first: if the database fails, the person still goes, and the
    log says only what kind of failure it was (its text can carry a statement).
    A copy of the cookie then reaches the draft until the session's idle limit.
    """
    state = session.get("r")
    language = (state or session.get("done") or {}).get("lang")
    if state:
        try:
            survey = find_survey_here(state["slug"])
            if survey is not None:
                handle = DraftHandle(state["draft"], crypto.unb64(state["key"]))
                release_draft(survey, handle, draft_as_read(survey, handle))
        except SQLAlchemyError as error:
            with contextlib.suppress(SQLAlchemyError):
                db.session.rollback()
            logger.warning(
                "Quick exit could not end the draft's binding (%s)", type(error).__name__
            )
    forget_respondent()
    return language if isinstance(language, str) else None


def left_marker(language: str) -> str:
    """The value of the cookie the quick exit sets: when, and in which language."""
    return f"{now_minute()}.{language}"


def set_left_cookie(response: Response, language: str) -> None:
    response.set_cookie(
        LEFT_COOKIE,
        left_marker(language),
        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
        httponly=True,
        samesite="Lax",
        path="/s/",
    )


def _left_here() -> tuple[int, str] | None:
    """When this browser left with the quick exit, and in which language (None if
    it didn't, or the cookie isn't one the exit wrote)."""
    found = _LEFT_VALUE.match(request.cookies.get(LEFT_COOKIE, ""))
    if found is None:
        return None
    return int(found.group(1)), found.group(2)


def left_page_language(needs_session: bool) -> str | None:
    """The language of the neutral page this request gets because the person left
    (None: the page as usual): always for a page that needs the session, for the
    open pages only for a while."""
    left = _left_here()
    if left is None:
        return None
    minute, language = left
    if needs_session or now_minute() - minute <= LEFT_QUIET_MINUTES:
        return language
    return None


def forget_leaving() -> None:
    """Starting or resuming again: the marker goes with this request's response."""
    if LEFT_COOKIE not in request.cookies:
        return

    @after_this_request
    def drop(response: Response) -> Response:
        response.delete_cookie(LEFT_COOKIE, path="/s/")
        return response


def begin_session(survey: Survey, handle: DraftHandle, language: str) -> None:
    forget_respondent()
    forget_leaving()
    session["r"] = {
        "slug": survey.slug,
        "draft": handle.draft_id,
        "key": crypto.b64(handle.key),
        "receipt": crypto.generate_code(),
        "lang": language,
        "seen": now_minute(),
    }


def draft_id_here(slug: str) -> str | None:
    """The id of the draft this session is answering in survey `slug`, if any."""
    state = session.get("r")
    if not state or state.get("slug") != slug:
        return None
    draft_id: str = state["draft"]
    return draft_id


def find_survey_here(
    slug: str, *, with_draft: bool = True, autocommit: bool = False
) -> Survey | None:
    """The survey `slug` names and, read in the same statement, this session's
    draft of it (`with_draft`), kept for `current_draft` in this request.

    With `autocommit`, this and every later statement of the request is its own
    transaction (models.autocommit_statements): for pages that read, or write one row.
    """
    draft_id = draft_id_here(slug) if with_draft else None
    if autocommit:
        autocommit_statements()
    survey, sealed = survey_and_draft(slug, draft_id)
    if survey is not None and draft_id is not None:
        g.respondent_draft = (survey.id, draft_id, sealed)
    return survey


def draft_handle(survey: Survey) -> DraftHandle:
    """What this session holds to reach its draft of the survey (nothing is read
    yet), or SessionEnded when it holds none or has been idle too long."""
    state = session.get("r")
    if not state or state.get("slug") != survey.slug:
        raise SessionEnded(survey)
    idle_limit = int(current_app.config["CHORUS_RESPONDENT_IDLE_MINUTES"])
    if now_minute() - int(state.get("seen", 0)) > idle_limit:
        forget_respondent()
        raise SessionEnded(survey)
    return DraftHandle(state["draft"], crypto.unb64(state["key"]))


def draft_as_read(survey: Survey, handle: DraftHandle) -> bytes | None:
    """The sealed draft `find_survey_here` read with the survey, when it did (once:
    a second call reads it again, after whatever this request saved)."""
    read = g.pop("respondent_draft", None)
    if read is not None and read[:2] == (survey.id, handle.draft_id):
        sealed: bytes | None = read[2]
        return sealed
    return read_draft(survey, handle.draft_id)


def current_draft(survey: Survey) -> tuple[DraftHandle, DraftState]:
    """The draft this session is answering, or SessionEnded.

    The draft as `find_survey_here` read it with the survey, when it did (once:
    a second call reads it again, after whatever this request saved).
    """
    handle = draft_handle(survey)
    try:
        draft = open_draft(survey, handle, draft_as_read(survey, handle))
    except DraftGone:
        raise SessionEnded(survey) from None
    state = session["r"]
    minute = now_minute()
    if state.get("seen") != minute:
        # The cookie is written again only when the minute it holds changes.
        state["seen"] = minute
        session.modified = True
    return handle, draft


def answering_here(survey: Survey) -> tuple[DraftHandle, DraftState] | None:
    """This browser's draft for the survey, if it has one that still opens."""
    if (session.get("r") or {}).get("slug") != survey.slug:
        return None
    try:
        return current_draft(survey)
    except SessionEnded:
        return None


def rekey_session(handle: DraftHandle, code: str) -> None:
    """The draft was re-keyed under a new resume code: hold its key, and the code
    until the person confirms they saved it."""
    state = session["r"]
    state["key"] = crypto.b64(handle.key)
    state["code"] = code
    session.modified = True  # a change inside `r` isn't seen on its own


def finish_session(survey: Survey, receipt: str) -> None:
    """Forget the draft; keep only the receipt to show for a few minutes (the form
    token stays, so that a refresh of the submit page finds its way back to it)."""
    language = (session.get("r") or session.get("done") or {}).get("lang")
    earlier = session.get("done") or {}
    # A refresh of the submit page doesn't make the receipt last longer.
    shown_since = earlier.get("at") if earlier.get("receipt") == receipt else None
    session.pop("r", None)
    session["done"] = {
        "slug": survey.slug,
        "receipt": receipt,
        "lang": language,
        "at": now_minute() if shown_since is None else shown_since,
    }


def receipt_lapsed(done: dict[str, Any]) -> bool:
    return now_minute() - int(done.get("at", 0)) > RECEIPT_SHOWN_MINUTES


def receipt_minutes_left(done: dict[str, Any]) -> int:
    """About how many more minutes the receipt stays on its page (at least 1 while
    it is shown: the last minute is counted whole)."""
    return max(1, RECEIPT_SHOWN_MINUTES - (now_minute() - int(done.get("at", 0))))


def receipt_to_show(slug: str) -> dict[str, Any] | None:
    """The receipt this browser may still see for the survey, if it hasn't lapsed."""
    done: dict[str, Any] | None = session.get("done")
    if not done or done.get("slug") != slug or receipt_lapsed(done):
        return None
    return done
