"""Attack: someone with write access to the database rewrites the audit log.

Before the chain was keyed, each entry's hash was a plain SHA-256 over its content
and the previous hash, so whoever could write to the table could edit an entry
and recompute every later hash: `verify` found nothing. Hashes are now
HMAC-SHA256 under a sub-key of the app's secret key, which the database doesn't
hold. Logs written before that are re-keyed once with `chorus audit rekey`.
"""

from __future__ import annotations

from sqlalchemy import text

from admin.audit.log import record, verify
from survey import create_app
from survey.models import AuditEntry, db
from tests.conftest import base_config
from tests.factories import insert_legacy_entries, rewrite_from
from tests.factories import rows as stored_rows


def five_entries() -> list[AuditEntry]:
    return [record(f"test.action{i}", "ana@example.org", f"t-{i}", {"n": i}) for i in range(5)]


def test_a_rewritten_tail_with_recomputed_hashes_is_caught_at_the_edited_entry(app):
    entries = five_entries()
    assert verify().ok
    rewrite_from(entries[2].id, '{"n":99}')

    report = verify()

    assert not report.ok
    assert report.first_broken == entries[2].id
    assert report.problems[0].startswith(f"entry {entries[2].id}:")
    assert entries[0].id not in report.broken and entries[1].id not in report.broken


def test_an_entry_appended_under_another_secret_key_fails(app, database_url):
    first = record("test.before", "ana@example.org")
    other = create_app({**base_config(database_url), "SECRET_KEY": "another-secret-" + "x" * 40})
    with other.app_context():
        intruder = record("test.intruder", "mallory@example.org")
        db.session.remove()
    db.session.expunge_all()
    after = record("test.after", "ana@example.org")

    report = verify()

    assert report.first_broken == intruder.id
    assert list(report.broken) == [intruder.id]
    assert first.id not in report.broken and after.id not in report.broken


def test_legacy_entries_are_named_until_rekeyed_then_verify(app):
    legacy_ids = insert_legacy_entries(3)
    legacy_head = stored_rows()[-1].entry_hash
    # The upgraded app keeps appending on top of the old head.
    new = record("test.after_upgrade", "ana@example.org")
    assert new.prev_hash == legacy_head

    before = verify()
    assert not before.ok
    assert before.first_broken == legacy_ids[0]
    assert before.unkeyed == 3
    assert set(before.broken) == set(legacy_ids)
    assert "chorus audit rekey" in before.problems[0]

    result = app.test_cli_runner().invoke(args=["audit", "rekey"])
    assert result.exit_code == 0, result.output
    assert legacy_head in result.output  # the old head, for whoever noted it

    db.session.expunge_all()
    after = verify()
    assert after.ok, after.problems
    assert after.count == 5 and after.unkeyed == 0  # and one entry saying it was re-keyed
    assert after.head in result.output

    # Once re-keyed, the old attack no longer works on those entries either.
    rewrite_from(legacy_ids[1], '{"n":99}')
    assert verify().first_broken == legacy_ids[1]


def test_rekey_refuses_a_legacy_chain_that_is_already_broken(app):
    legacy_ids = insert_legacy_entries(3)
    db.session.execute(
        text("UPDATE audit_log SET actor = 'nobody' WHERE id = :id"), {"id": legacy_ids[1]}
    )
    db.session.commit()
    before = [tuple(r) for r in stored_rows()]

    result = app.test_cli_runner().invoke(args=["audit", "rekey"])

    assert result.exit_code == 1
    assert f"entry {legacy_ids[1]}" in result.output
    db.session.expunge_all()
    assert [tuple(r) for r in stored_rows()] == before  # nothing rewritten


def test_an_unkeyed_entry_after_keyed_ones_is_a_forgery_and_never_rekeyed(app):
    entries = five_entries()
    rewrite_from(entries[3].id, '{"n":42}')

    report = verify()
    assert report.first_broken == entries[3].id
    assert "chorus audit rekey" not in report.problems[0]

    result = app.test_cli_runner().invoke(args=["audit", "rekey"])
    assert result.exit_code == 1
    db.session.expunge_all()
    assert verify().first_broken == entries[3].id
