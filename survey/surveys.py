"""What can be done to a survey: import, open, close, read back, invite.

Plain functions over models, called by the CLI now and by the staff side next;
none of them knows about requests or pages.
"""

from __future__ import annotations

import hmac
import json
import secrets
from collections.abc import Callable, Mapping, Sequence
from importlib import resources
from typing import TypeVar

from sqlalchemy import func, select

from survey import crypto, inbox
from survey.config import app_subkey
from survey.definition import (
    SLUG_RE,
    MissingText,
    SurveyDefinition,
    localize,
    missing_translations,
    parse_definition,
)
from survey.i18n import language_label
from survey.lru import LruCache
from survey.models import (
    InviteCode,
    Role,
    Survey,
    SurveyKeyWrap,
    SurveyStatus,
    User,
    db,
    definition_digest,
)

RECOVERY_HOLDER = "recovery"

TEMPLATE_NAME = "product-risk-consultation.json"


def bundled_template_text() -> str:
    """The bundled "Product-risk consultation" definition (survey/bundled/)."""
    return resources.files("survey").joinpath("bundled", TEMPLATE_NAME).read_text("utf-8")


class SurveyError(Exception):
    """An operation that can't be done; the message says why, for a person."""


def lookup_secret() -> bytes:
    """The sub-key of the app secret that turns codes into lookups."""
    return app_subkey("chorus-code-lookup/1")


# Parsed definitions, per survey version: (survey id, SHA-256 of its JSON). The
# digest is read with the survey's row (`Survey.definition_sha256`), so a
# definition that changed, here or in another process, has another key and is
# never answered from here; an entry is stored under the digest of the very JSON
# it was parsed from. The most recently used 64 versions are kept.
parsed_definitions: LruCache[tuple[int, str], SurveyDefinition] = LruCache(64)


def definition_of(survey: Survey) -> SurveyDefinition:
    """The survey's parsed definition: read and parsed once per process and version.

    On a miss the JSON is read (a respondent's page leaves it in the database)
    and parsed, and kept under its own digest.
    """
    found = parsed_definitions.get((survey.id, survey.definition_sha256))
    if found is not None:
        return found
    document = survey.definition_json
    definition = parse_definition(json.loads(document))
    if survey.id is not None:
        parsed_definitions.put((survey.id, definition_digest(document)), definition)
    return definition


Worked = TypeVar("Worked")


def per_definition(
    cache: LruCache[tuple[int, str], Worked],
    survey: Survey,
    work: Callable[[SurveyDefinition], Worked],
) -> Worked:
    """`work` done on the survey's definition once per process and definition
    version, kept in `cache` (a survey not stored yet, without an id, isn't kept)."""
    key = (survey.id, survey.definition_sha256)
    found = cache.get(key)
    if found is None:
        found = work(definition_of(survey))
        if survey.id is not None:
            cache.put(key, found)
    return found


def find_survey(slug: str) -> Survey | None:
    """The survey with this slug; None for anything that can't be a slug (a
    typed address may hold any bytes, and PostgreSQL refuses some, like NUL)."""
    if not SLUG_RE.fullmatch(slug):
        return None
    return db.session.scalar(select(Survey).where(Survey.slug == slug))


def import_definition(definition: SurveyDefinition) -> Survey:
    """Store a new draft survey, or replace the definition of a draft without responses."""
    survey = find_survey(definition.slug)
    document = json.dumps(definition.to_dict(), ensure_ascii=False, sort_keys=False)
    title = localize(definition.title, definition.default_language, definition.default_language)
    if survey is None:
        survey = Survey(slug=definition.slug, title=title, definition_json=document)
        db.session.add(survey)
    else:
        if survey.status != SurveyStatus.DRAFT.value:
            raise SurveyError(
                f'"{survey.slug}" is {survey.status}: its questions can\'t change. '
                "Import it under a new slug to make a new version."
            )
        if response_count(survey):
            raise SurveyError(f'"{survey.slug}" has responses: its questions can\'t change.')
        survey.definition_json = document
        survey.title = title
    db.session.commit()
    return survey


