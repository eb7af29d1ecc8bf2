"""A whole respondent's flow through Chorus, beside a floor flow of as many bare requests.

    .venv/bin/python bench/flow.py [--n 100] [--database sqlite|postgresql|both]

For each database a fresh one is made and migrated, and the bundled
"Product-risk consultation" survey is opened (see bench/respondents.py).

Chorus: N people each walk the whole survey through the Flask test client, as
a browser would: the landing page, start, every section (GET the page; a
content warning passed with its POST and the page fetched again; the answers
POSTed, and POSTed again when an answer revealed a question on the same page),
the review page, submit, the receipt. Every request is timed; a flow's time is
the sum of its requests' (building the forms between them isn't counted).

Floor: a bare Flask app with its own SQLAlchemy engine on the same database and
one table, `blobs(id, body)`, makes exactly the same number of requests of the
same kinds for each flow: every page Chorus shows (landing, section, review,
receipt) is a GET that reads one row by its key; start inserts a row as large
as Chorus's draft at the end of the survey, each save (a section's answers, a
content warning passed) updates that row with as many new bytes, and submit
inserts a row as large as Chorus's sealed answers (the median stored size), each
write committed. The floor replays the request kinds of the very flow it stands
beside: each flow's answers come from its own seed, and a rehearsal of every
flow on a second copy of the survey (which also warms Chorus up) records its
requests before anything is timed; the measured flows must make the same ones.

Chorus and floor flows run in alternating blocks (ABBA order). The report gives
flows per second and their ratio (and the ratio of the median flows), then
each step's median beside its floor's, then three parts of a section page
timed on their own in the same run (rendering it, reading the survey with the
draft, the session cookie both ways), which the floor's GET doesn't do. This
is a report, not a test: nothing here asserts on a time.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import statistics
import sys
from collections import defaultdict
from collections.abc import Callable
from functools import partial
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from respondents import (
    Series,
    Target,
    abba,
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
    update,
)

from survey import crypto, responses
from survey.config import app_subkey
from survey.models import Survey, autocommit_statements, db
from survey.respondent.views import render_section
from survey.responses import start_draft, survey_and_draft, visible_sections
from survey.session_cookie import SessionCipher
from survey.surveys import find_survey
from survey.synthetic import synthetic_state

BLOCK = 5
FLOOR_WARMUP = 3
# What the floor does for each step of a Chorus flow.
FLOOR_KIND = {
    "landing": "read",
    "start": "insert draft",
    "section": "read",
    "warning": "update draft",
    "save": "update draft",
    "review": "read",
    "submit": "insert answers",
    "receipt": "read",
}
STEPS = list(FLOOR_KIND)

Clock = Callable[[str, Callable[[], Any]], Any]


def walk(client: FlaskClient, target: Target, rng: random.Random, clock: Clock) -> list[str]:
    """One person's whole flow; returns its steps in order. `clock(step, call)`
    makes each request (and times it)."""
    base = f"/s/{target.slug}"
    steps: list[str] = []

    def request(step: str, call: Callable[[], Any]) -> Any:
        steps.append(step)
        return clock(step, call)

    expect(request("landing", lambda: client.get(base)), 200, "landing")
    response = request("start", lambda: client.post(f"{base}/start", data={"lang": "en"}))
    expect(response, 302, "start")
    location = path_of(response)
    visible: dict[str, Any] = {}
    for _ in range(4 * len(target.definition.sections)):
        if not location.startswith(f"{base}/section/"):
            break
        section = target.definition.section(location.rsplit("/", 1)[1])
        if section is None:
            raise RuntimeError(f"redirected to an unknown section: {location}")
        page = request("section", partial(client.get, location))
        expect(page, 200, f"GET {location}")
        token = form_token(page, location)
        if section.content_warning:
            warning = {"csrf_token": token, "action": "continue"}
            to_warning = partial(client.post, f"{location}/warning", data=warning)
            response = request("warning", to_warning)
            expect(response, 302, f"warning of {section.id}", location)
            page = request("section", partial(client.get, location))
            expect(page, 200, f"GET {location} after its warning")
        form = section_form(section, visible, token, rng)
        save = partial(client.post, location, data=form)
        response = request("save", save)
        if response.status_code == 200:
            # An answer revealed a question on the same page: it is shown again.
            response = request("save", save)
        expect(response, 302, f"section {section.id}")
        location = path_of(response)
    if location != f"{base}/review":
        raise RuntimeError(f"the walk ended at {location!r}, not at the review page")
    page = request("review", lambda: client.get(location))
    expect(page, 200, "review")
    token = form_token(page, location)
    response = request("submit", lambda: client.post(f"{base}/submit", data={"csrf_token": token}))
    expect(response, 302, "submit", f"{base}/receipt")
    expect(request("receipt", lambda: client.get(f"{base}/receipt")), 200, "receipt")
    return steps


# --- the floor: bare Flask + SQLAlchemy ---------------------------------------------------


def build_floor(url: str, draft_size: int, answers_size: int) -> tuple[Flask, Engine, Table]:
    engine, blobs = floor_table(url)
    page_row = "page"
    with engine.begin() as conn:
        conn.execute(insert(blobs).values(id=page_row, body=os.urandom(1024)))
    app = Flask("floor")

    @app.get("/read")
    def read():
        with engine.connect() as conn:
            body = conn.execute(select(blobs.c.body).where(blobs.c.id == page_row)).scalar_one()
        return str(len(body)), 200

    @app.post("/draft")
    def new_draft():
        row = secrets.token_hex(16)
        with engine.begin() as conn:
            conn.execute(insert(blobs).values(id=row, body=os.urandom(draft_size)))
        return row, 201

    @app.post("/draft/<row>")
    def save_draft(row: str):
        with engine.begin() as conn:
            changed = conn.execute(
                update(blobs).where(blobs.c.id == row).values(body=os.urandom(draft_size))
            ).rowcount
        return ("", 204) if changed == 1 else ("", 404)

    @app.post("/answers")
    def put_answers():
        with engine.begin() as conn:
            conn.execute(
                insert(blobs).values(id=secrets.token_hex(16), body=os.urandom(answers_size))
            )
        return "", 204

    return app, engine, blobs


def floor_flow(client: FlaskClient, steps: list[str], clock: Clock) -> list[int]:
    """The floor's requests for a Chorus flow's steps; returns their status codes."""
    statuses = []
    draft = ""
    for step in steps:
        kind = FLOOR_KIND[step]
        if kind == "read":
            response = clock(step, lambda: client.get("/read"))
        elif kind == "insert draft":
            response = clock(step, lambda: client.post("/draft"))
            draft = response.get_data(as_text=True)
        elif kind == "update draft":
            response = clock(step, lambda d=draft: client.post(f"/draft/{d}"))
        else:
            response = clock(step, lambda: client.post("/answers"))
        statuses.append(response.status_code)
    return statuses


FLOOR_OK = {"read": 200, "insert draft": 201, "update draft": 204, "insert answers": 204}


# --- measuring ------------------------------------------------------------------------------


def draft_size(app: Flask, target: Target, rng: random.Random, n: int) -> int:
    """How large Chorus's draft is: every draft of a survey is padded to the size of
    the largest its definition allows, whatever was answered (survey/responses.py),
    so `n` people's answers, encrypted as a draft is, all come to that size."""
    with app.app_context():
        survey = db.session.get(Survey, target.survey_id)
        sizes = []
        for _ in range(n):
            state = synthetic_state(target.definition, rng)
            state.warnings_seen = [s.id for s in target.definition.sections if s.content_warning]
            state.at = target.definition.sections[-1].id
            plain = crypto.pad_json(state.to_json(), responses.draft_size(survey))
            sizes.append(len(crypto.encrypt(crypto.new_key(), plain, b"draft")))
    return int(statistics.median(sizes))


