"""The audit log: a hash chain of staff actions that shows every edit, removal and
reordering, fed by the core's staff_action signal and never by respondents."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, timedelta

import pytest
from flask import current_app, request
from sqlalchemy import DateTime, bindparam, func, select, text
from sqlalchemy.exc import IntegrityError

from admin import audit
from admin.audit import log as audit_log
from admin.audit import pages as audit_pages
from admin.audit.log import GENESIS, AuditError, entry_hash, record, timestamp_text, verify
from survey import create_app
from survey.events import announce, staff_action
from survey.models import AuditEntry, Organisation, db
from tests.conftest import base_config
from tests.factories import CUSTODIAN_EMAIL, Respondent, custodian_user, rows

CHANGED = "its content was changed"
BROKEN = "the entry before it is missing or out of order"


@pytest.fixture
def audit_app(app):
    # The factory may or may not wire the audit log yet; a second call must be harmless.
    audit.init_app(app)
    audit.init_app(app)
    return app


def sql(statement: str, **params) -> None:
    """Tamper with the table behind the application's back, and commit."""
    db.session.execute(text(statement), params)
    db.session.commit()
    db.session.expunge_all()  # forget the objects record() returned: the rows changed


def entry_count() -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEntry))


def five_entries() -> list[AuditEntry]:
    return [record(f"test.action{i}", "ana@example.org", f"target-{i}", {"n": i}) for i in range(5)]


def insert_directly(prev_hash: str, action: str = "race.winner") -> str:
    """Append an entry with a correct hash the way another process would."""
    at = datetime.now(UTC)
    digest = entry_hash(prev_hash, at, "cli:other", action, "", "{}")
    statement = text(
        "INSERT INTO audit_log (at, actor, action, target, details, prev_hash, entry_hash)"
        " VALUES (:at, 'cli:other', :action, '', '{}', :prev, :hash)"
    ).bindparams(bindparam("at", type_=DateTime(timezone=True)))
    db.session.execute(statement, {"at": at, "action": action, "prev": prev_hash, "hash": digest})
    db.session.commit()
    return digest


# --- the chain ------------------------------------------------------------------------------


def test_record_builds_a_chain_from_genesis(app):
    first = record("survey.open", "ana@example.org", "small", {"b": 2, "a": "é"})
    second = record("survey.close", "ben@example.org", "small")
    assert first.prev_hash == GENESIS
    assert second.prev_hash == first.entry_hash
    assert first.details == '{"a":"é","b":2}'  # canonical JSON
    assert second.details == "{}" and second.target == "small"
    assert first.entry_hash == entry_hash(
        GENESIS, first.at, "ana@example.org", "survey.open", "small", first.details
    )
    # What the database hands back hashes to what was stored (SQLite: naive; PG: aware).
    for row in rows():
        assert entry_hash(
            row.prev_hash, row.at, row.actor, row.action, row.target, row.details
        ) == (row.entry_hash)


def test_timestamps_are_hashed_as_utc_with_microseconds(app):
    aware = datetime(2026, 11, 23, 21, 0, 14, 5, tzinfo=UTC)
    naive = aware.replace(tzinfo=None)  # what SQLite gives back
    elsewhere = aware.astimezone(__import__("zoneinfo").ZoneInfo("Europe/Madrid"))
    assert timestamp_text(aware) == "2026-11-23T21:00:14.000005+00:00"
    assert timestamp_text(naive) == timestamp_text(elsewhere) == timestamp_text(aware)
    assert entry_hash(GENESIS, naive, "a", "b", "", "{}") == entry_hash(
        GENESIS, elsewhere, "a", "b", "", "{}"
    )
    assert entry_hash(GENESIS, aware, "a", "b", "", "{}") != entry_hash(
        GENESIS, aware + timedelta(microseconds=1), "a", "b", "", "{}"
    )


def test_fields_cannot_run_into_each_other(app):
    at = datetime(2026, 1, 1, tzinfo=UTC)
    assert entry_hash(GENESIS, at, "ab", "c", "", "{}") != entry_hash(
        GENESIS, at, "a", "bc", "", "{}"
    )


def test_verify_an_empty_log(app):
    report = verify()
    assert (report.count, report.head, report.problems) == (0, GENESIS, [])
    assert report.ok
    assert verify(expect_head=GENESIS).ok


def test_verify_five_clean_entries(app):
    entries = five_entries()
    report = verify()
    assert report.count == 5
    assert report.head == entries[-1].entry_hash
    assert report.problems == [] and report.ok
    assert verify(expect_head=entries[-1].entry_hash).ok
    # A head noted earlier is still in a log that has grown since.
    assert verify(expect_head=entries[2].entry_hash).ok