# --- keys: making them, the key sheet, opening -------------------------------------------

CUSTODIAN_PREFIX = "custodian:"
# How many groups of the recovery code a facilitator re-types to show the sheet was kept.
KEY_SHEET_CHECK_GROUPS = 2


def custodian_holder(user: User) -> str:
    return f"{CUSTODIAN_PREFIX}{user.id}"


# Said wherever the opener is refused the key: they have seen the recovery code.
OPENER_CANT_HOLD_KEY = (
    "The person who opens a survey sees its recovery code, so someone else must hold its key."
)


def _wrap_for(survey: Survey, user: User) -> SurveyKeyWrap | None:
    return next((w for w in survey.key_wraps if w.user_id == user.id), None)


def custodian_wrap(survey: Survey, user: User) -> SurveyKeyWrap | None:
    """The user's grant of this survey's key, if they hold one (a restore still
    waiting for approval is not a grant)."""
    wrap = _wrap_for(survey, user)
    return wrap if wrap is not None and not wrap.pending else None


def pending_restore(survey: Survey, user: User) -> SurveyKeyWrap | None:
    """The user's restore with the recovery code, while it waits for approval."""
    wrap = _wrap_for(survey, user)
    return wrap if wrap is not None and wrap.pending else None


def is_opener(survey: Survey, user: User) -> bool:
    """Whether this person made the survey's keys and so saw its recovery code."""
    return survey.opened_by_id is not None and survey.opened_by_id == user.id


def custodians_of(survey: Survey) -> list[User]:
    """The people holding a grant of the survey's key, by email."""
    return sorted(
        (w.user for w in survey.key_wraps if w.user and not w.pending), key=lambda u: u.email
    )


def can_be_custodian(user: User) -> str | None:
    """Why this account can't hold survey keys, or None when it can."""
    if not user.has_role(Role.ANALYST):
        return f"{user.email} is not an analyst."
    if not user.active:
        return f"{user.email}'s account is switched off."
    if user.custodian_public_key is None:
        return f"{user.email} has no key yet: they get one when they next sign in."
    return None


def opener_refused(survey: Survey, user: User) -> str | None:
    """Why this person can't be given the survey's key because they opened it, or None.

    Whoever opened the survey saw its recovery code on the key sheet; holding a
    grant as well would let them read the answers on their own say-so.
    """
    if not is_opener(survey, user):
        return None
    return (
        f"{user.email} opened this survey and saw its recovery code, so they can't "
        "hold its key: choose another analyst."
    )


def grant_key(survey: Survey, private_key: bytes, user: User, *, pending: bool = False) -> None:
    """Seal the survey's private key to a custodian's own public key (no commit).

    A `pending` grant (a restore with the recovery code) opens nothing until an
    admin approves it. Nobody who opened the survey is ever given it, whichever
    path asks (opening, a custodian's grant, a restore).
    """
    problem = can_be_custodian(user) or opener_refused(survey, user)
    if problem:
        raise SurveyError(problem)
    if pending_restore(survey, user) is not None:
        raise SurveyError(
            f"{user.email} has asked to restore access with the recovery code: "
            "an admin must approve or refuse that first."
        )
    if custodian_wrap(survey, user) is not None:
        raise SurveyError(f"{user.email} already holds this survey's key.")
    assert user.custodian_public_key is not None
    holder = custodian_holder(user)
    survey.key_wraps.append(
        SurveyKeyWrap(
            holder=holder,
            salt=b"",
            user=user,
            pending=pending,
            wrapped_key=crypto.seal_key(
                user.custodian_public_key, private_key, crypto.wrap_aad(survey.id, holder)
            ),
        )
    )


