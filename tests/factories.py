"""Shared factories for tests: surveys, staff accounts (and signing them in), and
respondents answering through the real pages. Fixtures that need an app live in
tests/conftest.py and use these."""

from __future__ import annotations

import copy
import functools
import hashlib
import html
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyotp
import pytest
from flask.testing import FlaskClient
from sqlalchemy import DateTime, bindparam, select, text

from admin.accounts.sign_in import create_user, totp_secret
from admin.audit.log import GENESIS
from bench.loadtest.stack import free_port
from bench.loadtest.stack import nginx_site as local_nginx_site
from survey.crypto import canonical_json
from survey.models import (
    AuditEntry,
    Role,
    User,
    db,
)
from survey.surveys import (
    bundled_template_text,
)


def template_document() -> dict[str, Any]:
    return json.loads(bundled_template_text())


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


def store_the_week(slug: str) -> None:
    """Store what waits in a survey's inbox, as the weekly flush will: staff count
    and read only stored responses (survey/stored.py)."""
    from survey.inbox import flush_inbox
    from survey.surveys import find_survey

    survey = find_survey(slug)
    assert survey is not None
    flush_inbox(survey, everything=True)


def page_text(response: Any) -> str:
    """A response's HTML with entities decoded and line-break hints (<wbr>, which
    staff pages put in emails) dropped, so assertions read like the page."""
    return html.unescape(response.get_data(as_text=True).replace("<wbr>", ""))


CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


# A code on the page breaks only between its groups (<wbr> after each hyphen).
CODE_RE = re.compile(r'class="code-box__code"[^>]*>((?:[0-9A-Z]{4}-(?:<wbr>)?){3}[0-9A-Z]{4})<')


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
        return match.group(1).replace("<wbr>", "")

    def shown_code(self) -> str:
        match = CODE_RE.search(self.last_html)
        assert match, "no code on the page"
        return match.group(1).replace("<wbr>", "")


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


PASSWORD = "correct horse battery staple"


def csrf(client, path):
    return CSRF_RE.search(client.get(path).get_data(as_text=True)).group(1)


def make_user(email="ana@example.org", roles=(Role.FACILITATOR,), org=None, ready=True):
    user = create_user(email, list(roles), PASSWORD, org)
    if ready:
        user.must_change_password = False
        db.session.commit()
    return user


def sign_in(client, email="ana@example.org", password=PASSWORD):
    return client.post(
        "/staff/login",
        data={"csrf_token": csrf(client, "/staff/login"), "email": email, "password": password},
    )


def sign_in_enrolled(client, email, password=PASSWORD):
    """Sign in, and for roles that need it, enrol two-factor through the pages."""
    sign_in(client, email, password)
    user = db.session.scalar(select(User).where(User.email == email))
    if user.needs_2fa and not user.totp_confirmed:
        page = client.get("/staff/2fa").get_data(as_text=True)
        db.session.expire_all()
        code = pyotp.TOTP(totp_secret(db.session.get(User, user.id))).now()
        token = CSRF_RE.search(page).group(1)
        assert (
            client.post("/staff/2fa", data={"csrf_token": token, "code": code}).status_code == 200
        )
    assert client.get("/staff/").status_code == 200


def analyst_client(app, email=CUSTODIAN_EMAIL, password=CUSTODIAN_PASSWORD):
    """A client signed in as this analyst, two-factor enrolled through the pages."""
    client = app.test_client()
    sign_in_enrolled(client, email, password)
    return client


def unlock(client, slug, password):
    return client.post(
        f"/staff/surveys/{slug}/keys/unlock",
        data={"csrf_token": csrf(client, f"/staff/surveys/{slug}/keys"), "password": password},
    )


def unlocked_analyst(app):
    client = app.test_client()
    sign_in_enrolled(client, CUSTODIAN_EMAIL, CUSTODIAN_PASSWORD)
    client.post(
        "/staff/surveys/small/keys/unlock",
        data={
            "csrf_token": csrf(client, "/staff/surveys/small/keys"),
            "password": CUSTODIAN_PASSWORD,
        },
    )
    return client