def part_costs(app: Flask, target: Target, rng: random.Random, n: int) -> dict[str, float]:
    """p50 ms of parts of a section page on their own, in this run: rendering
    it (Jinja, its form token and links), reading the survey with a draft (a
    connection taken from the pool and given back, as a page does), and the
    session cookie decrypted and encrypted again."""
    definition = target.definition
    with app.test_request_context(f"/s/{target.slug}"):
        survey = find_survey(target.slug)
        handle = start_draft(survey)
        state = synthetic_state(definition, rng)
        sections = visible_sections(definition, state)
        section = max(sections, key=lambda s: len(s.questions))

        def render() -> Any:
            return render_section(survey, definition, state, section, sections)

        def read() -> None:
            autocommit_statements()
            survey_and_draft(target.slug, handle.draft_id)
            db.session.remove()

        cipher = SessionCipher(app_subkey("chorus-bench"))
        cookie = {
            "csrf_token": secrets.token_hex(20),
            "r": {"slug": target.slug, "draft": handle.draft_id, "key": "k" * 44, "seen": 1},
        }

        def session_cookie() -> Any:
            return cipher.loads(cipher.dumps(cookie))

        costs = {
            name: round(Series([timed(call)[1] for _ in range(n)]).ms(50), 3)
            for name, call in (("render", render), ("read", read), ("cookie", session_cookie))
        }
        db.session.rollback()
    return costs


