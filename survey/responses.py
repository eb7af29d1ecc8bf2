"""A respondent's answers from first page to withdrawal, as plain functions.

A draft lives in the `drafts` table encrypted under a key the server does not
keep: at first a random key held only in the respondent's session cookie; once
they ask for a resume code, a key derived from that code. Submitting seals the
final answers to the survey's public key, deletes the draft and puts the response
in the inbox (survey/inbox.py), where it waits for the weekly flush that stores
it and marks its invite used — all in one transaction, so a double click or a
refresh stores exactly one response, and one invite lets in one.
"""

from __future__ import annotations

import enum
import json
import secrets
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

from flask import current_app
from sqlalchemy import LargeBinary, Table, bindparam, delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import defer

from survey import crypto, inbox
from survey.answers import largest_answers
from survey.config import scrypt_cost
from survey.definition import (
    NOT_SHOWN,
    SKIPPED,
    SLUG_RE,
    Question,
    Section,
    SurveyDefinition,
    shown_questions,
    visible_sections_and_answers,
)
from survey.lru import LruCache
from survey.models import (
    Draft,
    InboxEntry,
    InviteCode,
    Response,
    Survey,
    db,
    iso_week,
    random_id,
    rows_changed,
)
from survey.sealed_answers import FORMAT_VERSION, padded_answers_size, seal_answers
from survey.surveys import definition_of, lookup_secret, per_definition


class CodeNotFound(Exception):
    """No draft, invite or response answers to this code."""


class DraftGone(Exception):
    """The draft this session points at no longer exists or can't be opened."""


class InviteUsed(Exception):
    """The invite that let this person in has already been used to send answers."""


_JSON = json.JSONDecoder()


@dataclass
class DraftState:
    """What a respondent has done so far (never stored in the clear)."""

    answers: dict[str, dict[str, Any]] = field(default_factory=dict)
    skipped_sections: list[str] = field(default_factory=list)
    warnings_seen: list[str] = field(default_factory=list)
    invite_lookup: str | None = None
    has_resume_code: bool = False
    # The section last saved, so a resumed session continues there.
    at: str | None = None

    def to_json(self) -> bytes:
        return crypto.canonical_json(self.__dict__)

    @classmethod
    def from_json(cls, data: bytes) -> DraftState:
        # The JSON, and not the spaces after it (`_seal_draft`): scanning those would
        # cost more than reading the draft.
        raw, _ = _JSON.raw_decode(data.decode())
        return cls(**{k: raw[k] for k in cls.__dataclass_fields__ if k in raw})


@dataclass(frozen=True)
class DraftHandle:
    """What the session cookie holds to reach a draft: its id and its key."""

    draft_id: str
    key: bytes


def _draft_aad(survey: Survey, draft_id: str) -> bytes:
    return crypto.wrap_aad(survey.id, f"draft:{draft_id}")


# The size every draft of a survey version is padded to, under (survey id, digest of
# its definition's JSON) like `surveys.parsed_definitions`.
_draft_sizes: LruCache[tuple[int, str], int] = LruCache(64)


def largest_draft_size(definition: SurveyDefinition) -> int:
    """The length of the largest draft `definition` allows: every question at its
    largest answer (`answers.largest_answers`), every section skipped and its
    warning seen, an invite, the longest section id to resume at."""
    section_ids = [s.id for s in definition.sections]
    largest = DraftState(
        answers=largest_answers(definition),
        skipped_sections=section_ids,
        warnings_seen=section_ids,
        invite_lookup="f" * 64,
        has_resume_code=False,
        at=max(section_ids, key=len),
    )
    return len(largest.to_json())


def draft_size(survey: Survey) -> int:
    """`largest_draft_size` of the survey's definition, worked out once per version."""
    return per_definition(_draft_sizes, survey, largest_draft_size)


def _seal_draft(survey: Survey, key: bytes, draft_id: str, state: DraftState) -> bytes:
    """The draft encrypted, as big as any draft of the survey: what was typed is
    followed by spaces (the same JSON to every release's reader) to `draft_size`."""
    plain = crypto.pad_json(state.to_json(), draft_size(survey))
    return crypto.encrypt(key, plain, _draft_aad(survey, draft_id))


