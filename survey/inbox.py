"""The response inbox: submitted answers wait here, encrypted, until the week ends.

On PostgreSQL every row carries the id of the transaction that wrote it (`xmin`)
and sits at a physical place (`ctid`) that follows the order of insertion. If
submitting wrote the response and spent the invite together, the two rows would
share an `xmin` (linking the response to its invite), the responses would lie in
the order people sent them, and the audit log's transactions would date each one
between two staff actions.

So a submission only adds an inbox entry whose contents (the response's id,
sealed answers, receipt and invite lookups) are encrypted under a sub-key of the
app's secret key, which the database never holds; the invite and receipt are
findable only through keyed tags under another sub-key. Once a week (at the first
submission of a new week, and in the daily `chorus purge`), and when a survey
closes, `flush_inbox` moves every entry of earlier weeks in ONE transaction: the
responses are inserted in a random order and their invites marked used in one
UPDATE. A batch then shares one `xmin`, its order is random, and it is dated only
by the flush.

Every reader of responses goes through `sealed_responses` (or `sealed_batches`)
and `response_count` here, so answers waiting in the inbox are responses like
any other.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import cast

from flask import current_app
from sqlalchemy import Select, Table, delete, exists, func, select, update
from sqlalchemy.exc import IntegrityError

from survey import crypto
from survey.config import app_subkey
from survey.models import (
    InboxEntry,
    InviteCode,
    Response,
    Survey,
    db,
    iso_week,
    random_id,
    rows_changed,
)

BOX_KEY_PURPOSE = "chorus-inbox/1"
TAG_KEY_PURPOSE = "chorus-inbox-tag/1"

# Every box of a survey is padded to one size: the size its letter has with the
# largest sealed answers the survey allows (`box_size`). Sealed answers come in
# size buckets (crypto.PAD_BUCKETS), and a box as big as its answers would tell
# which stored response an inbox entry became. (Boxes the release before wrote,
# padded to 16 KiB or more, open the same way.)

_shuffler = secrets.SystemRandom()
# InboxEntry is mapped to a Table; SQLAlchemy types __table__ as any FromClause.
_inbox = cast(Table, InboxEntry.__table__)


@dataclass(frozen=True)
class SealedResponse:
    """One response as every reader sees it, wherever it is stored now."""

    id: str
    week: str
    format_version: int
    sealed: bytes


@dataclass(frozen=True)
class _Letter:
    """An inbox entry opened. A withdrawn entry keeps only its invite, so that
    the invite is still spent at the flush: `response` is then None."""

    response: SealedResponse | None
    receipt_lookup: str | None
    invite_lookup: str | None


def tag(lookup: str) -> str:
    """The keyed tag under which the inbox finds an invite or receipt lookup."""
    return hmac.new(app_subkey(TAG_KEY_PURPOSE), lookup.encode(), hashlib.sha256).hexdigest()


def _aad(survey_id: int, entry_id: str) -> bytes:
    return crypto.wrap_aad(survey_id, f"inbox:{entry_id}")


def _letter_json(letter: _Letter) -> bytes:
    response = letter.response
    document = {
        "response_id": response.id if response else None,
        "format_version": response.format_version if response else None,
        "sealed": crypto.b64(response.sealed) if response else None,
        "receipt_lookup": letter.receipt_lookup,
        "invite_lookup": letter.invite_lookup,
    }
    return crypto.canonical_json(document)


@functools.lru_cache(maxsize=64)
def box_size(sealed_at_most: int) -> int:
    """The plaintext size of every box of a survey whose sealed answers take at
    most `sealed_at_most` bytes: its largest letter, length-prefixed."""
    largest = SealedResponse("f" * 32, "", 99999, bytes(sealed_at_most))
    letter = _Letter(largest, "f" * 64, "f" * 64)
    return crypto.LENGTH_PREFIX + len(_letter_json(letter))


def _seal_letter(survey_id: int, entry_id: str, letter: _Letter, size: int) -> bytes:
    """The letter encrypted, padded to exactly `size` bytes first (length-prefixed and
    zero-filled, which every release's `_open` reads)."""
    plain = crypto.pad_to(_letter_json(letter), size)
    return crypto.encrypt(app_subkey(BOX_KEY_PURPOSE), plain, _aad(survey_id, entry_id))


def _open(entry: InboxEntry) -> _Letter:
    plain = crypto.decrypt(app_subkey(BOX_KEY_PURPOSE), entry.box, _aad(entry.survey_id, entry.id))
    document = json.loads(crypto.unpad(plain))
    response = None
    if document["response_id"] is not None:
        response = SealedResponse(
            id=document["response_id"],
            week=entry.week,
            format_version=document["format_version"],
            sealed=crypto.unb64(document["sealed"]),
        )
    return _Letter(response, document["receipt_lookup"], document["invite_lookup"])


# --- submitting ----------------------------------------------------------------------


def entry_values(
    survey: Survey,
    response: SealedResponse,
    receipt_lookup: str,
    invite_lookup: str | None,
    *,
    sealed_at_most: int,
) -> dict[str, object]:
    """The columns of a submitted response's inbox entry, for `ENTRY_COLUMNS`'s INSERT
    (survey/responses.py `submit` runs it where the draft is taken).

    `sealed_at_most` is the most bytes the survey's sealed answers take
    (`sealed_answers.sealed_size_at_most`): every box of the survey is as big as
    one holding those. The unique tags refuse a second entry for the same invite
    or receipt with an IntegrityError when it is inserted.
    """
    entry_id = random_id()
    letter = _Letter(response, receipt_lookup, invite_lookup)
    return {
        "id": entry_id,
        "survey_id": survey.id,
        "week": response.week,
        "invite_tag": tag(invite_lookup) if invite_lookup else None,
        "receipt_tag": tag(receipt_lookup),
        "box": _seal_letter(survey.id, entry_id, letter, box_size(sealed_at_most)),
    }


ENTRY_COLUMNS = ("id", "survey_id", "week", "invite_tag", "receipt_tag", "box")


def invite_spent(invite_lookup: str) -> bool:
    """Whether an invite has let answers in: marked used, or waiting in the inbox
    (one statement)."""
    used = select(InviteCode.lookup).where(
        InviteCode.lookup == invite_lookup, InviteCode.used.is_(True)
    )
    waiting = select(InboxEntry.id).where(InboxEntry.invite_tag == tag(invite_lookup))
    return bool(db.session.scalar(select(exists(used) | exists(waiting))))


# --- reading, counting, withdrawing -----------------------------------------------------


def _waiting(survey: Survey) -> list[InboxEntry]:
    return list(
        db.session.scalars(
            select(InboxEntry)
            .where(InboxEntry.survey_id == survey.id, InboxEntry.receipt_tag.is_not(None))
            .order_by(InboxEntry.id)
        )
    )


def waiting_responses(survey: Survey) -> list[SealedResponse]:
    """The survey's responses still in the inbox (a week's worth at most)."""
    letters = (_open(entry) for entry in _waiting(survey))
    return [letter.response for letter in letters if letter.response is not None]


def sealed_responses(survey: Survey) -> Iterator[SealedResponse]:
    """Every response of the survey, stored or waiting, in an order that says nothing."""
    rows = db.session.execute(
        select(Response.id, Response.week, Response.format_version, Response.sealed)
        .where(Response.survey_id == survey.id)
        .order_by(Response.id)
    )
    for response_id, week, format_version, sealed in rows:
        yield SealedResponse(response_id, week, format_version, sealed)
    yield from waiting_responses(survey)


def sealed_batches(survey: Survey, size: int) -> Iterator[list[SealedResponse]]:
    """The same responses as `sealed_responses`, streamed in lists of at most `size`."""
    rows = db.session.execute(
        select(Response.id, Response.week, Response.format_version, Response.sealed)
        .where(Response.survey_id == survey.id)
        .order_by(Response.id)
        .execution_options(yield_per=size)
    )
    for partition in rows.partitions(size):
        yield [SealedResponse(*row) for row in partition]
    # This week's answers, still in the inbox, are responses too.
    waiting = waiting_responses(survey)
    for start in range(0, len(waiting), size):
        yield waiting[start : start + size]


def response_count(survey: Survey) -> int:
    stored = db.session.scalar(
        select(func.count()).select_from(Response).where(Response.survey_id == survey.id)
    )
    waiting = db.session.scalar(
        select(func.count())
        .select_from(InboxEntry)
        .where(InboxEntry.survey_id == survey.id, InboxEntry.receipt_tag.is_not(None))
    )
    return (stored or 0) + (waiting or 0)


def receipt_held(survey: Survey, receipt_lookup: str) -> bool:
    """Whether a response of this survey, stored or waiting, has this receipt."""
    stored = db.session.scalar(
        select(Response.id).where(
            Response.receipt_lookup == receipt_lookup, Response.survey_id == survey.id
        )
    )
    if stored is not None:
        return True
    waiting = db.session.scalar(
        select(InboxEntry.id).where(
            InboxEntry.receipt_tag == tag(receipt_lookup), InboxEntry.survey_id == survey.id
        )
    )
    return waiting is not None


def receipt_counted(survey: Survey, receipt_lookup: str) -> bool:
    """Whether the stored response with this receipt is counted in a published
    version of the report (and so can't be withdrawn)."""
    counted = db.session.scalar(
        select(Response.counted).where(
            Response.receipt_lookup == receipt_lookup, Response.survey_id == survey.id
        )
    )
    return bool(counted)


def delete_by_receipt(survey: Survey, receipt_lookup: str) -> int:
    """Delete the response with this receipt wherever it is, unless a published
    version counts it (the caller commits).

    In the inbox, an entry that spent an invite keeps only that invite (its
    answers and receipt are gone), so the invite is still marked used at the
    flush, as it would have been had the response been stored already.
    """
    deleted = rows_changed(
        db.session.execute(
            delete(Response).where(
                Response.receipt_lookup == receipt_lookup,
                Response.survey_id == survey.id,
                Response.counted.is_(False),
            )
        )
    )
    entry = db.session.scalar(
        select(InboxEntry).where(
            InboxEntry.receipt_tag == tag(receipt_lookup), InboxEntry.survey_id == survey.id
        )
    )
    if entry is None:
        return deleted or 0
    letter = _open(entry)
    if letter.invite_lookup is None:
        db.session.delete(entry)
    else:
        entry.receipt_tag = None
        # As big as it was: a withdrawn entry is the size of every other.
        size = len(entry.box) - crypto.ENCRYPT_OVERHEAD
        remains = _Letter(None, None, letter.invite_lookup)
        entry.box = _seal_letter(survey.id, entry.id, remains, size)
    return (deleted or 0) + 1


def delete_all(survey_id: int) -> int:
    """Delete a survey's inbox (retention); returns how many responses it held."""
    waiting = db.session.scalar(
        select(func.count())
        .select_from(InboxEntry)
        .where(InboxEntry.survey_id == survey_id, InboxEntry.receipt_tag.is_not(None))
    )
    db.session.execute(delete(InboxEntry).where(InboxEntry.survey_id == survey_id))
    return waiting or 0


# --- the weekly flush ----------------------------------------------------------------------


def _due(survey: Survey, everything: bool, today: date | None = None) -> Select[InboxEntry]:
    query = select(InboxEntry).where(InboxEntry.survey_id == survey.id)
    if not everything:
        # ISO week strings of the same width sort like the weeks they name.
        query = query.where(InboxEntry.week < iso_week(today))
    return query


def flush_inbox(survey: Survey, *, everything: bool = False, today: date | None = None) -> int:
    """Move the inbox entries of weeks before this one (before `today`'s week when
    given, `chorus purge --today`; all of them with `everything`, when the survey
    closes) into `responses`, in ONE transaction and a random order, and mark
    their invites used. Commits what is pending with it. Returns how many
    responses were written.
    """
    entries = list(db.session.scalars(_due(survey, everything, today).with_for_update()))
    if not entries:
        db.session.commit()
        return 0
    letters = [_open(entry) for entry in entries]
    responses = [
        {
            "id": letter.response.id,
            "survey_id": survey.id,
            "week": letter.response.week,
            "format_version": letter.response.format_version,
            "sealed": letter.response.sealed,
            "receipt_lookup": letter.receipt_lookup,
        }
        for letter in letters
        if letter.response is not None
    ]
    _shuffler.shuffle(responses)
    invites = sorted(letter.invite_lookup for letter in letters if letter.invite_lookup)
    # Response is mapped to a Table; SQLAlchemy types __table__ as any FromClause.
    responses_table = cast(Table, Response.__table__)
    try:
        for response in responses:
            # One INSERT each, in the shuffled order: that is the physical order.
            db.session.execute(responses_table.insert().values(**response))
        if invites:
            db.session.execute(
                update(InviteCode).where(InviteCode.lookup.in_(invites)).values(used=True)
            )
        db.session.execute(delete(InboxEntry).where(InboxEntry.id.in_([e.id for e in entries])))
        db.session.commit()
    except IntegrityError:
        # Another process flushed the same entries first.
        db.session.rollback()
        return 0
    return len(responses)


def flush_if_due(survey: Survey) -> int:
    """Flush when the survey has entries of an earlier week (a cheap check first).

    Checked at this process's first submission to the survey in each ISO week:
    entries of earlier weeks can't be added later in the week (a submission is
    dated to the week it is sent in), save by a request that straddles midnight
    on Sunday, and the daily job (`flush_every_survey`) stores such a late one.
    """
    # Survey id → the week this process last checked it.
    checked: dict[int, str] = current_app.extensions.setdefault("chorus_inbox_checked", {})
    week = iso_week()
    if checked.get(survey.id) == week:
        return 0
    due = db.session.scalar(
        _due(survey, everything=False).with_only_columns(InboxEntry.id).limit(1)
    )
    flushed = 0
    if due is not None:
        # The flush is ONE transaction: end the request's statements-as-transactions
        # (models.autocommit_statements) first; what follows begins a real one.
        db.session.commit()
        flushed = flush_inbox(survey)
    checked[survey.id] = week
    return flushed


def flush_every_survey(today: date | None = None) -> int:
    """The daily job: flush every survey's weeks before `today`'s (default: this
    week), and everything of a survey that no longer takes answers."""
    survey_ids = db.session.scalars(select(InboxEntry.survey_id).distinct()).all()
    flushed = 0
    for survey_id in survey_ids:
        survey = db.session.get(Survey, survey_id)
        if survey is not None:
            flushed += flush_inbox(survey, everything=not survey.is_open, today=today)
    return flushed
