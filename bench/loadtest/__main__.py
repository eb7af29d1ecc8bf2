"""`make loadtest`: see bench/loadtest/__init__.py."""

from __future__ import annotations

import argparse
import random
import secrets
import signal
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from bench.loadtest.check import check_stored, checking_app, prepare_survey
from bench.loadtest.client import Load, Recorder, source_addresses
from bench.loadtest.faults import FaultPlan, SlowClients
from bench.loadtest.report import figures, flow_failures, latency_lines
from bench.loadtest.stack import Stack, StackError

# Each of the final round's clients completes this many flows, with no fault and
# no error allowed: the service answers normally after the faults, unrestarted.
FINAL_FLOWS_EACH = 2
# Room for every fault, each over before the next (loadtest/faults.py).
MIN_FAULT_SECONDS = 30


def say(text: str) -> None:
    print(text, flush=True)


def interrupted(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.loadtest",
        description="Full respondent flows through nginx, gunicorn, PostgreSQL and Redis "
        "of its own; then every receipt checked against the stored responses.",
    )
    parser.add_argument("--duration", type=float, default=60, help="seconds of load (60)")
    parser.add_argument("--clients", type=int, default=12, help="concurrent respondents (12)")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers (3)")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker (4)")
    parser.add_argument(
        "--faults",
        action="store_true",
        help="kill a worker, restart and stop PostgreSQL, stop Redis, slow clients",
    )
    parser.add_argument("--seed", type=int, default=None, help="for the answers given")
    parser.add_argument(
        "--logs", type=Path, default=None, help="copy the servers' logs to this folder at the end"
    )
    args = parser.parse_args(argv)
    if args.duration < 10 or args.clients < 1:
        parser.error("--duration must be at least 10 seconds and --clients at least 1")
    if args.faults and args.duration < MIN_FAULT_SECONDS:
        parser.error(f"with --faults, --duration must be at least {MIN_FAULT_SECONDS} seconds")
    return args


