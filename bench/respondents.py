"""What the respondent-path benchmarks share: fresh databases, a Chorus app with
the bundled survey open, people answering it through the Flask test client, and
the numbers and tables they print.

Used by bench/submit.py (one submit beside a bare insert) and bench/flow.py (a
whole flow beside as many bare requests); not a benchmark of its own.
"""

from __future__ import annotations

import logging
import os
import random
import re
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import flask_migrate
import psycopg
from flask import Flask
from psycopg import sql
from sqlalchemy import Column, Engine, LargeBinary, MetaData, String, Table, create_engine
from sqlalchemy.engine import make_url

from admin.accounts.sign_in import create_user
from survey import create_app
from survey.answers import OTHER_VALUE, PNTS_VALUE, other_field, pnts_field
from survey.config import PROJECT_ROOT
from survey.definition import Question, Section, SurveyDefinition, load_definition_text
from survey.inbox import sealed_responses
from survey.models import Role, Survey, db
from survey.surveys import import_definition, open_survey, prepare_keys
from survey.synthetic import FREE_TEXT, SHORT_TEXT

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TEMPLATE = PROJECT_ROOT / "survey" / "bundled" / "product-risk-consultation.json"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def note(message: str) -> None:
    """Progress and notes go to stderr; stdout holds only the report."""
    print(message, file=sys.stderr, flush=True)


# --- databases ----------------------------------------------------------------------


def postgres_server_url() -> str:
    return (
        os.environ.get("BENCH_DATABASE_URL")
        or os.environ.get("TEST_DATABASE_URL")
        or DEFAULT_POSTGRES_URL
    )


