"""`chorus doctor`: each check says OK, WARN or FAIL, and what to do, about the real
configuration: a real database (and a throwaway one to break), the Redis on this
machine when there is one, and the `chorus` script itself."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import flask_migrate
import pytest
import redis
from alembic.script import ScriptDirectory
from sqlalchemy import text

from survey import create_app
from survey.config import MIGRATIONS_DIR
from survey.doctor import (
    Check,
    Status,
    admin_check,
    argon2_check,
    binds_locally,
    database_checks,
    log_level_check,
    migrations_check,
    postgres_settings_checks,
    proxy_hops_check,
    redis_persistence_check,
    report_fonts_check,
    run_checks,
    secret_key_check,
    secure_cookies_check,
    trusted_hosts_check,
    workers_setting_check,
)
from survey.models import Role, db
from tests.conftest import TEST_SECRET_KEY, base_config, is_postgres
from tests.factories import REDIS_URL, make_user, redis_or_skip

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# A production's cost (the tests' cheap one is below the floor, on purpose).
PRODUCTION_ARGON2 = {"CHORUS_ARGON2_TIME_COST": 3, "CHORUS_ARGON2_MEMORY_KIB": 65536}
ONE_WORKER = {"CHORUS_WORKERS": "1"}


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound for a moment, then let go)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def by_name(checks: list[Check]) -> dict[str, Check]:
    return {check.name: check for check in checks}


def statuses(checks: list[Check]) -> dict[str, Status]:
    return {check.name: check.status for check in checks}


def make_admin(email: str = "admin@example.org", two_factor: bool = True, active: bool = True):
    user = make_user(email, roles=(Role.ADMIN,))
    user.totp_confirmed = two_factor
    user.active = active
    db.session.commit()
    return user


def make_production_like(app) -> None:
    """The fixture's app as production runs it: secure cookies, argon2 at its cost, an
    admin who has set up two-factor sign-in."""
    make_admin()
    app.config.update(SESSION_COOKIE_SECURE=True, **PRODUCTION_ARGON2)


# --- the whole run -------------------------------------------------------------------------


def test_a_healthy_configuration_has_no_failure(app):
    make_production_like(app)
    checks = run_checks(app, ONE_WORKER)
    assert {check.status for check in checks} <= {Status.OK, Status.WARN}, checks
    names = [check.name for check in checks]
    for name in (
        "secret key",
        "database",
        "migrations",
        "admin account",
        "workers",
        "secure cookies",
        "proxy hops",
        "log level",
        "argon2",
    ):
        assert name in names
    assert by_name(checks)["admin account"].status is Status.OK
    assert not any(TEST_SECRET_KEY in check.line() for check in checks)


def test_the_command_prints_one_line_per_check_and_exits_0_when_nothing_fails(app, monkeypatch):
    make_production_like(app)
    monkeypatch.setenv("CHORUS_WORKERS", "1")
    result = app.test_cli_runner().invoke(args=["doctor"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines and all(line.startswith(("OK   ", "WARN ")) for line in lines), lines
    assert any(line.startswith("OK   admin account:") for line in lines)
    assert TEST_SECRET_KEY not in result.output


def test_the_command_exits_1_when_a_check_fails(app, monkeypatch):
    make_production_like(app)
    make_admin("second@example.org", two_factor=False)
    monkeypatch.setenv("CHORUS_WORKERS", "1")
    app.config["SESSION_COOKIE_SECURE"] = False
    result = app.test_cli_runner().invoke(args=["doctor"])
    assert result.exit_code == 1, result.output
    [failed] = [line for line in result.output.splitlines() if line.startswith("FAIL")]
    assert failed.startswith("FAIL secure cookies: CHORUS_SECURE_COOKIES is off")


# --- the console script, as a process ------------------------------------------------------


def chorus_doctor(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """`chorus doctor` from this checkout, with these CHORUS_* settings and no others."""
    clean = {name: value for name, value in os.environ.items() if not name.startswith("CHORUS_")}
    return subprocess.run(
        [str(Path(sys.executable).parent / "chorus"), "doctor"],
        cwd=tmp_path,
        env={**clean, **env, "PYTHONPATH": str(PROJECT_ROOT)},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_missing_secret_key_is_a_failure_not_a_crash(tmp_path):
    result = chorus_doctor(tmp_path)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert result.stdout.startswith(
        "FAIL secret key: CHORUS_SECRET_KEY (or CHORUS_SECRET_KEY_FILE) is not set."
    )
    assert "token_urlsafe" in result.stdout  # how to make one


def test_a_short_secret_key_is_a_failure_and_is_not_printed(tmp_path):
    short = "only-twenty-chars-ab"
    result = chorus_doctor(tmp_path, CHORUS_SECRET_KEY=short)
    assert result.returncode == 1, result.stderr
    assert result.stdout.startswith(
        "FAIL secret key: CHORUS_SECRET_KEY must be at least 32 characters long."
    )
    assert short not in result.stdout + result.stderr


def test_the_script_names_where_things_are_but_prints_no_secret(tmp_path):
    database_password = "database-password-5521"
    redis_password = "redis-password-7730"
    database_port, redis_port = closed_port(), closed_port()
    result = chorus_doctor(
        tmp_path,
        CHORUS_SECRET_KEY=TEST_SECRET_KEY,
        CHORUS_DATABASE_URL=(
            f"postgresql+psycopg://chorus:{database_password}@127.0.0.1:{database_port}/chorus"
        ),
        CHORUS_REDIS_URL=f"redis://:{redis_password}@127.0.0.1:{redis_port}/0",
    )
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "Traceback" not in output
    lines = result.stdout.splitlines()
    assert lines[0] == "OK   secret key: set, and at least 32 characters long."
    assert any(
        line.startswith(
            f'FAIL database: the PostgreSQL database "chorus" on 127.0.0.1:{database_port} '
            "as chorus did not answer ("
        )
        for line in lines
    ), lines
    assert any(
        line.startswith(f"FAIL redis: Redis at 127.0.0.1:{redis_port}, database 0 did not answer")
        for line in lines
    ), lines
    for secret in (TEST_SECRET_KEY, database_password, redis_password):
        assert secret not in output


# --- the database --------------------------------------------------------------------------


@pytest.fixture
def throwaway_app(tmp_path):
    """An app on a SQLite file of its own, to break."""
    app = create_app(base_config(f"sqlite:///{tmp_path / 'throwaway.db'}"))
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def test_a_database_one_migration_behind_fails(throwaway_app):
    scripts = ScriptDirectory(str(MIGRATIONS_DIR))
    head = scripts.get_current_head()
    previous = scripts.get_revision(head).down_revision
    flask_migrate.upgrade()
    flask_migrate.downgrade(revision="-1")
    check = migrations_check()
    assert check.status is Status.FAIL
    assert check.message.startswith(
        f"the database is at revision {previous}, this release's migrations end at {head}: "
        "run `chorus db upgrade`."
    )
    # Without the newest tables the accounts aren't read.
    assert "admin account" not in statuses(database_checks())
    flask_migrate.upgrade()
    assert migrations_check().status is Status.OK


def test_a_database_without_tables_fails(throwaway_app):
    check = migrations_check()
    assert check.status is Status.FAIL
    assert check.message.startswith(
        "the database has no Chorus tables yet: run `chorus db upgrade`"
    )


def test_a_database_upgraded_by_a_newer_release_fails(throwaway_app):
    flask_migrate.upgrade()
    db.session.execute(text("UPDATE alembic_version SET version_num = 'f00dfeed0009'"))
    db.session.commit()
    check = migrations_check()
    assert check.status is Status.FAIL
    assert "at revision f00dfeed0009, which this release doesn't have" in check.message


def test_a_database_in_a_missing_directory_fails_naming_the_file(tmp_path):
    path = tmp_path / "missing" / "chorus.db"
    app = create_app(base_config(f"sqlite:///{path}"))
    checks = run_checks(app, ONE_WORKER)
    database = by_name(checks)["database"]
    assert database.status is Status.FAIL
    assert database.message.startswith(
        f"the SQLite file {path} did not answer (unable to open database file): "
        "fix CHORUS_DATABASE_URL or create its directory."
    )
    # What needs the database is not checked, rather than failed once more.
    assert not {"migrations", "admin account"} & set(statuses(checks))


def test_a_database_server_on_a_closed_port_fails_without_its_password():
    port = closed_port()
    url = f"postgresql+psycopg://chorus:hunter2-password@127.0.0.1:{port}/chorus"
    app = create_app(base_config(url))
    database = by_name(run_checks(app, ONE_WORKER))["database"]
    assert database.status is Status.FAIL
    assert f'the PostgreSQL database "chorus" on 127.0.0.1:{port} as chorus' in database.message
    assert "start the database server" in database.message
    assert "hunter2-password" not in database.message


@pytest.mark.parametrize(
    ("accounts", "expected"),
    [
        ([], "there is no active admin account: create one with `chorus user create"),
        ([{"two_factor": False}], "no active admin account has set up two-factor sign-in"),
        ([{"active": False}], "there is no active admin account"),
        ([{"two_factor": False}, {"active": False}], "no active admin account has set up"),
    ],
)
def test_no_active_admin_with_two_factor_fails(app, accounts, expected):
    for number, account in enumerate(accounts):
        make_admin(f"admin{number}@example.org", **account)
    analyst = make_user("analyst@example.org", roles=(Role.ANALYST,))
    analyst.totp_confirmed = True  # two-factor, but not an admin
    db.session.commit()
    check = admin_check()
    assert check.status is Status.FAIL
    assert check.message.startswith(expected)


def test_an_active_admin_with_two_factor_passes(app):
    make_admin("off@example.org", active=False)
    make_admin("on@example.org")
    assert admin_check() == Check(
        "admin account", Status.OK, "one active admin account with two-factor sign-in set up."
    )


def test_postgresql_settings_are_checked_on_postgresql_only(app, database_url):
    names = set(statuses(database_checks()))
    postgres_names = {"postgresql commit times", "postgresql statement log"}
    if is_postgres(database_url):
        assert postgres_names <= names
    else:
        assert not any(name.startswith("postgresql") for name in names)


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        (
            {
                "track_commit_timestamp": "off",
                "log_statement": "none",
                "log_min_duration_statement": "-1",
            },
            {"postgresql commit times": Status.OK, "postgresql statement log": Status.OK},
        ),
        (
            {
                "track_commit_timestamp": "on",
                "log_statement": "none",
                "log_min_duration_statement": "-1",
            },
            {"postgresql commit times": Status.WARN, "postgresql statement log": Status.OK},
        ),
        (
            {
                "track_commit_timestamp": "off",
                "log_statement": "mod",
                "log_min_duration_statement": "-1",
            },
            {"postgresql commit times": Status.OK, "postgresql statement log": Status.WARN},
        ),
        (
            {
                "track_commit_timestamp": "off",
                "log_statement": "none",
                "log_min_duration_statement": "250ms",
            },
            {"postgresql commit times": Status.OK, "postgresql statement log": Status.WARN},
        ),
    ],
)
def test_postgresql_settings_that_date_or_log_answers_warn(settings, expected):
    checks = postgres_settings_checks(settings)
    assert statuses(checks) == expected
    for check in checks:
        if check.status is Status.WARN:
            assert "postgresql.conf" in check.message


def test_a_postgresql_statement_log_warning_says_which_setting():
    [_, logged] = postgres_settings_checks(
        {
            "track_commit_timestamp": "off",
            "log_statement": "all",
            "log_min_duration_statement": "0",
        }
    )
    assert logged.message.startswith(
        "log_statement = 'all' and log_min_duration_statement = 0 writes statements"
    )


# --- Redis ---------------------------------------------------------------------------------


def test_several_workers_without_redis_fail(app):
    app.config["CHORUS_REDIS_URL"] = None
    default = workers_setting_check(app.config, {})  # deploy/gunicorn.conf.py's 2 workers
    assert default.status is Status.FAIL
    assert default.message.startswith("CHORUS_WORKERS is 2 but CHORUS_REDIS_URL is not set")
    assert workers_setting_check(app.config, ONE_WORKER).status is Status.OK
    assert workers_setting_check(app.config, {"CHORUS_WORKERS": "two"}).status is Status.FAIL
    app.config["CHORUS_REDIS_URL"] = REDIS_URL
    assert workers_setting_check(app.config, {"CHORUS_WORKERS": "8"}).status is Status.OK


def test_redis_configured_but_unreachable_fails(app):
    port = closed_port()
    app.config["CHORUS_REDIS_URL"] = f"redis://127.0.0.1:{port}/4"
    checks = run_checks(app, {"CHORUS_WORKERS": "4"})
    redis_check = by_name(checks)["redis"]
    assert redis_check.status is Status.FAIL
    assert redis_check.message.startswith(f"Redis at 127.0.0.1:{port}, database 4 did not answer (")
    assert "start it or fix CHORUS_REDIS_URL" in redis_check.message
    assert "redis persistence" not in statuses(checks)


def test_reachable_redis_is_pinged_and_its_persistence_read(app):
    """The shared Redis here is only read: its settings are the server's, for everyone."""
    redis_or_skip()
    client = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    try:
        config = {**client.config_get("save"), **client.config_get("appendonly")}
        persistence = Status.OK if config == {"save": "", "appendonly": "no"} else Status.FAIL
    except redis.ResponseError:  # this server refuses CONFIG (renamed or not allowed)
        persistence = Status.WARN
    finally:
        client.close()
    app.config["CHORUS_REDIS_URL"] = REDIS_URL
    checks = by_name(run_checks(app, {"CHORUS_WORKERS": "2"}))
    assert checks["redis"] == Check(
        "redis", Status.OK, "Redis at 127.0.0.1:6379, database 0 answers."
    )
    assert checks["redis persistence"].status is persistence
    assert checks["workers"].status is Status.OK


