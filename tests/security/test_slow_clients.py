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
import threading

import pytest

from bench.loadtest.stack import unverified_tls
from tests.factories import gunicorn_behind_nginx

SLOW_CLIENTS = 40
NORMAL_REQUESTS = 5
GUNICORN_THREADS = "2"  # far fewer than the slow clients


@pytest.fixture
def proxied(app, database_url, tmp_path, make_open_survey):
    """gunicorn (deploy/gunicorn.conf.py, one worker of 2 threads) behind nginx."""
    make_open_survey()
    threads = {"CHORUS_THREADS": GUNICORN_THREADS}
    with gunicorn_behind_nginx(database_url, tmp_path, threads) as port:
        yield port


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
        with unverified_tls().wrap_socket(raw, server_hostname="chorus.example.org") as sock:
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
                "127.0.0.1", port, timeout=60, context=unverified_tls()
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
