"""Whatever a request is, and whatever fails while it is handled, the person gets a calm page.

The load test that found these (issue 12) sent requests no browser sends: a Host
header Werkzeug refuses leaves Flask without a URL adapter, so every page that
calls `url_for` (all of them, through base.html) failed, and the failure of the
error page itself reached the server as a bare 500 without our headers. Here:

- `register_error_pages`: every HTTP error is the site's error page. It binds a
  URL adapter when the request has none, and if the page still can't be
  rendered, sends a plain one with the same words and the quick exit.
- `close_database_sessions_safely`: the end-of-request rollback of a database
  connection that dropped mid-request raised after the response was made, and
  the server sent its bare 500 instead; now it is logged (its kind only) and the
  connection dropped.
- the database away (PostgreSQL restarting or stopped, in the load test's
  faults) gave the general "something went wrong" page and a traceback per
  request; now it is a 503 page that says nothing on the page was saved and to
  try again shortly, with Retry-After, and one line in the log.
- `BodyLimitedRequest`: a chunked body (no Content-Length) over MAX_CONTENT_LENGTH
  was cut at the limit and the rest silently dropped, so the cut form was
  processed; now it is refused with 413 like a body that declares its length.

The security headers come from survey/privacy.py's after_request, which runs
for every response an error handler returns.
"""

from __future__ import annotations

import contextlib
import io
import logging
from html import escape
from typing import IO

import flask
from flask import Flask, current_app, render_template, request
from flask.globals import request_ctx
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.utils import cached_property

from survey.health import database_answers
from survey.i18n import N_, gettext
from survey.models import db

logger = logging.getLogger(__name__)

# The host a URL adapter is bound to when the request's own was refused. Pages
# build paths only (no url_for(..., _external=True) on an error page), so it never
# shows; .invalid is the name reserved for names that must never resolve (RFC 6761).
NO_HOST = "refused-host.invalid"

# The heading and text (msgids) of each status's page; any other status gets the general one.
ERROR_MESSAGES = {
    400: (
        N_("This page has expired"),
        N_(
            "For your safety, pages stop working after some time or when the "
            "browser closes. Please go back to the start of the survey."
        ),
    ),
    401: (N_("Please sign in"), N_("This page is for staff who are signed in.")),
    403: (
        N_("You can't use this page"),
        N_("Your account doesn't have access to it. Ask an administrator if you need it."),
    ),
    404: (N_("Page not found"), N_("There is nothing at this address.")),
    405: (N_("Page not found"), N_("There is nothing at this address.")),
    413: (
        N_("That was too much to send at once"),
        N_(
            "Please shorten your longest answer and try again. Use your browser's "
            "back button: what you typed should still be there."
        ),
    ),
    429: (N_("Too many attempts"), N_("Please wait a few minutes and try again.")),
}
GENERAL_ERROR = (
    N_("Something went wrong"),
    N_("Sorry, that didn't work. Nothing has been shared. Please go back and try again."),
)
# The plain page (when rendering failed) is English: it can't rely on anything working.
PAGE_TITLE = "Survey"
QUICK_EXIT = "Leave this page quickly"

# How long a load balancer or a browser is asked to wait while the database is away.
RETRY_AFTER_SECONDS = 30

# The last resort, when even the error template fails: no stylesheet (url_for may
# be what failed), the same words, and the quick exit straight to its site.
PLAIN_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="referrer" content="no-referrer">
  <meta name="robots" content="noindex, nofollow">
  <title>{title}</title>
</head>
<body>
  <p><a href="{exit_url}" rel="noreferrer">{exit_text}</a></p>
  <main>
    <h1>{heading}</h1>
    <p>{body}</p>
  </main>
</body>
</html>
"""


def bind_url_adapter_if_missing() -> None:
    """Give a request whose Host was refused a URL adapter, so that url_for works.

    Flask answers such a request 400 (Werkzeug's BadHost, or SecurityError for a
    host outside TRUSTED_HOSTS) but leaves it without an adapter, and base.html
    builds the stylesheet's and the quick exit's paths with url_for.
    """
    if request_ctx.url_adapter is None:
        request_ctx.url_adapter = current_app.url_map.bind(
            NO_HOST, script_name=request.root_path or None, url_scheme=request.scheme
        )


def plain_error_page(heading: str, body: str) -> str:
    """The error page without a template: for when the template is what failed."""
    return PLAIN_PAGE.format(
        title=escape(PAGE_TITLE),
        exit_url=escape(current_app.config["CHORUS_QUICK_EXIT_URL"]),
        exit_text=escape(QUICK_EXIT),
        heading=escape(heading),
        body=escape(body),
    )


def error_page(heading: str, body: str, status: int) -> tuple[str, int]:
    """The site's calm error page for `status`, whatever the request was: in the
    respondent's language if their page had chosen it, English otherwise."""
    try:
        heading, body = gettext(heading), gettext(body)
        bind_url_adapter_if_missing()
        return render_template("error.html", heading=heading, body=body), status
    except Exception:
        # Only what failed in rendering (code and template names): no request data.
        logger.exception("The error page could not be rendered; a plain one was sent")
        return plain_error_page(heading, body), status