# The statements every respondent's request runs, built once with bound
# parameters: building one costs more than running it (bench/flow.py).
_drafts = cast(Table, Draft.__table__)
_SURVEY_BY_SLUG = (
    select(Survey).options(defer(Survey.definition_json)).where(Survey.slug == bindparam("slug"))
)
_SURVEY_AND_DRAFT = _SURVEY_BY_SLUG.add_columns(Draft.sealed).outerjoin(
    Draft, (Draft.id == bindparam("draft_id")) & (Draft.survey_id == Survey.id)
)
_THIS_DRAFT = (_drafts.c.id == bindparam("draft_key")) & (
    _drafts.c.survey_id == bindparam("of_survey")
)
_READ_DRAFT = select(_drafts.c.sealed).where(_THIS_DRAFT)
_INSERT_DRAFT = _drafts.insert()
# Sets the columns its parameters name, beside draft_key and of_survey.
_SAVE_DRAFT = _drafts.update().where(_THIS_DRAFT)
# Quick exit: a draft without a resume code deleted, one with a code moved to a new
# id (`release_draft`).
_FORGET_UNCODED_DRAFT = _drafts.delete().where(_THIS_DRAFT, _drafts.c.resume_lookup.is_(None))
_MOVE_DRAFT_AS_READ = (
    _drafts.update()
    .where(_THIS_DRAFT, _drafts.c.sealed == bindparam("draft_sealed"))
    .values(id=bindparam("new_id"), sealed=bindparam("new_sealed"))
)
# Submitting: the draft as it was read, deleted (SQLite) ...
# A draft as read is known by its first bytes, version and nonce (`_DRAFT_STAMP`):
# every save encrypts it afresh under a new random 96-bit nonce. Comparing those
# spares sending and comparing all of its padded bytes (bench/submit.py).
_DRAFT_STAMP = 1 + crypto.NONCE_BYTES
_TAKE_DRAFT_AS_READ = _drafts.delete().where(
    _THIS_DRAFT,
    func.substr(_drafts.c.sealed, 1, _DRAFT_STAMP) == bindparam("draft_stamp", type_=LargeBinary),
)
# ... and then its response put in the inbox in the same transaction; on PostgreSQL
# both in one statement: the entry is inserted only if that draft was deleted.
_inbox = cast(Table, InboxEntry.__table__)
_POST_ENTRY = _inbox.insert()
_taken = _TAKE_DRAFT_AS_READ.returning(_drafts.c.id).cte("taken")
_POST_ENTRY_IN_PLACE_OF_DRAFT = (
    _inbox.insert()
    .from_select(
        list(inbox.ENTRY_COLUMNS),
        select(
            *(bindparam(name, type_=_inbox.c[name].type) for name in inbox.ENTRY_COLUMNS)
        ).select_from(_taken),
    )
    .execution_options(preserve_rowcount=True)
)  # an INSERT's count is kept only when asked


# --- invites ----------------------------------------------------------------------


def invite_lookup_if_valid(survey: Survey, typed: str) -> str:
    """The lookup of an invite code issued for this survey, or CodeNotFound.

    Used or not makes no difference here (the same answer, the same reads): who
    holds the list of codes must not learn who has responded. A used invite is
    refused at submit, when the answers would be stored.
    """
    if not crypto.is_well_formed_code(typed):
        raise CodeNotFound
    lookup = crypto.code_lookup(lookup_secret(), "invite", typed)
    invite = db.session.get(InviteCode, lookup)
    if invite is None or invite.survey_id != survey.id:
        raise CodeNotFound
    return lookup


# --- drafts -----------------------------------------------------------------------


