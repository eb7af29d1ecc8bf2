"""Building a report over many sealed responses, beside a floor measured in the same run.

    .venv/bin/python bench/report.py [--n 100000] [--workers 0] [--rounds 2] [--db FILE]
                                     [--versions 1]

Makes (or, with --db pointing at an existing file, reuses) an SQLite database
holding the bundled "Product-risk consultation" survey (32 questions) and N
synthetic responses sealed exactly as real ones are.

Chorus: decrypt every response into the analysis frame (admin/analysis/frame.py, a pool
of `--workers` processes, 0 meaning one per core) and build the chorus-report/1
document: every question's counts through disclosure control, and three findings
each broken down by the three group_by questions (nine linked tables protected
by linear programs). With `--versions V`, the document is the V-th version: V − 1
earlier versions are built first (untimed) on the first (i/V) of the responses, and
the timed build protects against them all (admin/analysis/differencing.py).

Floor: the least any report must do with the same data: open the same sealed
boxes (X25519 + HKDF + AES-GCM, then JSON, by survey/sealed_answers.py) in a pool
of the same size, and count the values of every column of the same frame with
pandas.

Rounds alternate (Chorus, floor, floor, Chorus, ...) and the best of each is
compared. Peak RSS is this process's and its workers' largest. This is a report,
not a test: nothing asserts on a time.
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
import os
import resource
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import flask_migrate

from admin.accounts.sign_in import create_user
from admin.analysis.frame import BATCH, answers_frame
from admin.reports.build import Published, build_report
from admin.reports.draft import DraftReport, FindingDraft
from survey import create_app
from survey.definition import load_definition_text
from survey.models import Role, db
from survey.sealed_answers import open_batch
from survey.stored import stored_batches
from survey.surveys import (
    TEMPLATE_NAME,
    bundled_template_text,
    find_survey,
    import_definition,
    open_survey,
    prepare_keys,
    response_count,
    unwrap_with_recovery_code,
)
from survey.synthetic import add_synthetic_responses

SLUG = "bench-report"
SECRET = "bench-report-secret-key-" + "b" * 40
CODE_FILE_SUFFIX = ".recovery-code"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def config(path: Path) -> dict:
    return {
        "SECRET_KEY": SECRET,
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
        "CHORUS_ARGON2_TIME_COST": 1,
        "CHORUS_ARGON2_MEMORY_KIB": 1024,
        "RATELIMIT_ENABLED": False,
        # Argon2 below the safe floor is allowed only in a config that says TESTING.
        "TESTING": True,
    }


def prepare(path: Path, n: int) -> str:
    """The database with N sealed responses; returns the survey's recovery code."""
    code_file = path.with_suffix(CODE_FILE_SUFFIX)
    app = create_app(config(path))
    with app.app_context():
        logging.disable(logging.INFO)
        flask_migrate.upgrade()
        logging.disable(logging.NOTSET)
        survey = find_survey(SLUG)
        if survey is None:
            custodian = create_user("bench@example.org", [Role.ANALYST], "bench pass 123", None)
            text = bundled_template_text()
            survey = import_definition(load_definition_text(text, TEMPLATE_NAME).with_slug(SLUG))
            code_file.write_text(prepare_keys(survey, [custodian], sheet_check=False))
            open_survey(survey)
        missing = n - response_count(survey)
        if missing > 0:
            log(f"sealing {missing} synthetic responses (once; --db keeps them) ...")
            started = time.perf_counter()
            add_synthetic_responses(survey, missing, seed=n, batch=5000)
            log(f"  {time.perf_counter() - started:.0f} s")
        db.engine.dispose()
    return code_file.read_text().strip()


def draft() -> DraftReport:
    groups = ["age_band", "connection", "region"]
    return DraftReport(
        findings=[
            FindingDraft(
                id="e2ee",
                title="Encryption without safeguards",
                affected_by=groups,
                severity_question="e2ee_risk",
            ),
            FindingDraft(
                id="suggestions",
                title="Friend suggestions",
                affected_by=groups,
                severity_question="suggestions_risk",
            ),
            FindingDraft(
                id="evidence",
                title="Disappearing evidence",
                affected_by=groups,
                severity_question="disappearing_evidence",
            ),
        ]
    )