def require_support_services(survey: Survey) -> None:
    """Refuse (SurveyError) to open a survey whose pages would name nobody to turn to.

    Every respondent page shows the survey's support services under "If you need
    support"; a survey without any would show nothing there, so it can't open.
    """
    if definition_of(survey).support:
        return
    problem = (
        f'"{survey.slug}" has no support services, so its pages would show no one to '
        'turn to under "If you need support". '
    )
    if survey.status == SurveyStatus.DRAFT.value:
        raise SurveyError(
            problem + "Add at least one before opening it: in the builder, under the "
            'survey\'s settings ("Support services", which offers a starting list to '
            'choose from), or as "support" in its definition file, imported again '
            "with `chorus survey import FILE`."
        )
    raise SurveyError(
        problem + "Its definition can't change any more: copy it into a new version, "
        "add support services there and open that."
    )


def untranslated_texts(survey: Survey) -> list[MissingText]:
    """The texts of `survey` that one of its languages has no words for (definition.py,
    `missing_translations`), for the builder's list and the opening pages."""
    return missing_translations(definition_of(survey))


def untranslated_problem(survey: Survey) -> str | None:
    """What keeps a survey from opening because texts lack a language (None: nothing).

    A survey in several languages shows a text without a translation in its default
    language to everyone who chose another: on an Arabic page, English words running
    the wrong way. Each missing text is named, with its language, so the facilitator
    can fill it in.
    """
    missing = untranslated_texts(survey)
    if not missing:
        return None
    default = language_label(definition_of(survey).default_language)
    lines = "\n".join(f"- {item}" for item in missing)
    return (
        f'"{survey.slug}" can\'t open yet: {len(missing)} of its texts have no words in '
        f"one of its languages, so people who choose that language would read them in "
        f"{default}. Translate them first, in the builder (the box for that language "
        "beside each text), or in its definition file, imported again with "
        f"`chorus survey import FILE`:\n{lines}"
    )


def require_translations(survey: Survey) -> None:
    """Refuse (SurveyError) to open a draft whose texts aren't all in every one of its
    languages (`untranslated_problem` names them). A closed survey reopens as it was:
    its definition can't change any more."""
    if survey.status != SurveyStatus.DRAFT.value:
        return
    problem = untranslated_problem(survey)
    if problem:
        raise SurveyError(problem)


