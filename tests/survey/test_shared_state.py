"""What several app processes share: rate limits in Redis; drafts expire on schedule."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from survey import create_app
from survey.models import Draft, db, iso_week, random_id
from survey.responses import purge_stale_drafts
from tests.conftest import FreshContextClient, base_config
from tests.factories import REDIS_URL, redis_or_skip


def test_rate_limits_are_shared_between_two_app_processes(database_url, make_open_survey):
    client = redis_or_skip()
    prefix = f"chorus-test-{secrets.token_hex(4)}"
    config = {
        **base_config(database_url),
        "CHORUS_REDIS_URL": REDIS_URL,
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_KEY_PREFIX": prefix,
    }
    make_open_survey()
    apps = [create_app(config), create_app(config)]
    statuses = []
    try:
        for i in range(12):
            app = apps[i % 2]  # alternate between the two "processes"
            app.test_client_class = FreshContextClient
            with app.app_context():
                c = app.test_client()
                c.environ_base["REMOTE_ADDR"] = "198.51.100.9"
                statuses.append(c.post("/s/small/withdraw", data={"code": "x"}).status_code)
        assert statuses[:10] == [422] * 10 and statuses[10:] == [429, 429]
        keys = [k.decode() for k in client.scan_iter(f"*{prefix}*")]
        assert keys and not any("198.51.100.9" in k for k in keys)
    finally:
        for key in client.scan_iter(f"*{prefix}*"):
            client.delete(key)


def test_stale_drafts_are_purged(app, make_open_survey):
    survey, _ = make_open_survey()
    today = datetime.now(UTC).date()
    weeks_ago = lambda n: iso_week(today - timedelta(weeks=n))  # noqa: E731
    rows = {
        "fresh_uncoded": (weeks_ago(0), None),
        "old_uncoded": (weeks_ago(2), None),
        "coded_recent": (weeks_ago(5), "lookup-a"),
        "coded_expired": (weeks_ago(9), "lookup-b"),
    }
    ids = {}
    for name, (week, lookup) in rows.items():
        ids[name] = random_id()
        db.session.add(
            Draft(
                id=ids[name],
                survey_id=survey.id,
                sealed=b"x",
                saved_week=week,
                resume_lookup=lookup,
            )
        )
    db.session.commit()
    assert purge_stale_drafts() == 2
    db.session.commit()
    left = set(db.session.scalars(select(Draft.id)))
    assert left == {ids["fresh_uncoded"], ids["coded_recent"]}
