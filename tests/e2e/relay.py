"""A TCP relay that gives the browser a distinctive source address.

On Linux a connection to any 127.x.y.z address leaves from 127.0.0.1 (the
`src` of the kernel's local route), whatever address the server listens on,
so a server on 127.83.19.201 would see its browser as 127.0.0.1, which is too
common to search for. The browser therefore talks to this relay, and the relay
opens each upstream connection from CLIENT_ADDRESS: that is the address the
live server sees, and one that appears nowhere else (not in a URL, not in the
server's start-up banner), so finding it anywhere means it was recorded.
"""

from __future__ import annotations

import contextlib
import socket
import threading


class SourceAddressRelay:
    def __init__(self, listen_host: str, source_host: str):
        self.source_host = source_host
        self.target: tuple[str, int] | None = None
        self.listener = socket.create_server((listen_host, 0))
        self.port: int = self.listener.getsockname()[1]
        # Every source address the server saw, and how many connections.
        self.sources_seen: set[str] = set()
        self.connections = 0
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._closed = False
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)

    def start(self, target: tuple[str, int]) -> None:
        self.target = target
        self._thread.start()

    def _accept_loop(self) -> None:
        while not self._closed:
            try:
                downstream, _ = self.listener.accept()
            except OSError:
                return
            try:
                assert self.target is not None
                upstream = socket.create_connection(
                    self.target, timeout=10, source_address=(self.source_host, 0)
                )
                upstream.settimeout(None)
            except OSError:
                downstream.close()
                continue
            with self._lock:
                self.connections += 1
                self.sources_seen.add(upstream.getsockname()[0])
                self._sockets.update((downstream, upstream))
            pair = _Pair(self, downstream, upstream)
            for src, dst in ((downstream, upstream), (upstream, downstream)):
                threading.Thread(target=pair.pump, args=(src, dst), daemon=True).start()

    def _forget(self, *socks: socket.socket) -> None:
        with self._lock:
            for sock in socks:
                self._sockets.discard(sock)
                with contextlib.suppress(OSError):
                    sock.close()

    def close(self) -> None:
        self._closed = True
        with contextlib.suppress(OSError):
            self.listener.close()
        with self._lock:
            socks = list(self._sockets)
        for sock in socks:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        self._forget(*socks)


class _Pair:
    """One relayed connection: two pumps; the sockets close when both are done."""

    def __init__(self, relay: SourceAddressRelay, a: socket.socket, b: socket.socket):
        self.relay, self.a, self.b = relay, a, b
        self.running = 2
        self.lock = threading.Lock()

    def pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)
        with self.lock:
            self.running -= 1
            last = self.running == 0
        if last:
            self.relay._forget(self.a, self.b)
