"""A database that fails mid-request: the person sees a page, the log sees no data.

Requests here run as a server runs them: each pushes its own app context, so
Flask-SQLAlchemy's end-of-request teardown (which rolls back and closes the
session) runs inside the request, and exceptions become pages
(PROPAGATE_EXCEPTIONS off) instead of test failures.
"""

from __future__ import annotations

import contextvars
import logging
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from survey.models import db
from survey.privacy import CONTENT_SECURITY_POLICY
from tests.factories import Respondent


def server_client(app: Flask) -> FlaskClient:
    """Flask's plain test client: each request opens and closes its own app context."""
    app.config["PROPAGATE_EXCEPTIONS"] = False
    return FlaskClient(app, app.response_class)


def as_a_server_would(client: FlaskClient, method: str, path: str, **kwargs: Any):
    """Send the request outside the test's own app context, as a worker thread would."""
    return contextvars.Context().run(client.open, path, method=method, **kwargs)


def test_a_connection_lost_before_the_teardown_rollback_still_answers(
    app, make_open_survey, monkeypatch, caplog
):
    make_open_survey()
    client = server_client(app)
    dbapi = db.engine.dialect.loaded_dbapi
    rollbacks: list[object] = []

    def connection_gone(dbapi_connection: object) -> None:
        rollbacks.append(dbapi_connection)
        raise dbapi.OperationalError("server closed the connection unexpectedly")

    caplog.set_level(logging.DEBUG)
    with monkeypatch.context() as patch:
        patch.setattr(db.engine.dialect, "do_rollback", connection_gone)
        landing = as_a_server_would(client, "GET", "/s/small")
    assert rollbacks, "the request's teardown never rolled back: the test tested nothing"
    assert landing.status_code == 200
    assert "Leave this page quickly" in landing.get_data(as_text=True)

    records = [r for r in caplog.records if r.name == "survey.failsafe"]
    assert [r.getMessage() for r in records] == [
        "The database session could not be closed after a request (OperationalError); "
        "its connection was dropped"
    ]
    assert records[0].exc_info is None  # no traceback: it could carry a statement

    # The broken session is gone: the next request gets a working one.
    again = as_a_server_would(client, "GET", "/s/small")
    assert again.status_code == 200


def test_a_session_that_cannot_be_removed_still_answers(app, make_open_survey, monkeypatch):
    """Whatever `remove` raises, the response already made is the one sent."""
    make_open_survey()
    client = server_client(app)

    def remove_fails() -> None:
        raise RuntimeError("the session registry is broken")

    with monkeypatch.context() as patch:
        patch.setattr(db.session, "remove", remove_fails)
        landing = as_a_server_would(client, "GET", "/s/small")
    assert landing.status_code == 200
    assert "Leave this page quickly" in landing.get_data(as_text=True)


# --- a failed INSERT: no bound value in any log ---------------------------------------------


def walk_to_the_review(r: Respondent) -> None:
    r.start()
    r.answer("you", {"age_band": "adult", "apps": "3"})
    r.pass_warning("e2ee")
    r.answer("e2ee", {"story": "kept only sealed", "action": "next"})
    r.get("/s/small/review")


def needles(value: object) -> list[str]:
    """How a bound value could show in a log line: as text, or as bytes' repr or hex."""
    if isinstance(value, str) and len(value) >= 8:
        return [value]
    if isinstance(value, bytes) and len(value) >= 8:
        return [repr(value)[2:34], value[:16].hex()]
    return []


def test_a_failed_insert_at_submit_logs_no_bound_value(app, make_open_survey, caplog):
    """The inbox INSERT fails in the database itself (its table renamed on the way),
    with the real statement and parameters: the receipt's tag, the sealed box."""
    make_open_survey()
    app.config["PROPAGATE_EXCEPTIONS"] = False
    r = Respondent(app.test_client(), "small")
    walk_to_the_review(r)
    bound: list[object] = []

    def table_gone(conn, cursor, statement, parameters, context, executemany):
        # On PostgreSQL the INSERT follows the draft's DELETE in one statement (WITH).
        if "INSERT INTO RESPONSE_INBOX" in statement.upper():
            values = parameters.values() if isinstance(parameters, dict) else parameters
            for value in values:
                value = getattr(value, "obj", value)  # psycopg wraps bytes in Binary
                bound.append(bytes(value) if isinstance(value, memoryview) else value)
            statement = statement.replace("response_inbox", "response_inbox_gone", 1)
        return statement, parameters

    caplog.set_level(logging.DEBUG)  # every logger, SQLAlchemy's statement log included
    event.listen(db.engine, "before_cursor_execute", table_gone, retval=True)
    try:
        sent = r.post("/s/small/submit")
    finally:
        event.remove(db.engine, "before_cursor_execute", table_gone)

    # The box: as large as the survey's largest answers sealed (7 KB for this one).
    assert [v for v in bound if isinstance(v, bytes) and len(v) > 4096], bound
    assert "Exception on /s/small/submit [POST]" in caplog.text  # Flask's exception log
    logged = caplog.text + "".join(str(record.args) + str(record.msg) for record in caplog.records)
    for value in bound:
        for needle in needles(value):
            assert needle not in logged, f"a bound value is in the log: {needle!r}"

    # The respondent sees the calm page, with the headers.
    assert sent.status_code == 500
    assert "<h1>Something went wrong</h1>" in r.last_html
    assert "Leave this page quickly" in r.last_html
    assert sent.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert sent.headers["Cache-Control"] == "no-store"


# --- the database away: 503, try again in a minute ------------------------------------------


def test_a_database_that_does_not_answer_gives_the_calm_503_with_retry_after(
    app, make_open_survey, monkeypatch, caplog
):
    """PostgreSQL restarting or stopped: every statement fails. The person reads that
    nothing on this page was saved and to try again shortly, not "something went
    wrong"; a load balancer reads 503 and Retry-After."""
    make_open_survey()
    client = server_client(app)
    dbapi = db.engine.dialect.loaded_dbapi
    tried: list[str] = []

    def server_gone(cursor, statement, parameters, context=None):
        tried.append(statement)
        raise dbapi.OperationalError("terminating connection due to administrator command")

    caplog.set_level(logging.INFO)
    with monkeypatch.context() as patch:
        patch.setattr(db.engine.dialect, "do_execute", server_gone)
        landing = as_a_server_would(client, "GET", "/s/small")
    assert tried, "no statement ran: the test tested nothing"
    page = landing.get_data(as_text=True)
    assert landing.status_code == 503
    assert landing.headers["Retry-After"] == "30"
    assert "If you had just sent answers, they were not saved this time" in page
    assert "Leave this page quickly" in page
    assert landing.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "Exception on" not in caplog.text  # an outage, not a bug: no traceback
    assert "administrator command" not in caplog.text

    # The database back: the same request is served.
    again = as_a_server_would(client, "GET", "/s/small")
    assert again.status_code == 200
