"""Submissions per second for Chorus's full submit path, beside a bare insert floor.

    .venv/bin/python bench/submit.py [--n 300] [--database sqlite|postgresql|both]

For each database a fresh one is made (a temporary SQLite file; on PostgreSQL a
`chorus_bench_<random>` database, dropped at the end), migrated with Alembic,
and the bundled "Product-risk consultation" survey is imported and opened.

Chorus: N respondents each start a session and answer every section through the
Flask test client (content warnings passed, branching followed, CSRF tokens
included). None of that is timed: only each POST /s/<slug>/submit is, which is
the whole submit path (CSRF check, session, the survey read with the draft,
the draft decrypted, final answers, sealing, then the draft deleted and the
response put in the inbox together: one statement on PostgreSQL, one
transaction on SQLite). Each must answer 302 to the
receipt page, and the survey must end with exactly N responses.

Floor: a bare Flask app with its own SQLAlchemy engine on the same database and
one table, `blobs(id varchar(32) primary key, body blob/bytea)`, whose only route
inserts a random blob as large as Chorus's sealed payloads (the median stored
size) under a random id and commits. It is called N times through its test
client, timed the same way.

Guarded floor: the same insert behind the protections every Chorus request has
and no submit can shed: Flask-WTF's form-token check, Chorus's encrypted session
cookie (a respondent's, read and written back as a submit does) and its security
headers. Its ratio to the floor is what those alone cost, before Chorus reads,
checks or seals anything.

All three are warmed up first, then measured in blocks whose order turns (each
side goes first, second and third equally often) so that machine noise falls on
all alike. Beside them, in the same run, two parts
of the submit on their own: sealing one response's answers to the survey's key
(X25519 + HKDF-SHA256 + AES-256-GCM) and encrypting the inbox's box, as large as
every box of the survey (room for its largest answers)
(AES-256-GCM), which the floor doesn't do. This is a report, not a test: nothing
here asserts on a time. bench/flow.py measures a whole respondent's flow.

The default database is "both" when PostgreSQL answers at BENCH_DATABASE_URL,
else TEST_DATABASE_URL, else postgresql+psycopg://postgres@127.0.0.1:5432/test;
otherwise SQLite only, with a note.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import statistics
import sys
from dataclasses import dataclass
from functools import partial
from typing import Any

from flask import Flask, session
from flask.testing import FlaskClient
from flask_wtf.csrf import CSRFProtect, generate_csrf
from respondents import (
    Series,
    Target,
    build_chorus,
    databases_to_run,
    expect,
    floor_table,
    form_token,
    fresh_database,
    note,
    path_of,
    postgres_server_url,
    sealed_sizes,
    section_form,
    table,
    timed,
)
from sqlalchemy import (
    Engine,
    Table,
    func,
    insert,
    select,
)

from survey import crypto
from survey.inbox import box_size
from survey.models import Survey, db, random_id
from survey.privacy import set_security_headers
from survey.responses import final_answers
from survey.sealed_answers import largest_padded_size, seal_answers
from survey.session_cookie import EncryptedCookieSessionInterface
from survey.synthetic import synthetic_state

WARMUP = 10
BLOCK = 25


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
    expect(response, 302, "start")
    location = path_of(response)
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
            expect(page, 200, f"GET {location}")
            token = form_token(page, location)
        if section.content_warning:
            response = client.post(
                f"{location}/warning", data={"csrf_token": token, "action": "continue"}
            )
            expect(response, 302, f"warning of {section.id}", location)
        form = section_form(section, visible, token, rng)
        response = client.post(location, data=form)
        if response.status_code == 200:
            # An answer revealed a question on the same page: it is shown again.
            response = client.post(location, data=form)
        expect(response, 302, f"section {section.id}")
        location = path_of(response)
    # The review page changes nothing a submit reads, so it isn't fetched.
    if location != f"{base}/review":
        raise RuntimeError(f"the walk ended at {location!r}, not at the review page")
    return Respondent(client, token)


# --- the floor: bare Flask + SQLAlchemy ---------------------------------------------------


def build_floor(url: str, size: int) -> tuple[Flask, Engine, Table]:
    engine, blobs = floor_table(url)
    app = Flask("floor")

    @app.post("/blob")
    def put_blob():
        with engine.begin() as conn:
            conn.execute(insert(blobs).values(id=secrets.token_hex(16), body=os.urandom(size)))
        return "", 204

    return app, engine, blobs


def build_guarded_floor(engine: Engine, blobs: Table, size: int, secret_key: str) -> Flask:
    """The floor's insert behind Chorus's own request protections. GET /begin (not
    timed) gives a session like a respondent's at the review page, and its token."""
    app = Flask("guarded-floor")
    app.config["SECRET_KEY"] = secret_key
    CSRFProtect(app)
    app.session_interface = EncryptedCookieSessionInterface()
    app.after_request(set_security_headers)

    @app.get("/begin")
    def begin():
        session["r"] = {
            "slug": "product-risk",
            "draft": random_id(),
            "key": crypto.b64(crypto.new_key()),
            "receipt": crypto.generate_code(),
            "lang": "en",
            "seen": 0,
        }
        return generate_csrf()

    @app.post("/blob")
    def put_blob():
        with engine.begin() as conn:
            conn.execute(insert(blobs).values(id=secrets.token_hex(16), body=os.urandom(size)))
        respondent = session.pop("r")
        session["done"] = {"slug": "product-risk", "receipt": respondent["receipt"], "at": 0}
        return "", 204

    return app


def guarded_session(app: Flask) -> tuple[FlaskClient, str]:
    client = app.test_client()
    answer = client.get("/begin")
    expect(answer, 200, "guarded floor's session")
    return client, answer.get_data(as_text=True)


