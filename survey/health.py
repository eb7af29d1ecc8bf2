"""/healthz: whether this process can serve, for a load balancer or a monitor.

"ok" while the database answers a `SELECT 1`; 503 with a one-line body when it
doesn't. It is polled every few seconds, so it is cheap and leaves no trace: no
session is opened or set (survey/session_cookie.py), no rate limit counts it
(survey/privacy.py), no sign-in is asked (admin/access.py), and neither `chorus
serve` nor the logger of deploy/gunicorn.conf.py writes its requests
(survey/privacy.py `is_logged_path`).
"""

from __future__ import annotations

import logging

from flask import Flask, Response
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from survey.models import db

HEALTH_PATH = "/healthz"
HEALTH_ENDPOINT = "healthz"

logger = logging.getLogger(__name__)


def database_answers() -> bool:
    """Whether the database runs a `SELECT 1` now (on a connection from the pool)."""
    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        # Its kind only: a connection error's text names the database's file or host.
        logger.warning("Health check: the database did not answer (%s)", type(error).__name__)
        return False
    return True


def healthz() -> Response:
    if database_answers():
        return Response("ok\n", mimetype="text/plain")
    return Response("database unreachable\n", status=503, mimetype="text/plain")


def init_app(app: Flask) -> None:
    app.add_url_rule(HEALTH_PATH, HEALTH_ENDPOINT, healthz, methods=["GET"])
