"""Bad input never produces a server error: every request gets a calm page."""

from __future__ import annotations

import io
import random
from urllib.parse import quote

import pytest

from tests.factories import PASSWORD, Respondent, csrf, make_user

GARBAGE = [
    "",
    "x" * 100_000,
    "\x00\x01\x02",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "%00",
    "../../etc/passwd",
    "🙂" * 50,
    "1e308",
    "-0",
    "_other",
    "_prefer_not_to_say",
]
PATHS = [
    "/s/small",
    "/s/small/start",
    "/s/small/section/you",
    "/s/small/section/e2ee/warning",
    "/s/small/section/ghost",
    "/s/small/review",
    "/s/small/submit",
    "/s/small/code",
    "/s/small/resume",
    "/s/small/receipt",
    "/s/small/thanks",
    "/s/small/withdraw",
    "/s/%00",
    "/s/small/section/%2e%2e",
]


def test_no_request_produces_a_500(app, make_open_survey):
    make_open_survey()
    rng = random.Random(7)
    app.config["PROPAGATE_EXCEPTIONS"] = True  # an exception fails the test loudly
    for with_session in (False, True):
        client = app.test_client()
        r = Respondent(client, "small")
        if with_session:
            r.start()
            r.section("you")
        for path in PATHS:
            for method in ("GET", "POST"):
                for _ in range(4):
                    fields = rng.sample(
                        [
                            "age_band",
                            "apps",
                            "apps-pnts",
                            "adult_only",
                            "action",
                            "code",
                            "step",
                            "saved",
                            "invite_code",
                            "lang",
                            "csrf_token",
                            "wanted",
                            "story",
                        ],
                        k=rng.randint(0, 6),
                    )
                    data = {f: rng.choice(GARBAGE) for f in fields}
                    if with_session and "csrf_token" not in data and method == "POST":
                        data["csrf_token"] = r.csrf() if "csrf_token" in r.last_html else ""
                    response = client.open(path, method=method, data=data)
                    assert response.status_code < 500, (method, path, data)


def test_oversized_request_is_a_calm_413(client, make_open_survey):
    make_open_survey()
    response = client.post("/s/small/start", data={"lang": "x" * (3 * 1024 * 1024)})
    assert response.status_code == 413
    assert "too much to send at once" in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/", "/nowhere", "/s/", "/static/none.css"])
def test_other_pages_are_calm(client, path):
    response = client.get(path)
    assert response.status_code in (200, 404)
    assert "Leave this page quickly" in response.get_data(as_text=True) or path.startswith(
        "/static"
    )


def test_app_refuses_to_start_without_a_secret_key(monkeypatch):
    from survey import create_app
    from survey.config import ConfigError

    monkeypatch.delenv("CHORUS_SECRET_KEY", raising=False)
    monkeypatch.delenv("CHORUS_SECRET_KEY_FILE", raising=False)
    monkeypatch.delenv("CHORUS_DEMO", raising=False)
    with pytest.raises(ConfigError, match="CHORUS_SECRET_KEY"):
        create_app()
    monkeypatch.setenv("CHORUS_SECRET_KEY", "short")
    with pytest.raises(ConfigError, match="at least 32"):
        create_app()


# --- chunked bodies (Transfer-Encoding: chunked, no Content-Length) ------------------------

LIMIT = 2 * 1024 * 1024  # MAX_CONTENT_LENGTH


def form_body(size: int, **fields: str) -> bytes:
    """A urlencoded form of exactly `size` bytes: the fields, then padding."""
    start = "&".join(f"{name}={quote(value)}" for name, value in fields.items()).encode() + b"&pad="
    return start + b"x" * (size - len(start))


def chunked_post(client, path: str, body: bytes):
    """A POST as a server passes on a chunked one: no Content-Length, and the
    stream marked as ended by the server (wsgi.input_terminated), as gunicorn and
    Werkzeug's server do."""
    return client.post(
        path,
        input_stream=io.BytesIO(body),
        content_type="application/x-www-form-urlencoded",
        headers={"Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )


def test_a_chunked_body_over_the_limit_is_a_calm_413(client, make_open_survey):
    make_open_survey()
    for path, fields in (
        ("/s/small/start", {"lang": "en"}),
        ("/staff/login", {"email": "ana@example.org", "password": "x"}),
    ):
        for size in (LIMIT + 1, 3 * LIMIT):
            response = chunked_post(client, path, form_body(size, **fields))
            assert response.status_code == 413, (path, size)
            text = response.get_data(as_text=True)
            assert "too much to send at once" in text and "Leave this page quickly" in text
            assert response.headers["Cache-Control"] == "no-store"
            assert "Set-Cookie" not in response.headers  # nothing was started


def test_a_chunked_body_within_the_limit_is_read_whole(client, make_open_survey):
    make_open_survey()
    # Up to the limit exactly, the fields before the padding arrive and count.
    started = chunked_post(client, "/s/small/start", form_body(LIMIT, lang="en"))
    assert started.status_code == 302
    assert started.headers["Location"].endswith("/s/small/section/you")
    make_user()
    token = csrf(client, "/staff/login")
    signed_in = chunked_post(
        client,
        "/staff/login",
        form_body(4096, csrf_token=token, email="ana@example.org", password=PASSWORD),
    )
    assert signed_in.status_code == 302
    assert client.get("/staff/").status_code == 200
