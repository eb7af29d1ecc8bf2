"""Submissions per second for Chorus's full submit path, beside a bare insert floor.

    .venv/bin/python bench/submit.py [--n 300] [--database sqlite|postgresql|both]

For each database a fresh one is made (a temporary SQLite file; on PostgreSQL a
`chorus_bench_<random>` database, dropped at the end), migrated with Alembic,
and the bundled "Product-risk consultation" survey is imported and opened.

Chorus: N respondents each start a session and answer every section through the
Flask test client (content warnings passed, branching followed, CSRF tokens
included). None of that is timed: only each POST /s/<slug>/submit is, which is
the whole submit path (CSRF check, session, draft decrypt, final answers,
sealing, one transaction into the inbox). Each must answer 302 to the receipt page, and the
survey must end with exactly N responses.

Floor: a bare Flask app with its own SQLAlchemy engine on the same database and
one table, `blobs(id varchar(32) primary key, body blob/bytea)`, whose only route
inserts a random blob as large as Chorus's sealed payloads (the median stored
size) under a random id and commits. It is called N times through its test
client, timed the same way.

Both are warmed up first, then measured in alternating blocks (ABBA order) so
that machine noise falls on both alike. This is a report, not a test: nothing
here asserts on a time.

The default database is "both" when PostgreSQL answers at BENCH_DATABASE_URL,
else TEST_DATABASE_URL, else postgresql+psycopg://postgres@127.0.0.1:5432/test;
otherwise SQLite only, with a note.
"""

from __future__ import annotations

import argparse
import json
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
from flask.testing import FlaskClient
from psycopg import sql
from sqlalchemy import (
    Column,
    Engine,
    LargeBinary,
    MetaData,
    String,
    Table,
    create_engine,
    func,
    insert,
    select,
)
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
WARMUP = 10
BLOCK = 25
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


def build_chorus(url: str) -> tuple[Flask, Target, Target]:
    """A migrated Chorus app with the bundled survey open twice: once to measure,
    once (under another slug) for the warm-up, so the measured one ends with N."""
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
        for each in (definition, definition.with_slug(f"{definition.slug}-warmup")):
            survey = import_definition(each)
            prepare_keys(survey, [custodian], sheet_check=False)
            open_survey(survey)
            targets.append(Target(survey.slug, survey.id, each))
    return app, targets[0], targets[1]


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


def _path(response: Any) -> str:
    return urlsplit(response.headers.get("Location", "")).path


def _expect(response: Any, status: int, what: str, path: str | None = None) -> None:
    if response.status_code != status or (path is not None and _path(response) != path):
        raise RuntimeError(
            f"{what}: expected {status}{' to ' + path if path else ''}, got "
            f"{response.status_code} {_path(response)!r}"
        )


@dataclass
class Respondent:
    """A session that has answered everything and was sent on to the review page."""

    client: FlaskClient
    token: str


def prepare_respondent(app: Flask, target: Target, rng: random.Random) -> Respondent:
    """Start a session and answer every section as a person would (not timed)."""
    client = app.test_client()
    base = f"/s/{target.slug}"
    response = client.post(f"{base}/start", data={"lang": "en"})
    _expect(response, 302, "start")
    location = _path(response)
    token = ""
    visible: dict[str, Any] = {}
    for _ in range(4 * len(target.definition.sections)):
        if not location.startswith(f"{base}/section/"):
            break
        section = target.definition.section(location.rsplit("/", 1)[1])
        if section is None:
            raise RuntimeError(f"redirected to an unknown section: {location}")
        if not token:
            page = client.get(location)
            _expect(page, 200, f"GET {location}")
            match = CSRF_RE.search(page.get_data(as_text=True))
            if match is None:
                raise RuntimeError(f"no form token on {location}")
            token = match.group(1)
        if section.content_warning:
            response = client.post(
                f"{location}/warning", data={"csrf_token": token, "action": "continue"}
            )
            _expect(response, 302, f"warning of {section.id}", location)
        form = section_form(section, visible, token, rng)
        response = client.post(location, data=form)
        if response.status_code == 200:
            # An answer revealed a question on the same page: it is shown again.
            response = client.post(location, data=form)
        _expect(response, 302, f"section {section.id}")
        location = _path(response)
    # The review page changes nothing a submit reads, so it isn't fetched.
    if location != f"{base}/review":
        raise RuntimeError(f"the walk ended at {location!r}, not at the review page")
    return Respondent(client, token)