@pytest.mark.parametrize(
    ("settings", "status", "words"),
    [
        ({"save": "", "appendonly": "no"}, Status.OK, "off: nothing is written to disk."),
        (
            {"save": "3600 1 300 100 60 10000", "appendonly": "no"},
            Status.FAIL,
            'Redis writes its data to disk (snapshots (save "3600 1 300 100 60 10000"))',
        ),
        (
            {"save": "", "appendonly": "yes"},
            Status.FAIL,
            "Redis writes its data to disk (an append-only file (appendonly yes))",
        ),
        (
            {"save": "900 1", "appendonly": "yes"},
            Status.FAIL,
            'snapshots (save "900 1") and an append-only file',
        ),
        (None, Status.WARN, "couldn't be checked: this Redis refuses CONFIG GET"),
    ],
)
def test_redis_persistence_must_be_off(settings, status, words):
    check = redis_persistence_check(settings)
    assert check.status is status
    assert words in check.message
    if status is Status.FAIL:
        assert check.message.endswith('set save "" and appendonly no in redis.conf and restart it.')


# --- settings ------------------------------------------------------------------------------


def test_secret_key_check():
    good = {"SECRET_KEY": TEST_SECRET_KEY, "CHORUS_DEMO": False}
    assert secret_key_check(good, {}).status is Status.OK
    assert secret_key_check({**good, "SECRET_KEY": "x" * 31}, {}).status is Status.FAIL
    assert secret_key_check({**good, "SECRET_KEY": ""}, {}).status is Status.FAIL
    demo = {**good, "CHORUS_DEMO": True}
    assert secret_key_check(demo, {}).status is Status.WARN  # the demo's generated key
    assert secret_key_check(demo, {"CHORUS_SECRET_KEY_FILE": "/etc/k"}).status is Status.OK


