"""gunicorn settings for Chorus in production, with a logger that writes no client address.

    CHORUS_SECRET_KEY_FILE=... gunicorn -c deploy/gunicorn.conf.py 'survey:create_app()'

From the environment: CHORUS_BIND (default 127.0.0.1:8000, behind a reverse
proxy on the same host), CHORUS_WORKERS (processes, default 2), CHORUS_THREADS
(threads per process, default 4) and CHORUS_LOG_LEVEL (default INFO), besides
the app's own CHORUS_* settings.

gunicorn's own logger names the peer of every malformed request ("Invalid
request from ip=...") and its access log format starts with the address.
`AddresslessLogger` scrubs every IPv4 and IPv6 address from error lines (and
their tracebacks), writes access lines as method, path without query, status and
size, and writes none for respondent pages, static files and /healthz, like
`chorus serve` (survey/privacy.py). The app's own log records go to standard
error too, through the same scrubbing.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from gunicorn.glogging import Logger

from survey.privacy import HIDE_ADDRESSES, configure_logging, is_logged_path


class AddresslessLogger(Logger):
    """gunicorn's logger, never writing a client address."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        # On the loggers themselves: gunicorn logs to them directly, whatever the
        # handlers (its own, syslog's or a logconfig's). Adding it twice adds it once.
        self.error_log.addFilter(HIDE_ADDRESSES)
        self.access_log.addFilter(HIDE_ADDRESSES)

    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> None:
        """One line per request: no address, no query string, no headers.

        access_log_format is not used: its atoms include the address (%(h)s), the
        query and any header. Without an access log configured, nothing handles
        the line and nothing is written.
        """
        path = getattr(req, "path", None) or "-"
        if not is_logged_path(path):
            return
        status = str(getattr(resp, "status", "-")).split(" ", 1)[0]
        self.access_log.info(
            '%s "%s %s" %s %s',
            self.now(),
            getattr(req, "method", "-"),
            path,
            status,
            getattr(resp, "sent", "-"),
        )


def post_fork(server: Any, worker: Any) -> None:
    """In each worker, before the app is made: the app's log records to standard error,
    at CHORUS_LOG_LEVEL, dated to the day for respondents, and without addresses."""
    configure_logging(os.environ.get("CHORUS_LOG_LEVEL", "INFO").upper())
    for handler in logging.getLogger().handlers:
        handler.addFilter(HIDE_ADDRESSES)


bind = os.environ.get("CHORUS_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("CHORUS_WORKERS", "2"))
# Threads: a worker keeps answering while one request waits on the database or
# renders a report; each process holds its own connection pool.
worker_class = "gthread"
threads = int(os.environ.get("CHORUS_THREADS", "4"))

# A worker silent this long is restarted; on a restart or stop, requests in flight
# get this long to finish; an idle keep-alive connection (from the proxy) is closed
# after this many seconds.
timeout = 30
graceful_timeout = 30
keepalive = 5
# Long-lived workers grow (report rendering, analysis frames): replace each after
# 1000 to 1500 requests. The workers share the load evenly and so count in step:
# with a narrower spread they were all replaced within seconds of each other, and
# requests waited until a replacement had loaded the app (a few seconds each).
max_requests = 1000
max_requests_jitter = 500

# Request limits: Chorus's URLs are short and a browser sends some twenty headers;
# its session cookie stays well under the field size.
limit_request_line = 4094
limit_request_fields = 50
limit_request_field_size = 8190

# The workers' heartbeat files in memory, not on a disk that may stall.
worker_tmp_dir = "/dev/shm"  # noqa: S108

# gunicorn trusts no forwarding header itself: the app alone reads X-Forwarded-For
# and -Proto, as many proxy hops as CHORUS_PROXY_HOPS says, and never X-Forwarded-Host.
forwarded_allow_ips = ""

# gunicorn 25.1 and later open a control socket in the home directory by default:
# Chorus needs none (signals stop and reload it), and two instances on one host
# would share its path.
control_socket_disable = True

logger_class = AddresslessLogger
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("CHORUS_LOG_LEVEL", "INFO").lower()
proc_name = "chorus"
