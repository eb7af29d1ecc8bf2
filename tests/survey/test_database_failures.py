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

from survey.models import db


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
