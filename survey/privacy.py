"""No-trace rules: security headers, rate-limit keys, logs without addresses.

The client's IP address is read in exactly one place, `rate_limit_key`, and
leaves it only as HMAC(secret of the day, address): the secret lives in this
process's memory or in Redis, is replaced every day, and is never written to
disk, so yesterday's keys can't be turned back into addresses by anyone.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, request
from flask_limiter import Limiter
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.serving import WSGIRequestHandler

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        # data: for report charts: matplotlib's SVG carries <style> and style
        # attributes, which style-src 'self' blocks when inlined in a page; as an
        # <img> the SVG is a document of its own (no script runs in it, nothing
        # it loads) and the page keeps its strict style-src (admin/render.py).
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
)
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "browsing-topics",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
    )
)


def set_security_headers(response: Response) -> Response:
    """Headers on every response: strict CSP, no referrer, nothing cached."""
    headers = response.headers
    headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    headers["Referrer-Policy"] = "no-referrer"
    headers["Permissions-Policy"] = PERMISSIONS_POLICY
    headers["X-Content-Type-Options"] = "nosniff"
    headers["X-Frame-Options"] = "DENY"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    headers["Cross-Origin-Resource-Policy"] = "same-origin"
    if current_app.config.get("SESSION_COOKIE_SECURE"):
        headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    if request.endpoint != "static":
        # A shared computer's browser history and cache must not hold answers.
        headers["Cache-Control"] = "no-store"
        headers["Pragma"] = "no-cache"
    return response


def is_cross_site_request() -> bool:
    """True when the browser says this request comes from another website.

    For the respondent routes that take requests without a form token. A
    browser's Sec-Fetch-Site must be same-origin or none (a typed address or a
    bookmark); an Origin, when sent, must be this host as the app sees it
    (through ProxyFix when CHORUS_PROXY_HOPS is set, like request.host). A
    request with neither header (an old browser, curl) passes. "Origin: null"
    says nothing: our own pages send it, because of Referrer-Policy: no-referrer.
    """
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None and fetch_site not in ("same-origin", "none"):
        return True
    origin = request.headers.get("Origin")
    if origin is not None and origin != "null":
        return urlsplit(origin).netloc.lower() != request.host.lower()
    return False


class DailySecret:
    """A random secret that changes every day, shared through Redis if there is one."""

    def __init__(self, redis_url: str | None = None):
        self._lock = threading.Lock()
        self._day = ""
        self._secret = b""
        self._redis = None
        if redis_url:
            import redis

            self._redis = redis.Redis.from_url(redis_url)

    def current(self) -> bytes:
        day = datetime.now(UTC).strftime("%Y-%m-%d")
        with self._lock:
            if day != self._day:
                self._secret = self._fetch(day)
                self._day = day
            return self._secret

    def _fetch(self, day: str) -> bytes:
        fresh = secrets.token_bytes(32)
        if self._redis is None:
            return fresh
        key = f"chorus:ratelimit-secret:{day}"
        # The first process of the day sets it; everyone reads the same value.
        self._redis.set(key, fresh, nx=True, ex=2 * 24 * 3600)
        stored = self._redis.get(key)
        return stored if isinstance(stored, bytes) else fresh


def rate_limit_key() -> str:
    """The only use of the client address: keyed-hashed with the day's secret."""
    secret: DailySecret = current_app.extensions["chorus_daily_secret"]
    address = (request.remote_addr or "").encode()
    return hmac.new(secret.current(), address, hashlib.sha256).hexdigest()[:32]


def init_app(app: Flask, route_limits: Mapping[str, str]) -> None:
    """Attach headers, rate limits and proxy handling to the app.

    `route_limits` maps endpoints to limits on their POSTs. Each app gets a
    limiter of its own (Flask-Limiter keeps its storage on the limiter), kept
    in app.extensions["chorus_limiter"].
    """
    hops = int(app.config["CHORUS_PROXY_HOPS"])
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    app.extensions["chorus_daily_secret"] = DailySecret(app.config.get("CHORUS_REDIS_URL"))
    app.config.setdefault("RATELIMIT_ENABLED", app.config["CHORUS_RATE_LIMITS"])
    app.config.setdefault(
        "RATELIMIT_STORAGE_URI", app.config.get("CHORUS_REDIS_URL") or "memory://"
    )
    app.config.setdefault("RATELIMIT_KEY_PREFIX", "chorus")
    limiter = Limiter(key_func=rate_limit_key, headers_enabled=False)
    limiter.init_app(app)
    for endpoint, limit in route_limits.items():
        view = app.view_functions[endpoint]
        app.view_functions[endpoint] = limiter.limit(limit, methods=["POST"])(view)
    app.extensions["chorus_limiter"] = limiter
    app.after_request(set_security_headers)


class AddresslessRequestHandler(WSGIRequestHandler):
    """Werkzeug's development server, logging requests without the client address."""

    def address_string(self) -> str:
        return "-"

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # The path is enough to debug; query strings could carry codes, so drop them.
        path = self.path.split("?", 1)[0]
        self.log("info", '"%s %s" %s %s', self.command, path, code, size)


def configure_logging(level: str) -> None:
    """Log lines carry level, logger and message: never a request's address."""
    logging.basicConfig(
        level=getattr(logging, level, logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