# --- measuring ------------------------------------------------------------------------------


def sealing_costs(app: Flask, target: Target, rng: random.Random, n: int) -> dict[str, float]:
    """p50 ms of sealing one response's answers, and of encrypting one inbox box."""
    with app.app_context():
        survey = db.session.get(Survey, target.survey_id)
        answers = [final_answers(target.definition, synthetic_state(target.definition, rng))]
        answers *= n
        seal_s = [timed(lambda a=a: seal_answers(survey, random_id(), a))[1] for a in answers]
        room = crypto.SEAL_OVERHEAD + largest_padded_size(target.definition)
        key, box, aad = crypto.new_key(), bytes(box_size(room)), b"bench"
        box_s = [timed(lambda: crypto.encrypt(key, box, aad))[1] for _ in range(n)]
        db.session.rollback()
    return {
        "seal_p50_ms": round(Series(seal_s).ms(50), 3),
        "box_p50_ms": round(Series(box_s).ms(50), 3),
    }


def run_database(kind: str, n: int, server_url: str, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    with fresh_database(kind, server_url) as url:
        app, (target, warm_target) = build_chorus(url)
        note(f"[{kind}] migrated; answering {n + WARMUP} surveys (not timed)…")
        warm = [prepare_respondent(app, warm_target, rng) for _ in range(WARMUP)]
        ready = [prepare_respondent(app, target, rng) for _ in range(n)]
        note(f"[{kind}] measuring…")

        receipt = f"/s/{target.slug}/receipt"
        warm_receipt = f"/s/{warm_target.slug}/receipt"

        def submit(r: Respondent, slug: str) -> Any:
            return r.client.post(f"/s/{slug}/submit", data={"csrf_token": r.token})

        # Warm up Chorus; its stored rows give the payload size for the floor.
        for r in warm:
            expect(submit(r, warm_target.slug), 302, "warm-up submit", warm_receipt)
        payload = int(statistics.median(sealed_sizes(app, warm_target.survey_id)))
        floor, engine, blobs = build_floor(url, payload)
        floor_client = floor.test_client()
        guarded = build_guarded_floor(engine, blobs, payload, app.config["SECRET_KEY"])
        guarded_ready = [guarded_session(guarded) for _ in range(n + WARMUP)]
        for _ in range(WARMUP):
            expect(floor_client.post("/blob"), 204, "warm-up insert")
        for client, token in guarded_ready[:WARMUP]:
            expect(client.post("/blob", data={"csrf_token": token}), 204, "warm-up guarded")
        guarded_ready = guarded_ready[WARMUP:]

        chorus_s: list[float] = []
        floor_s: list[float] = []
        guarded_s: list[float] = []
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

        def guarded_block(sessions: list[tuple[FlaskClient, str]]) -> None:
            for client, token in sessions:
                post = partial(client.post, "/blob", data={"csrf_token": token})
                answer, seconds = timed(post)
                guarded_s.append(seconds)
                floor_answers.append(answer)

        for index in range(-(-n // BLOCK)):
            part = slice(index * BLOCK, (index + 1) * BLOCK)
            sides = [
                partial(chorus_block, ready[part]),
                partial(floor_block, len(ready[part])),
                partial(guarded_block, guarded_ready[part]),
            ]
            for side in sides[index % 3 :] + sides[: index % 3]:
                side()
        parts = sealing_costs(app, warm_target, rng, n)

        # Checked after timing, so the checks cost nothing inside it.
        for answer in chorus_answers:
            expect(answer, 302, "submit", receipt)
        for answer in floor_answers:
            expect(answer, 204, "insert")
        sizes = sealed_sizes(app, target.survey_id)
        if len(sizes) != n:
            raise RuntimeError(f"{len(sizes)} responses stored, expected {n}")
        measured = int(statistics.median(sizes))
        if measured != payload:
            note(f"[{kind}] note: warm-up payload {payload} B, measured rows' median {measured} B")
        with engine.connect() as conn:
            floor_rows = conn.execute(select(func.count()).select_from(blobs)).scalar_one()
        if floor_rows != 2 * (n + WARMUP):
            raise RuntimeError(f"{floor_rows} blobs stored, expected {2 * (n + WARMUP)}")

        engine.dispose()
        with app.app_context():
            db.engine.dispose()

    chorus, bare, guard = Series(chorus_s), Series(floor_s), Series(guarded_s)
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
        "guarded_p50_ms": round(guard.ms(50), 2),
        "guarded_ratio": round(bare.rate / guard.rate, 2),
        **parts,
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
    ("guarded p50 ms", "guarded_p50_ms", "{:.2f}"),
    ("guarded ratio", "guarded_ratio", "{:.2f}x"),
    ("seal ms", "seal_p50_ms", "{:.3f}"),
    ("box ms", "box_p50_ms", "{:.3f}"),
]


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

    kinds, notes = databases_to_run(args.database, parser.error)
    results = [run_database(kind, args.n, postgres_server_url(), args.seed) for kind in kinds]
    print(
        f"Chorus POST /s/<slug>/submit vs a bare Flask + SQLAlchemy insert of the same "
        f"payload size (ratio = floor rate / chorus rate; warm-up {WARMUP}, blocks of {BLOCK}; "
        "guarded: the floor behind Chorus's form-token check, encrypted session cookie and "
        "security headers, its ratio to the floor; "
        "seal and box: parts of the submit on their own, p50)"
    )
    for line in notes:
        print(line)
    print(table(COLUMNS, results))
    summary = {"bench": "submit", "results": results, "notes": notes}
    print(json.dumps(summary, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
