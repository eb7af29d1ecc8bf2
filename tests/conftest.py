"""Fixtures for every test: a real database built by the Alembic migrations.

SQLite by default (a file, so a live server in another process can share it);
with TEST_DATABASE_URL pointing at PostgreSQL, a database of our own is created
for this run and dropped after it, so runs never see each other's leftovers.
"""

from __future__ import annotations

import copy
import json
import os
import secrets
import subprocess
from collections.abc import Iterator
from typing import Any

import flask_migrate
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete, select
from sqlalchemy.engine import make_url

from survey import create_app
from survey.definition import parse_definition
from survey.models import Organisation, ReportVersion, Survey, db
from survey.surveys import (
    find_survey,
    import_definition,
    open_survey,
    prepare_keys,
)
from tests.factories import (
    REPORT_HTML,
    TEST_SECRET_KEY,
    Respondent,
    custodian_user,
    sample_report,
    small_survey_document,
    tiny_pdf,
)

# Cheap key derivation for tests only, set through config (the code is unchanged).
CHEAP_SCRYPT = 4


def stop_server(process: subprocess.Popen) -> None:
    """End a server the test started: ask, then insist."""
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


def base_config(database_url: str) -> dict[str, Any]:
    return {
        "SECRET_KEY": TEST_SECRET_KEY,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SESSION_COOKIE_SECURE": False,
        "CHORUS_SCRYPT_LOG2_N": CHEAP_SCRYPT,
        "CHORUS_ARGON2_TIME_COST": 1,
        "CHORUS_ARGON2_MEMORY_KIB": 1024,
        "RATELIMIT_ENABLED": False,
        "TESTING": True,
    }


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh, migrated database for this test run."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        path = tmp_path_factory.mktemp("db") / "chorus-test.db"
        own = f"sqlite:///{path}"
        _migrate(own)
        yield own
        return
    import psycopg

    server = make_url(url)
    name = f"chorus_test_{os.getpid()}_{secrets.token_hex(4)}"
    admin_dsn = server.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    own = server.set(database=name).render_as_string(hide_password=False)
    try:
        _migrate(own)
        yield own
    finally:
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _migrate(url: str) -> None:
    app = create_app(base_config(url))
    with app.app_context():
        flask_migrate.upgrade()
        db.engine.dispose()


def is_postgres(url: str) -> bool:
    return url.startswith("postgresql")


class FreshContextClient(FlaskClient):
    """A test client whose every request runs in its own app context.

    The `app` fixture keeps a context open so tests can use the database
    directly; without this, requests would reuse it and share `g` (where the
    CSRF token is cached) and the database session, which never happens in
    production and would let one "device" see another's state.
    """

    def open(self, *args: Any, **kwargs: Any):
        with self.application.app_context():
            response = super().open(*args, **kwargs)
        db.session.expire_all()
        return response


@pytest.fixture
def app(database_url: str) -> Iterator[Flask]:
    app = create_app(base_config(database_url))
    app.test_client_class = FreshContextClient
    with app.app_context():
        yield app
        db.session.rollback()
        for table in reversed(db.metadata.sorted_tables):
            db.session.execute(delete(table))
        db.session.commit()
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def make_open_survey(app: Flask):
    """Import and open a survey from a document, its key held by `custodian_user()`;
    returns (survey, recovery code)."""

    def make(document: dict[str, Any] | None = None):
        survey = import_definition(parse_definition(document or small_survey_document()))
        code = prepare_keys(survey, [custodian_user()], sheet_check=False)
        open_survey(survey)
        return find_survey(survey.slug), code

    return make


@pytest.fixture
def respondent(client: FlaskClient, make_open_survey) -> Respondent:
    survey, _ = make_open_survey()
    return Respondent(client, survey.slug)


# --- published reports ----------------------------------------------------------------


@pytest.fixture
def make_published_report(app: Flask):
    """Publish a report version as the real publish step will (until it exists, this
    is the test factory): the survey made if needed, versions numbered per survey
    and linked to the previous one, addressed to organisations (made if missing)."""

    def make(
        organisations: list[str],
        document: dict[str, Any] | None = None,
        survey: Survey | None = None,
    ) -> ReportVersion:
        document = copy.deepcopy(document or sample_report())
        if survey is None:
            slug = document.get("survey", {}).get("slug", "demo")
            survey = find_survey(slug) or import_definition(
                parse_definition(small_survey_document(slug=slug))
            )
        previous = db.session.scalar(
            select(ReportVersion)
            .where(ReportVersion.survey_id == survey.id)
            .order_by(ReportVersion.version.desc())
            .limit(1)
        )
        number = (previous.version + 1) if previous else 1
        addressees = []
        for name in organisations:
            org = db.session.scalar(select(Organisation).where(Organisation.name == name))
            if org is None:
                org = Organisation(name=name)
                db.session.add(org)
            addressees.append(org)
        document.update(
            version=number,
            previous_version=previous.version if previous else None,
            published="2027-W05",
            addressed_to=list(organisations),
        )
        document.setdefault("survey", {})["slug"] = survey.slug
        version = ReportVersion(
            survey_id=survey.id,
            version=number,
            previous_id=previous.id if previous else None,
            published_week="2027-W05",
            published_by="analyst@example.org",
            respondents=int(document.get("respondents") or 0),
            snapshot_json=json.dumps(document),
            html=REPORT_HTML,
            pdf=tiny_pdf(),
            addressees=addressees,
        )
        db.session.add(version)
        db.session.commit()
        return version

    return make