def start_draft(survey: Survey, invite_lookup: str | None = None) -> DraftHandle:
    """A new, empty draft under a fresh random key."""
    handle = DraftHandle(random_id(), crypto.new_key())
    state = DraftState(invite_lookup=invite_lookup)
    sealed = _seal_draft(survey, handle.key, handle.draft_id, state)
    db.session.execute(
        _INSERT_DRAFT,
        {"id": handle.draft_id, "survey_id": survey.id, "sealed": sealed, "saved_week": iso_week()},
    )
    # A draft goes stale only when a week ends (its cut-offs are weeks): this
    # process purges at its first new draft of each week, which finds them all.
    week = iso_week()
    purge = current_app.extensions.get("chorus_drafts_purged") != week
    if purge:
        purge_stale_drafts()
    db.session.commit()
    if purge:
        current_app.extensions["chorus_drafts_purged"] = week
    return handle


def survey_and_draft(slug: str, draft_id: str | None) -> tuple[Survey | None, bytes | None]:
    """The survey with this slug and, in the same statement, the sealed bytes of
    its draft `draft_id` (None when that draft isn't there, or no id is given).

    All a respondent's page reads. The definition's JSON stays in the database:
    `definition_of` has it parsed, per version, from the row's digest.
    """
    if not SLUG_RE.fullmatch(slug):
        return None, None
    if draft_id is None:
        return db.session.scalar(_SURVEY_BY_SLUG, {"slug": slug}), None
    found = db.session.execute(_SURVEY_AND_DRAFT, {"slug": slug, "draft_id": draft_id}).first()
    return (None, None) if found is None else (found[0], found[1])


def read_draft(survey: Survey, draft_id: str) -> bytes | None:
    """The sealed bytes of the survey's draft `draft_id`, if it is there."""
    sealed: bytes | None = db.session.scalar(
        _READ_DRAFT, {"draft_key": draft_id, "of_survey": survey.id}
    )
    return sealed


def open_draft(survey: Survey, handle: DraftHandle, sealed: bytes | None) -> DraftState:
    """The draft in `sealed` (as read for `handle`), or DraftGone if there is
    none or it doesn't open with the handle's key."""
    if sealed is None:
        raise DraftGone
    try:
        plain = crypto.decrypt(handle.key, sealed, _draft_aad(survey, handle.draft_id))
    except crypto.CryptoError:
        raise DraftGone from None
    return DraftState.from_json(plain)


def _rewrite_draft(survey: Survey, handle: DraftHandle, **values: Any) -> None:
    """One UPDATE of the survey's draft, dated to this week; DraftGone if it isn't there."""
    parameters = {"draft_key": handle.draft_id, "of_survey": survey.id, "saved_week": iso_week()}
    changed = rows_changed(db.session.execute(_SAVE_DRAFT, {**parameters, **values}))
    if changed != 1:
        raise DraftGone


def save_draft(survey: Survey, handle: DraftHandle, state: DraftState) -> None:
    """Replace the draft with `state`: one UPDATE and a commit (nothing is read)."""
    sealed = _seal_draft(survey, handle.key, handle.draft_id, state)
    _rewrite_draft(survey, handle, sealed=sealed)
    db.session.commit()


def issue_resume_code(
    survey: Survey, handle: DraftHandle, state: DraftState
) -> tuple[str, DraftHandle]:
    """A new resume code for this draft; the draft is re-keyed under it.

    Any earlier code for the same draft stops working: its lookup is replaced.
    """
    code = crypto.generate_code()
    salt = secrets.token_bytes(16)
    key = crypto.code_derived_key(code, salt, scrypt_cost(current_app.config))
    state.has_resume_code = True
    _rewrite_draft(
        survey,
        handle,
        resume_lookup=crypto.code_lookup(lookup_secret(), "resume", code),
        kdf_salt=salt,
        sealed=_seal_draft(survey, key, handle.draft_id, state),
    )
    db.session.commit()
    return code, DraftHandle(handle.draft_id, key)


