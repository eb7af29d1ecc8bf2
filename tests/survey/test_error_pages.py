"""Every error is the calm page, with the security headers, whatever the request.

The requests go to the WSGI app itself (Werkzeug's test client, not Flask's), as
a server would pass them on: hosts Werkzeug refuses (which leave the request
without a URL adapter, so no url_for), forged forwarded hosts, broken
percent-encoding, absurd paths and methods. Exceptions are handled as in
production (PROPAGATE_EXCEPTIONS off), so a failure here is what a person sees.
"""

from __future__ import annotations

import pytest
from flask import Flask
from markupsafe import escape
from werkzeug.test import Client, TestResponse

from survey import create_app
from survey.privacy import CONTENT_SECURITY_POLICY
from tests.conftest import base_config

# The headings each status may carry: a survey's own pages say which survey is missing.
HEADINGS = {
    400: ["This page has expired"],
    404: ["Page not found", "We couldn't find this survey"],
    405: ["Page not found"],
    500: ["Something went wrong"],
}
QUICK_EXIT = "Leave this page quickly"
LONG_LABEL = "a" * 64  # one more character than a DNS label may have


def production_like(database_url: str, **config: object) -> Flask:
    """The app as a server runs it: exceptions become pages, not test failures."""
    return create_app({**base_config(database_url), "PROPAGATE_EXCEPTIONS": False, **config})


def assert_calm(response: TestResponse, status: int) -> None:
    """The site's own error page, with every header set_security_headers adds."""
    text = response.get_data(as_text=True)
    assert response.status_code == status, text[:2000]
    assert response.mimetype == "text/html"
    # Translated words are written as they are (gettext's output is trusted markup);
    # the plain page escapes them.
    headings = [f"<h1>{heading}</h1>" for h in HEADINGS[status] for heading in (h, escape(h))]
    assert any(heading in text for heading in headings), text[:2000]
    assert QUICK_EXIT in text
    assert "Traceback" not in text and "Werkzeug" not in text
    headers = response.headers
    assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert headers["Cache-Control"] == "no-store"
    assert headers["Pragma"] == "no-cache"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert "camera=()" in headers["Permissions-Policy"]


BAD_HOSTS = [
    ("a..b", 400),  # an empty label: no URL adapter can be bound to it
    ("exa.mple..com", 400),
    (".", 400),
    (f"{LONG_LABEL}.example", 400),
    ("exa mple..com", 404),  # characters Werkzeug drops: treated as no host at all
    ("[::1", 404),
    ("example.com:99999", 404),
]


@pytest.mark.parametrize(("host", "status"), BAD_HOSTS)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_bad_host_gets_the_calm_page(database_url, host, status, method):
    client = Client(production_like(database_url), use_cookies=False)
    response = client.open("/nowhere", method=method, headers={"Host": host})
    assert_calm(response, status)


def test_a_host_outside_trusted_hosts_gets_the_calm_page(database_url):
    app = production_like(database_url, TRUSTED_HOSTS=["chorus.example"])
    client = Client(app, use_cookies=False)
    assert_calm(client.get("/", headers={"Host": "evil.example"}), 400)
    assert_calm(client.get("/s/small", headers={"Host": "evil.example"}), 400)
    assert_calm(client.get("/nowhere", headers={"Host": "chorus.example"}), 404)


@pytest.mark.parametrize("forwarded", ["a..b", f"{LONG_LABEL}.example", "evil example", ""])
def test_a_bad_forwarded_host_behind_a_proxy_gets_the_calm_page(database_url, forwarded):
    app = production_like(database_url, CHORUS_PROXY_HOPS=1)
    client = Client(app, use_cookies=False)
    response = client.get(
        "/nowhere",
        headers={
            "Host": "chorus.example",
            "X-Forwarded-Host": forwarded,
            "X-Forwarded-For": "not an address, 300.1.1.1",
            "X-Forwarded-Proto": "gopher",
        },
    )
    assert_calm(response, 404)


ABSURD_PATHS = [
    "/s/%zz",
    "/%ff%fe%fd",
    "/s/small/section/%c0%af",
    "/s/%00%00",
    "/" + "a" * 100_000,
    "/s/" + "%2e%2e/" * 200,
    "/static/../../etc/passwd",
    "//double//slashes",
    "/s/small/section/you?lang=%ff&lang=%zz",
]


@pytest.mark.parametrize("path", ABSURD_PATHS)
def test_absurd_paths_get_the_calm_page(database_url, path):
    client = Client(production_like(database_url), use_cookies=False)
    assert_calm(client.get(path), 404)


def test_an_unknown_method_gets_the_calm_page(database_url):
    client = Client(production_like(database_url), use_cookies=False)
    assert_calm(client.open("/", method="BREW"), 405)
    assert_calm(client.open("/s/exit", method="DELETE"), 405)


def test_a_page_that_fails_to_render_still_answers_calmly(database_url, tmp_path):
    """Should the error page itself fail (here: its template is gone), a plain one
    stands in, with the same headers and a way out."""
    app = production_like(database_url)
    app.jinja_env.get_template("error.html")  # it exists before...
    app.jinja_env.cache = None
    app.jinja_loader.searchpath = [str(tmp_path)]  # ...and then can't be found
    client = Client(app, use_cookies=False)
    for path, status in (("/nowhere", 404), ("/", 500)):
        response = client.get(path)
        text = response.get_data(as_text=True)
        assert response.status_code == status
        assert f"<h1>{escape(HEADINGS[status][0])}</h1>" in text
        assert QUICK_EXIT in text and app.config["CHORUS_QUICK_EXIT_URL"] in text
        assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
        assert response.headers["Cache-Control"] == "no-store"
