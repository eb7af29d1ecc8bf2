"""Chorus: the domain core and the respondent side. `create_app` is the only app factory."""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask, Response, render_template, url_for
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect

from survey import failsafe, health, privacy
from survey.config import (
    MIGRATIONS_DIR,
    TEMPLATES_DIR,
    ConfigError,
    argon2_floor_problem,
    settings_from_env,
)
from survey.i18n import init_babel
from survey.models import db
from survey.session_cookie import EncryptedCookieSessionInterface
from survey.weeks import week_label, week_span_label

csrf = CSRFProtect()
migrate = Migrate()


def chorus_commands() -> tuple[Any, ...]:
    """Every `chorus` command of both sides, in one place (order doesn't matter).

    The app factory registers them on each app, and the console script on itself,
    so that `chorus --help` lists them even when no app can be made yet (no secret
    key). Flask-Migrate adds `chorus db` to each app itself. They are click
    commands, typed as such in the command-line layer: only it imports click.
    """
    from admin import cli as staff_cli
    from survey import cli

    return (*cli.COMMANDS, *staff_cli.COMMANDS)


@functools.cache
def static_version(folder: str, filename: str) -> str | None:
    """The first 12 hex digits of a static file's SHA-256 (None if it isn't there);
    computed once per process, since files don't change under a running app."""
    path = Path(folder) / filename
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    except OSError:
        return None


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app from CHORUS_* settings, with `config` (tests) on top.

    No side effects beyond building the object: no migrations, no prompts, no
    network. A missing secret key stops it here with a message saying what to set.
    """
    app = Flask(__name__, template_folder=str(TEMPLATES_DIR))
    # Chunked bodies over MAX_CONTENT_LENGTH get 413, like any other (survey/failsafe.py).
    app.request_class = failsafe.BodyLimitedRequest
    # Encrypted, not only signed: the cookie carries draft keys and unlock handles.
    app.session_interface = EncryptedCookieSessionInterface()
    env_overrides = {}
    if config and config.get("SECRET_KEY"):
        env_overrides["CHORUS_SECRET_KEY"] = config["SECRET_KEY"]
    app.config.update(settings_from_env({**os.environ, **env_overrides}))
    app.config.update(
        SESSION_COOKIE_NAME="chorus",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        # Forms must outlive a long answer: the session's idle limit ends them instead.
        WTF_CSRF_TIME_LIMIT=None,
        # Referrer-Policy: no-referrer means browsers send no Referer to check.
        WTF_CSRF_SSL_STRICT=False,
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,
        # A failed statement's error (and SQLAlchemy's statement log) would show its
        # bound values: a receipt's tag, a sealed box, under a time to the millisecond.
        SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True, "hide_parameters": True},
    )
    if config:
        app.config.update(config)
    if str(app.config.get("SQLALCHEMY_DATABASE_URI", "")).startswith("sqlite"):
        # A database file has no server that restarts under its connections: nothing
        # to ping before each request's first statement.
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
            **app.config["SQLALCHEMY_ENGINE_OPTIONS"],
            "pool_pre_ping": False,
        }
    # Cheap password hashing only for tests, which say so in the config they pass
    # here: TESTING is never read from the environment, so no deployment can.
    testing = bool(config and config.get("TESTING"))
    problem = argon2_floor_problem(app.config)
    if problem and not testing:
        raise ConfigError(problem)
    # The session cookie ends with the browser (it is never made permanent), and
    # Flask refuses one signed longer ago than a staff session may last.
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(
        hours=app.config["CHORUS_STAFF_SESSION_HOURS"]
    )

    db.init_app(app)
    failsafe.close_database_sessions_safely(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR), render_as_batch=True)
    csrf.init_app(app)
    init_babel(app)

    import admin
    from survey import respondent

    respondent.init_app(app, csrf)
    admin.init_app(app)
    health.init_app(app)
    privacy.init_app(
        app, {**respondent.RATE_LIMITS, **admin.RATE_LIMITS}, unlimited=[health.HEALTH_ENDPOINT]
    )
    for command in chorus_commands():
        app.cli.add_command(command)

    @app.context_processor
    def page_defaults() -> dict[str, Any]:
        """What every page's chrome needs; respondent views override it per survey."""
        return {
            "lang": "en",
            "languages": [],
            "definition": None,
            "has_errors": False,
            "tx": lambda text: text if isinstance(text, str) else "",
            # Through the server, which forgets the respondent's session on the way out.
            "quick_exit_url": url_for("respond.quick_exit"),
        }

    # Weeks as readers say them ("week of 30 November 2026"); the data keeps "2026-W49".
    app.add_template_filter(week_label, "week")
    app.add_template_filter(week_span_label, "week_span")

    @app.url_defaults
    def versioned_static(endpoint: str, values: dict[str, Any]) -> None:
        """Static URLs carry their file's content hash (`?v=`), so the proxy can let
        browsers cache them for a year and a new release is fetched at once."""
        if endpoint == "static" and "filename" in values and "v" not in values:
            version = static_version(app.static_folder or "", values["filename"])
            if version:
                values["v"] = version

    @app.get("/")
    def home() -> str:
        return render_template("home.html")

    @app.get(privacy.FAVICON_PATH, endpoint="favicon")
    def favicon() -> Response:
        """No icon (204, kept a week): no request fails, and no tab or bookmark shows
        a mark that says what the page was."""
        return Response(status=204, headers={"Cache-Control": "public, max-age=604800"})

    failsafe.register_error_pages(app)
    return app