def resume_draft(survey: Survey, typed: str) -> tuple[DraftHandle, DraftState]:
    """Find and open the draft a resume code stands for, or CodeNotFound."""
    if not crypto.is_well_formed_code(typed):
        raise CodeNotFound
    lookup = crypto.code_lookup(lookup_secret(), "resume", typed)
    draft = db.session.scalar(select(Draft).where(Draft.resume_lookup == lookup))
    if draft is None or draft.survey_id != survey.id or draft.kdf_salt is None:
        raise CodeNotFound
    key = crypto.code_derived_key(typed, draft.kdf_salt, scrypt_cost(current_app.config))
    handle = DraftHandle(draft.id, key)
    try:
        return handle, open_draft(survey, handle, draft.sealed)
    except DraftGone:
        raise CodeNotFound from None


def release_draft(survey: Survey, handle: DraftHandle, sealed: bytes | None) -> None:
    """End the binding between a session and its draft (the quick exit), so that a
    copy of the session cookie taken before leaving opens nothing.

    A draft without a resume code is deleted: its key lived only in the cookie, so
    nothing else could ever reach it. A draft with one is moved to a new id, sealed
    again under the same key (the bytes inside, padding and all, unchanged):
    the resume code still finds it (by its lookup) and opens it (the key is the
    code's), while the cookie's id finds nothing. `sealed` is the draft as this
    request read it; if another tab saved it meanwhile, it is read again. A
    session whose key no longer opens the draft holds no binding to end. Commits.
    """
    draft = {"draft_key": handle.draft_id, "of_survey": survey.id}
    if rows_changed(db.session.execute(_FORGET_UNCODED_DRAFT, draft)) == 1:
        db.session.commit()
        return
    for _ in range(3):
        if sealed is None:
            break
        try:
            plain = crypto.decrypt(handle.key, sealed, _draft_aad(survey, handle.draft_id))
        except crypto.CryptoError:
            break
        new_id = random_id()
        moved = db.session.execute(
            _MOVE_DRAFT_AS_READ,
            {
                **draft,
                "draft_sealed": sealed,
                "new_id": new_id,
                "new_sealed": crypto.encrypt(handle.key, plain, _draft_aad(survey, new_id)),
            },
        )
        if rows_changed(moved) == 1:
            break
        sealed = read_draft(survey, handle.draft_id)
    db.session.commit()


def purge_stale_drafts(today: date | None = None) -> int:
    """Delete drafts nobody can come back to: past the draft lifetime, or
    without a resume code after a week (their key died with the session).
    Runs at a process's first new draft of each week and in the daily `chorus purge`;
    the caller commits."""
    weeks = int(current_app.config["CHORUS_DRAFT_WEEKS"])
    today = today or datetime.now(UTC).date()
    coded_cutoff = iso_week(today - timedelta(weeks=weeks))
    uncoded_cutoff = iso_week(today - timedelta(weeks=1))
    # ISO week strings of the same width sort like the weeks they name.
    result = db.session.execute(
        delete(Draft).where(
            (Draft.saved_week < coded_cutoff)
            | (Draft.resume_lookup.is_(None) & (Draft.saved_week < uncoded_cutoff))
        )
    )
    return rows_changed(result) or 0


# --- walking the survey ---------------------------------------------------------------


def given_answers(definition: SurveyDefinition, state: DraftState) -> dict[str, Any]:
    """Answer values that count for branching (skipped sections don't)."""
    skipped = set(state.skipped_sections)
    skipped_questions = {q.id for s in definition.sections if s.id in skipped for q in s.questions}
    return {
        qid: entry["value"]
        for qid, entry in state.answers.items()
        if "value" in entry and qid not in skipped_questions
    }


def visible_sections(definition: SurveyDefinition, state: DraftState) -> list[Section]:
    sections, _ = visible_sections_and_answers(definition, given_answers(definition, state))
    return sections


def questions_to_show(
    definition: SurveyDefinition, state: DraftState, section: Section
) -> list[Question]:
    _, visible = visible_sections_and_answers(definition, given_answers(definition, state))
    return shown_questions(section, visible)