def outage_page(heading: str, body: str) -> tuple[str, int, dict[str, str]]:
    """A service the app needs is away (an outage, not a bug): the calm page, 503, and
    Retry-After for load balancers and browsers."""
    page, status = error_page(heading, body, 503)
    return page, status, {"Retry-After": str(RETRY_AFTER_SECONDS)}


def register_error_pages(app: Flask) -> None:
    """Every error is a calm page in the site's style; none shows internals."""

    # Unhandled exceptions arrive here as InternalServerError after Flask has
    # logged them (method and path only: nothing about the client).
    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> tuple[str, int]:
        status = exc.code or 500
        return error_page(*ERROR_MESSAGES.get(status, GENERAL_ERROR), status)

    @app.errorhandler(DBAPIError)
    def database_error(exc: DBAPIError) -> tuple[str, int, dict[str, str]]:
        # The database away (restarting, stopped, unreachable) is an outage, not a bug:
        # a page saying nothing on it was saved, and 503 with Retry-After. Any other
        # database error goes on to Flask's exception log and the 500 page.
        if not exc.connection_invalidated and database_answers():
            raise exc
        logger.warning("A request found the database unreachable (%s)", type(exc).__name__)
        return outage_page(
            N_("This service is briefly unavailable"),
            N_(
                "If you had just sent answers, they were not saved this time; answers "
                "you saved before are safe. Please wait a minute, then go back and try "
                "again."
            ),
        )

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError) -> tuple[str, int]:
        if request.blueprint == "respond":
            from survey.respondent.views import csrf_failed

            answered = csrf_failed(exc)
            if answered is not None:
                return answered
        return error_page(
            N_("This page has expired"),
            N_(
                "For your safety, pages stop working after some time or when the "
                "browser closes. Please go back to the start of the survey."
            ),
            400,
        )


def close_database_session(_error: BaseException | None) -> None:
    """Flask-SQLAlchemy's end-of-request teardown, which must not fail the response.

    Removing the session rolls back its transaction; on a connection that died
    mid-request the rollback raises, after the response was made, and the error
    would reach the server (its bare 500) instead. The log says only what kind of
    error it was: a database error's text can carry its statement. The session's
    connection is dropped rather than returned to the pool, and the session
    forgotten, so no later request is handed either.
    """
    try:
        db.session.remove()
    except Exception as error:
        logger.error(
            "The database session could not be closed after a request (%s); "
            "its connection was dropped",
            type(error).__name__,
        )
        with contextlib.suppress(Exception):
            db.session().invalidate()
        db.session.registry.clear()


def close_database_sessions_safely(app: Flask) -> None:
    """Put `close_database_session` in the place of Flask-SQLAlchemy's own teardown."""
    app.teardown_appcontext_funcs.remove(db._teardown_session)
    app.teardown_appcontext(close_database_session)


READ_SIZE = 64 * 1024


def read_at_most(stream: IO[bytes], size: int) -> bytes:
    """Up to `size` bytes from a stream that may return fewer than asked at a time."""
    parts: list[bytes] = []
    remaining = size
    while remaining > 0:
        part = stream.read(min(remaining, READ_SIZE))
        if not part:
            break
        parts.append(part)
        remaining -= len(part)
    return b"".join(parts)


class BodyLimitedRequest(flask.Request):
    """Flask's request, holding a body without Content-Length to MAX_CONTENT_LENGTH too.

    Werkzeug reads such a body (chunked, ended by the server: wsgi.input_terminated)
    up to the limit and then stops without a word, so the form is parsed from
    what came before the cut. Here one byte more than the limit is read: if it
    arrives, the request gets 413 as a body declaring that length would; if not,
    the body, read whole, is what the form is parsed from.
    """

    body_too_large = False

    @cached_property
    def stream(self) -> IO[bytes]:
        limit = self.max_content_length
        unsized = self.content_length is None and "wsgi.input_terminated" in self.environ
        if limit is None or not unsized:
            return super().stream
        # Asked again after a 413 (while the error is handled), the answer is the same.
        if self.body_too_large:
            raise RequestEntityTooLarge()
        body = read_at_most(self.environ["wsgi.input"], limit + 1)
        if len(body) > limit:
            self.body_too_large = True
            raise RequestEntityTooLarge()
        return io.BytesIO(body)
