"""gunicorn with deploy/gunicorn.conf.py writes no client address, whatever it is sent.

gunicorn's own logger names the peer of every malformed request ("Invalid request
from ip=..."). The shipped config's logger scrubs every address from its error
lines and writes access lines without one (and none at all for respondent pages,
static files and /healthz, like `chorus serve`). A real gunicorn runs the app
here; normal and malformed requests go to it over raw sockets from 127.0.0.1,
with forged forwarding headers naming other addresses; then its whole output is
read.
"""

from __future__ import annotations

import contextlib
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from survey.privacy import without_addresses
from tests.conftest import stop_server
from tests.factories import free_port, server_env, wait_until_healthy

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CONFIG = PROJECT_ROOT / "deploy" / "gunicorn.conf.py"
GUNICORN = Path(sys.executable).parent / "gunicorn"
APP = "survey:create_app()"
FORWARDED_V4 = "203.0.113.9"
FORWARDED_V6 = "2001:db8::77"
IPV4 = re.compile(r"(?<![\d.])\d{1,3}(?:\.\d{1,3}){3}(?![\d.])")


def test_the_config_passes_gunicorns_check(database_url, tmp_path):
    result = subprocess.run(
        [str(GUNICORN), "--check-config", "-c", str(CONFIG), APP],
        cwd=tmp_path,
        env=server_env(database_url, free_port()),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture
def gunicorn(app, database_url, tmp_path, make_open_survey):
    """gunicorn with the shipped config, its stdout and stderr in one file."""
    make_open_survey()
    port = free_port()
    log_path = tmp_path / "gunicorn.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [str(GUNICORN), "-c", str(CONFIG), APP],
            cwd=tmp_path,
            env=server_env(database_url, port),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_until_healthy(port, server, log_path)
            yield port, server, log_path
        finally:
            stop_server(server)


def exchange(port: int, request: bytes) -> bytes:
    """Send raw bytes, read the whole answer (every request here closes the connection)."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        # The server may answer and close before reading everything sent.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(request)
        answer = b""
        with contextlib.suppress(ConnectionResetError):
            while chunk := sock.recv(65536):
                answer += chunk
        return answer


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


def get(path: str, *headers: str) -> bytes:
    lines = [f"GET {path} HTTP/1.1", "Host: localhost", "Connection: close", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


FORGED = (f"X-Forwarded-For: {FORWARDED_V4}, {FORWARDED_V6}", "X-Real-IP: 198.51.100.3")


def chunked_post(path: str, body: bytes) -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n"
    ).encode()
    chunks = b"".join(
        b"%x\r\n%s\r\n" % (len(body[i : i + 65536]), body[i : i + 65536])
        for i in range(0, len(body), 65536)
    )
    return head + chunks + b"0\r\n\r\n"


def test_gunicorn_logs_no_client_address(gunicorn):
    port, server, log_path = gunicorn
    # Normal requests: a staff page (logged, without address), a respondent's and
    # the health check (not logged at all).
    assert status_of(exchange(port, get("/staff/login", *FORGED))) == 200
    assert status_of(exchange(port, get("/s/small?code=ABCD", *FORGED))) == 200
    assert status_of(exchange(port, get("/healthz", *FORGED))) == 200

    # Malformed requests, each of which gunicorn's own logger reports with the peer.
    malformed = [
        b"GARBAGE\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Big: " + b"b" * 20_000 + b"\r\n\r\n",
        b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: localhost\r\n\r\n",
        get("/", *(f"X-Field-{n}: {n}" for n in range(120))),
        b"GET / HTTP/1.1\r\nHost: localhost\r\nBad Header Name: x\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    ]
    for request in malformed:
        answer = exchange(port, request)
        assert 400 <= status_of(answer) < 500, answer[:200]

    # A Host the app refuses: the calm page and our headers, not gunicorn's bare 500.
    refused = exchange(port, get("/", "Host: a..b").replace(b"Host: localhost\r\n", b"", 1))
    assert status_of(refused) == 400, refused[:300]
    head, _, page = refused.partition(b"\r\n\r\n")
    assert b"Content-Security-Policy: default-src 'self'" in head
    assert b"Cache-Control: no-store" in head
    assert b"Leave this page quickly" in page

    # A chunked body over the limit: 413, through the real server's chunked reader.
    too_large = exchange(port, chunked_post("/staff/login", b"email=" + b"x" * (3 * 1024**2)))
    assert status_of(too_large) == 413, too_large[:300]

    stop_server(server)  # gunicorn writes its last lines as it stops
    log = log_path.read_text("utf-8", errors="replace")
    assert '"GET /staff/login" 200' in log, log  # access lines are written...
    assert "Invalid request from" in log, log  # ...and the malformed requests reported
    assert IPV4.findall(log) == [], log
    for address in ("127.0.0.1", "::1", FORWARDED_V4, FORWARDED_V6, "198.51.100.3"):
        assert address not in log, address
    assert "/healthz" not in log and "/s/small" not in log and "ABCD" not in log


ADDRESSES = [
    "127.0.0.1",
    "10.1.2.3",
    "::1",
    "2001:db8::77",
    "fe80::1ff:fe23:4567:890a",
    "::ffff:192.0.2.128",
]


@pytest.mark.parametrize("address", ADDRESSES)
@pytest.mark.parametrize(
    "line",
    [
        "Invalid request from ip={}: Invalid HTTP request line: 'GARBAGE'",
        "Listening at: http://{}:8000 (4242)",
        "connect to [{}]:5432 failed.",
        "peer ({}, 51234) went away",
        "from {}.",
    ],
)
def test_without_addresses_scrubs_every_address(address, line):
    scrubbed = without_addresses(line.format(address))
    assert address not in scrubbed
    assert "(an address)" in scrubbed


def test_without_addresses_keeps_what_is_not_an_address():
    line = "[2026-12-02 02:08:28 +0000] [4242] [INFO] gunicorn 27.0.1, Python 3.11.7 (ab:cd)"
    assert without_addresses(line) == line
