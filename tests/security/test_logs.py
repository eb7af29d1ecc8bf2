"""Logs must not date respondents: nothing finer than the day, no address, no query.

A real `chorus serve` runs in a subprocess; a respondent walks a survey over
HTTP between two staff requests, and the log written in between must carry no
clock time (only the start of the day, 00:00:00), no client address and no
query string. The staff requests around it keep their times.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from http.cookiejar import CookieJar
from pathlib import Path

import pytest

from tests.conftest import TEST_SECRET_KEY, stop_server
from tests.factories import CSRF_RE

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# Any clock time: HH:MM, optionally :SS and a fraction of a second.
CLOCK_TIME = re.compile(r"\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d+)?")
START_OF_DAY = re.compile(r"00:00(?::00)?(?:[.,]0+)?")
QUERY_NEEDLE = "querysecret" + secrets.token_hex(4)


def clock_times(text: str) -> list[str]:
    return [t for t in CLOCK_TIME.findall(text) if not START_OF_DAY.fullmatch(t)]


class Browser:
    """Just enough of a browser: cookies, redirects, the last page's form token."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        self.last_html = ""

    def open(self, path: str, data: dict[str, str] | None = None) -> int:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        try:
            with self.opener.open(self.base_url + path, body, timeout=30) as reply:
                self.last_html = reply.read().decode("utf-8", "replace")
                return reply.status
        except urllib.error.HTTPError as error:
            self.last_html = error.read().decode("utf-8", "replace")
            return error.code

    def post_form(self, path: str, data: dict[str, str]) -> int:
        match = CSRF_RE.search(self.last_html)
        assert match, f"no form token on the page before POST {path}"
        return self.open(path, {**data, "csrf_token": match.group(1)})


def wait_for_line(log_path: Path, needle: str) -> str:
    for _ in range(200):
        text = log_path.read_text("utf-8", errors="replace")
        if needle in text:
            return text
        time.sleep(0.05)
    pytest.fail(f"{needle!r} never reached the log:\n{text[-3000:]}")


@pytest.fixture
def live_server(app, database_url, tmp_path, make_open_survey):
    make_open_survey()
    port = free_port()
    log_path = tmp_path / "server.log"
    env = {
        **os.environ,
        "PYTHONPATH": str(PROJECT_ROOT),
        "PYTHONUNBUFFERED": "1",
        "TZ": "UTC",
        "CHORUS_SECRET_KEY": TEST_SECRET_KEY,
        "CHORUS_DATABASE_URL": database_url,
        "CHORUS_SECURE_COOKIES": "0",
        "CHORUS_SCRYPT_LOG2_N": "14",
        # The cheapest argon2 settings a server started from the environment accepts.
        "CHORUS_ARGON2_TIME_COST": "5",
        "CHORUS_ARGON2_MEMORY_KIB": "7168",
        "CHORUS_LOG_LEVEL": "DEBUG",
    }
    chorus = Path(sys.executable).parent / "chorus"
    with log_path.open("wb") as log:
        # Bound to "localhost" so the startup banner doesn't name 127.0.0.1, the
        # address every request below comes from.
        process = subprocess.Popen(
            [str(chorus), "serve", "--host", "localhost", "--port", str(port)],
            cwd=PROJECT_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base_url = f"http://127.0.0.1:{port}"
        try:
            wait_until_up(base_url, process, log_path)
            yield base_url, log_path
        finally:
            stop_server(process)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(base_url: str, process: subprocess.Popen, log_path: Path) -> None:
    for _ in range(400):
        if process.poll() is not None:
            pytest.fail(f"`chorus serve` exited early:\n{log_path.read_text()}")
        try:
            with urllib.request.urlopen(base_url + "/", timeout=2) as reply:  # noqa: S310
                if reply.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"`chorus serve` didn't answer:\n{log_path.read_text()}")


def walk_the_survey(browser: Browser) -> None:
    assert browser.open(f"/s/small?code={QUERY_NEEDLE}") == 200
    assert browser.open("/s/small/start", {"lang": "en"}) == 200
    assert browser.open("/s/small/section/you") == 200
    # A form without its token: Flask-WTF logs "The CSRF token is missing."
    assert browser.open("/s/small/section/you", {"age_band": "adult", "action": "next"}) == 400
    assert browser.open("/s/small/section/you") == 200
    status = browser.post_form(
        "/s/small/section/you", {"age_band": "adult", "apps": "3", "action": "next"}
    )
    assert status == 200
    assert browser.open("/s/small/section/e2ee") == 200
    assert browser.post_form("/s/small/section/e2ee/warning", {"action": "continue"}) == 200
    assert browser.post_form("/s/small/section/e2ee", {"story": "x", "action": "next"}) == 200
    assert browser.open("/s/small/review") == 200
    assert browser.post_form("/s/small/submit", {}) == 200
    assert "receipt" in browser.last_html.lower()


def test_the_server_log_never_dates_a_respondent(live_server):
    base_url, log_path = live_server
    staff = Browser(base_url)
    assert staff.open("/staff/login") == 200
    before = wait_for_line(log_path, "/staff/login")
    start = len(before)

    walk_the_survey(Browser(base_url))
    # A load balancer's polls of /healthz are not logged either (nor dated).
    assert staff.open("/healthz") == 200 and staff.last_html == "ok\n"
    # Nor the icon a browser asks for after a respondent's page: its time would date it.
    assert Browser(base_url).open("/favicon.ico") == 204

    marker = f"/after-the-respondent-{secrets.token_hex(4)}"
    assert staff.open(marker) == 404
    text = wait_for_line(log_path, marker)
    end = text.rindex("\n", 0, text.index(marker)) + 1
    during = text[start:end]
    staff_lines = [line for line in text.splitlines() if "/staff/login" in line or marker in line]

    assert "CSRF token is missing" in during, during  # the respondent phase did log
    assert clock_times(during) == [], f"a respondent request is dated to the second:\n{during}"
    assert all(clock_times(line) for line in staff_lines), staff_lines  # staff lines keep time
    assert "127.0.0.1" not in text, text
    assert QUERY_NEEDLE not in text and "?" not in during, during
    assert "/healthz" not in text, text
    assert "favicon" not in text, text


# --- the same rule inside the app, for every handler ------------------------------------


class Keep(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def kept_records():
    handler = Keep()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler.records
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


def start_of_today() -> float:
    now = datetime.now(UTC)
    return datetime(now.year, now.month, now.day, tzinfo=UTC).timestamp()


def test_records_made_in_a_respondent_request_carry_only_the_day(
    app, client, make_open_survey, kept_records
):
    make_open_survey()
    client.get("/s/small")
    client.post("/s/small/start", data={"lang": "en"})
    client.post("/s/small/section/you", data={"age_band": "adult"})  # no CSRF token
    respondent = [r for r in kept_records if "CSRF token" in r.getMessage()]
    assert respondent, [r.getMessage() for r in kept_records]
    day_start = start_of_today()
    formatter = logging.Formatter("%(asctime)s %(message)s")
    formatter.converter = time.gmtime
    for record in respondent:
        assert record.created == day_start and record.msecs == 0
        assert record.relativeCreated == 0
        shown = formatter.format(record)
        assert shown.startswith(datetime.now(UTC).strftime("%Y-%m-%d 00:00:00,000")), shown

    kept_records.clear()
    client.post("/staff/login", data={"email": "x@example.org"})  # staff: no CSRF token
    staff = [r for r in kept_records if "CSRF token" in r.getMessage()]
    assert staff and all(r.created > day_start for r in staff)
