"""Slow clients can't starve the service: deploy/'s nginx in front of gunicorn.

An attacker (or a crowd of phones on bad networks) opens many connections and
trickles their headers a byte at a time. Straight to gunicorn, each holds a
worker thread; behind deploy/nginx/chorus.conf nginx holds them, and a request
from anyone else is served while every slow connection is still waiting. The
check is about order, not speed: all the normal requests are answered before
nginx has finished a single slow one.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from survey.config import STATIC_DIR
from tests.conftest import stop_server
from tests.factories import (
    PROJECT_ROOT,
    free_port,
    nginx_or_skip,
    self_signed,
    server_env,
    wait_until_healthy,
)

SLOW_CLIENTS = 40
NORMAL_REQUESTS = 5
GUNICORN_THREADS = "2"  # far fewer than the slow clients


def nginx_site(tmp_path: Path, https_port: int, http_port: int, app_port: int) -> Path:
    """deploy/nginx/chorus.conf on local ports, with a throwaway certificate."""
    cert, key = self_signed(tmp_path)
    site = (PROJECT_ROOT / "deploy" / "nginx" / "chorus.conf").read_text("utf-8")
    for shipped, here in (
        ("    listen 443 ssl http2;\n    listen [::]:443 ssl http2;\n",
         f"    listen 127.0.0.1:{https_port} ssl;\n"),
        ("    listen 80;\n    listen [::]:80;\n", f"    listen 127.0.0.1:{http_port};\n"),
        ("server 127.0.0.1:8000;", f"server 127.0.0.1:{app_port};"),
        ("/etc/ssl/chorus/fullchain.pem", str(cert)),
        ("/etc/ssl/chorus/privkey.pem", str(key)),
        ("/var/log/nginx/chorus-error.log", str(tmp_path / "nginx-error.log")),
        ("/opt/chorus/lib/python3.11/site-packages/survey/static/", f"{STATIC_DIR}/"),
    ):  # fmt: skip
        assert shipped in site, shipped
        site = site.replace(shipped, here)
    (tmp_path / "chorus.conf").write_text(site, "utf-8")
    main = tmp_path / "nginx.conf"
    main.write_text(
        f"daemon off;\nuser root;\npid {tmp_path}/nginx.pid;\nerror_log stderr;\n"
        f"events {{ worker_connections 512; }}\nhttp {{ include {tmp_path}/chorus.conf; }}\n",
        "utf-8",
    )
    return main


@pytest.fixture
def proxied(app, database_url, tmp_path, make_open_survey):
    """gunicorn (deploy/gunicorn.conf.py, one worker of 2 threads) behind nginx."""
    nginx = nginx_or_skip()
    make_open_survey()
    app_port, https_port, http_port = free_port(), free_port(), free_port()
    env = {**server_env(database_url, app_port), "CHORUS_THREADS": GUNICORN_THREADS,
           "CHORUS_PROXY_HOPS": "1"}  # fmt: skip
    log_path = tmp_path / "servers.log"
    with log_path.open("wb") as log:
        app_server = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "-c",
             str(PROJECT_ROOT / "deploy" / "gunicorn.conf.py"), "survey:create_app()"],
            cwd=tmp_path, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        proxy = None
        try:
            wait_until_healthy(app_port, app_server, log_path)
            config = nginx_site(tmp_path, https_port, http_port, app_port)
            proxy = subprocess.Popen(
                [nginx, "-p", str(tmp_path), "-c", str(config)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
            wait_for_port(https_port, proxy, log_path)
            yield https_port
        finally:
            if proxy is not None:
                stop_server(proxy)
            stop_server(app_server)


def wait_for_port(port: int, server: subprocess.Popen, log_path: Path) -> None:
    for _ in range(300):
        if server.poll() is not None:
            pytest.fail(f"nginx exited early:\n{log_path.read_text()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"nginx didn't listen:\n{log_path.read_text()}")


def unverified() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # a throwaway self-signed certificate
    return context


class SlowClient(threading.Thread):
    """Sends a request line, then a header byte every half second until stopped."""

    def __init__(self, port: int):
        super().__init__(daemon=True)
        self.port = port
        self.stop = threading.Event()
        self.started_sending = threading.Event()
        self.dropped = False

    def run(self) -> None:
        raw = socket.create_connection(("127.0.0.1", self.port), timeout=30)
        with unverified().wrap_socket(raw, server_hostname="chorus.example.org") as sock:
            sock.sendall(b"GET /s/small HTTP/1.1\r\nHost: chorus.example.org\r\nX-Slow: ")
            self.started_sending.set()
            while not self.stop.wait(0.5):
                try:
                    sock.sendall(b"a")
                except OSError:
                    self.dropped = True  # nginx gave up on it (client_header_timeout)
                    return


def test_normal_requests_are_served_while_slow_clients_hold_connections(proxied):
    port = proxied
    slow = [SlowClient(port) for _ in range(SLOW_CLIENTS)]
    for client in slow:
        client.start()
    for client in slow:
        assert client.started_sending.wait(30)
    try:
        statuses = []
        for _ in range(NORMAL_REQUESTS):
            connection = http.client.HTTPSConnection(
                "127.0.0.1", port, timeout=60, context=unverified()
            )
            connection.request("GET", "/s/small", headers={"Host": "chorus.example.org"})
            statuses.append(connection.getresponse().status)
            connection.close()
        # Every slow client is still sending its headers: none got a worker, none
        # was served, and the normal requests didn't wait for them.
        assert not any(client.dropped for client in slow)
        assert statuses == [200] * NORMAL_REQUESTS
    finally:
        for client in slow:
            client.stop.set()
        for client in slow:
            client.join(5)