def test_details_must_be_json_and_fields_must_fit(app):
    with pytest.raises(TypeError):
        record("survey.open", "ana@example.org", "x", {"when": datetime.now(UTC)})
    with pytest.raises(AuditError):
        record("", "ana@example.org")
    with pytest.raises(AuditError):
        record("survey.open", "")
    with pytest.raises(AuditError):
        record("survey.open", "ana@example.org", "x" * 255)
    db.session.rollback()
    assert entry_count() == 0


# --- tampering ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("details", '{"n":99}'),
        ("details", '{"n": 2}'),  # same meaning, different text: still an edit
        ("actor", "someone-else@example.org"),
        ("action", "survey.close"),
        ("target", "another-survey"),
        ("prev_hash", "f" * 64),
    ],
)
def test_an_edited_entry_is_named(app, column, value):
    entries = five_entries()
    victim = entries[2]
    sql(f"UPDATE audit_log SET {column} = :value WHERE id = :id", value=value, id=victim.id)  # noqa: S608
    report = verify()
    assert f"entry {victim.id}: {CHANGED}" in report.problems
    assert report.count == 5 and not report.ok


def test_an_edited_time_is_named(app):
    entries = five_entries()
    victim = entries[1]
    statement = text("UPDATE audit_log SET at = :at WHERE id = :id").bindparams(
        bindparam("at", type_=DateTime(timezone=True))
    )
    db.session.execute(statement, {"at": victim.at + timedelta(seconds=1), "id": victim.id})
    db.session.commit()
    assert verify().problems == [f"entry {victim.id}: {CHANGED}"]


def test_an_edit_with_a_recomputed_hash_breaks_the_chain_after_it(app):
    entries = five_entries()
    victim = entries[2]
    row = next(r for r in rows() if r.id == victim.id)
    forged = entry_hash(row.prev_hash, row.at, "nobody", row.action, row.target, row.details)
    sql(
        "UPDATE audit_log SET actor = 'nobody', entry_hash = :h WHERE id = :id",
        h=forged,
        id=victim.id,
    )
    assert verify().problems == [f"entry {entries[3].id}: {BROKEN}"]


def test_a_deleted_middle_entry_is_named(app):
    entries = five_entries()
    sql("DELETE FROM audit_log WHERE id = :id", id=entries[2].id)
    report = verify()
    assert report.problems == [f"entry {entries[3].id}: {BROKEN}"]
    assert report.count == 4


def test_a_deleted_first_entry_is_named(app):
    entries = five_entries()
    sql("DELETE FROM audit_log WHERE id = :id", id=entries[0].id)
    assert verify().problems == [f"entry {entries[1].id}: {BROKEN}"]


def test_two_entries_with_swapped_ids_are_named(app):
    entries = five_entries()
    a, b = entries[1].id, entries[2].id
    sql("UPDATE audit_log SET id = :tmp WHERE id = :a", tmp=-1, a=a)
    sql("UPDATE audit_log SET id = :a WHERE id = :b", a=a, b=b)
    sql("UPDATE audit_log SET id = :b WHERE id = :tmp", b=b, tmp=-1)
    problems = verify().problems
    assert f"entry {a}: {BROKEN}" in problems
    assert f"entry {b}: {BROKEN}" in problems
    assert not any(CHANGED in p for p in problems)  # each entry is intact, only misplaced


def test_two_entries_with_swapped_contents_are_named(app):
    entries = five_entries()
    stored = {r.id: r for r in rows()}
    first, second = stored[entries[2].id], stored[entries[3].id]
    fields = ("at", "actor", "action", "target", "details", "prev_hash", "entry_hash")
    # Move one out of the way first: the hash columns are unique.
    sql("UPDATE audit_log SET prev_hash = 'x', entry_hash = 'y' WHERE id = :id", id=first.id)
    for target, source in ((second, first), (first, second)):
        statement = text(
            "UPDATE audit_log SET at = :at, actor = :actor, action = :action, target = :target,"
            " details = :details, prev_hash = :prev_hash, entry_hash = :entry_hash WHERE id = :id"
        ).bindparams(bindparam("at", type_=DateTime(timezone=True)))
        values = {name: getattr(source, name) for name in fields}
        db.session.execute(statement, {**values, "id": target.id})
    db.session.commit()
    problems = verify().problems
    assert f"entry {first.id}: {BROKEN}" in problems
    assert f"entry {second.id}: {BROKEN}" in problems
    assert f"entry {entries[4].id}: {BROKEN}" in problems