def run_database(kind: str, n: int, server_url: str, seed: int) -> dict[str, Any]:
    with fresh_database(kind, server_url) as url:
        app, (target, rehearsal) = build_chorus(url)

        def untimed(step: str, call: Callable[[], Any]) -> Any:
            return call()

        note(f"[{kind}] migrated; rehearsing {n} flows (not timed)…")
        planned = [
            walk(app.test_client(), rehearsal, random.Random(f"{seed}/{i}"), untimed)
            for i in range(n)
        ]
        answers_size = int(statistics.median(sealed_sizes(app, rehearsal.survey_id)))
        draft_bytes = draft_size(app, target, random.Random(seed), 101)
        floor, engine, blobs = build_floor(url, draft_bytes, answers_size)
        floor_client = floor.test_client()
        for steps in planned[:FLOOR_WARMUP]:
            floor_flow(floor_client, steps, untimed)

        chorus_by_step: dict[str, list[float]] = defaultdict(list)
        floor_by_step: dict[str, list[float]] = defaultdict(list)
        chorus_flows: list[float] = []
        floor_flows: list[float] = []
        walked: list[list[str]] = []
        floor_statuses: list[tuple[str, int]] = []

        def clock_into(by_step: dict[str, list[float]], total: list[float]) -> Clock:
            def clock(step: str, call: Callable[[], Any]) -> Any:
                response, seconds = timed(call)
                by_step[step].append(seconds)
                total[-1] += seconds
                return response

            return clock

        chorus_clock = clock_into(chorus_by_step, chorus_flows)
        floor_clock = clock_into(floor_by_step, floor_flows)

        def chorus_block(flows: range) -> None:
            for i in flows:
                chorus_flows.append(0.0)
                rng = random.Random(f"{seed}/{i}")
                walked.append(walk(app.test_client(), target, rng, chorus_clock))

        def floor_block(flows: range) -> None:
            for i in flows:
                floor_flows.append(0.0)
                statuses = floor_flow(floor_client, planned[i], floor_clock)
                floor_statuses.extend(zip(planned[i], statuses, strict=True))

        note(f"[{kind}] measuring…")
        for index, chorus_first in abba(-(-n // BLOCK)):
            flows = range(index * BLOCK, min((index + 1) * BLOCK, n))
            if chorus_first:
                chorus_block(flows)
                floor_block(flows)
            else:
                floor_block(flows)
                chorus_block(flows)

        parts = part_costs(app, rehearsal, random.Random(seed), 200)

        # Checked after timing, so the checks cost nothing inside it.
        if sorted(map(tuple, walked)) != sorted(map(tuple, planned)):
            raise RuntimeError("the measured flows made other requests than their rehearsals")
        bad = [(step, code) for step, code in floor_statuses if code != FLOOR_OK[FLOOR_KIND[step]]]
        if bad:
            raise RuntimeError(f"floor requests failed: {bad[:5]}")
        stored = len(sealed_sizes(app, target.survey_id))
        if stored != n:
            raise RuntimeError(f"{stored} responses stored, expected {n}")
        with engine.connect() as conn:
            floor_rows = conn.execute(select(func.count()).select_from(blobs)).scalar_one()
        if floor_rows != 1 + 2 * (n + FLOOR_WARMUP):
            raise RuntimeError(f"{floor_rows} floor rows, expected {1 + 2 * (n + FLOOR_WARMUP)}")
        engine.dispose()
        with app.app_context():
            db.engine.dispose()

    chorus, bare = Series(chorus_flows), Series(floor_flows)
    requests = sum(len(steps) for steps in planned)
    per_flow = {step: sum(s.count(step) for s in planned) / n for step in STEPS}
    return {
        "database": kind,
        "n": n,
        "requests_per_flow": round(requests / n, 1),
        "draft_bytes": draft_bytes,
        "answers_bytes": answers_size,
        "chorus_flows_per_s": round(chorus.rate, 2),
        "floor_flows_per_s": round(bare.rate, 2),
        "ratio": round(bare.rate / chorus.rate, 2),
        "chorus_flow_p50_ms": round(chorus.ms(50), 1),
        "floor_flow_p50_ms": round(bare.ms(50), 1),
        "ratio_p50": round(chorus.ms(50) / bare.ms(50), 2),
        "section_render_ms": parts["render"],
        "survey_read_ms": parts["read"],
        "cookie_ms": parts["cookie"],
        "steps": [
            {
                "step": step,
                "floor": FLOOR_KIND[step],
                "per_flow": round(per_flow[step], 2),
                "chorus_p50_ms": round(Series(chorus_by_step[step]).ms(50), 2),
                "floor_p50_ms": round(Series(floor_by_step[step]).ms(50), 2),
                "ratio": round(
                    Series(chorus_by_step[step]).ms(50) / Series(floor_by_step[step]).ms(50), 2
                ),
            }
            for step in STEPS
        ],
    }


# --- report -----------------------------------------------------------------------------


COLUMNS = [
    ("database", "database", "{}"),
    ("flows", "n", "{}"),
    ("requests/flow", "requests_per_flow", "{:.1f}"),
    ("chorus flows/s", "chorus_flows_per_s", "{:.2f}"),
    ("floor flows/s", "floor_flows_per_s", "{:.2f}"),
    ("ratio", "ratio", "{:.2f}x"),
    ("chorus flow p50 ms", "chorus_flow_p50_ms", "{:.1f}"),
    ("floor flow p50 ms", "floor_flow_p50_ms", "{:.1f}"),
    ("p50 ratio", "ratio_p50", "{:.2f}x"),
]
PART_COLUMNS = [
    ("database", "database", "{}"),
    ("render a section ms", "section_render_ms", "{:.3f}"),
    ("read survey + draft ms", "survey_read_ms", "{:.3f}"),
    ("session cookie ms", "cookie_ms", "{:.3f}"),
]
STEP_COLUMNS = [
    ("database", "database", "{}"),
    ("step", "step", "{}"),
    ("per flow", "per_flow", "{:.2f}"),
    ("chorus p50 ms", "chorus_p50_ms", "{:.2f}"),
    ("floor", "floor", "{}"),
    ("floor p50 ms", "floor_p50_ms", "{:.2f}"),
    ("ratio", "ratio", "{:.2f}x"),
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100, help="flows per database")
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
        "A respondent's whole flow through Chorus vs as many bare Flask + SQLAlchemy requests "
        f"of the same kinds (ratio = floor rate / chorus rate; blocks of {BLOCK} flows, ABBA)"
    )
    for line in notes:
        print(line)
    print(table(COLUMNS, results))
    print()
    steps = [{"database": r["database"], **step} for r in results for step in r["steps"]]
    print(table(STEP_COLUMNS, steps))
    print()
    print("Parts of a section page on their own (p50, same run):")
    print(table(PART_COLUMNS, results))
    print(json.dumps({"bench": "flow", "results": results, "notes": notes}, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
