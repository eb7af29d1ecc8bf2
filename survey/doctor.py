"""`chorus doctor`: checks of the running configuration, each with what to do about it.

A deployment can start and serve pages while still being wrong in ways nobody
sees until it matters: the schema a release behind, several workers each with
its own rate limits, Redis writing rate-limit keys to disk, PostgreSQL dating
every commit, nobody able to sign in as an admin. Each check here is a plain
function returning a `Check` (OK, WARN or FAIL and one sentence); `run_checks`
runs them all against an app, and the command (survey/cli.py) prints them.

No check prints a secret: not the secret key, and database and Redis
locations are named without their passwords. No check needs a request.
"""

from __future__ import annotations

import enum
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import redis
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy import select, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import SQLAlchemyError

from survey.config import MIGRATIONS_DIR, argon2_floor_problem
from survey.models import Role, User, db

# What deploy/gunicorn.conf.py uses when CHORUS_WORKERS and CHORUS_BIND are not set.
DEFAULT_WORKERS = "2"
DEFAULT_BIND = "127.0.0.1:8000"
# More trusted proxies than this is unusual enough to say so.
MOST_USUAL_PROXY_HOPS = 2
# Seconds to wait for Redis: a doctor that hangs says nothing.
REDIS_TIMEOUT = 5
LOG_LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")
# Every setting README "What is stored, and what is not" asks PostgreSQL to keep.
POSTGRES_SETTINGS = ("track_commit_timestamp", "log_statement", "log_min_duration_statement")


class Status(enum.StrEnum):
    OK = "OK"
    WARN = "WARN"
    FAIL = "FAIL"


@dataclass(frozen=True)
class Check:
    """One line of the doctor's report: what was checked, how it went, what to do."""

    name: str
    status: Status
    message: str

    def line(self) -> str:
        return f"{self.status:<4} {self.name}: {self.message}"


def any_failed(checks: list[Check]) -> bool:
    return any(check.status is Status.FAIL for check in checks)


# --- settings ------------------------------------------------------------------------------


def settings_problem_check(problem: str) -> Check:
    """The app could not be made (survey.config.ConfigError): its message says what
    to set. Nothing else can be checked until it is fixed."""
    name = "secret key" if "CHORUS_SECRET_KEY" in problem else "settings"
    return Check(
        name,
        Status.FAIL,
        f"{problem.rstrip('.')}. The app refuses to start until this is fixed; "
        "then run `chorus doctor` again for the other checks.",
    )


def secret_key_check(config: Mapping[str, Any], env: Mapping[str, str]) -> Check:
    """The secret key is set and long; a demo's generated key is not for production."""
    key = config.get("SECRET_KEY")
    if not isinstance(key, str) or not key:
        return Check(
            "secret key",
            Status.FAIL,
            "CHORUS_SECRET_KEY is not set: set CHORUS_SECRET_KEY_FILE to a file holding "
            "one (`python -c 'import secrets; print(secrets.token_urlsafe(48))'`).",
        )
    if len(key) < 32:
        return Check(
            "secret key",
            Status.FAIL,
            "CHORUS_SECRET_KEY is shorter than 32 characters: generate a longer one "
            "(`python -c 'import secrets; print(secrets.token_urlsafe(48))'`).",
        )
    if config.get("CHORUS_DEMO") and not (
        env.get("CHORUS_SECRET_KEY") or env.get("CHORUS_SECRET_KEY_FILE")
    ):
        return Check(
            "secret key",
            Status.WARN,
            "demo mode generated it and keeps it in instance/: in production turn "
            "CHORUS_DEMO off and set CHORUS_SECRET_KEY_FILE.",
        )
    return Check("secret key", Status.OK, "set, and at least 32 characters long.")


def secure_cookies_check(config: Mapping[str, Any]) -> Check:
    if config.get("SESSION_COOKIE_SECURE"):
        return Check("secure cookies", Status.OK, "cookies are sent over HTTPS only.")
    if config.get("CHORUS_DEMO"):
        return Check("secure cookies", Status.OK, "off in demo mode (plain http on this machine).")
    return Check(
        "secure cookies",
        Status.FAIL,
        "CHORUS_SECURE_COOKIES is off, so browsers also send the session cookie over "
        "plain http: serve over HTTPS and set CHORUS_SECURE_COOKIES=on (or remove it).",
    )