def run(args: argparse.Namespace) -> int:
    run_id = secrets.token_hex(4)
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**32)
    say(
        f"Chorus load test {run_id}: {args.duration:.0f} s, {args.clients} clients, "
        f"faults {'on' if args.faults else 'off'}, seed {seed}"
    )
    failures: list[str] = []
    with Stack(args.workers, args.threads, say, args.logs) as stack:
        app = checking_app(stack.database_url, stack.secret_key)
        slug, recovery_code = prepare_survey(app, secrets.token_urlsafe(24))
        say(f"  survey {slug!r} imported and opened")
        master = stack.gunicorn_pid

        recorder = Recorder()
        load = Load(stack.https_port, slug, run_id, recorder, seed)
        plan = FaultPlan(stack, args.duration, say) if args.faults else None
        slow = None
        if plan is not None:
            addresses = source_addresses(random.Random(seed + 1))
            slow = SlowClients(stack.https_port, slug, [next(addresses) for _ in range(4)])
            slow.start()
            plan.start()
        try:
            began = time.monotonic()
            flows = load.run(args.clients, args.duration)
            seconds = time.monotonic() - began
            if plan is not None:
                plan.cancelled.set()  # a fault not begun by now would meet no load
                while plan.is_alive():
                    plan.join(0.5)
        except BaseException:
            load.aborted.set()
            raise
        finally:
            if plan is not None:
                plan.cancelled.set()
            if slow is not None:
                slow.stop()
        windows = plan.windows if plan else []
        load_samples = list(recorder.samples)

        # The final round: no faults, nothing may fail, and nothing was restarted.
        recorder.final_round = True
        final_flows = load.run(args.clients, 120, flows_each=FINAL_FLOWS_EACH)
        final_samples = [s for s in recorder.samples if s.final_round]

        verdict = check_stored(app, slug, recovery_code, run_id, flows + final_flows)
        log_problems = stack.server_log_problems()
        master_same = stack.master_running() and stack.gunicorn_pid == master
        workers_now = len(stack.worker_pids())

    figs = figures(load_samples, flows, seconds, windows)
    say("")
    say(
        f"flows completed   {figs.flows_finished} in {seconds:.1f} s: {figs.flows_per_second:.2f}/s"
    )
    say(
        f"requests          {figs.requests}: {figs.requests_per_second:.1f}/s "
        f"({figs.static_requests} of them static files)"
    )
    say("latency (ms)")
    for line in latency_lines(figs):
        say(line)
    say(
        "    slowest: "
        + ", ".join(
            f"{s.label} {(s.ended - s.started) * 1000:.0f} ms at {s.started - began:.0f} s"
            for s in figs.slowest
        )
    )
    if plan is not None:
        say("faults (and the calm errors around each)")
        for window in windows:
            errors = figs.errors_by_window.get(window.what, Counter())
            say(
                f"    {window.what}: {sum(errors.values())} errors"
                + (f"; FAILED {window.problem}" if window.problem else "")
            )
            for kind, count in sorted(errors.items()):
                say(f"      {count:5d}  {kind}")
            if window.problem:
                failures.append(f"fault not carried out: {window.what}: {window.problem}")
        if len(windows) < len(plan.schedule):
            failures.append(f"only {len(windows)} of {len(plan.schedule)} faults ran in time")
    if slow is not None:
        c = slow.counts
        say(
            f"slow clients      {len(slow.threads)} trickling headers or bodies: {c.opened} "
            f"connections, {c.dropped_by_proxy} dropped by nginx's timeouts, {c.answered} "
            f"answered by nginx, {c.could_not_connect} refused"
        )
    say("errors that fail the run")
    for kind, count in sorted(figs.errors_outside_faults.items()) or [("none", 0)]:
        say(f"    {count:5d}  {kind}" if count else "    none")
        if count:
            failures.append(f"{count} × {kind}")
    for why, count in sorted(flow_failures(flows).items()):
        failures.append(f"{count} flows abandoned: {why}")
    cut = verdict.cut_submits
    say(
        f"receipts          {verdict.acknowledged} acknowledged; {verdict.stored} responses "
        f"stored, each opened with the survey key and complete; {cut} submits cut by a fault "
        f"without a receipt ({verdict.cut_stored} of them stored once, {cut - verdict.cut_stored} "
        "not stored)"
    )
    failures += verdict.problems
    final_ok = sum(1 for f in final_flows if f.finished)
    final_errors = [s for s in final_samples if s.outcome != "ok"]
    say(
        f"final round       {final_ok}/{len(final_flows)} flows, {len(final_errors)} errors; "
        f"gunicorn master {'the same, never restarted' if master_same else 'RESTARTED OR GONE'}, "
        f"{workers_now} workers"
    )
    if final_ok != len(final_flows) or final_errors:
        failures.append(
            f"final round: {final_ok}/{len(final_flows)} flows, errors {final_errors[:3]}"
        )
    if not master_same or workers_now != args.workers:
        failures.append("gunicorn's master was restarted, or its workers were not all replaced")
    for line in log_problems[:10]:
        failures.append(f"gunicorn log: {line}")
    if figs.flows_finished == 0:
        failures.append("no flow finished")
    say("")
    if failures:
        say("FAIL")
        for failure in failures:
            say(f"  - {failure}")
        return 1
    say("PASS: nothing acknowledged lost or duplicated, nothing partial, no bare 500")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    # Both end the run the same way (the servers run in sessions of their own, so
    # a Ctrl-C at the terminal reaches only this process, which stops them in order).
    signal.signal(signal.SIGINT, interrupted)
    signal.signal(signal.SIGTERM, interrupted)
    args = parse(argv)
    try:
        return run(args)
    except KeyboardInterrupt:
        say("interrupted: everything stopped and removed")
        return 130
    except StackError as error:
        say(f"the stack did not work: {error}")
        return 2


if __name__ == "__main__":
    sys.exit(main())
