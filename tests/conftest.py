"""Fixtures for every test: a real database built by the Alembic migrations.

SQLite by default (a file, so a live server in another process can share it);
with TEST_DATABASE_URL pointing at PostgreSQL, a database of our own is created
for this run and dropped after it, so runs never see each other's leftovers.
"""

from __future__ import annotations

import copy
import functools
import html
import json
import os
import re
import secrets
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import flask_migrate
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete, select
from sqlalchemy.engine import make_url

from admin.auth import create_user
from survey import create_app
from survey.cli import bundled_template_text
from survey.definition import parse_definition
from survey.models import Organisation, ReportVersion, Role, Survey, User, db
from survey.surveys import find_survey, import_definition, open_survey, prepare_keys

TEST_SECRET_KEY = "chorus-tests-secret-key-" + "k" * 32
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


def template_document() -> dict[str, Any]:
    return json.loads(bundled_template_text())


SMALL_SURVEY: dict[str, Any] = {
    "format": "chorus-survey/1",
    "slug": "small",
    "title": {"en": "Messaging safety", "es": "Seguridad en la mensajería"},
    "languages": ["en", "es"],
    "support": [{"name": "Helpline", "phone": "0800 000 000", "hours": "24/7"}],
    "sections": [
        {
            "id": "you",
            "title": {"en": "About you", "es": "Sobre ti"},
            "questions": [
                {
                    "id": "age_band",
                    "type": "single_choice",
                    "group_by": True,
                    "text": {"en": "How old are you?", "es": "¿Cuántos años tienes?"},
                    "options": [
                        {"value": "under_18", "label": {"en": "Under 18", "es": "Menos de 18"}},
                        {"value": "adult", "label": {"en": "18 or older", "es": "18 o más"}},
                    ],
                },
                {
                    "id": "adult_only",
                    "type": "short_text",
                    "show_if": {"question": "age_band", "in": ["adult"]},
                    "text": {"en": "Adults: one word", "es": "Adultos: una palabra"},
                },
                {
                    "id": "apps",
                    "type": "number",
                    "min": 0,
                    "max": 30,
                    "text": {"en": "How many apps?", "es": "¿Cuántas apps?"},
                },
            ],
        },
        {
            "id": "e2ee",
            "title": {"en": "Encrypted messaging", "es": "Mensajería cifrada"},
            "content_warning": {"en": "This section mentions abuse.", "es": "Menciona abusos."},
            "questions": [
                {
                    "id": "harm_scale",
                    "type": "scale",
                    "text": {"en": "How much harm?", "es": "¿Cuánto daño?"},
                    "scale": {
                        "min": 1,
                        "max": 5,
                        "min_label": {"en": "None", "es": "Nada"},
                        "max_label": {"en": "A lot", "es": "Mucho"},
                    },
                },
                {
                    "id": "wanted",
                    "type": "multi_choice",
                    "max_choices": 2,
                    "other": True,
                    "text": {"en": "What do you want?", "es": "¿Qué quieres?"},
                    "options": [
                        {"value": "detect", "label": {"en": "Detection", "es": "Detección"}},
                        {"value": "report", "label": {"en": "Reporting", "es": "Denuncias"}},
                        {"value": "defaults", "label": {"en": "Safe defaults", "es": "Seguro"}},
                    ],
                },
                {
                    "id": "story",
                    "type": "long_text",
                    "quote_consent": True,
                    "max_length": 200,
                    "text": {"en": "What should change?", "es": "¿Qué debería cambiar?"},
                },
            ],
        },
        {
            "id": "minors",
            "title": {"en": "Young people", "es": "Jóvenes"},
            "show_if": {"question": "age_band", "in": ["under_18"]},
            "questions": [
                {
                    "id": "felt_safe",
                    "type": "single_choice",
                    "text": {"en": "Did you feel safe?", "es": "¿Te sentiste seguro?"},
                    "options": [
                        {"value": "yes", "label": {"en": "Yes", "es": "Sí"}},
                        {"value": "no", "label": {"en": "No", "es": "No"}},
                    ],
                }
            ],
        },
    ],
}


