"""Privacy is a feature: nothing identifies a respondent, nothing is readable at rest."""

from __future__ import annotations

import logging
import re

from sqlalchemy import select

from survey.models import db
from tests.factories import Respondent, every_stored_value

CLIENT_ADDRESS = "198.51.100.77"
FORWARDED_ADDRESS = "203.0.113.45"
SECRET_ANSWER = "violet-harbour-9931 must stay sealed"
SECRET_NUMBER = "27"


def walk(app, environ):
    r = Respondent(app.test_client(), "small")
    r.client.environ_base.update(environ)
    r.start()
    r.answer("you", {"age_band": "adult", "apps": SECRET_NUMBER})
    r.answer("you", {"age_band": "adult", "apps": SECRET_NUMBER, "adult_only": SECRET_ANSWER})
    r.answer("you", {"age_band": "adult", "adult_only": SECRET_ANSWER}, action="save")
    r.get("/s/small/code")
    r.post("/s/small/code", {"saved": "1"})
    r.pass_warning("e2ee")
    r.answer("e2ee", {"story": SECRET_ANSWER, "wanted": ["_other"], "wanted-other": SECRET_ANSWER})
    r.get("/s/small/review")
    assert SECRET_ANSWER in r.last_html  # the person sees their own words...
    r.post("/s/small/submit")
    receipt = r.receipt_code()
    r.post("/s/small/receipt", {"saved": "1"})
    r.client.post("/s/small/withdraw", data={"code": "ABCD-EFGH-JKMN-PQRS"})
    return r, receipt


def test_no_address_and_no_answer_text_in_database_or_logs(app, make_open_survey, caplog):
    make_open_survey()
    caplog.set_level(logging.DEBUG)
    r, _ = walk(
        app,
        {
            "REMOTE_ADDR": CLIENT_ADDRESS,
            "HTTP_USER_AGENT": "DistinctiveAgent/9.9",
            "HTTP_REFERER": "https://referrer.example/from-here",
        },
    )
    stored = every_stored_value()
    for needle in (
        CLIENT_ADDRESS,
        SECRET_ANSWER,
        "violet-harbour",
        "DistinctiveAgent",
        "referrer.example",
    ):
        assert needle not in stored, needle
        assert needle not in caplog.text, needle
    for page in r.history:
        assert CLIENT_ADDRESS not in page and "DistinctiveAgent" not in page


def test_behind_a_proxy_the_forwarded_address_is_not_kept_either(
    database_url, make_open_survey, caplog
):
    from survey import create_app
    from tests.conftest import FreshContextClient, base_config

    proxied = create_app(
        {**base_config(database_url), "CHORUS_PROXY_HOPS": 1, "RATELIMIT_ENABLED": True}
    )
    proxied.test_client_class = FreshContextClient
    make_open_survey()
    caplog.set_level(logging.DEBUG)
    with proxied.app_context():
        walk(proxied, {"REMOTE_ADDR": CLIENT_ADDRESS, "HTTP_X_FORWARDED_FOR": FORWARDED_ADDRESS})
        stored = every_stored_value()
    for needle in (CLIENT_ADDRESS, FORWARDED_ADDRESS, SECRET_ANSWER):
        assert needle not in stored and needle not in caplog.text


def test_rate_limit_store_holds_no_address(database_url, make_open_survey):
    from survey import create_app
    from tests.conftest import FreshContextClient, base_config

    limited = create_app({**base_config(database_url), "RATELIMIT_ENABLED": True})
    limited.test_client_class = FreshContextClient
    make_open_survey()
    with limited.app_context():
        client = limited.test_client()
        client.environ_base["REMOTE_ADDR"] = CLIENT_ADDRESS
        statuses = [
            client.post("/s/small/withdraw", data={"code": "x"}).status_code for _ in range(12)
        ]
        assert statuses[:10] == [422] * 10 and statuses[-1] == 429
        assert "Too many attempts" in client.post("/s/small/withdraw", data={"code": "x"}).get_data(
            as_text=True
        )
        storage = limited.extensions["chorus_limiter"].storage
        keys = " ".join(str(k) for k in getattr(storage, "storage", {}))
        assert keys and CLIENT_ADDRESS not in keys
        # Another address is not limited.
        other = limited.test_client()
        other.environ_base["REMOTE_ADDR"] = "198.51.100.78"
        assert other.post("/s/small/withdraw", data={"code": "x"}).status_code == 422


def test_security_headers_on_respondent_pages(client, make_open_survey):
    make_open_survey()
    response = client.get("/s/small")
    headers = response.headers
    csp = headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and "script-src 'self'" in csp and "style-src 'self'" in csp
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["Cache-Control"] == "no-store"
    assert "camera=()" in headers["Permissions-Policy"]
    assert headers["X-Frame-Options"] == "DENY"
    html = response.get_data(as_text=True)
    assert "<title>Survey</title>" in html
    assert "style=" not in html and "<style" not in html
    assert "<script>" not in html and "onclick" not in html
    # Only our own assets; the only links elsewhere are support services (the quick
    # exit goes through /s/exit, which ends the session on the way out).
    sources = re.findall(r'src="([^"]*)"', html)
    assert sources and all(src.startswith("/") and not src.startswith("//") for src in sources)
    absolute = set(re.findall(r'href="((?:https?:)?//[^"]*)"', html))
    assert absolute == set()  # the small survey lists no web sites
    assert 'href="/s/exit"' in html


def test_response_table_has_nothing_but_a_sealed_box(app, make_open_survey):
    make_open_survey()
    walk(app, {"REMOTE_ADDR": CLIENT_ADDRESS})
    from survey.models import InboxEntry, Response
    from survey.surveys import close_survey, find_survey

    # Waiting in the inbox for the weekly flush: encrypted too.
    [waiting] = db.session.scalars(select(InboxEntry)).all()
    assert SECRET_ANSWER.encode() not in waiting.box
    close_survey(find_survey("small"))  # stores the inbox
    [row] = db.session.scalars(select(Response)).all()
    assert row.sealed[0] == 1 and len(row.sealed) > 1024
    assert SECRET_ANSWER.encode() not in row.sealed
