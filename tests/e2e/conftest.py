"""Browser tests: Debian's Chromium through Playwright against a live `chorus serve`.

The browser is only ever Debian's /usr/bin/chromium (never `playwright install`).
Without it these tests skip, unless CHORUS_REQUIRE_BROWSER=1 (CI), where a missing
or broken browser is a failure. The live server shares the test run's database
and secret key, so surveys made through the `app` fixture are served at once.
The browser reaches it through a relay (relay.py) so that the server sees a
client address found nowhere else, which the privacy tests search for.

CHORUS_E2E_SCREENSHOTS=DIR also writes screenshots of the template's pages at
320 and 1024 px there (test_template_survey_fits_the_screen).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask

from survey.models import db
from tests.conftest import TEST_SECRET_KEY, stop_server
from tests.e2e.helpers import (
    CHROMIUM,
    CLIENT_ADDRESS,
    LAUNCH_ARGS,
    SERVER_HOST,
    Person,
    forget_context,
    mark_no_js,
)
from tests.e2e.relay import SourceAddressRelay

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# An upper bound, not a wait: publishing renders a PDF and opens a process pool, which
# took over 10 s on a 2-core machine busy with other work.
DEFAULT_TIMEOUT_MS = 30_000
SERVER_START_SECONDS = 20


def _unavailable(reason: str) -> None:
    if os.environ.get("CHORUS_REQUIRE_BROWSER") == "1":
        pytest.fail(
            f"Browser tests are required (CHORUS_REQUIRE_BROWSER=1) but can't run: {reason}. "
            "Install Debian's chromium package (apt-get install chromium); "
            "`playwright install` is not used.",
            pytrace=False,
        )
    pytest.skip(f"browser tests skipped: {reason}")


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        _unavailable(f"{CHROMIUM} is missing")
    from playwright.sync_api import Error, sync_playwright

    playwright = sync_playwright().start()
    try:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
    except Error as exc:
        playwright.stop()
        _unavailable(f"Playwright can't launch {CHROMIUM}: {exc.message.splitlines()[0]}")
    yield launched
    launched.close()
    playwright.stop()


@dataclass
class LiveServer:
    base_url: str
    log_path: Path
    relay: SourceAddressRelay
    process: subprocess.Popen

    @property
    def exit_url(self) -> str:
        """Where quick exit goes: the app's own neutral home page (there is no internet)."""
        return self.base_url + "/"

    def log_text(self) -> str:
        return self.log_path.read_text("utf-8", errors="replace")


def _free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def live_server(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    chorus = Path(sys.executable).parent / "chorus"
    assert chorus.exists(), f"the chorus console script is missing next to {sys.executable}"
    relay = SourceAddressRelay(SERVER_HOST, CLIENT_ADDRESS)
    base_url = f"http://{SERVER_HOST}:{relay.port}"
    port = _free_port(SERVER_HOST)
    log_path = tmp_path_factory.mktemp("live-server") / "server.log"
    env = {
        **os.environ,
        "CHORUS_SECRET_KEY": TEST_SECRET_KEY,
        "CHORUS_DATABASE_URL": database_url,
        "CHORUS_SECURE_COOKIES": "0",
        "CHORUS_RATE_LIMITS": "0",
        "CHORUS_QUICK_EXIT_URL": base_url + "/",
        "CHORUS_LOG_LEVEL": "INFO",
        "PYTHONUNBUFFERED": "1",
    }
    log = log_path.open("wb")
    process = subprocess.Popen(
        [str(chorus), "serve", "--host", SERVER_HOST, "--port", str(port)],
        cwd=PROJECT_ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    relay.start((SERVER_HOST, port))
    server = LiveServer(base_url, log_path, relay, process)
    try:
        _wait_until_up(server)
        yield server
    finally:
        stop_server(process)
        relay.close()
        log.close()


def _wait_until_up(server: LiveServer) -> None:
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(f"`chorus serve` exited early:\n{server.log_text()}", pytrace=False)
        try:
            with urllib.request.urlopen(server.exit_url, timeout=2) as reply:  # noqa: S310
                if reply.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    pytest.fail(
        f"`chorus serve` didn't answer within {SERVER_START_SECONDS} s:\n{server.log_text()}",
        pytrace=False,
    )


@pytest.fixture
def new_context(browser, live_server: LiveServer):
    """Make browser contexts (one per "device"); closed after the test."""
    made = []

    def make(*, js: bool = True, **options):
        context = browser.new_context(
            base_url=live_server.base_url, java_script_enabled=js, **options
        )
        context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        if not js:
            mark_no_js(context)
        made.append(context)
        return context

    yield make
    for context in made:
        forget_context(context)
        context.close()


@pytest.fixture
def person(new_context) -> Person:
    """A respondent with JavaScript on."""
    return Person(new_context().new_page())


@pytest.fixture
def nojs_person(new_context) -> Person:
    """A respondent whose browser runs no JavaScript at all."""
    return Person(new_context(js=False).new_page())


@pytest.fixture
def open_survey_live(app: Flask, make_open_survey):
    """Import and open a survey, committed so the live server sees it."""

    def make(document=None):
        survey, _ = make_open_survey(document)
        db.session.commit()
        return survey

    return make