def binds_locally(bind: str) -> bool:
    """Whether gunicorn's CHORUS_BIND is reachable from this machine only (a loopback
    address or a Unix socket), so that clients must come through a proxy here."""
    bind = bind.strip()
    if bind.startswith("unix:"):
        return True
    if bind.startswith("["):
        host = bind[1 : bind.find("]")]
    else:
        try:
            ipaddress.ip_address(bind)  # an address without a port, IPv6 included
            host = bind
        except ValueError:
            host = bind.rsplit(":", 1)[0]
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def proxy_hops_check(config: Mapping[str, Any], env: Mapping[str, str]) -> Check:
    """CHORUS_PROXY_HOPS against where gunicorn listens (CHORUS_BIND)."""
    hops = int(config["CHORUS_PROXY_HOPS"])
    bind = env.get("CHORUS_BIND") or DEFAULT_BIND
    if hops == 0 and binds_locally(bind):
        return Check(
            "proxy hops",
            Status.WARN,
            f"CHORUS_BIND={bind} takes requests on this machine only, so they come "
            "through a proxy, but CHORUS_PROXY_HOPS is 0: every client then shares the "
            "proxy's rate limits and the app sees http for https. Set CHORUS_PROXY_HOPS "
            "to the number of proxies in front (usually 1).",
        )
    if hops > MOST_USUAL_PROXY_HOPS:
        return Check(
            "proxy hops",
            Status.WARN,
            f"CHORUS_PROXY_HOPS={hops} trusts that many X-Forwarded-For entries; with "
            "fewer proxies in front, a client chooses the address it is rate-limited "
            "by. Set CHORUS_PROXY_HOPS to the number of proxies in front (usually 1).",
        )
    if hops == 0:
        return Check(
            "proxy hops", Status.OK, "0: clients connect to the app directly, no proxy trusted."
        )
    proxies = "1 proxy" if hops == 1 else f"{hops} proxies"
    return Check(
        "proxy hops", Status.OK, f"the client address and scheme are taken from {proxies}."
    )


def has_port(host: str) -> bool:
    """Whether a host entry carries a port ("b.example:8443", "[::1]:8443")."""
    if host.startswith("["):
        return "]:" in host
    return host.count(":") == 1


def trusted_hosts_check(config: Mapping[str, Any]) -> Check:
    """CHORUS_TRUSTED_HOSTS: the public names the app answers to.

    Names only: Werkzeug ignores the port, of the request's Host and of an entry
    alike, so an entry written with one is a warning (its port is not checked).
    """
    hosts = config.get("TRUSTED_HOSTS")
    with_port = [host for host in hosts or () if has_port(host)]
    if with_port:
        return Check(
            "trusted hosts",
            Status.WARN,
            f"CHORUS_TRUSTED_HOSTS has {', '.join(with_port)}: ports are not checked, "
            "only names (behind deploy/nginx the app never sees a port). Write the "
            "names alone.",
        )
    if hosts:
        return Check("trusted hosts", Status.OK, f"the app answers only to {', '.join(hosts)}.")
    if config.get("CHORUS_DEMO"):
        return Check("trusted hosts", Status.OK, "any (the demo, on this machine).")
    return Check(
        "trusted hosts",
        Status.WARN,
        "CHORUS_TRUSTED_HOSTS is not set, so the app takes its name from any Host header "
        "and writes it into the links on printed invite cards. Set it to the site's public "
        "name, e.g. CHORUS_TRUSTED_HOSTS=chorus.example.org.",
    )


def log_level_check(config: Mapping[str, Any]) -> Check:
    level = str(config["CHORUS_LOG_LEVEL"]).upper()
    if level not in LOG_LEVELS:
        return Check(
            "log level",
            Status.WARN,
            f"CHORUS_LOG_LEVEL={level} is not a level, so INFO is used: set it to WARNING.",
        )
    if level == "DEBUG":
        return Check(
            "log level",
            Status.WARN,
            "DEBUG may log request details: set CHORUS_LOG_LEVEL=WARNING in production.",
        )
    if level == "INFO":
        return Check(
            "log level",
            Status.OK,
            "INFO (WARNING keeps routine lines about respondents' requests out of the log).",
        )
    return Check("log level", Status.OK, f"{level}.")