def small_survey_document(**changes: Any) -> dict[str, Any]:
    document = copy.deepcopy(SMALL_SURVEY)
    document.update(changes)
    return document


CUSTODIAN_EMAIL = "custodian@example.org"
CUSTODIAN_PASSWORD = "custodian passphrase 0417"


def custodian_user(email: str = CUSTODIAN_EMAIL, password: str = CUSTODIAN_PASSWORD) -> User:
    """An analyst with a custodian key (made once per test), ready to sign in."""
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None:
        user = create_user(email, [Role.ANALYST], password, None)
        user.must_change_password = False
        db.session.commit()
    return user


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


def page_text(response: Any) -> str:
    """A response's HTML with entities decoded, so assertions read like the page."""
    return html.unescape(response.get_data(as_text=True))


CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
CODE_RE = re.compile(r'class="code-box__code" translate="no">([^<]+)<')


@dataclass
class Respondent:
    """Walks a survey through the test client as a person would (CSRF included)."""

    client: FlaskClient
    slug: str
    last_html: str = ""
    history: list[str] = field(default_factory=list)

    def get(self, path: str, **kwargs: Any):
        response = self.client.get(path, **kwargs)
        self.last_html = page_text(response)
        self.history.append(self.last_html)
        return response

    def csrf(self) -> str:
        match = CSRF_RE.search(self.last_html)
        assert match, "the last page has no form token"
        return match.group(1)

    def post(self, path: str, data: dict[str, Any] | None = None, csrf: bool = True, **kwargs: Any):
        data = dict(data or {})
        if csrf:
            data.setdefault("csrf_token", self.csrf())
        response = self.client.post(path, data=data, **kwargs)
        self.last_html = page_text(response)
        self.history.append(self.last_html)
        return response

    def start(self, invite_code: str | None = None, lang: str = "en"):
        self.get(f"/s/{self.slug}")
        data = {"lang": lang}
        if invite_code is not None:
            data["invite_code"] = invite_code
        return self.post(f"/s/{self.slug}/start", data, csrf=False)

    def section(self, section_id: str):
        return self.get(f"/s/{self.slug}/section/{section_id}")

    def answer(self, section_id: str, answers: dict[str, Any], action: str = "next"):
        self.section(section_id)
        return self.post(f"/s/{self.slug}/section/{section_id}", {**answers, "action": action})

    def pass_warning(self, section_id: str, action: str = "continue"):
        self.section(section_id)
        return self.post(f"/s/{self.slug}/section/{section_id}/warning", {"action": action})

    def submit(self):
        self.get(f"/s/{self.slug}/review")
        return self.post(f"/s/{self.slug}/submit")

    def receipt_code(self) -> str:
        self.get(f"/s/{self.slug}/receipt")
        match = CODE_RE.search(self.last_html)
        assert match, "no receipt code on the page"
        return match.group(1)

    def shown_code(self) -> str:
        match = CODE_RE.search(self.last_html)
        assert match, "no code on the page"
        return match.group(1)


@pytest.fixture
def respondent(client: FlaskClient, make_open_survey) -> Respondent:
    survey, _ = make_open_survey()
    return Respondent(client, survey.slug)


# --- published reports ----------------------------------------------------------------

SAMPLE_REPORT = Path(__file__).parent / "reports" / "sample-report.json"
REPORT_HTML = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Report</title></head>'
    "<body><h1>Product-risk consultation</h1><p>A published report.</p></body></html>"
)


def sample_report() -> dict[str, Any]:
    """The exact `chorus-report/1` document the report builder produces."""
    return json.loads(SAMPLE_REPORT.read_text("utf-8"))


@functools.cache
def tiny_pdf() -> bytes:
    """A real (one-page) PDF, made once per run: WeasyPrint takes a moment."""
    import weasyprint

    return weasyprint.HTML(string=REPORT_HTML).write_pdf()


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