def person(age=None, harm=None, wanted=None, apps=None, story=None, consent=False):
    """One respondent's final answers for the small survey (None: skipped); `story`
    is their long text, which they agree to have quoted when `consent`."""
    answers = {}
    if story is not None:
        answers["story"] = {"value": story, "quote_consent": consent}
    if age:
        answers["age_band"] = {"state": "prefer_not_to_say"} if age == "pnts" else {"value": age}
    if harm is not None:
        answers["harm_scale"] = {"value": harm}
    if wanted is not None:
        answers["wanted"] = {"value": wanted}
    if apps is not None:
        answers["apps"] = {"value": apps}
    return answers


def rows() -> list:
    """Every stored entry, fresh from the table (not the session's identity map)."""
    return db.session.execute(
        select(
            AuditEntry.id,
            AuditEntry.at,
            AuditEntry.actor,
            AuditEntry.action,
            AuditEntry.target,
            AuditEntry.details,
            AuditEntry.prev_hash,
            AuditEntry.entry_hash,
        ).order_by(AuditEntry.id)
    ).all()


def rewrite_from(victim_id: int, new_details: str) -> None:
    """Edit one entry's details and recompute its hash and every later one, the way
    someone with only the database (and the old code) would."""
    previous = None
    for row in rows():
        if row.id < victim_id:
            previous = row.entry_hash
            continue
        details = new_details if row.id == victim_id else row.details
        prev_hash = previous if previous is not None else GENESIS
        digest = old_sha256(prev_hash, row.at, row.actor, row.action, row.target, details)
        db.session.execute(
            text(
                "UPDATE audit_log SET details = :d, prev_hash = :p, entry_hash = :h WHERE id = :id"
            ),
            {"d": details, "p": prev_hash, "h": digest, "id": row.id},
        )
        previous = digest
    db.session.commit()
    db.session.expunge_all()


def insert_legacy_entries(n: int) -> list[int]:
    """Entries as the code before keying wrote them: a plain SHA-256 chain."""
    statement = text(
        "INSERT INTO audit_log (at, actor, action, target, details, prev_hash, entry_hash)"
        " VALUES (:at, :actor, :action, '', :details, :prev, :hash)"
    ).bindparams(bindparam("at", type_=DateTime(timezone=True)))
    prev_hash = GENESIS
    start = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    for i in range(n):
        at = start + timedelta(minutes=i)
        details = canonical_json({"n": i}).decode()
        digest = old_sha256(prev_hash, at, "ana@example.org", f"old.action{i}", "", details)
        db.session.execute(
            statement,
            {
                "at": at,
                "actor": "ana@example.org",
                "action": f"old.action{i}",
                "details": details,
                "prev": prev_hash,
                "hash": digest,
            },
        )
        prev_hash = digest
    db.session.commit()
    return [row.id for row in rows()]


REDIS_URL = "redis://127.0.0.1:6379/0"


def redis_or_skip():
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    return client