def argon2_check(config: Mapping[str, Any]) -> Check:
    problem = argon2_floor_problem(dict(config))
    if problem:
        return Check("argon2", Status.FAIL, problem)
    return Check(
        "argon2",
        Status.OK,
        f"time cost {config['CHORUS_ARGON2_TIME_COST']}, "
        f"{config['CHORUS_ARGON2_MEMORY_KIB']} KiB: at or above OWASP's floor.",
    )


# --- the database --------------------------------------------------------------------------


def database_location(url: str | URL) -> str:
    """Where the database is, in words, without its password."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return f"the SQLite file {parsed.database}" if parsed.database else "SQLite in memory"
    where = parsed.host or "the local socket"
    if parsed.port:
        where += f":{parsed.port}"
    user = f" as {parsed.username}" if parsed.username else ""
    kind = "PostgreSQL" if parsed.get_backend_name() == "postgresql" else parsed.get_backend_name()
    return f'the {kind} database "{parsed.database}" on {where}{user}'


def error_text(error: BaseException, *secrets: str | None) -> str:
    """An error's first line (a driver's, for a database error), any secret blanked."""
    cause = getattr(error, "orig", None) or error
    lines = str(cause).strip().splitlines() or [type(cause).__name__]
    first = lines[0].strip().rstrip(".")
    for secret in secrets:
        if secret:
            first = first.replace(secret, "***")
    return first


def database_check() -> Check:
    """The app's database answers `SELECT 1` (in an app context)."""
    url = db.engine.url
    where = database_location(url)
    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        remedy = (
            "create its directory"
            if url.get_backend_name() == "sqlite"
            else "start the database server"
        )
        return Check(
            "database",
            Status.FAIL,
            f"{where} did not answer ({error_text(error, url.password)}): fix "
            f"CHORUS_DATABASE_URL or {remedy}. The checks that need it were not run.",
        )
    return Check("database", Status.OK, f"{where} answers.")


def migrations_check() -> Check:
    """The database's Alembic revision is the newest of this release's migrations."""
    scripts = ScriptDirectory(str(MIGRATIONS_DIR))
    heads = set(scripts.get_heads())
    known = {script.revision for script in scripts.walk_revisions()}
    with db.engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    newest = ", ".join(sorted(heads))
    if current == heads:
        return Check("migrations", Status.OK, f"the database is at the newest revision, {newest}.")
    if not current:
        return Check(
            "migrations",
            Status.FAIL,
            "the database has no Chorus tables yet: run `chorus db upgrade`. "
            "The checks that need them were not run.",
        )
    at = ", ".join(sorted(current))
    if not current <= known:
        return Check(
            "migrations",
            Status.FAIL,
            f"the database is at revision {at}, which this release doesn't have (a newer "
            f"release upgraded it; this one ends at {newest}): run the release that "
            "upgraded it. The checks that need the tables were not run.",
        )
    return Check(
        "migrations",
        Status.FAIL,
        f"the database is at revision {at}, this release's migrations end at {newest}: "
        "run `chorus db upgrade`. The checks that need the tables were not run.",
    )


def admin_check() -> Check:
    """Someone can run the site: an active admin account with two-factor confirmed."""
    admins = [
        user
        for user in db.session.scalars(select(User).where(User.active.is_(True)))
        if user.has_role(Role.ADMIN)
    ]
    ready = [user for user in admins if user.totp_confirmed]
    db.session.rollback()
    if ready:
        count = "one active admin account" if len(ready) == 1 else f"{len(ready)} active admins"
        return Check("admin account", Status.OK, f"{count} with two-factor sign-in set up.")
    if admins:
        return Check(
            "admin account",
            Status.FAIL,
            "no active admin account has set up two-factor sign-in yet: sign in as an "
            "admin at /staff/login and follow the two-factor steps.",
        )
    return Check(
        "admin account",
        Status.FAIL,
        "there is no active admin account: create one with "
        "`chorus user create EMAIL --role admin`, then sign in and set up two-factor sign-in.",
    )


