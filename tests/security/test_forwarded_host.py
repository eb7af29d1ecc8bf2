"""Behind a proxy, only X-Forwarded-For and X-Forwarded-Proto are trusted, never X-Forwarded-Host.

A client can send any header through most proxies. If the app took its host
from X-Forwarded-Host, a forged one would put the forger's site into the links
the app writes out (the respondent address on printed invite cards) and would
let that site's Origin pass the cross-site check on the routes without a form
token.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from survey import create_app
from survey.config import settings_from_env
from tests.conftest import FreshContextClient, base_config
from tests.factories import csrf, make_user, sign_in, small_survey_document

REAL_HOST = "chorus.example"
FORGED_HOST = "attacker.example"
THROUGH_THE_PROXY = {
    "REMOTE_ADDR": "10.0.0.2",  # the proxy
    "HTTP_X_FORWARDED_FOR": "198.51.100.7",
    "HTTP_X_FORWARDED_PROTO": "https",
    "HTTP_X_FORWARDED_HOST": FORGED_HOST,
}


class ProxiedClient(FreshContextClient):
    """Requests as the proxy passes them on: the public Host, the forwarded headers."""

    def open(self, *args: Any, **kwargs: Any):
        kwargs.setdefault("base_url", f"http://{REAL_HOST}")
        return super().open(*args, **kwargs)


@pytest.fixture
def proxied(app, database_url) -> Flask:
    """The app as deployed behind one proxy (CHORUS_PROXY_HOPS=1)."""
    behind_a_proxy = create_app({**base_config(database_url), "CHORUS_PROXY_HOPS": 1})
    behind_a_proxy.test_client_class = ProxiedClient
    return behind_a_proxy


def test_a_forged_forwarded_host_is_not_in_the_links_the_app_writes(proxied, make_open_survey):
    make_open_survey(small_survey_document(invite_only=True))  # invite cards need one
    make_user("fac@example.org")
    with proxied.app_context():
        staff = proxied.test_client()
        staff.environ_base.update(THROUGH_THE_PROXY)
        sign_in(staff, "fac@example.org")
        cards = staff.post(
            "/staff/surveys/small/invites",
            data={
                "csrf_token": csrf(staff, "/staff/password"),
                "count": "1",
                "action": "print",
            },
        )
    page = cards.get_data(as_text=True)
    assert cards.status_code == 200, page
    assert re.search(r'invite-card__code" translate="no" dir="ltr">[^<]+<', page)
    assert FORGED_HOST not in page
    # The scheme is the proxy's (X-Forwarded-Proto), the host the request's own.
    assert f"https://{REAL_HOST}/s/small" in page


def test_a_forged_forwarded_host_does_not_pass_the_cross_site_check(proxied, make_open_survey):
    make_open_survey()
    with proxied.app_context():
        browser = proxied.test_client()
        browser.environ_base.update(THROUGH_THE_PROXY)
        refused = browser.post(
            "/s/small/start",
            data={"lang": "en"},
            headers={"Origin": f"https://{FORGED_HOST}"},
        )
        assert refused.status_code == 403
        assert "Set-Cookie" not in refused.headers
        # The site's own pages, posting with its real origin, still start.
        own = browser.post(
            "/s/small/start", data={"lang": "en"}, headers={"Origin": f"https://{REAL_HOST}"}
        )
        assert own.status_code in (200, 302, 303)


@pytest.fixture
def host_checked(app, database_url) -> Flask:
    """The app behind its proxy with its public name set (CHORUS_TRUSTED_HOSTS)."""
    checked = create_app(
        {**base_config(database_url), "CHORUS_PROXY_HOPS": 1, "TRUSTED_HOSTS": [REAL_HOST]}
    )
    checked.test_client_class = FreshContextClient
    return checked


def test_with_trusted_hosts_set_a_forged_host_gets_the_calm_400_and_no_links(
    host_checked, make_open_survey
):
    make_open_survey()
    with host_checked.app_context():
        forged = host_checked.test_client().get("/s/small", base_url=f"http://{FORGED_HOST}")
        page = forged.get_data(as_text=True)
        assert forged.status_code == 400
        assert FORGED_HOST not in page
        assert "default-src" in forged.headers["Content-Security-Policy"]
        assert forged.headers["Cache-Control"].startswith("no-store")
        real = host_checked.test_client().get("/s/small", base_url=f"http://{REAL_HOST}")
        assert real.status_code == 200


def test_trusted_hosts_check_the_name_and_not_the_port(host_checked, make_open_survey):
    """Intended (issue 20): CHORUS_TRUSTED_HOSTS names hosts; Werkzeug compares the
    Host's name alone. Behind deploy/nginx the app never sees a port (next test), and
    a port only a client chose changes nothing but that client's own reply."""
    make_open_survey()
    with host_checked.app_context():
        client = host_checked.test_client()
        for port in ("9999", "443", "8000"):
            assert client.get("/s/small", base_url=f"http://{REAL_HOST}:{port}").status_code == 200
            forged = client.get("/s/small", base_url=f"http://{FORGED_HOST}:{port}")
            assert forged.status_code == 400


def test_the_proxy_hands_the_app_the_host_name_without_a_port():
    """nginx's $host is the name alone ($http_host would keep the client's port)."""
    site = (Path(__file__).resolve().parents[2] / "deploy" / "nginx" / "chorus.conf").read_text(
        "utf-8"
    )
    passed = [line.split()[2] for line in site.splitlines() if "proxy_set_header Host " in line]
    assert passed and set(passed) == {"$host;"}


@pytest.mark.parametrize(
    ("setting", "hosts"),
    [
        (None, None),
        ("", None),
        ("chorus.example.org", ["chorus.example.org"]),
        (" a.example , b.example:8443 ,", ["a.example", "b.example:8443"]),
    ],
)
def test_chorus_trusted_hosts_is_a_comma_separated_list(setting, hosts):
    env = {"CHORUS_SECRET_KEY": "k" * 32}
    if setting is not None:
        env["CHORUS_TRUSTED_HOSTS"] = setting
    assert settings_from_env(env)["TRUSTED_HOSTS"] == hosts
