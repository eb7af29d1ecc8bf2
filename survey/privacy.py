"""No-trace rules: security headers, rate-limit keys, logs that neither address nor date.

The client's IP address is read in exactly one place, `rate_limit_key`, and
leaves it only as HMAC(secret of the day, address or IPv6 /64). The day's secret
is derived from the app's secret key, so every process agrees on it without
storing it anywhere: the rate-limit store (Redis) holds the keyed hashes, never
the secret. Keys carry their day, and the first rate-limited request of a new
day deletes every earlier day's keys.

While Redis is unreachable (a restart, a failover), each process counts in its
own memory and Flask-Limiter goes back to Redis once it answers: the limits hold,
more loosely, and no respondent is turned away with an error page.

Respondent requests (paths under /s/) are dated to the day at most: every log
record made while one is handled carries the start of its day as its time, and
`chorus serve` does not log their request lines at all.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextvars import ContextVar
from datetime import UTC, date, datetime
from typing import Any, Protocol, TypeVar, cast
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, has_request_context, request
from flask_limiter import Limiter
from limits.storage import MemoryStorage, RedisStorage
from redis.exceptions import RedisError
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.serving import WSGIRequestHandler

from survey.config import app_subkey
from survey.health import HEALTH_PATH

logger = logging.getLogger(__name__)

RESPONDENT_PATH_PREFIX = "/s/"
SECONDS_PER_DAY = 24 * 3600

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        # Report charts are SVG files of our own, shown as <img>: as an image the SVG
        # is a document of its own (no script runs in it, it loads nothing), so the
        # page keeps its strict style-src and the browser keeps the file
        # (admin/reports/charts.py, bar_chart.py).
        "img-src 'self'",
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


# Browsers ask every site for an icon; Chorus answers with none (survey/__init__.py).
FAVICON_PATH = "/favicon.ico"
# Endpoints whose answers browsers may keep: the same for everyone, and about no one.
CACHEABLE_ENDPOINTS = frozenset({"static", "favicon"})


PRIVATE_CACHE_MARK = "chorus_private_cache"
View = TypeVar("View", bound=Callable[..., Any])


def privately_cacheable(view: View) -> View:
    """Let a view's successful responses keep a Cache-Control of its own that starts
    with "private" (only the reader's browser may keep them, never a shared cache).
    For files that hold nothing of anyone's answers and never change under their
    URL (published report charts); every other response is no-store."""
    setattr(view, PRIVATE_CACHE_MARK, True)
    return view


def _keeps_private_cache(response: Response) -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    return (
        response.status_code < 400
        and getattr(view, PRIVATE_CACHE_MARK, False)
        and (response.headers.get("Cache-Control") or "").startswith("private")
    )


def set_security_headers(response: Response) -> Response:
    """Headers on every response: strict CSP, no referrer, nothing cached (but
    static files, and the few views marked `privately_cacheable`)."""
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
    cacheable = request.endpoint in CACHEABLE_ENDPOINTS and response.status_code < 400
    if not cacheable and not _keeps_private_cache(response):
        # A shared computer's browser history and cache must not hold answers
        # (nor an error page: it stands for whatever was asked).
        headers["Cache-Control"] = "no-store"
        headers["Pragma"] = "no-cache"
    return response


def is_cross_site_request() -> bool:
    """True when the browser says this request comes from another website.

    For the respondent routes that take requests without a form token. A
    browser's Sec-Fetch-Site must be same-origin or none (a typed address or a
    bookmark); an Origin, when sent, must be this host as the app sees it
    (the request's Host header: X-Forwarded-Host is never trusted). A
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


def utc_today() -> date:
    """Today in UTC: the day rate-limit keys and their secret belong to."""
    return datetime.now(UTC).date()


def rate_limit_secret(day: date) -> bytes:
    """The secret that keys addresses on `day`, derived from the app's secret key.

    Every process computes the same value without sharing anything, and no
    store ever holds it: a copy of Redis alone can't test addresses against
    the keys in it.
    """
    return hmac.new(
        app_subkey("rate-limit day secret"), day.isoformat().encode(), hashlib.sha256
    ).digest()


def counted_address(address: str) -> bytes:
    """What a limit counts: an IPv4 address as it is, an IPv6 address by its /64.

    One device's rotating IPv6 privacy addresses share a /64, so they count as
    one; the rest of the address is dropped here and never enters the HMAC.
    """
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address.encode()
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return ip.ipv4_mapped.packed
        return ip.packed[:8]
    return ip.packed


def rate_limit_key() -> str:
    """The only use of the client address: the day, and the address keyed-hashed for it."""
    day = utc_today()
    forget_earlier_days(day)
    address = counted_address(request.remote_addr or "")
    digest = hmac.new(rate_limit_secret(day), address, hashlib.sha256).hexdigest()[:32]
    return f"{day.isoformat()}.{digest}"


KEYED_ADDRESS = re.compile(r"\d{4}-\d{2}-\d{2}\.[0-9a-f]{32}")


class HideKeyedAddresses(logging.Filter):
    """Flask-Limiter logs the key of a limit it enforces: keep it out of the log.

    Anyone with the log and the app's secret key could otherwise test every
    IPv4 address against it.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if KEYED_ADDRESS.search(message):
            record.msg, record.args = KEYED_ADDRESS.sub("(an address)", message), ()
        return True


HIDE_KEYED_ADDRESSES = HideKeyedAddresses()

# A run of what IPv4 and IPv6 addresses are written with (hex digits, dots, colons).
ADDRESS_LIKE = re.compile(r"[0-9A-Fa-f:.]{3,}")
DOTTED_QUAD = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")


def address_in(run: str) -> str | None:
    """The IP address a run of hex digits, dots and colons is, if any: the run
    itself, or the run before a final full stop or colon, or before a `:port`."""
    for candidate in (run, run.rstrip("."), run.rstrip(":"), run.rsplit(":", 1)[0]):
        try:
            ipaddress.ip_address(candidate)
        except ValueError:
            continue
        return candidate
    return None


def without_addresses(text: str) -> str:
    """`text` with every IPv4 and IPv6 address in it replaced by "(an address)".

    For the logs of servers that name their peers (gunicorn names the sender of a
    malformed request). Times (12:05:59), versions and hex digests stay as they are.
    """

    def hide(match: re.Match[str]) -> str:
        run = match.group(0)
        address = address_in(run)
        return run.replace(address, "(an address)", 1) if address else run

    # Then any dotted quad left inside a longer run ("ip=cafe1.2.3.4"), address or not.
    return DOTTED_QUAD.sub("(an address)", ADDRESS_LIKE.sub(hide, text))


class HideAddresses(logging.Filter):
    """Every IP address out of a record: its message, its arguments, its traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        scrubbed = without_addresses(message)
        if scrubbed != message:
            record.msg, record.args = scrubbed, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = without_addresses(record.exc_text)
        if record.stack_info:
            record.stack_info = without_addresses(record.stack_info)
        return True


HIDE_ADDRESSES = HideAddresses()


class KeyDay:
    """The day this process last saw, so earlier days' keys go once it changes."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.day: date | None = None


def forget_earlier_days(today: date) -> None:
    """On a process's first rate-limited request of a day, delete other days' keys.

    Without this, a key written at 23:59 under "100 per day" would stay in
    Redis until 23:59 the next day.
    """
    seen: KeyDay = current_app.extensions["chorus_rate_limit_day"]
    if seen.day == today:
        return
    with seen.lock:
        if seen.day != today:
            try:
                delete_rate_limit_keys_not_of(today)
            except (RedisError, OSError) as error:
                # Redis is away: the limiter counts in memory meanwhile, and a later
                # request (this day is not marked done) deletes the old keys.
                logger.warning(
                    "Other days' rate-limit keys not deleted: the store did not answer (%s)",
                    type(error).__name__,
                )
                return
            seen.day = today


class RedisKeys(Protocol):
    """The calls made here on limits' Redis connection, which limits types with only its own."""

    def scan_iter(self, match: str, count: int) -> Iterator[bytes]: ...
    def delete(self, *names: bytes) -> int: ...


def delete_rate_limit_keys_not_of(today: date) -> int:
    """Delete this app's rate-limit keys from any day but `today`; returns how many.

    Flask-Limiter (limits) names a key "LIMITER/<prefix>/<our key>/<endpoint>/
    <amount>/<multiples>/<period>", in Redis behind the storage's own prefix
    ("LIMITS:") and, for the sliding window, inside braces. Our key starts with
    its day, so a key is another day's when that part differs.
    """
    storage = current_app.extensions["chorus_limiter"].storage
    prefix = current_app.config.get("RATELIMIT_KEY_PREFIX") or ""
    segment = f"{re.escape(prefix)}/" if prefix else ""
    ours = re.compile(rf"LIMITER/{segment}(\d{{4}}-\d{{2}}-\d{{2}})\.[0-9a-f]{{32}}/")

    def other_day(key: str) -> bool:
        match = ours.search(key)
        return match is not None and match.group(1) != today.isoformat()

    deleted = 0
    if isinstance(storage, RedisStorage):
        redis = cast(RedisKeys, storage.get_connection())
        glob_prefix = re.sub(r"([*?\[\]\\])", r"\\\1", prefix)
        pattern = f"*LIMITER/{glob_prefix}/*" if prefix else "*LIMITER/*"
        for key in redis.scan_iter(match=pattern, count=1000):
            if other_day(key.decode("utf-8", "replace")):
                deleted += redis.delete(key)
    elif isinstance(storage, MemoryStorage):
        for name in [*storage.storage, *storage.events]:
            if other_day(name):
                storage.clear(name)
                deleted += 1
    # Other storages (memcached, ...) aren't supported: their keys expire with
    # their window (at most a day).
    return deleted


def init_app(app: Flask, route_limits: Mapping[str, str], unlimited: Iterable[str] = ()) -> None:
    """Attach headers, rate limits and proxy handling to the app.

    `route_limits` maps endpoints to limits on their POSTs; the `unlimited`
    endpoints are exempt from every limit, a default one (RATELIMIT_DEFAULT)
    included. Each app gets a limiter of its own (Flask-Limiter keeps its
    storage on the limiter), kept in app.extensions["chorus_limiter"].
    """
    hops = int(app.config["CHORUS_PROXY_HOPS"])
    if hops:
        # The client's address and scheme only. The host stays the request's own Host:
        # a forged X-Forwarded-Host would otherwise name another site in the links the
        # app writes (invite cards) and let that site's Origin pass is_cross_site_request.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=0, x_port=0, x_prefix=0
        )
    app.extensions["chorus_rate_limit_day"] = KeyDay()
    app.config.setdefault("RATELIMIT_ENABLED", app.config["CHORUS_RATE_LIMITS"])
    app.config.setdefault(
        "RATELIMIT_STORAGE_URI", app.config.get("CHORUS_REDIS_URL") or "memory://"
    )
    app.config.setdefault("RATELIMIT_KEY_PREFIX", "chorus")
    # Redis unreachable: count in this process's memory until it answers again.
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    limiter = Limiter(key_func=rate_limit_key, headers_enabled=False)
    limiter.init_app(app)
    for endpoint, limit in route_limits.items():
        view = app.view_functions[endpoint]
        # Flask types a view as sync or async; mypy can't carry that union through the
        # decorator's Callable[P, R] -> Callable[P, R] (it merges the two return types).
        app.view_functions[endpoint] = limiter.limit(limit, methods=["POST"])(view)  # type: ignore[assignment]
    for endpoint in unlimited:
        limiter.exempt(app.view_functions[endpoint])
    app.extensions["chorus_limiter"] = limiter
    limiter.logger.addFilter(HIDE_KEYED_ADDRESSES)  # once: the same filter isn't added twice
    app.after_request(set_security_headers)
    date_respondent_records_by_day()


