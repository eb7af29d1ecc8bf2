"""The rate-limit store must not be enough to recover a respondent's address.

Redis holds keyed hashes of addresses; the day's key must never be beside them
(with it, trying all 2^32 IPv4 addresses recovers every one), and yesterday's
hashes must be gone once the day changes. IPv6 addresses count by their /64.
"""

from __future__ import annotations

import logging
import secrets
from datetime import date, timedelta

import pytest

from survey import create_app, privacy
from survey.responses import receipt_exists
from survey.surveys import find_survey
from tests.conftest import TEST_SECRET_KEY, FreshContextClient, base_config
from tests.factories import REDIS_URL, Respondent, free_port, redis_or_skip

ADDRESS = "198.51.100.9"
DAY = date(2026, 3, 14)


@pytest.fixture
def redis_prefix():
    """A key prefix of this test's own in the shared Redis, cleaned up after."""
    client = redis_or_skip()
    prefix = f"chorus-test-{secrets.token_hex(6)}"
    yield client, prefix
    for key in client.scan_iter(f"*{prefix}*"):
        client.delete(key)


def limited_app(database_url: str, **config):
    app = create_app({**base_config(database_url), "RATELIMIT_ENABLED": True, **config})
    app.test_client_class = FreshContextClient
    return app


def withdraw_from(app, address: str, times: int = 1) -> list[int]:
    """POSTs to the code-guessing form (10 per minute per address) from `address`."""
    with app.app_context():
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = address
        return [
            client.post("/s/small/withdraw", data={"code": "x"}).status_code for _ in range(times)
        ]


def stored_values(client, key: bytes) -> list[bytes]:
    kind = client.type(key).decode()
    if kind == "string":
        return [client.get(key)]
    if kind == "list":
        return client.lrange(key, 0, -1)
    if kind == "zset":
        return [member for member, _ in client.zrange(key, 0, -1, withscores=True)]
    if kind == "hash":
        return [b for pair in client.hgetall(key).items() for b in pair]
    if kind == "set":
        return list(client.smembers(key))
    return []


def test_redis_never_holds_the_days_secret(database_url, make_open_survey, redis_prefix):
    client, prefix = redis_prefix
    secret_names_before = set(client.scan_iter("*secret*"))
    make_open_survey()
    app = limited_app(database_url, CHORUS_REDIS_URL=REDIS_URL, RATELIMIT_KEY_PREFIX=prefix)
    statuses = withdraw_from(app, ADDRESS, 11)
    assert statuses[:10] == [422] * 10 and statuses[10] == 429

    with app.test_request_context("/s/small/withdraw"):
        secret = privacy.rate_limit_secret(privacy.utc_today())
    keys = list(client.scan_iter(f"*{prefix}*"))
    assert keys
    for key in keys:
        assert ADDRESS.encode() not in key and secret.hex().encode() not in key
        for value in stored_values(client, key):
            assert secret not in value and secret.hex().encode() not in value
    # Nowhere else in Redis either, under any name.
    for key in client.scan_iter():
        if client.type(key) == b"string":
            value = client.get(key) or b""
            assert secret not in value and secret.hex().encode() not in value, key
    assert set(client.scan_iter("*secret*")) <= secret_names_before


def memory_keys(app) -> set[str]:
    storage = app.extensions["chorus_limiter"].storage
    return set(storage.storage) | set(storage.events)


def redis_keys(client, prefix: str) -> set[bytes]:
    return set(client.scan_iter(f"*{prefix}*"))