def test_cookies_must_be_secure_outside_the_demo():
    assert secure_cookies_check({"SESSION_COOKIE_SECURE": True}).status is Status.OK
    insecure = secure_cookies_check({"SESSION_COOKIE_SECURE": False, "CHORUS_DEMO": False})
    assert insecure.status is Status.FAIL
    assert "set CHORUS_SECURE_COOKIES=on" in insecure.message
    demo = {"SESSION_COOKIE_SECURE": False, "CHORUS_DEMO": True}
    assert secure_cookies_check(demo).status is Status.OK


@pytest.mark.parametrize(
    ("bind", "local"),
    [
        ("127.0.0.1:8000", True),
        ("127.0.0.1", True),
        ("localhost:8000", True),
        ("[::1]:8000", True),
        ("::1", True),
        ("unix:/run/chorus/gunicorn.sock", True),
        ("0.0.0.0:8000", False),
        ("[::]:8000", False),
        ("10.0.0.5:8000", False),
        ("app.internal:8000", False),
    ],
)
def test_which_binds_are_local(bind, local):
    assert binds_locally(bind) is local


@pytest.mark.parametrize(
    ("hops", "env", "status"),
    [
        (0, {}, Status.WARN),  # gunicorn's default bind, 127.0.0.1:8000: behind a proxy
        (0, {"CHORUS_BIND": "unix:/run/chorus.sock"}, Status.WARN),
        (0, {"CHORUS_BIND": "0.0.0.0:8000"}, Status.OK),
        (1, {}, Status.OK),
        (2, {}, Status.OK),
        (3, {}, Status.WARN),
    ],
)
def test_proxy_hops(hops, env, status):
    check = proxy_hops_check({"CHORUS_PROXY_HOPS": hops}, env)
    assert check.status is status
    if status is Status.WARN:
        assert "Set CHORUS_PROXY_HOPS to the number of proxies in front" in check.message