# True while `chorus serve` handles a respondent's request, outside Flask's context too.
_serving_respondent: ContextVar[bool] = ContextVar("chorus_serving_respondent", default=False)


def is_respondent_path(path: str) -> bool:
    return path == RESPONDENT_PATH_PREFIX.rstrip("/") or path.startswith(RESPONDENT_PATH_PREFIX)


def is_logged_path(path: str) -> bool:
    """Whether a server's request log writes requests for this path.

    Not a respondent's, nor a static file's or the browser's icon request (their
    times would date the page that asked for them), nor the health check's (a load
    balancer polls it all day).
    """
    return not (
        is_respondent_path(path)
        or path.startswith("/static/")
        or path in (HEALTH_PATH, FAVICON_PATH)
    )


def is_respondent_request() -> bool:
    """Whether the code running now is handling a respondent's request."""
    if _serving_respondent.get():
        return True
    return has_request_context() and is_respondent_path(request.path)


def date_respondent_records_by_day() -> None:
    """Make every log record created during a respondent request carry only its day.

    Done where records are made (the record factory), not by a filter on some
    handlers, so that every handler and format sees it: ours, Flask's default
    handler, gunicorn's error log, any added later. The record's time becomes
    the start of its UTC day; the millisecond and the time since start-up go.
    Installed once per process, whatever the number of apps.
    """
    make_record = logging.getLogRecordFactory()
    if getattr(make_record, "dates_respondents_by_day", False):
        return

    def make_day_dated_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        if is_respondent_request():
            record.created -= record.created % SECONDS_PER_DAY
            record.msecs = 0.0
            record.relativeCreated = 0.0
        return record

    make_day_dated_record.dates_respondents_by_day = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(make_day_dated_record)