def postgres_settings_checks(settings: Mapping[str, str]) -> list[Check]:
    """PostgreSQL's settings that would date or log what respondents send
    (README "What is stored, and what is not"), from `SHOW name` values."""
    checks = []
    if settings.get("track_commit_timestamp", "off") == "off":
        checks.append(Check("postgresql commit times", Status.OK, "track_commit_timestamp is off."))
    else:
        checks.append(
            Check(
                "postgresql commit times",
                Status.WARN,
                "track_commit_timestamp is on, so PostgreSQL keeps the time of every "
                "commit, each stored response's included: set it off in postgresql.conf "
                "and restart PostgreSQL.",
            )
        )
    logged = []
    if settings.get("log_statement", "none") != "none":
        logged.append(f"log_statement = '{settings['log_statement']}'")
    if settings.get("log_min_duration_statement", "-1") != "-1":
        logged.append(f"log_min_duration_statement = {settings['log_min_duration_statement']}")
    if logged:
        checks.append(
            Check(
                "postgresql statement log",
                Status.WARN,
                f"{' and '.join(logged)} writes statements to PostgreSQL's log, with "
                "their times: set log_statement = 'none' and log_min_duration_statement "
                "= -1 in postgresql.conf and reload PostgreSQL.",
            )
        )
    else:
        checks.append(Check("postgresql statement log", Status.OK, "no statements are logged."))
    return checks


def postgres_settings() -> dict[str, str] | None:
    """`SHOW` of each of POSTGRES_SETTINGS, or None when the server refuses one."""
    try:
        with db.engine.connect() as connection:
            return {
                name: str(connection.execute(text(f"SHOW {name}")).scalar_one())
                for name in POSTGRES_SETTINGS
            }
    except SQLAlchemyError:
        return None


def postgres_checks() -> list[Check]:
    """PostgreSQL's logging and commit-time settings; nothing on another database."""
    if db.engine.dialect.name != "postgresql":
        return []
    settings = postgres_settings()
    if settings is None:
        return [
            Check(
                "postgresql settings",
                Status.WARN,
                "couldn't be read (SHOW was refused): check that track_commit_timestamp is "
                "off, log_statement = 'none' and log_min_duration_statement = -1.",
            )
        ]
    return postgres_settings_checks(settings)


# --- Redis ---------------------------------------------------------------------------------


def redis_location(url: str) -> str:
    """Where Redis is, in words, without its password."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return f"Redis on the socket {parts.path}"
    database = parts.path.lstrip("/") or "0"
    return f"Redis at {parts.hostname}:{parts.port or 6379}, database {database}"


def workers_setting_check(config: Mapping[str, Any], env: Mapping[str, str]) -> Check:
    """Several gunicorn workers need Redis to share rate limits and unlocks."""
    value = env.get("CHORUS_WORKERS") or DEFAULT_WORKERS
    try:
        workers = int(value)
    except ValueError:
        return Check(
            "workers",
            Status.FAIL,
            f"CHORUS_WORKERS={value!r} is not a whole number: deploy/gunicorn.conf.py "
            "can't start. Set it to the number of worker processes.",
        )
    if config.get("CHORUS_REDIS_URL"):
        return Check("workers", Status.OK, "rate limits and unlocks are kept in Redis.")
    if workers > 1:
        return Check(
            "workers",
            Status.FAIL,
            f"CHORUS_WORKERS is {workers} but CHORUS_REDIS_URL is not set, so each worker "
            "keeps its own rate limits (each allowing the full number of tries) and its own "
            "unlocked survey keys (an unlock works on one worker only): set "
            "CHORUS_REDIS_URL, or CHORUS_WORKERS=1.",
        )
    return Check(
        "workers",
        Status.OK,
        "one worker: rate limits and unlocks are kept in its memory (no Redis needed on "
        "one host with one process).",
    )


def redis_persistence_check(settings: Mapping[str, str] | None) -> Check:
    """Whether Redis keeps its data off disk, from `CONFIG GET save` and `CONFIG GET
    appendonly` (None when the server refuses CONFIG)."""
    if settings is None:
        return Check(
            "redis persistence",
            Status.WARN,
            "couldn't be checked: this Redis refuses CONFIG GET. Make sure it runs with "
            'save "" and appendonly no.',
        )
    on = []
    save = settings.get("save")
    if save != "":
        on.append(f'snapshots (save "{save}")')
    if settings.get("appendonly") != "no":
        on.append(f"an append-only file (appendonly {settings.get('appendonly')})")
    if not on:
        return Check("redis persistence", Status.OK, "off: nothing is written to disk.")
    return Check(
        "redis persistence",
        Status.FAIL,
        f"Redis writes its data to disk ({' and '.join(on)}), rate-limit keys and "
        'unlock entries included: set save "" and appendonly no in redis.conf and restart it.',
    )


def redis_checks(config: Mapping[str, Any]) -> list[Check]:
    """Redis answers, and keeps nothing on disk; nothing when it isn't configured."""
    url = config.get("CHORUS_REDIS_URL")
    if not url:
        return []
    where = redis_location(url)
    client = redis.Redis.from_url(
        url,
        socket_connect_timeout=REDIS_TIMEOUT,
        socket_timeout=REDIS_TIMEOUT,
        decode_responses=True,
    )
    try:
        client.ping()
    except redis.RedisError as error:
        return [
            Check(
                "redis",
                Status.FAIL,
                f"{where} did not answer ({error_text(error, urlsplit(url).password)}): "
                "start it or fix CHORUS_REDIS_URL; rate limits and unlocks need it.",
            )
        ]
    try:
        settings = redis_persistence_settings(client)
    finally:
        client.close()
    return [Check("redis", Status.OK, f"{where} answers."), redis_persistence_check(settings)]