def questions_on_page(
    definition: SurveyDefinition, state: DraftState, section: Section
) -> list[tuple[Question, bool]]:
    """The questions a section's page holds, each with whether it is shown now.

    Those shown now, and those an answer on this same page could still reveal (a
    condition naming a question on the page): they are on the page but hidden,
    for the page's script to show at once when the answer is chosen. A question
    whose condition names an earlier page is there only if it is shown.
    """
    shown = {q.id for q in questions_to_show(definition, state, section)}
    on_page: list[tuple[Question, bool]] = []
    ids: set[str] = set()
    for question in section.questions:
        revealable = question.show_if is not None and question.show_if.question in ids
        if question.id in shown or revealable:
            on_page.append((question, question.id in shown))
            ids.add(question.id)
    return on_page


def final_answers(definition: SurveyDefinition, state: DraftState) -> dict[str, dict[str, Any]]:
    """Every answerable question's final entry: a value, or one of the three states."""
    given = given_answers(definition, state)
    sections, visible = visible_sections_and_answers(definition, given)
    skipped = set(state.skipped_sections)
    shown: set[str] = set()
    in_skipped_section: set[str] = set()
    for section in sections:
        for question in shown_questions(section, visible):
            shown.add(question.id)
            if section.id in skipped:
                in_skipped_section.add(question.id)
    result: dict[str, dict[str, Any]] = {}
    for question in definition.answerable_questions():
        entry = state.answers.get(question.id)
        if question.id not in shown:
            result[question.id] = {"state": NOT_SHOWN}
        elif question.id in in_skipped_section or entry is None:
            result[question.id] = {"state": SKIPPED}
        else:
            result[question.id] = entry
    return result


# --- submitting and withdrawing ---------------------------------------------------------


def submit(survey: Survey, handle: DraftHandle, receipt_code: str, sealed: bytes | None) -> None:
    """Seal the draft's final answers and put them in the inbox as one response.

    `sealed` is the draft as this request read it (with the survey). It is
    opened with `handle` and sealed; then that very draft is deleted and the
    response put in the inbox together (`_post_in_place_of_draft`): one
    transaction, one commit. If the draft was saved again meanwhile (another
    tab), it is read again and sealed anew. Raises DraftGone if the draft has
    meanwhile been submitted or doesn't open (nothing changes; the caller checks
    `receipt_exists`), and InviteUsed if the invite has already let answers in
    (then the draft is deleted and nothing is stored).
    """
    # Last week's inbox is stored first, in its own transaction (survey/inbox.py).
    inbox.flush_if_due(survey)
    receipt_lookup = crypto.code_lookup(lookup_secret(), "receipt", receipt_code)
    # The survey's largest answers: the top size bucket of its sealed answers, and
    # what every inbox box of the survey makes room for.
    ceiling = padded_answers_size(survey)
    try:
        for _ in range(3):
            state = open_draft(survey, handle, sealed)
            if state.invite_lookup and inbox.invite_spent(state.invite_lookup):
                raise InviteUsed
            response_id = random_id()
            answers = final_answers(definition_of(survey), state)
            response = inbox.SealedResponse(
                id=response_id,
                week=iso_week(),
                format_version=FORMAT_VERSION,
                sealed=seal_answers(survey, response_id, answers, ceiling=ceiling),
            )
            entry = inbox.entry_values(
                survey,
                response,
                receipt_lookup,
                state.invite_lookup,
                sealed_at_most=crypto.SEAL_OVERHEAD + ceiling,
            )
            if _post_in_place_of_draft(survey, handle, sealed, entry):
                db.session.commit()
                return
            db.session.rollback()
            sealed = read_draft(survey, handle.draft_id)
        raise DraftGone  # saved again and again while being sent: let the person retry
    except DraftGone:
        db.session.rollback()
        raise
    except InviteUsed:
        _forget_draft(handle)  # these answers can't be sent
        raise
    except IntegrityError:
        # A unique tag refused the entry: the same receipt (another request of
        # this session won) or the same invite (someone else sent first).
        db.session.rollback()
        if inbox.receipt_held(survey, receipt_lookup):
            raise DraftGone from None
        _forget_draft(handle)
        raise InviteUsed from None


