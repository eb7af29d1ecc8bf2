"""The audit log's page: newest first, paged, filtered, and the chain's state on top."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select, text

from admin.audit.log import record, verify
from admin.audit.pages import PAGE_SIZE
from survey.models import AuditEntry, Role, db
from tests.factories import make_user, page_text, sign_in_enrolled

ADMIN = "root@example.org"
ROW_ID = re.compile(r'<th scope="row">(\d+)')


@pytest.fixture
def admin(app):
    make_user(ADMIN, roles=(Role.ADMIN,))
    client = app.test_client()
    sign_in_enrolled(client, ADMIN)
    return client


def shown_ids(response) -> list[int]:
    return [int(n) for n in ROW_ID.findall(response.get_data(as_text=True))]


def entry_ids(prefix: str = "") -> list[int]:
    return list(
        db.session.scalars(
            select(AuditEntry.id)
            .where(AuditEntry.action.startswith(prefix))
            .order_by(AuditEntry.id.desc())
        )
    )


def test_newest_first_with_the_head_and_an_intact_chain(admin):
    for i in range(3):
        record(f"test.step{i}", "ana@example.org", f"t{i}")
    page = admin.get("/staff/audit/")
    assert page.status_code == 200
    assert shown_ids(page) == entry_ids()
    body = page_text(page)
    assert "The chain is intact" in body and verify().head in body
    assert "--expect-head" in body
    count = len(entry_ids())
    admin.get("/staff/audit/")
    assert len(entry_ids()) == count  # reading the log isn't itself logged


def test_paging(admin):
    for i in range(2 * PAGE_SIZE + 5):
        record("test.bulk", "cli:ops", f"t{i}")
    everything = entry_ids()
    pages = -(-len(everything) // PAGE_SIZE)
    first = admin.get("/staff/audit/")
    assert shown_ids(first) == everything[:PAGE_SIZE]
    assert f"Page 1 of {pages}" in page_text(first)
    second = admin.get("/staff/audit/?page=2")
    assert shown_ids(second) == everything[PAGE_SIZE : 2 * PAGE_SIZE]
    last = admin.get(f"/staff/audit/?page={pages}")
    assert shown_ids(last) == everything[(pages - 1) * PAGE_SIZE :]
    # Bad page numbers: never an error; the first page, or the last one there is.
    for value in ("abc", "-1", "0", "", "1.5", "%00", "9" * 50):
        response = admin.get(f"/staff/audit/?page={value}")
        assert response.status_code == 200 and shown_ids(response) == everything[:PAGE_SIZE]
    beyond = admin.get("/staff/audit/?page=99999")
    assert beyond.status_code == 200 and shown_ids(beyond) == shown_ids(last)


def test_filters_by_action_prefix_and_actor(admin):
    record("survey.open", "cli:ops", "small")
    record("survey.close", "ana@example.org", "small")
    record("surveyor.odd", "cli:ops", "x")
    record("user.create", "cli:ops", "bob@example.org")
    by_action = admin.get("/staff/audit/?action=survey.")
    assert shown_ids(by_action) == entry_ids("survey.")
    assert "2 matching entries" in page_text(by_action)
    by_actor = admin.get("/staff/audit/?actor=cli:ops")
    assert len(shown_ids(by_actor)) == 3
    both = admin.get("/staff/audit/?action=survey.&actor=ops")
    assert len(shown_ids(both)) == 1 and "survey.open" in page_text(both)
    # Filters are literal: LIKE wildcards match nothing special.
    wild = admin.get("/staff/audit/?action=%25&actor=_")
    assert wild.status_code == 200 and shown_ids(wild) == []
    assert 'value="survey."' in page_text(by_action)  # the filter form keeps what was typed


def test_filters_are_kept_across_pages(admin):
    for i in range(PAGE_SIZE + 3):
        record("test.bulk", "cli:ops", f"t{i}")
    page = page_text(admin.get("/staff/audit/?action=test.&actor=ops"))
    assert "page=2" in page and "action=test." in page and "actor=ops" in page


def test_a_tampered_entry_shows_as_broken(admin):
    entries = [record(f"test.step{i}", "ana@example.org", f"t{i}") for i in range(3)]
    victim = entries[1].id
    db.session.execute(
        text("UPDATE audit_log SET details = :d WHERE id = :id"), {"d": '{"n":99}', "id": victim}
    )
    db.session.commit()
    page = page_text(admin.get("/staff/audit/"))
    assert "The chain is broken" in page and "The chain is intact" not in page
    assert f"entry {victim}: its content was changed" in page
    assert re.search(rf'table__row--broken">\s*<th scope="row">{victim}<span', page)

    db.session.execute(text("DELETE FROM audit_log WHERE id = :id"), {"id": entries[0].id})
    db.session.commit()
    page = page_text(admin.get("/staff/audit/"))
    assert f"entry {victim}: the entry before it is missing or out of order" in page


def test_a_log_from_before_keying_says_so_and_how_to_fix_it(app):
    from tests.factories import insert_legacy_entries

    insert_legacy_entries(2)  # first: signing the admin in below is recorded too
    make_user(ADMIN, roles=(Role.ADMIN,))
    client = app.test_client()
    sign_in_enrolled(client, ADMIN)
    body = page_text(client.get("/staff/audit/"))
    assert "The log is not keyed yet" in body
    assert "chorus audit rekey" in body
    assert "not keyed yet" in body  # the two old entries are marked in the table


def test_a_rewritten_entry_is_named_as_where_the_damage_starts(admin):
    from tests.factories import rewrite_from

    entries = [record(f"test.step{i}", "ana@example.org") for i in range(3)]
    rewrite_from(entries[1].id, '{"n":1}')
    body = page_text(admin.get("/staff/audit/"))
    assert "The chain is broken" in body
    assert f"starting at entry {entries[1].id}" in body