@pytest.mark.parametrize("store", ["memory", "redis"])
def test_yesterdays_keys_are_gone_once_the_day_changes(
    store, database_url, make_open_survey, monkeypatch, request
):
    make_open_survey()
    if store == "redis":
        client, prefix = request.getfixturevalue("redis_prefix")
        app = limited_app(database_url, CHORUS_REDIS_URL=REDIS_URL, RATELIMIT_KEY_PREFIX=prefix)
        keys = lambda: redis_keys(client, prefix)  # noqa: E731
    else:
        app = limited_app(database_url)
        keys = lambda: memory_keys(app)  # noqa: E731

    monkeypatch.setattr(privacy, "utc_today", lambda: DAY)
    assert withdraw_from(app, ADDRESS, 3) == [422] * 3
    assert withdraw_from(app, "203.0.113.5") == [422]
    yesterdays = keys()
    assert yesterdays

    monkeypatch.setattr(privacy, "utc_today", lambda: DAY + timedelta(days=1))
    assert withdraw_from(app, ADDRESS) == [422]
    todays = keys()
    assert todays and not (todays & yesterdays)

    with app.test_request_context("/"):
        assert privacy.rate_limit_secret(DAY) != privacy.rate_limit_secret(DAY + timedelta(1))


def test_ipv6_addresses_count_by_their_64(database_url, make_open_survey):
    make_open_survey()
    app = limited_app(database_url)
    assert withdraw_from(app, "2001:db8:1:2::1", 10) == [422] * 10
    # Same /64 (a device's next privacy address): the same limit, already used up.
    assert withdraw_from(app, "2001:db8:1:2:a4c1:77ff:fe00:9") == [429]
    # Another /64: a limit of its own.
    assert withdraw_from(app, "2001:db8:1:3::1") == [422]
    # IPv4 is counted per address.
    assert withdraw_from(app, "198.51.100.1", 10) == [422] * 10
    assert withdraw_from(app, "198.51.100.2") == [422]


def key_for(app, address: str) -> str:
    with app.test_request_context("/s/small/withdraw", environ_base={"REMOTE_ADDR": address}):
        return privacy.rate_limit_key()


def test_two_processes_compute_the_same_key_without_sharing_anything(database_url):
    first = limited_app(database_url)
    second = limited_app(database_url)
    assert key_for(first, ADDRESS) == key_for(second, ADDRESS)
    assert key_for(first, ADDRESS) != key_for(first, "198.51.100.10")
    other_secret = limited_app(database_url, SECRET_KEY=TEST_SECRET_KEY[::-1])
    assert key_for(other_secret, ADDRESS) != key_for(first, ADDRESS)


def test_the_keyed_address_never_reaches_a_log(database_url, make_open_survey, caplog):
    """Flask-Limiter logs the key of a limit it enforces; with the app's secret key,
    a logged key would let anyone holding the log test every IPv4 address."""
    make_open_survey()
    app = limited_app(database_url)
    caplog.set_level(logging.DEBUG)
    assert withdraw_from(app, ADDRESS, 11)[-1] == 429
    assert "exceeded" in caplog.text  # the breach was logged...
    key = key_for(app, ADDRESS)
    digest = key.rsplit(".", 1)[-1]
    assert digest not in caplog.text, caplog.text  # ...without the keyed address


def test_respondents_start_and_submit_while_redis_is_unreachable(
    database_url, make_open_survey, caplog
):
    """Found by `make loadtest FAULTS=1`: with Redis stopped for a few seconds, every
    Start and Submit got the error page (500): the limiter's count, and the first
    request of a process's day (which deletes other days' keys), failed on the
    connection. Now a process counts in its own memory while Redis is away (and
    Flask-Limiter goes back to Redis once it answers): the limits still hold, and
    nobody is turned away."""
    make_open_survey()
    nobody_there = f"redis://127.0.0.1:{free_port()}/0"
    app = limited_app(database_url, CHORUS_REDIS_URL=nobody_there)
    with app.app_context():
        person = Respondent(app.test_client(), "small")
        assert person.start().status_code == 302
        assert person.answer("you", {"apps": "3"}).status_code == 302
        submitted = person.submit()
        assert submitted.status_code == 302 and submitted.location.endswith("/receipt")
        assert receipt_exists(find_survey("small"), person.receipt_code())
    # Still limited, in this process's memory.
    assert withdraw_from(app, ADDRESS, 11) == [422] * 10 + [429]
    assert ADDRESS not in caplog.text