def test_a_deleted_last_entry_needs_the_expected_head(app):
    entries = five_entries()
    noted = entries[-1].entry_hash
    sql("DELETE FROM audit_log WHERE id = :id", id=entries[-1].id)
    alone = verify()
    assert alone.ok and alone.count == 4  # the chain itself is still whole
    report = verify(expect_head=noted)
    assert report.problems == [
        "the last entries were removed or changed: "
        f"head is {entries[3].entry_hash}, expected {noted}"
    ]
    # Appending again doesn't hide it: the noted entry is still gone.
    record("survey.open", "ana@example.org", "x")
    assert not verify(expect_head=noted).ok


def test_several_problems_are_all_listed(app):
    entries = five_entries()
    noted = entries[-1].entry_hash
    sql("UPDATE audit_log SET actor = 'mallory' WHERE id = :id", id=entries[0].id)
    sql("DELETE FROM audit_log WHERE id = :id", id=entries[2].id)
    sql("DELETE FROM audit_log WHERE id = :id", id=entries[4].id)
    report = verify(expect_head=noted)
    assert report.problems == [
        f"entry {entries[0].id}: {CHANGED}",
        f"entry {entries[3].id}: {BROKEN}",
        f"the last entries were removed or changed: head is {entries[3].entry_hash}, "
        f"expected {noted}",
    ]
    assert report.count == 3


# --- command line ---------------------------------------------------------------------------


def test_cli_verify(audit_app):
    runner = audit_app.test_cli_runner()
    entries = five_entries()
    clean = runner.invoke(args=["audit", "verify"])
    assert clean.exit_code == 0, clean.output
    assert clean.output == f"5 entries, head {entries[-1].entry_hash}\n"
    noted = runner.invoke(args=["audit", "verify", "--expect-head", entries[-1].entry_hash])
    assert noted.exit_code == 0, noted.output

    sql("UPDATE audit_log SET details = '{}' WHERE id = :id", id=entries[1].id)
    tampered = runner.invoke(args=["audit", "verify"])
    assert tampered.exit_code == 1
    assert f"entry {entries[1].id}: {CHANGED}" in tampered.output

    sql("DELETE FROM audit_log WHERE id = :id", id=entries[-1].id)
    cut = runner.invoke(args=["audit", "verify", "--expect-head", entries[-1].entry_hash])
    assert cut.exit_code == 1
    assert "the last entries were removed or changed" in cut.output


