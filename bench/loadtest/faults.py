"""Faults while the load runs: a killed worker, PostgreSQL restarted and stopped,
Redis stopped, and slow clients holding connections all along.

`FaultPlan` runs the faults one after another at fixed fractions of the run, and
records when each began and ended; a request that overlaps a fault (or the few
seconds after it, `GRACE_SECONDS`, while pools reconnect) may fail without
failing the run, as long as it failed calmly (see loadtest/report.py). Slow
clients are not a fault window: nginx must keep them from the workers, so
requests that fail while they trickle fail the run.
"""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from bench.loadtest.client import open_slow_connection
from bench.loadtest.stack import SERVER_NAME, Stack

# After a fault has ended, requests may still meet its traces this long
# (a pooled connection to the PostgreSQL that went away, a worker starting).
GRACE_SECONDS = 3.0
STOP_SECONDS = 4.0
SLOW_HEADER_CLIENTS = 20
SLOW_BODY_CLIENTS = 20
# Each address holds at most this many (nginx allows 20 per address).
SLOW_PER_ADDRESS = 10


@dataclass
class FaultWindow:
    what: str
    started: float
    ended: float
    problem: str | None = None  # the fault itself could not be carried out

    def covers(self, started: float, ended: float) -> bool:
        return started <= self.ended + GRACE_SECONDS and ended >= self.started


class FaultPlan(threading.Thread):
    """The faults, each at its fraction of the run, one after another."""

    def __init__(self, stack: Stack, seconds: float, say: Callable[[str], None]):
        super().__init__(daemon=True)
        self.stack = stack
        self.seconds = seconds
        self.say = say
        self.windows: list[FaultWindow] = []
        self.cancelled = threading.Event()
        self.schedule: list[tuple[float, str, Callable[[], str]]] = [
            (0.10, "kill -9 a worker", stack.kill_worker),
            (0.24, "restart PostgreSQL", stack.restart_postgres),
            (0.40, "stop Redis", lambda: stack.stop_redis(STOP_SECONDS)),
            (0.60, "stop PostgreSQL", lambda: stack.stop_postgres(STOP_SECONDS)),
            (0.80, "kill -9 a worker", stack.kill_worker),
        ]

    def run(self) -> None:
        begun = time.monotonic()
        for fraction, what, act in self.schedule:
            wait = begun + fraction * self.seconds - time.monotonic()
            if self.cancelled.wait(max(wait, 0)):
                return
            started = time.monotonic()
            try:
                done = act()
                problem = None
            except Exception as error:  # reported: the run fails
                done, problem = what, f"{type(error).__name__}: {error}"
            window = FaultWindow(done, started, time.monotonic(), problem)
            self.windows.append(window)
            self.say(
                f"  fault at {started - begun:5.1f} s: {done} "
                f"({window.ended - window.started:.1f} s)"
                + (f" FAILED: {problem}" if problem else "")
            )


@dataclass
class SlowCounts:
    opened: int = 0
    dropped_by_proxy: int = 0  # nginx closed it (its header or body timeout)
    answered: int = 0  # nginx answered it (a 4xx for a request it gave up on)
    could_not_connect: int = 0


class SlowClients:
    """Connections that trickle their headers, or their body, a byte a second,
    reconnecting whenever nginx drops them, until stopped."""

    def __init__(self, port: int, slug: str, addresses: list[str]):
        self.port = port
        self.slug = slug
        self.addresses = addresses
        self.stopped = threading.Event()
        self.counts = SlowCounts()
        self.lock = threading.Lock()
        self.threads: list[threading.Thread] = []

    def start(self) -> None:
        kinds = ["header"] * SLOW_HEADER_CLIENTS + ["body"] * SLOW_BODY_CLIENTS
        for index, kind in enumerate(kinds):
            address = self.addresses[index // SLOW_PER_ADDRESS % len(self.addresses)]
            thread = threading.Thread(target=self.trickle, args=(kind, address), daemon=True)
            self.threads.append(thread)
            thread.start()

    def stop(self) -> None:
        self.stopped.set()
        for thread in self.threads:
            thread.join(5)

    def count(self, what: str) -> None:
        with self.lock:
            setattr(self.counts, what, getattr(self.counts, what) + 1)

    def opening(self, kind: str) -> bytes:
        if kind == "header":
            return f"GET /s/{self.slug} HTTP/1.1\r\nHost: {SERVER_NAME}\r\nX-Slow: ".encode()
        return (
            f"POST /s/{self.slug}/start HTTP/1.1\r\nHost: {SERVER_NAME}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 4096\r\n\r\n"
        ).encode()

    def trickle(self, kind: str, address: str) -> None:
        while not self.stopped.is_set():
            try:
                sock = open_slow_connection(self.port, address)
            except (OSError, ssl.SSLError):
                self.count("could_not_connect")
                self.stopped.wait(1)
                continue
            self.count("opened")
            try:
                sock.sendall(self.opening(kind))
                sock.settimeout(0.05)
                while not self.stopped.wait(1):
                    sock.sendall(b"a")
                    try:
                        if sock.recv(1024):
                            self.count("answered")
                        else:
                            self.count("dropped_by_proxy")
                        break
                    except (TimeoutError, ssl.SSLWantReadError):
                        continue
            except (OSError, ssl.SSLError):
                self.count("dropped_by_proxy")
            finally:
                sock.close()