# --- the floor: bare Flask + SQLAlchemy ---------------------------------------------------


def build_floor(url: str, size: int) -> tuple[Flask, Engine, Table]:
    engine = create_engine(url)
    blobs = Table(
        "blobs",
        MetaData(),
        Column("id", String(32), primary_key=True),
        Column("body", LargeBinary, nullable=False),
    )
    blobs.drop(engine, checkfirst=True)
    blobs.create(engine)
    app = Flask("floor")

    @app.post("/blob")
    def put_blob():
        with engine.begin() as conn:
            conn.execute(insert(blobs).values(id=secrets.token_hex(16), body=os.urandom(size)))
        return "", 204

    return app, engine, blobs


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


def sealed_sizes(app: Flask, survey_id: int) -> list[int]:
    """Sizes of the survey's sealed answers, stored or still in the inbox."""
    with app.app_context():
        survey = db.session.get(Survey, survey_id)
        return [len(response.sealed) for response in sealed_responses(survey)]


def run_database(kind: str, n: int, server_url: str, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    with fresh_database(kind, server_url) as url:
        app, target, warm_target = build_chorus(url)
        note(f"[{kind}] migrated; answering {n + WARMUP} surveys (not timed)…")
        started = time.perf_counter()
        warm = [prepare_respondent(app, warm_target, rng) for _ in range(WARMUP)]
        ready = [prepare_respondent(app, target, rng) for _ in range(n)]
        note(f"[{kind}] answered in {time.perf_counter() - started:.1f} s; measuring…")

        receipt = f"/s/{target.slug}/receipt"
        warm_receipt = f"/s/{warm_target.slug}/receipt"

        def submit(r: Respondent, slug: str) -> Any:
            return r.client.post(f"/s/{slug}/submit", data={"csrf_token": r.token})

        # Warm up Chorus; its stored rows give the payload size for the floor.
        for r in warm:
            _expect(submit(r, warm_target.slug), 302, "warm-up submit", warm_receipt)
        payload = int(statistics.median(sealed_sizes(app, warm_target.survey_id)))
        floor, engine, blobs = build_floor(url, payload)
        floor_client = floor.test_client()
        for _ in range(WARMUP):
            _expect(floor_client.post("/blob"), 204, "warm-up insert")

        chorus_s: list[float] = []
        floor_s: list[float] = []
        chorus_answers: list[Any] = []
        floor_answers: list[Any] = []

        def chorus_block(respondents: list[Respondent]) -> None:
            for r in respondents:
                answer, seconds = timed(lambda r=r: submit(r, target.slug))
                chorus_s.append(seconds)
                chorus_answers.append(answer)

        def floor_block(count: int) -> None:
            for _ in range(count):
                answer, seconds = timed(lambda: floor_client.post("/blob"))
                floor_s.append(seconds)
                floor_answers.append(answer)

        for index, start in enumerate(range(0, n, BLOCK)):
            block = ready[start : start + BLOCK]
            if index % 4 in (0, 3):  # ABBA: neither side is always first
                chorus_block(block)
                floor_block(len(block))
            else:
                floor_block(len(block))
                chorus_block(block)

        # Checked after timing, so the checks cost nothing inside it.
        for answer in chorus_answers:
            _expect(answer, 302, "submit", receipt)
        for answer in floor_answers:
            _expect(answer, 204, "insert")
        sizes = sealed_sizes(app, target.survey_id)
        if len(sizes) != n:
            raise RuntimeError(f"{len(sizes)} responses stored, expected {n}")
        measured = int(statistics.median(sizes))
        if measured != payload:
            note(f"[{kind}] note: warm-up payload {payload} B, measured rows' median {measured} B")
        with engine.connect() as conn:
            floor_rows = conn.execute(select(func.count()).select_from(blobs)).scalar_one()
        if floor_rows != n + WARMUP:
            raise RuntimeError(f"{floor_rows} blobs stored, expected {n + WARMUP}")

        engine.dispose()
        with app.app_context():
            db.engine.dispose()

    chorus, bare = Series(chorus_s), Series(floor_s)
    return {
        "database": kind,
        "n": n,
        "payload_bytes": payload,
        "payload_sizes": {str(size): sizes.count(size) for size in sorted(set(sizes))},
        "chorus_per_s": round(chorus.rate, 1),
        "floor_per_s": round(bare.rate, 1),
        "ratio": round(bare.rate / chorus.rate, 2),
        "chorus_p50_ms": round(chorus.ms(50), 2),
        "chorus_p95_ms": round(chorus.ms(95), 2),
        "floor_p50_ms": round(bare.ms(50), 2),
        "floor_p95_ms": round(bare.ms(95), 2),
    }


# --- report -----------------------------------------------------------------------------


COLUMNS = [
    ("database", "database", "{}"),
    ("n", "n", "{}"),
    ("payload B", "payload_bytes", "{}"),
    ("chorus/s", "chorus_per_s", "{:.1f}"),
    ("floor/s", "floor_per_s", "{:.1f}"),
    ("ratio", "ratio", "{:.2f}x"),
    ("chorus p50 ms", "chorus_p50_ms", "{:.2f}"),
    ("chorus p95 ms", "chorus_p95_ms", "{:.2f}"),
    ("floor p50 ms", "floor_p50_ms", "{:.2f}"),
    ("floor p95 ms", "floor_p95_ms", "{:.2f}"),
]


def table(results: list[dict[str, Any]]) -> str:
    rows = [[title for title, _, _ in COLUMNS]]
    rows += [[fmt.format(r[key]) for _, key, fmt in COLUMNS] for r in results]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    lines = []
    for row in rows:
        cells = [
            cell.ljust(width) if i == 0 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=300, help="submissions per database")
    parser.add_argument(
        "--database",
        choices=("sqlite", "postgresql", "both"),
        help="default: both when PostgreSQL answers, else sqlite",
    )
    parser.add_argument("--seed", type=int, default=1, help="seed for the answers")
    args = parser.parse_args(argv)
    if args.n < 2:
        parser.error("--n must be at least 2")

    server_url = postgres_server_url()
    shown_url = make_url(server_url).render_as_string(hide_password=True)
    problem = postgres_answers(server_url) if args.database != "sqlite" else None
    notes = []
    if args.database is None:
        if problem:
            notes.append(f"note: PostgreSQL doesn't answer at {shown_url} ({problem}); SQLite only")
            note(notes[-1])
        kinds = ["sqlite"] if problem else ["sqlite", "postgresql"]
    elif problem:
        parser.error(f"PostgreSQL doesn't answer at {shown_url}: {problem}")
    else:
        kinds = ["sqlite", "postgresql"] if args.database == "both" else [args.database]

    results = [run_database(kind, args.n, server_url, args.seed) for kind in kinds]
    print(
        f"Chorus POST /s/<slug>/submit vs a bare Flask + SQLAlchemy insert of the same "
        f"payload size (ratio = floor rate / chorus rate; warm-up {WARMUP}, blocks of {BLOCK})"
    )
    for line in notes:
        print(line)
    print(table(results))
    summary = {"bench": "submit", "results": results, "notes": notes}
    print(json.dumps(summary, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