@pytest.mark.parametrize(
    ("level", "status"),
    [("DEBUG", Status.WARN), ("INFO", Status.OK), ("WARNING", Status.OK), ("LOUD", Status.WARN)],
)
def test_log_level(level, status):
    check = log_level_check({"CHORUS_LOG_LEVEL": level})
    assert check.status is status
    if level == "DEBUG":
        assert check.message.startswith("DEBUG may log request details")


def test_argon2_below_its_floor_fails(app):
    cheap = argon2_check(app.config)  # the tests' own cost, allowed only when TESTING
    assert cheap.status is Status.FAIL
    assert "below the safe floor" in cheap.message
    assert argon2_check(PRODUCTION_ARGON2).status is Status.OK


def test_trusted_hosts_are_wanted_outside_the_demo():
    unset = trusted_hosts_check({"TRUSTED_HOSTS": None, "CHORUS_DEMO": False})
    assert unset.status is Status.WARN
    assert "CHORUS_TRUSTED_HOSTS=chorus.example.org" in unset.message
    assert trusted_hosts_check({"TRUSTED_HOSTS": None, "CHORUS_DEMO": True}).status is Status.OK
    named = trusted_hosts_check({"TRUSTED_HOSTS": ["chorus.example.org"], "CHORUS_DEMO": False})
    assert named.status is Status.OK
    assert "chorus.example.org" in named.message


def test_a_trusted_host_written_with_a_port_is_warned_about():
    """The port of an entry is ignored, as the port of a request's Host is (issue 20):
    an operator who wrote one must not believe it is checked."""
    config = {"TRUSTED_HOSTS": ["chorus.example.org", "b.example:8443"], "CHORUS_DEMO": False}
    check = trusted_hosts_check(config)
    assert check.status is Status.WARN
    assert "b.example:8443" in check.message and "ports are not checked" in check.message
    assert "chorus.example.org" not in check.message


def test_report_fonts_want_one_with_arabic_letters():
    """Issue 21, point 13: an Arabic report printed "مخفي" as boxes."""
    assert report_fonts_check(["DejaVu Sans", "Noto Sans Arabic"]).status is Status.OK
    only_dejavu = report_fonts_check(["DejaVu Sans"])
    assert only_dejavu.status is Status.WARN and "fonts-noto-core" in only_dejavu.message
    assert "empty boxes" in report_fonts_check([]).message
    assert report_fonts_check(None).status is Status.WARN