class AddresslessRequestHandler(WSGIRequestHandler):
    """Werkzeug's development server, logging without addresses and without respondents.

    A respondent's request line is not logged at all, nor are static files' and
    the health check's (`is_logged_path`); other lines lose the client address and
    the query string.
    """

    def request_path(self) -> str:
        """The request's path without its query, also when sent as a full URL."""
        path = self.path.split("?", 1)[0]
        return urlsplit(path).path if "://" in path else path

    def run_wsgi(self) -> None:
        token = _serving_respondent.set(is_respondent_path(self.request_path()))
        try:
            super().run_wsgi()
        finally:
            _serving_respondent.reset(token)

    def address_string(self) -> str:
        return "-"

    def log_date_time_string(self) -> str:
        if _serving_respondent.get():
            return datetime.now(UTC).strftime("%d/%b/%Y")
        return super().log_date_time_string()

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        path = self.request_path()
        if not is_logged_path(path):
            return
        # The path is enough to debug; query strings could carry codes, so drop them.
        self.log("info", '"%s %s" %s %s', self.command, path, code, size)


def configure_logging(level: str) -> None:
    """Log lines carry level, logger and message: never a request's address.

    Their time is a respondent request's day only (see date_respondent_records_by_day).
    """
    logging.basicConfig(
        level=getattr(logging, level, logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    date_respondent_records_by_day()