def earlier_versions(survey, frame, versions: int) -> list[dict]:
    """Versions 1 … V−1, each on a growing share of the responses."""
    documents: list[dict] = []
    for i in range(1, versions):
        part = frame.iloc[: len(frame) * i // versions]
        documents.append(build_report(survey, part, draft(), published_after(documents)))
    return documents


def published_after(documents: list[dict]) -> Published:
    return Published(
        version=len(documents) + 1,
        published_week="2026-W48",
        addressed_to=["Bench Ltd"],
        previous_version=len(documents) or None,
        earlier=documents,
    )


def chorus(survey, key: bytes, workers: int, earlier: list[dict]):
    frame = answers_frame(survey, key, workers=workers)
    document = build_report(survey, frame, draft(), published_after(earlier))
    return frame, document


def _open_only(private_key: bytes, survey_id: int, batch) -> int:
    return len(open_batch(private_key, survey_id, batch))


def floor(survey, key: bytes, workers: int, frame) -> int:
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        batches = stored_batches(survey, BATCH)
        opened = sum(
            f.result() for f in [pool.submit(_open_only, key, survey.id, b) for b in batches]
        )
    for column in frame.columns:
        frame[column].value_counts(dropna=False)
    return opened


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000, help="responses")
    parser.add_argument("--workers", type=int, default=0, help="processes (0: one per core)")
    parser.add_argument("--rounds", type=int, default=2, help="timed rounds of each")
    parser.add_argument("--db", type=Path, help="SQLite file to make or reuse")
    parser.add_argument("--versions", type=int, default=1, help="build the V-th version")
    args = parser.parse_args(argv)
    workers = args.workers or os.cpu_count() or 1
    path = args.db or Path(tempfile.mkdtemp()) / "bench-report.db"
    code = prepare(path, args.n)

    app = create_app(config(path))
    times: dict[str, list[float]] = {"chorus": [], "floor": []}
    with app.app_context():
        survey = find_survey(SLUG)
        key = unwrap_with_recovery_code(survey, code)
        frame = answers_frame(survey, key, workers=workers)
        earlier = earlier_versions(survey, frame, args.versions)
        frame, document = chorus(survey, key, workers, earlier)  # warm-up (imports, pools)
        order = ["chorus", "floor", "floor", "chorus"] * args.rounds
        for name in order[: 2 * args.rounds]:
            started = time.perf_counter()
            if name == "chorus":
                frame, document = chorus(survey, key, workers, earlier)
            else:
                assert floor(survey, key, workers, frame) == len(frame)
            times[name].append(time.perf_counter() - started)
            log(f"  {name}: {times[name][-1]:.2f} s")
    best = {name: min(values) for name, values in times.items()}
    peak_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    peak_children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    summary = {
        "responses": len(frame),
        "questions": len(document["questions"]),
        "breakdowns": len(document["breakdowns"]),
        "version": args.versions,
        "workers": workers,
        "chorus_s": round(best["chorus"], 2),
        "floor_s": round(best["floor"], 2),
        "ratio": round(best["chorus"] / best["floor"], 2),
        "peak_rss_mb": round(peak_self),
        "peak_worker_rss_mb": round(peak_children),
    }
    print(
        f"report over {summary['responses']} responses × {summary['questions']} questions "
        f"({summary['breakdowns']} breakdowns), {workers} processes:\n"
        f"  Chorus {summary['chorus_s']} s, floor {summary['floor_s']} s, "
        f"ratio {summary['ratio']}; peak RSS {summary['peak_rss_mb']} MB "
        f"(each worker at most {summary['peak_worker_rss_mb']} MB)"
    )
    print(json.dumps(summary, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