def test_cli_log_prints_the_last_entries_oldest_first(audit_app):
    entries = five_entries()
    result = audit_app.test_cli_runner().invoke(args=["audit", "log", "--last", "2"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert len(lines) == 2
    for line, entry in zip(lines, entries[-2:], strict=True):
        assert line.split("  ") == [
            str(entry.id),
            timestamp_text(entry.at),
            "ana@example.org",
            entry.action,
            entry.target,
            entry.details,
        ]
    everything = audit_app.test_cli_runner().invoke(args=["audit", "log"])
    assert len(everything.output.splitlines()) == 5


# --- the signal -----------------------------------------------------------------------------


def test_cli_staff_actions_are_recorded_without_the_recovery_code(audit_app):
    runner = audit_app.test_cli_runner()
    # (A slug needs at least two characters.)
    imported = runner.invoke(args=["survey", "import", "--template", "--slug", "xy"])
    assert imported.exit_code == 0, imported.output
    custodian_user()
    opened = runner.invoke(args=["survey", "open", "xy", "--custodian", CUSTODIAN_EMAIL])
    assert opened.exit_code == 0, opened.output
    code = re.search(r"^\s+([0-9A-Z]{4}(?:-[0-9A-Z]{4}){6})\s*$", opened.output, re.M).group(1)

    stored = [r for r in rows() if r.action.startswith("survey.")]
    assert [r.action for r in stored] == ["survey.import", "survey.keys_made", "survey.open"]
    assert all(r.actor.startswith("cli:") and r.target == "xy" for r in stored)
    assert stored[1].details == '{"custodians":["custodian@example.org"]}'
    assert stored[2].details == '{"new_keys":true}'
    assert stored[0].prev_hash == GENESIS and stored[1].prev_hash == stored[0].entry_hash
    everything = " ".join(str(value) for row in stored for value in row)
    for form in (code, code.replace("-", ""), code.lower()):
        assert form not in everything
    assert verify().ok


def test_init_app_twice_records_each_action_once(audit_app):
    announce("user.create", "cli:tester", "ana@example.org", roles="facilitator")
    assert entry_count() == 1
    assert staff_action.receivers_for(audit_app) is not None
    assert sum(1 for _ in staff_action.receivers_for(audit_app)) == 1


def test_the_sender_app_gets_the_entry(audit_app, database_url, monkeypatch):
    """The receiver records in the app that announced, even from inside another app."""
    other = create_app(base_config(database_url))
    audit.init_app(other)
    recorded_in = []
    real_record = audit_pages.record

    def spy(*args, **kwargs):
        recorded_in.append(current_app._get_current_object())
        return real_record(*args, **kwargs)

    monkeypatch.setattr(audit_pages, "record", spy)
    staff_action.send(other, action="survey.close", actor="cli:tester", target="x", details={})
    silent = create_app(base_config(database_url))
    silent.extensions.pop(audit_log.EXTENSION_KEY, None)  # an app without an audit log
    staff_action.send(silent, action="survey.open", actor="cli:tester", target="x", details={})
    announce("survey.import", "cli:tester", "x")  # from the current app, in its context
    assert recorded_in == [other, audit_app]
    with other.app_context():
        db.engine.dispose()
    db.session.rollback()  # a fresh snapshot of what the other app committed
    assert [r.action for r in rows()] == ["survey.close", "survey.import"]


def test_respondents_leave_no_trace(audit_app, client, make_open_survey):
    survey, _ = make_open_survey()
    assert entry_count() == 0
    r = Respondent(client, survey.slug)
    r.start()
    r.answer("you", {"age_band": "under_18", "apps": "3"}, action="save")
    r.get(f"/s/{survey.slug}/code")
    r.post(f"/s/{survey.slug}/code", {"saved": "1"})
    r.pass_warning("e2ee")
    r.answer("e2ee", {"harm_scale": "4", "story": "Keep detection."})
    r.answer("minors", {"felt_safe": "no"})
    submitted = r.submit()
    assert submitted.status_code == 302 and submitted.location.endswith("/receipt")
    receipt = r.receipt_code()
    r.post(f"/s/{survey.slug}/receipt", {"saved": "1"})
    w = Respondent(client, survey.slug)
    w.get(f"/s/{survey.slug}/withdraw")
    w.post(f"/s/{survey.slug}/withdraw", {"code": receipt}, csrf=False)
    done = w.post(f"/s/{survey.slug}/withdraw", {"code": receipt, "step": "confirm"}, csrf=False)
    assert "have been withdrawn" in w.last_html, done.status_code
    db.session.rollback()
    assert entry_count() == 0
    # The wiring is live: a staff action in the same app is recorded.
    announce("survey.close", "cli:tester", survey.slug)
    assert entry_count() == 1


def test_record_refuses_inside_a_respondent_request(app):
    with app.test_request_context("/s/small"), pytest.raises(AuditError):
        assert request.blueprint == "respond"
        record("survey.open", "ana@example.org", "small")
    assert entry_count() == 0


# --- appending at the same time -------------------------------------------------------------


def test_a_racing_appender_makes_record_retry_on_the_new_head(app, monkeypatch):
    first = record("survey.import", "ana@example.org", "x")
    stale = first.entry_hash
    winner = insert_directly(stale)  # another process appended after we read the head
    heads: list[str] = []
    real_head = audit_log.current_head

    def head_read_before_the_race() -> str:
        heads.append(stale if not heads else real_head())
        return heads[-1]

    monkeypatch.setattr(audit_log, "current_head", head_read_before_the_race)
    # Work the caller has pending must survive the retry (only the append is undone).
    db.session.add(Organisation(name="Pending Ltd"))
    entry = record("survey.open", "ana@example.org", "x")

    assert heads == [stale, winner]
    assert entry.prev_hash == winner
    assert [r.action for r in rows()] == ["survey.import", "race.winner", "survey.open"]
    report = verify()
    assert report.ok and report.count == 3 and report.head == entry.entry_hash
    db.session.rollback()
    assert db.session.scalar(select(Organisation.name)) == "Pending Ltd"


def test_record_gives_up_after_a_few_lost_races(app, monkeypatch):
    first = record("survey.import", "ana@example.org", "x")
    insert_directly(first.entry_hash)
    monkeypatch.setattr(audit_log, "current_head", lambda: first.entry_hash)
    with pytest.raises(IntegrityError):
        record("survey.open", "ana@example.org", "x")
    db.session.rollback()
    assert entry_count() == 2 and verify().ok


def test_the_schema_refuses_a_fork(app):
    first = record("survey.import", "ana@example.org", "x")
    insert_directly(first.entry_hash, "race.winner")
    with pytest.raises(IntegrityError):
        insert_directly(first.entry_hash, "race.loser")
    db.session.rollback()
    assert entry_count() == 2 and verify().ok


def test_threads_appending_at_once_keep_one_chain(app):
    """Real concurrent appenders queue for the head instead of failing or forking."""
    start = threading.Barrier(4)
    errors: list[BaseException] = []

    def append(worker: int) -> None:
        try:
            with app.app_context():
                start.wait()
                for i in range(10):
                    record("test.race", f"cli:worker{worker}", str(i))
                db.session.remove()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=append, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    report = verify()
    assert report.ok and report.count == 40
