"""/healthz: "ok" while the database answers, 503 when it doesn't; no session, no limit.

A load balancer polls it every few seconds: it must not open or set a session,
count against a rate limit, or need a sign-in. (That neither `chorus serve` nor
the gunicorn logger writes its requests is checked in tests/security/test_logs.py
and tests/security/test_gunicorn.py, with real servers.)
"""

from __future__ import annotations

import logging

from survey import create_app
from survey.privacy import CONTENT_SECURITY_POLICY
from survey.session_cookie import SessionCipher
from tests.conftest import FreshContextClient, base_config
from tests.factories import Respondent


def test_healthz_says_ok_while_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert response.get_data(as_text=True) == "ok\n"
    assert "Set-Cookie" not in response.headers
    assert "Cookie" not in response.headers.get("Vary", "")
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY


def test_healthz_does_not_open_a_session(client, make_open_survey, monkeypatch):
    """Even with a session cookie sent, it is neither read nor written."""
    make_open_survey()
    Respondent(client, "small").start()  # the browser now holds a session cookie
    opened: list[str] = []
    loads = SessionCipher.loads

    def counted(self, value, max_age=None):
        opened.append(value)
        return loads(self, value, max_age)

    monkeypatch.setattr(SessionCipher, "loads", counted)
    response = client.get("/healthz")
    assert response.status_code == 200 and "Set-Cookie" not in response.headers
    assert opened == []
    assert client.get("/s/small").status_code == 200
    assert opened  # the cookie was there to be read, by any other page


def test_healthz_is_not_rate_limited(app, database_url):
    limited = create_app(
        {**base_config(database_url), "RATELIMIT_ENABLED": True, "RATELIMIT_DEFAULT": "2/day"}
    )
    limited.test_client_class = FreshContextClient
    with limited.app_context():
        client = limited.test_client()
        assert [client.get("/healthz").status_code for _ in range(6)] == [200] * 6
        # The same default limit does hold other pages.
        assert [client.get("/").status_code for _ in range(3)] == [200, 200, 429]


def test_healthz_is_a_503_when_the_database_does_not_answer(tmp_path, caplog):
    unreachable = f"sqlite:///{tmp_path / 'no-such-folder' / 'chorus.db'}"
    app = create_app(base_config(unreachable))
    caplog.set_level(logging.DEBUG)
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.mimetype == "text/plain"
    body = response.get_data(as_text=True)
    assert body == "database unreachable\n"
    assert response.headers["Cache-Control"] == "no-store"
    # The log says what failed, not how: no path, no statement text.
    messages = [r.getMessage() for r in caplog.records if r.name == "survey.health"]
    assert messages == ["Health check: the database did not answer (OperationalError)"]
    assert str(tmp_path) not in caplog.text
