"""Another website can't start, withdraw or end anything for a respondent's browser.

The routes that take posts without a form token (start, withdraw) and the quick
exit check Sec-Fetch-Site and Origin; starting and finishing never clear a
staff sign-in or the form token, only the respondent's own part of the session.
"""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from survey import create_app
from tests.conftest import FreshContextClient, base_config
from tests.factories import Respondent, make_user, sign_in

SECRET_WORDS = "saffron-quay-4410 is private"

REFUSED = [
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site"},
    {"Origin": "https://attacker.example"},
    {"Origin": "http://localhost.attacker.example"},
]


def signed_in_with_a_draft(client: FlaskClient) -> Respondent:
    make_user()
    sign_in(client)
    assert client.get("/staff/").status_code == 200
    r = Respondent(client, "small")
    r.start()
    r.answer("you", {"age_band": "adult", "apps": "3"})
    r.answer("you", {"age_band": "adult", "apps": "3", "adult_only": SECRET_WORDS})
    return r


def draft_and_sign_in_intact(r: Respondent) -> None:
    r.section("you")
    assert SECRET_WORDS in r.last_html
    assert r.client.get("/staff/").status_code == 200


@pytest.mark.parametrize("headers", REFUSED)
def test_a_cross_site_start_is_refused_and_changes_nothing(client, make_open_survey, headers):
    make_open_survey()
    r = signed_in_with_a_draft(client)
    refused = client.post("/s/small/start", data={"lang": "en"}, headers=headers)
    assert refused.status_code == 403
    assert "Set-Cookie" not in refused.headers
    draft_and_sign_in_intact(r)


@pytest.mark.parametrize("headers", REFUSED)
def test_a_cross_site_start_on_a_fresh_browser_sets_no_cookie(client, make_open_survey, headers):
    make_open_survey()
    refused = client.post("/s/small/start", data={"lang": "en"}, headers=headers)
    assert refused.status_code == 403
    assert "Set-Cookie" not in refused.headers
    assert "another website" in refused.get_data(as_text=True)


@pytest.mark.parametrize("headers", REFUSED)
def test_a_cross_site_withdrawal_is_refused(client, make_open_survey, headers):
    make_open_survey()
    refused = client.post(
        "/s/small/withdraw", data={"code": "ABCD-EFGH-JKMN-PQRS"}, headers=headers
    )
    assert refused.status_code == 403
    assert "Set-Cookie" not in refused.headers


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Sec-Fetch-Site": "same-origin"},
        {"Sec-Fetch-Site": "none"},
        {"Origin": "http://localhost"},
        {"Sec-Fetch-Site": "same-origin", "Origin": "http://localhost"},
        # Our pages' forms send "Origin: null" (Referrer-Policy: no-referrer).
        {"Sec-Fetch-Site": "same-origin", "Origin": "null"},
    ],
)
def test_same_origin_and_old_browsers_still_start(client, make_open_survey, headers):
    make_open_survey()
    started = client.post("/s/small/start", data={"lang": "en"}, headers=headers)
    assert started.status_code == 302 and started.location.endswith("/s/small/section/you")
    withdraw = client.post(
        "/s/small/withdraw", data={"code": "ABCD-EFGH-JKMN-PQRS"}, headers=headers
    )
    assert withdraw.status_code == 422  # looked up, not refused


def test_starting_keeps_a_staff_sign_in(client, make_open_survey):
    make_open_survey()
    make_user()
    sign_in(client)
    Respondent(client, "small").start()
    assert client.get("/staff/").status_code == 200


def test_submitting_keeps_a_staff_sign_in(client, make_open_survey):
    make_open_survey()
    r = signed_in_with_a_draft(client)
    r.submit()
    r.receipt_code()
    r.post("/s/small/receipt", {"saved": "1"})
    assert client.get("/staff/").status_code == 200


def test_behind_a_proxy_the_origin_is_the_public_host(app, database_url, make_open_survey):
    """The proxy passes the public Host header on; X-Forwarded-Host is not read
    (tests/security/test_forwarded_host.py)."""
    make_open_survey()
    proxied = create_app({**base_config(database_url), "CHORUS_PROXY_HOPS": 1})
    proxied.test_client_class = FreshContextClient
    client = proxied.test_client()
    forwarded = {"Host": "survey.example.org", "X-Forwarded-Proto": "https"}
    started = client.post(
        "/s/small/start",
        data={"lang": "en"},
        headers={**forwarded, "Origin": "https://survey.example.org"},
    )
    assert started.status_code == 302
    refused = client.post(
        "/s/small/start",
        data={"lang": "en"},
        headers={**forwarded, "Origin": "http://localhost"},
    )
    assert refused.status_code == 403