def _admin_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def postgres_answers(url: str) -> str | None:
    """None if PostgreSQL answers at `url`, else why not."""
    if not url.startswith("postgresql"):
        return f"{url!r} is not a PostgreSQL URL"
    try:
        with psycopg.connect(_admin_dsn(url), connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return None


@contextmanager
def fresh_database(kind: str, server_url: str) -> Iterator[str]:
    """The URL of a new, empty database of this kind, removed afterwards."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="chorus-bench-") as tmp:
            yield f"sqlite:///{tmp}/chorus-bench.db"
        return
    name = f"chorus_bench_{secrets.token_hex(4)}"
    admin = _admin_dsn(server_url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def databases_to_run(
    choice: str | None, error: Callable[[str], Any]
) -> tuple[list[str], list[str]]:
    """The databases to measure for a --database choice, and notes for the report.

    None means both when PostgreSQL answers, else SQLite only (with a note).
    `error` is the argument parser's, for a PostgreSQL that was asked for and
    doesn't answer.
    """
    server_url = postgres_server_url()
    shown_url = make_url(server_url).render_as_string(hide_password=True)
    problem = postgres_answers(server_url) if choice != "sqlite" else None
    notes: list[str] = []
    if choice is None:
        if problem:
            notes.append(f"note: PostgreSQL doesn't answer at {shown_url} ({problem}); SQLite only")
            note(notes[-1])
        return (["sqlite"] if problem else ["sqlite", "postgresql"]), notes
    if problem:
        error(f"PostgreSQL doesn't answer at {shown_url}: {problem}")
    return (["sqlite", "postgresql"] if choice == "both" else [choice]), notes


# --- the Chorus side ------------------------------------------------------------------


def chorus_config(url: str) -> dict[str, Any]:
    return {
        "SECRET_KEY": "chorus-bench-" + secrets.token_urlsafe(48),
        "SQLALCHEMY_DATABASE_URI": url,
        "SESSION_COOKIE_SECURE": False,
        "RATELIMIT_ENABLED": False,
        "CHORUS_SCRYPT_LOG2_N": 14,
    }


@dataclass
class Target:
    """An open survey respondents can answer."""

    slug: str
    survey_id: int
    definition: SurveyDefinition


def build_chorus(url: str, copies: int = 2) -> tuple[Flask, list[Target]]:
    """A migrated Chorus app with the bundled survey open `copies` times under
    different slugs (one to measure, the others for warm-ups and rehearsals, so
    that the measured one ends with exactly the responses measured)."""
    app = create_app(chorus_config(url))
    with app.app_context():
        logging.disable(logging.INFO)  # Alembic's per-revision INFO lines
        try:
            flask_migrate.upgrade()
        finally:
            logging.disable(logging.NOTSET)
        definition = load_definition_text(TEMPLATE.read_text("utf-8"), TEMPLATE.name)
        targets = []
        custodian = create_user("bench@example.org", [Role.ANALYST], "bench passphrase 1", None)
        versions = [definition] + [
            definition.with_slug(f"{definition.slug}-{n}") for n in range(2, copies + 1)
        ]
        for each in versions:
            survey = import_definition(each)
            prepare_keys(survey, [custodian], sheet_check=False)
            open_survey(survey)
            targets.append(Target(survey.slug, survey.id, each))
    return app, targets


def sealed_sizes(app: Flask, survey_id: int) -> list[int]:
    """Sizes of the survey's sealed answers, stored or still in the inbox."""
    with app.app_context():
        survey = db.session.get(Survey, survey_id)
        return [len(response.sealed) for response in sealed_responses(survey)]


def _weights(count: int, ratio: float) -> list[float]:
    return [ratio**i for i in range(count)]


def answer_fields(question: Question, rng: random.Random) -> tuple[dict[str, Any], Any]:
    """The form fields a person might send for one question, and the answer value
    (None when it has none that branching could see)."""
    roll = rng.random()
    if roll < 0.06:
        return {}, None  # left blank
    if roll < 0.10 and question.prefer_not_to_say:
        if question.type in ("number", "short_text", "long_text"):
            return {pnts_field(question): "1"}, None
        return {question.id: PNTS_VALUE}, None
    values = list(question.option_values())
    if question.type == "single_choice":
        if question.other and rng.random() < 0.05:
            text = rng.choice(SHORT_TEXT)
            return {question.id: OTHER_VALUE, other_field(question): text}, {"other": text}
        ratio = 0.75 if question.group_by else 0.5
        value = rng.choices(values, weights=_weights(len(values), ratio))[0]
        return {question.id: value}, value
    if question.type == "multi_choice":
        chosen = [v for i, v in enumerate(values) if rng.random() < 0.65 * 0.85**i]
        chosen = chosen or [rng.choice(values)]
        if question.max_choices:
            chosen = chosen[: question.max_choices]
        fields: dict[str, Any] = {}
        room = not question.max_choices or len(chosen) < question.max_choices
        if question.other and room and rng.random() < 0.15:
            fields[other_field(question)] = rng.choice(SHORT_TEXT)
            fields[question.id] = [*chosen, OTHER_VALUE]
        else:
            fields[question.id] = chosen
        return fields, chosen
    if question.type == "scale":
        assert question.scale is not None
        points = list(range(question.scale.min, question.scale.max + 1))
        point = rng.choices(points, weights=[1 + i * i for i in range(len(points))])[0]
        return {question.id: str(point)}, point
    if question.type == "number":
        low = int(question.min if question.min is not None else 0)
        high = int(question.max if question.max is not None else low + 20)
        number = low + round(rng.betavariate(2, 5) * (high - low))
        return {question.id: str(number)}, number
    if question.type == "short_text":
        text = rng.choice(SHORT_TEXT)[: question.text_limit]
        return {question.id: text}, text
    text = " ".join(rng.sample(FREE_TEXT, rng.randint(1, 4)))[: question.text_limit]
    return {question.id: text}, text


def section_form(
    section: Section, visible: dict[str, Any], token: str, rng: random.Random
) -> dict[str, Any]:
    form: dict[str, Any] = {"csrf_token": token, "action": "next"}
    for question in section.questions:
        if not question.takes_answer:
            continue
        if question.show_if and not question.show_if.holds(visible):
            continue
        fields, value = answer_fields(question, rng)
        form.update(fields)
        if value is not None:
            visible[question.id] = value
    return form


def path_of(response: Any) -> str:
    """Where a redirect points (its path only)."""
    return urlsplit(response.headers.get("Location", "")).path


def expect(response: Any, status: int, what: str, path: str | None = None) -> None:
    if response.status_code != status or (path is not None and path_of(response) != path):
        raise RuntimeError(
            f"{what}: expected {status}{' to ' + path if path else ''}, got "
            f"{response.status_code} {path_of(response)!r}"
        )


def form_token(response: Any, where: str) -> str:
    match = CSRF_RE.search(response.get_data(as_text=True))
    if match is None:
        raise RuntimeError(f"no form token on {where}")
    return match.group(1)


# --- the floor's side ----------------------------------------------------------------


def floor_table(url: str) -> tuple[Engine, Table]:
    """The floor's own engine on the same database, and its one table, made afresh:
    `blobs(id varchar(32) primary key, body blob/bytea)`."""
    engine = create_engine(url)
    blobs = Table(
        "blobs",
        MetaData(),
        Column("id", String(32), primary_key=True),
        Column("body", LargeBinary, nullable=False),
    )
    blobs.drop(engine, checkfirst=True)
    blobs.create(engine)
    return engine, blobs


# --- measuring ------------------------------------------------------------------------------


def timed(call: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    result = call()
    return result, time.perf_counter() - started


@dataclass
class Series:
    seconds: list[float]

    @property
    def rate(self) -> float:
        return len(self.seconds) / sum(self.seconds)

    def ms(self, q: int) -> float:
        """The q-th percentile in milliseconds."""
        if q == 50:
            return statistics.median(self.seconds) * 1000
        return statistics.quantiles(self.seconds, n=100, method="inclusive")[q - 1] * 1000


def abba(blocks: int) -> Iterator[tuple[int, bool]]:
    """(block index, whether Chorus goes first): ABBA order, so that neither side
    is always first and machine noise falls on both alike."""
    for index in range(blocks):
        yield index, index % 4 in (0, 3)


def table(columns: list[tuple[str, str, str]], results: list[dict[str, Any]]) -> str:
    """A plain text table: columns are (title, key, format)."""
    rows = [[title for title, _, _ in columns]]
    rows += [[fmt.format(r[key]) for _, key, fmt in columns] for r in results]
    widths = [max(len(row[i]) for row in rows) for i in range(len(columns))]
    lines = []
    for row in rows:
        cells = [
            cell.ljust(width) if i == 0 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells))
    return "\n".join(lines)