def redis_persistence_settings(client: redis.Redis) -> dict[str, str] | None:
    """`CONFIG GET save` and `appendonly`, or None when the server refuses CONFIG
    (renamed or denied, as managed services do)."""
    try:
        found = {**client.config_get("save"), **client.config_get("appendonly")}
    except redis.ResponseError:
        return None
    return {str(name): str(value) for name, value in found.items()}


# --- all of them ---------------------------------------------------------------------------


def database_checks() -> list[Check]:
    """The database, then what needs it: each step only if the one before passed."""
    reached = database_check()
    if reached.status is Status.FAIL:
        return [reached]
    checks = [reached, *postgres_checks()]
    try:
        schema = migrations_check()
    except SQLAlchemyError as error:
        return [
            *checks,
            Check("migrations", Status.FAIL, f"couldn't be read ({error_text(error)})."),
        ]
    checks.append(schema)
    if schema.status is Status.OK:
        checks.append(admin_check())
    return checks


# What templates/report/standalone.css names first for a report in Arabic.
ARABIC_REPORT_FONT = "Noto Sans Arabic"


def arabic_font_families() -> list[str] | None:
    """The font families fontconfig (what WeasyPrint draws PDFs with) has for Arabic,
    or None when fontconfig's `fc-list` isn't there to ask."""
    import shutil
    import subprocess

    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return None
    listed = subprocess.run(  # noqa: S603 - fixed arguments, no shell
        [fc_list, ":lang=ar", "family"], capture_output=True, text=True, timeout=30, check=False
    )
    return [name for line in listed.stdout.splitlines() for name in line.split(",") if name]


def report_fonts_check(families: list[str] | None) -> Check:
    """Report PDFs of an Arabic survey need a font with Arabic letters in it (and
    shaped in it), or they print empty boxes."""
    if families is None:
        return Check(
            "report fonts",
            Status.WARN,
            "fontconfig's fc-list is missing, so the fonts report PDFs use can't be "
            "checked: install fontconfig with Pango (README).",
        )
    if ARABIC_REPORT_FONT in families:
        return Check("report fonts", Status.OK, f"{ARABIC_REPORT_FONT} is installed for Arabic.")
    return Check(
        "report fonts",
        Status.WARN,
        f"{ARABIC_REPORT_FONT} is not installed: a report in Arabic would be printed in "
        f"{families[0] if families else 'no font with Arabic letters (empty boxes)'}. "
        "Install it (Debian: apt-get install fonts-noto-core).",
    )


def run_checks(app: Flask, env: Mapping[str, str]) -> list[Check]:
    """Every check of the app's configuration, in the order they are printed.

    `env` is the environment gunicorn's settings come from (CHORUS_WORKERS,
    CHORUS_BIND); the app's own settings are in its config already.
    """
    config = app.config
    with app.app_context():
        checks = [secret_key_check(config, env), *database_checks()]
        checks += [workers_setting_check(config, env), *redis_checks(config)]
        checks += [
            secure_cookies_check(config),
            proxy_hops_check(config, env),
            trusted_hosts_check(config),
            log_level_check(config),
            argon2_check(config),
            report_fonts_check(arabic_font_families()),
        ]
    return checks