def prepare_keys(
    survey: Survey,
    custodians: Sequence[User],
    *,
    sheet_check: bool = True,
    opener: User | None = None,
) -> str:
    """Make a draft survey's key pair; return its recovery code (shown once).

    The private key is sealed to every custodian and wrapped under the recovery
    code, then forgotten. With `sheet_check` the survey can't open until someone
    re-types two groups of the code (`confirm_key_sheet`): proof the sheet was
    kept. Doing this again before opening replaces the keys and the sheet.

    `opener` is the person who will see the code (None from the command line,
    whose operator the audit log names): they can't be among the custodians,
    and the survey remembers them so they can't restore with the code either.
    """
    if survey.status != SurveyStatus.DRAFT.value:
        raise SurveyError(f'"{survey.slug}" is {survey.status}: its keys were made when it opened.')
    # Refused before any key is made, so no key sheet is printed for nothing.
    require_support_services(survey)
    require_translations(survey)
    if not custodians:
        raise SurveyError(
            "Choose at least one person who can unlock the answers (a key custodian): "
            "an analyst who will read them."
        )
    if opener is not None and any(user.id == opener.id for user in custodians):
        raise SurveyError(OPENER_CANT_HOLD_KEY)
    for user in custodians:
        problem = can_be_custodian(user)
        if problem:
            raise SurveyError(problem)
    # Old wraps go first: the new ones reuse their (survey, holder) names.
    survey.key_wraps.clear()
    db.session.flush()
    private_key, public_key = crypto.generate_survey_keypair()
    recovery_code = crypto.generate_code(crypto.RECOVERY_CODE_CHARS)
    salt = secrets.token_bytes(16)
    wrapping_key = crypto.recovery_wrapping_key(recovery_code, salt)
    survey.public_key = public_key
    survey.opened_by_id = opener.id if opener is not None else None
    survey.key_wraps.append(
        SurveyKeyWrap(
            holder=RECOVERY_HOLDER,
            salt=salt,
            wrapped_key=crypto.encrypt(
                wrapping_key, private_key, crypto.wrap_aad(survey.id, RECOVERY_HOLDER)
            ),
        )
    )
    for user in custodians:
        grant_key(survey, private_key, user)
    del private_key, wrapping_key
    survey.recovery_check = None
    if sheet_check:
        every_group = range(1, crypto.RECOVERY_CODE_CHARS // 4 + 1)
        groups = sorted(secrets.SystemRandom().sample(every_group, KEY_SHEET_CHECK_GROUPS))
        parts = recovery_code.split("-")
        typed = {n: parts[n - 1] for n in groups}
        survey.recovery_check = json.dumps({"groups": groups, "lookup": _sheet_lookup(typed)})
    db.session.commit()
    return recovery_code


def _sheet_lookup(groups: Mapping[int, str]) -> str:
    text = " ".join(f"{n}:{crypto.normalise_code(groups[n])}" for n in sorted(groups))
    return crypto.code_lookup(lookup_secret(), "key-sheet", text)


def key_sheet_groups(survey: Survey) -> list[int] | None:
    """Which groups of the recovery code must be re-typed, or None if none are due."""
    if survey.recovery_check is None:
        return None
    return list(json.loads(survey.recovery_check)["groups"])


def confirm_key_sheet(survey: Survey, typed: Mapping[int, str]) -> None:
    """Check the re-typed groups of the recovery code; SurveyError if they are wrong."""
    groups = key_sheet_groups(survey)
    if groups is None:
        raise SurveyError(f'"{survey.slug}" has no key sheet waiting to be confirmed.')
    given = {n: typed.get(n, "") for n in groups}
    if not all(crypto.is_well_formed_code(g, 4) for g in given.values()):
        raise SurveyError("Type each group as it is on the key sheet: 4 letters or numbers.")
    expected = json.loads(survey.recovery_check or "{}")["lookup"]
    if not hmac.compare_digest(_sheet_lookup(given), expected):
        raise SurveyError(
            "Those groups don't match the key sheet. Check them against the printed sheet; "
            "if the sheet is lost, make new keys and print a new one."
        )
    survey.recovery_check = None
    db.session.commit()


def open_survey(survey: Survey) -> None:
    """Open a draft whose keys are made (and key sheet confirmed), or reopen a closed one."""
    if survey.status == SurveyStatus.OPEN.value:
        raise SurveyError(f'"{survey.slug}" is already open.')
    if survey.status == SurveyStatus.ARCHIVED.value:
        raise SurveyError(f'"{survey.slug}" is archived and can\'t be opened again.')
    if survey.public_key is None:
        raise SurveyError(
            f'"{survey.slug}" has no keys yet: choose who can unlock its answers '
            "and print its key sheet first."
        )
    if survey.recovery_check is not None:
        raise SurveyError(f'"{survey.slug}" can\'t open until its key sheet is confirmed.')
    require_support_services(survey)
    require_translations(survey)
    survey.status = SurveyStatus.OPEN.value
    # New answers can come in, and each can be withdrawn until a version counts it.
    survey.withdrawal_ended = False
    db.session.commit()


def close_survey(survey: Survey) -> None:
    """Close a survey, then store every answer waiting in its inbox in one
    shuffled batch (see survey/inbox.py; the daily job catches any late one)."""
    if survey.status != SurveyStatus.OPEN.value:
        raise SurveyError(f'"{survey.slug}" is {survey.status}, not open.')
    survey.status = SurveyStatus.CLOSED.value
    db.session.commit()
    inbox.flush_inbox(survey, everything=True)


def archive_survey(survey: Survey) -> None:
    """A closed (or never opened) survey is put away: it can't open again."""
    if survey.status not in (SurveyStatus.CLOSED.value, SurveyStatus.DRAFT.value):
        raise SurveyError(f'"{survey.slug}" is {survey.status}: close it before archiving.')
    survey.status = SurveyStatus.ARCHIVED.value
    survey.recovery_check = None
    db.session.commit()
    inbox.flush_inbox(survey, everything=True)


# --- reading the key back ---------------------------------------------------------------


def unwrap_with_recovery_code(survey: Survey, recovery_code: str) -> bytes:
    """The survey's private key, from its recovery code; SurveyError if wrong."""
    wrap = next((w for w in survey.key_wraps if w.holder == RECOVERY_HOLDER), None)
    if wrap is None:
        raise SurveyError(f'"{survey.slug}" has no recovery key: it has never been opened.')
    if not crypto.is_well_formed_code(recovery_code, crypto.RECOVERY_CODE_CHARS):
        raise SurveyError("That is not a recovery code: it should have 28 letters and numbers.")
    key = crypto.recovery_wrapping_key(recovery_code, wrap.salt)
    try:
        private_key = crypto.decrypt(key, wrap.wrapped_key, crypto.wrap_aad(survey.id, wrap.holder))
    except crypto.CryptoError:
        raise SurveyError("That recovery code does not open this survey.") from None
    return _checked(survey, private_key)


def custodian_private_key(user: User, password: str) -> bytes:
    """A custodian's own private key, from their password; SurveyError if wrong."""
    if not (user.custodian_key_sealed and user.custodian_key_salt and user.custodian_key_kdf):
        raise SurveyError(f"{user.email} has no custodian key.")
    try:
        return crypto.open_custodian_key(
            user.id,
            user.custodian_key_sealed,
            user.custodian_key_salt,
            password,
            crypto.PasswordCost.from_text(user.custodian_key_kdf),
        )
    except crypto.CryptoError:
        raise SurveyError("That password does not open your key.") from None


def unwrap_with_password(survey: Survey, user: User, password: str) -> bytes:
    """The survey's private key through a custodian's grant; SurveyError if it can't."""
    if pending_restore(survey, user) is not None:
        raise SurveyError(
            f"{user.email}'s restore of \"{survey.slug}\" is waiting for an admin's approval: "
            "it opens nothing until then."
        )
    wrap = custodian_wrap(survey, user)
    if wrap is None:
        raise SurveyError(f'{user.email} holds no key for "{survey.slug}".')
    own_key = custodian_private_key(user, password)
    try:
        private_key = crypto.open_key(
            own_key, wrap.wrapped_key, crypto.wrap_aad(survey.id, wrap.holder)
        )
    except crypto.CryptoError:
        raise SurveyError(
            f'{user.email}\'s grant for "{survey.slug}" no longer opens: ask someone else '
            "who holds the key to give it to you again."
        ) from None
    return _checked(survey, private_key)


def _checked(survey: Survey, private_key: bytes) -> bytes:
    if crypto.public_key_for(private_key) != survey.public_key:
        raise SurveyError("The stored key does not match this survey's public key.")
    return private_key


def response_count(survey: Survey) -> int:
    """Responses stored and waiting in the inbox: every answer sent counts.

    For deciding (whether a definition may still change), never for showing: a
    staff page shows `survey.stored.stored_count`, which moves only at the weekly
    flush, so that nobody can watch a single person respond.
    """
    return inbox.response_count(survey)


def create_invite_codes(survey: Survey, count: int) -> list[str]:
    """New single-use invite codes; only their lookups are stored."""
    if not 1 <= count <= 10_000:
        raise SurveyError("Make between 1 and 10000 invite codes at a time.")
    secret = lookup_secret()
    codes = [crypto.generate_code() for _ in range(count)]
    db.session.add_all(
        InviteCode(lookup=crypto.code_lookup(secret, "invite", code), survey_id=survey.id)
        for code in codes
    )
    db.session.commit()
    return codes


def invite_counts(survey: Survey) -> tuple[int, int]:
    """(issued, used) invite codes for a survey.

    An invite is marked used only by the weekly flush of the inbox (or at
    close), so this count moves once a week, for the whole week's responses:
    no one can watch it to see a single person respond.
    """
    rows = db.session.execute(
        select(InviteCode.used, func.count())
        .where(InviteCode.survey_id == survey.id)
        .group_by(InviteCode.used)
    ).all()
    counts = {bool(used): n for used, n in rows}
    return counts.get(False, 0) + counts.get(True, 0), counts.get(True, 0)