def _post_in_place_of_draft(
    survey: Survey, handle: DraftHandle, sealed: bytes | None, entry: dict[str, object]
) -> bool:
    """Delete the draft if it still holds `sealed` and, only then, insert the inbox
    `entry`; False (nothing changed) if the draft was saved again or is gone.

    On PostgreSQL one statement (the DELETE inside a WITH), so under
    `autocommit_statements` it is its own transaction in one round trip; SQLite
    can't put a DELETE in a WITH, so there the two statements share the session's
    transaction (for SQLite `autocommit_statements` changes nothing).
    """
    stamp = sealed[:_DRAFT_STAMP] if sealed is not None else None
    draft = {"draft_key": handle.draft_id, "of_survey": survey.id, "draft_stamp": stamp}
    if db.session.get_bind().dialect.name == "postgresql":
        posted = db.session.execute(_POST_ENTRY_IN_PLACE_OF_DRAFT, {**draft, **entry})
        return rows_changed(posted) == 1
    if rows_changed(db.session.execute(_TAKE_DRAFT_AS_READ, draft)) != 1:
        return False
    db.session.execute(_POST_ENTRY, entry)
    return True


def _forget_draft(handle: DraftHandle) -> None:
    db.session.execute(delete(Draft).where(Draft.id == handle.draft_id))
    db.session.commit()


def store_response(survey: Survey, answers: dict[str, dict[str, Any]]) -> str:
    """Seal and store final answers directly (synthetic data, benchmarks).

    The same sealing as `submit`; returns the receipt code.
    """
    receipt_code = crypto.generate_code()
    response_id = random_id()
    db.session.add(
        Response(
            id=response_id,
            survey_id=survey.id,
            sealed=seal_answers(survey, response_id, answers),
            receipt_lookup=crypto.code_lookup(lookup_secret(), "receipt", receipt_code),
        )
    )
    return receipt_code


def receipt_exists(survey: Survey, receipt_code: str) -> bool:
    lookup = crypto.code_lookup(lookup_secret(), "receipt", receipt_code)
    return inbox.receipt_held(survey, lookup)


# --- withdrawal ----------------------------------------------------------------------
#
# A response can be withdrawn until a published version of the report counts it
# (`Response.counted`, set by admin/reports/publish.py): answers sent after a
# version can still be withdrawn until the next one. So what a page may promise
# depends on the survey, never on anyone's answers:


class WithdrawalState(enum.StrEnum):
    # No version yet: answers can be withdrawn until the first report is published.
    FIRST = "first"
    # A version is out: answers it didn't count can be withdrawn until the next one.
    NEXT = "next"
    # A version was published after the survey closed: it counts every answer.
    ENDED = "ended"


def withdrawal_state(survey: Survey) -> WithdrawalState:
    if survey.withdrawal_ended:
        return WithdrawalState.ENDED
    if survey.report_published_week is None:
        return WithdrawalState.FIRST
    return WithdrawalState.NEXT


def withdrawal_open(survey: Survey) -> bool:
    """Whether some answers of this survey may still be withdrawn."""
    return withdrawal_state(survey) is not WithdrawalState.ENDED


class AlreadyCounted(Exception):
    """The response is in a published version of the report: it can't be withdrawn."""


def find_receipt(survey: Survey, typed: str) -> None:
    """CodeNotFound unless a response of this survey has this receipt code;
    AlreadyCounted if a published version counts it."""
    if not crypto.is_well_formed_code(typed):
        raise CodeNotFound
    lookup = crypto.code_lookup(lookup_secret(), "receipt", typed)
    if inbox.receipt_counted(survey, lookup):
        raise AlreadyCounted
    if not inbox.receipt_held(survey, lookup):
        raise CodeNotFound


def withdraw(survey: Survey, typed: str) -> None:
    """Delete the response a receipt code belongs to; CodeNotFound if there is
    none, AlreadyCounted (nothing deleted) if a published version counts it."""
    if not crypto.is_well_formed_code(typed):
        raise CodeNotFound
    lookup = crypto.code_lookup(lookup_secret(), "receipt", typed)
    deleted = inbox.delete_by_receipt(survey, lookup)
    db.session.commit()
    if deleted != 1:
        if inbox.receipt_counted(survey, lookup):
            raise AlreadyCounted
        raise CodeNotFound