SMALL_SURVEY: dict[str, Any] = {
    "format": "chorus-survey/1",
    "slug": "small",
    "title": {"en": "Messaging safety", "es": "Seguridad en la mensajería"},
    "languages": ["en", "es"],
    # Every text in both languages: a survey can't open with one missing.
    "support": [
        {
            "name": {"en": "Helpline", "es": "Línea de ayuda"},
            "phone": "0800 000 000",
            "hours": {"en": "24/7", "es": "24 horas"},
        }
    ],
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


def old_sha256(prev_hash: str, at: datetime, actor, action, target, details) -> str:
    """The entry hash exactly as the code before keying computed it (no key)."""
    aware = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    content = canonical_json(
        {
            "at": aware.isoformat(timespec="microseconds"),
            "actor": actor,
            "action": action,
            "target": target,
            "details": details,
        }
    )
    return hashlib.sha256(prev_hash.encode("ascii") + content).hexdigest()


def answered_small_survey(people, **changes):
    """The small survey (with `changes` to its document), opened, with one stored
    response per entry of `people` (answers as `person` makes them); returns the
    survey and its unlocked frame."""
    from admin.analysis.frame import answers_frame
    from survey.definition import parse_definition
    from survey.surveys import (
        find_survey,
        import_definition,
        open_survey,
        prepare_keys,
        unwrap_with_recovery_code,
    )

    survey = import_definition(parse_definition(small_survey_document(**changes)))
    code = prepare_keys(survey, [custodian_user()], sheet_check=False)
    open_survey(survey)
    survey = find_survey(survey.slug)
    store_people(survey, people)
    return survey, answers_frame(survey, unwrap_with_recovery_code(survey, code))


def store_people(survey, people) -> None:
    """Store one response per entry of `people` (answers as `person` makes them), as
    the weekly flush stores them."""
    from survey.responses import DraftState, final_answers, store_response
    from survey.surveys import definition_of

    definition = definition_of(survey)
    for given in people:
        state = DraftState()
        state.answers.update(given)
        store_response(survey, final_answers(definition, state))
    db.session.commit()


# Free-text answers for coding themes (tests/admin/reports/test_coding.py and the
# theme pages). k = 10. 60 wrote a story. "evidence": 30 adults, 3 under 18 (hidden
# in a breakdown by age) and 12 who didn't give their age; "ignored": 3 people, fewer
# than k, who didn't agree to be quoted; 12 wrote something else.
EVIDENCE_STORY = "They deleted the evidence before I could report it, Dave said nothing."
IGNORED_STORY = "Nobody listened when I told them."
FINE_STORY = "I was fine in the end."


def storytellers() -> list[dict[str, Any]]:
    """85 respondents' answers to the small survey, 60 of them with a story."""
    return (
        [person("adult", 3, ["detect"], story=EVIDENCE_STORY, consent=True) for _ in range(30)]
        + [person("under_18", 4, ["detect"], story=EVIDENCE_STORY, consent=True) for _ in range(3)]
        + [person("pnts", 4, ["detect"], story=EVIDENCE_STORY, consent=True) for _ in range(12)]
        + [person("adult", 2, ["report"], story=IGNORED_STORY, consent=False) for _ in range(3)]
        + [person("adult", 2, ["report"], story=FINE_STORY, consent=True) for _ in range(12)]
        + [person("under_18", 2, ["report"]) for _ in range(15)]
        + [person("pnts", 2, ["report"]) for _ in range(10)]
    )


def story_codebook() -> list:
    """Two themes for the stories: "evidence" (its keywords match 45 stories) and
    "ignored" (3)."""
    from admin.reports.themes import Theme

    return [
        Theme(
            "evidence",
            "Evidence disappears",
            "Messages vanish",
            "disappearing messages",
            "no proof",
            ("evidence", "deleted"),
        ),
        Theme("ignored", "Not listened to", feature="reporting", keywords=("listened",)),
    ]


def told_small_survey(with_codebook: bool = True):
    """The small survey answered by `storytellers()`, with `story_codebook()` in its
    codebook; returns the survey and its unlocked frame."""
    from admin.reports import coding

    survey, frame = answered_small_survey(storytellers())
    if with_codebook:
        for theme in story_codebook():
            coding.add_theme(survey, theme, "ana@example.org")
    return survey, frame


def every_stored_value() -> str:
    """Every value in every table (and Alembic's), as text, bytes decoded and hex."""
    parts = []
    tables = [t.name for t in db.metadata.sorted_tables] + ["alembic_version"]
    for name in tables:
        for row in db.session.execute(text(f"SELECT * FROM {name}")):  # noqa: S608 - our table names
            for value in row:
                if isinstance(value, bytes | memoryview):
                    raw = bytes(value)
                    parts += [raw.decode("utf-8", "ignore"), raw.hex()]
                else:
                    parts.append(str(value))
    return "\n".join(parts)


PROJECT_ROOT = Path(__file__).resolve().parents[1]


def server_env(database_url: str, port: int) -> dict[str, str]:
    """The environment of an app server a test starts (gunicorn with the shipped
    config): the test database, cheap but accepted password hashing, one worker."""
    return {
        **os.environ,
        "PYTHONPATH": str(PROJECT_ROOT),
        "PYTHONUNBUFFERED": "1",
        "CHORUS_SECRET_KEY": TEST_SECRET_KEY,
        "CHORUS_DATABASE_URL": database_url,
        "CHORUS_SECURE_COOKIES": "0",
        # The cheapest argon2 settings a server started from the environment accepts.
        "CHORUS_ARGON2_TIME_COST": "5",
        "CHORUS_ARGON2_MEMORY_KIB": "7168",
        "CHORUS_BIND": f"127.0.0.1:{port}",
        "CHORUS_WORKERS": "1",
    }


def wait_until_healthy(port: int, server: subprocess.Popen, log_path: Path) -> None:
    for _ in range(600):
        if server.poll() is not None:
            pytest.fail(f"gunicorn exited early:\n{log_path.read_text()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as reply:
                if reply.status == 200:
                    return
        except (OSError, urllib.error.HTTPError):
            time.sleep(0.1)
    pytest.fail(f"gunicorn didn't answer:\n{log_path.read_text()}")


TEST_SECRET_KEY = "chorus-tests-secret-key-" + "k" * 32


def nginx_or_skip() -> str:
    """Debian's nginx (CI installs nginx-light and sets CHORUS_REQUIRE_NGINX=1)."""
    found = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    if found:
        return found
    if os.environ.get("CHORUS_REQUIRE_NGINX") == "1":
        pytest.fail("nginx is required here (CHORUS_REQUIRE_NGINX=1): apt-get install nginx-light")
    pytest.skip("nginx is not installed")


def nginx_site(tmp_path: Path, https_port: int, http_port: int, app_port: int) -> Path:
    """deploy/nginx/chorus.conf on local ports with a throwaway certificate, as the load
    test runs it (bench/loadtest/stack.py), in a main config of its own."""
    (tmp_path / "chorus.conf").write_text(
        local_nginx_site(tmp_path, https_port, http_port, app_port), "utf-8"
    )
    main = tmp_path / "nginx.conf"
    main.write_text(
        f"daemon off;\nuser root;\npid {tmp_path}/nginx.pid;\nerror_log stderr;\n"
        f"events {{ worker_connections 512; }}\nhttp {{ include {tmp_path}/chorus.conf; }}\n",
        "utf-8",
    )
    return main


def wait_for_port(port: int, server: subprocess.Popen, log_path: Path) -> None:
    for _ in range(300):
        if server.poll() is not None:
            pytest.fail(f"nginx exited early:\n{log_path.read_text()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"nginx didn't listen:\n{log_path.read_text()}")


@contextmanager
def gunicorn_behind_nginx(
    database_url: str, tmp_path: Path, env: dict[str, str] | None = None
) -> Iterator[int]:
    """gunicorn (deploy/gunicorn.conf.py, one worker) behind deploy/'s nginx, as
    deployed; yields nginx's HTTPS port (the site's name is chorus.example.org)."""
    from tests.conftest import stop_server

    nginx = nginx_or_skip()
    app_port, https_port, http_port = free_port(), free_port(), free_port()
    server = {**server_env(database_url, app_port), "CHORUS_PROXY_HOPS": "1", **(env or {})}
    log_path = tmp_path / "servers.log"
    with log_path.open("wb") as log:
        app_server = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "-c",
             str(PROJECT_ROOT / "deploy" / "gunicorn.conf.py"), "survey:create_app()"],
            cwd=tmp_path, env=server, stdin=subprocess.DEVNULL, stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        proxy = None
        try:
            wait_until_healthy(app_port, app_server, log_path)
            config = nginx_site(tmp_path, https_port, http_port, app_port)
            proxy = subprocess.Popen(
                [nginx, "-p", str(tmp_path), "-c", str(config)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
            wait_for_port(https_port, proxy, log_path)
            yield https_port
        finally:
            if proxy is not None:
                stop_server(proxy)
            stop_server(app_server)
