"""Key custody: analysts' own keys, grants of survey keys, unlock sessions, recovery.

Every analyst has an X25519 key pair whose private half is stored only under
argon2id(their password). A survey's private key is sealed to each custodian's
public key and wrapped under the survey's recovery code (survey.surveys does the
sealing and unwrapping; this module keeps analysts' keys in step with their
passwords and serves the custody pages).

An admin who resets a password can't know the old one, so the analyst's old
private key is gone for good: their grants are deleted and they get a new key.
Another custodian, or the recovery code with a second person's approval (see
"restoring with the recovery code" below), grants the surveys again.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import NamedTuple

from flask import (
    current_app,
)
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from admin.custody.unlock import keep_unlocked, unlocked_key
from survey import crypto
from survey.config import password_cost
from survey.events import announce
from survey.models import AuditEntry, Role, Survey, SurveyKeyWrap, User, db
from survey.surveys import (
    SurveyError,
    can_be_custodian,
    custodian_private_key,
    custodian_wrap,
    custodians_of,
    grant_key,
    is_opener,
    opener_refused,
    pending_restore,
    unwrap_with_password,
    unwrap_with_recovery_code,
)


def _store(user: User, key: crypto.CustodianKey) -> None:
    user.custodian_public_key = key.public_key
    user.custodian_key_sealed = key.sealed_private_key
    user.custodian_key_salt = key.salt
    user.custodian_key_kdf = key.cost.to_text()


def give_custodian_key(user: User, password: str) -> bool:
    """Make an analyst's key pair if they have none (no commit); True if one was made.

    Called wherever the password is in hand: account creation and sign-in.
    """
    if not user.has_role(Role.ANALYST) or user.custodian_public_key is not None:
        return False
    if user.id is None:
        db.session.flush()
    _store(user, crypto.new_custodian_key(user.id, password, password_cost(current_app.config)))
    return True


def refresh_custodian_key(user: User, password: str) -> bool:
    """At sign-in: store the key under today's argon2 settings if they changed (no
    commit); True if it was re-stored. The key pair and every grant stay the same."""
    cost = password_cost(current_app.config)
    if user.custodian_key_kdf in (None, cost.to_text()):
        return False
    try:
        private_key = custodian_private_key(user, password)
    except SurveyError:
        return False
    _store(user, crypto.store_custodian_key(user.id, private_key, password, cost))
    return True


def rewrap_custodian_key(user: User, old_password: str, new_password: str) -> None:
    """Store the custodian's private key under their new password (no commit).

    Grants stay valid: they are sealed to the public key, which doesn't change.
    """
    if user.custodian_key_sealed is None:
        give_custodian_key(user, new_password)
        return
    try:
        private_key = custodian_private_key(user, old_password)
    except SurveyError:
        # The stored key no longer matches the password (it can't happen through
        # Chorus); the key is lost either way, so start again as a reset would.
        forget_custodian_key(user)
        give_custodian_key(user, new_password)
        return
    _store(
        user,
        crypto.store_custodian_key(
            user.id, private_key, new_password, password_cost(current_app.config)
        ),
    )


def forget_custodian_key(user: User) -> list[str]:
    """Delete an analyst's key pair and every grant sealed to it (no commit).

    Returns the slugs of the surveys whose grants were lost.
    """
    wraps = db.session.scalars(
        select(SurveyKeyWrap)
        .where(SurveyKeyWrap.user_id == user.id)
        .options(joinedload(SurveyKeyWrap.survey))
    ).all()
    lost = sorted(w.survey.slug for w in wraps)
    for wrap in wraps:
        wrap.survey.key_wraps.remove(wrap)
    user.custodian_public_key = None
    user.custodian_key_sealed = None
    user.custodian_key_salt = None
    user.custodian_key_kdf = None
    return lost


def reset_custodian_key(user: User, new_password: str) -> list[str]:
    """After an admin's password reset: a new key pair, and every old grant gone.

    Returns the slugs of the surveys whose grants were lost (no commit).
    """
    lost = forget_custodian_key(user)
    give_custodian_key(user, new_password)
    return lost


# --- custody operations, for the pages below ---------------------------------------------


def unlock(survey: Survey, user: User, password: str) -> None:
    """Unlock with the analyst's own password (SurveyError if it can't)."""
    keep_unlocked(survey, user, unwrap_with_password(survey, user, password))
    announce("custody.unlock", user.email, survey.slug)


# --- restoring with the recovery code: a second person approves ---------------------------
#
# The recovery code opens the survey's key on its own, and whoever opened the
# survey has seen it. So an analyst who types it gets a grant that is made at
# once (the server holds the key only now, while it has the code) but pending:
# it opens nothing until an admin who is neither the analyst nor the survey's
# opener approves it. Refusing deletes it. Every step is audited, and the
# survey's custodians see the requests and their outcome on its key page.

RESTORE_ACTIONS = (
    "custody.restore_requested",
    "custody.restore_approved",
    "custody.restore_refused",
)


def request_restore(survey: Survey, user: User, recovery_code: str) -> None:
    """A pending grant of the survey's key to this analyst, made from the recovery code."""
    if is_opener(survey, user):
        raise SurveyError(
            "You opened this survey and saw its recovery code, so you can't also restore "
            "access with it: another analyst must."
        )
    if pending_restore(survey, user) is not None:
        raise SurveyError("Your restore is already waiting for an admin's approval.")
    if custodian_wrap(survey, user) is not None:
        raise SurveyError("You already hold this survey's key: unlock it with your password.")
    private_key = unwrap_with_recovery_code(survey, recovery_code)
    grant_key(survey, private_key, user, pending=True)
    del private_key
    db.session.commit()
    announce("custody.restore_requested", user.email, survey.slug)


def pending_restores() -> list[SurveyKeyWrap]:
    """Every restore waiting for an admin's approval, oldest first."""
    return list(
        db.session.scalars(
            select(SurveyKeyWrap)
            .where(SurveyKeyWrap.pending.is_(True))
            .options(joinedload(SurveyKeyWrap.survey), joinedload(SurveyKeyWrap.user))
            .order_by(SurveyKeyWrap.id)
        )
    )


def check_may_decide(wrap: SurveyKeyWrap, admin: User) -> None:
    """SurveyError unless this admin is a second person for this restore."""
    if not wrap.pending:
        raise SurveyError("That restore has already been decided.")
    if wrap.user_id == admin.id:
        raise SurveyError("You can't decide your own restore: another admin must.")
    if is_opener(wrap.survey, admin):
        raise SurveyError(
            "You opened this survey and saw its recovery code, so another admin must decide."
        )


def approve_restore(wrap: SurveyKeyWrap, admin: User) -> None:
    """A second person agrees: the pending grant becomes an ordinary one."""
    check_may_decide(wrap, admin)
    wrap.pending = False
    db.session.commit()
    holder = wrap.user.email if wrap.user else ""
    announce("custody.restore_approved", admin.email, wrap.survey.slug, holder=holder)


def refuse_restore(wrap: SurveyKeyWrap, admin: User) -> None:
    """A second person says no: the pending grant is deleted."""
    check_may_decide(wrap, admin)
    survey = wrap.survey
    holder = wrap.user.email if wrap.user else ""
    survey.key_wraps.remove(wrap)
    db.session.commit()
    announce("custody.restore_refused", admin.email, survey.slug, holder=holder)


class RestoreEvent(NamedTuple):
    at: datetime
    text: str


def restore_history(survey: Survey, limit: int = 20) -> list[RestoreEvent]:
    """The survey's restore requests and their outcomes, newest first, as the
    audit log recorded them."""
    entries = db.session.scalars(
        select(AuditEntry)
        .where(AuditEntry.target == survey.slug, AuditEntry.action.in_(RESTORE_ACTIONS))
        .order_by(AuditEntry.id.desc())
        .limit(limit)
    )
    events = []
    for entry in entries:
        holder = json.loads(entry.details or "{}").get("holder", "")
        if entry.action == "custody.restore_requested":
            text = f"{entry.actor} asked to restore access with the recovery code"
        elif entry.action == "custody.restore_approved":
            text = f"{holder}'s restore approved by {entry.actor}"
        else:
            text = f"{holder}'s restore refused by {entry.actor}"
        events.append(RestoreEvent(entry.at, text))
    return events


def grant(survey: Survey, granter: User, grantee: User) -> None:
    """An unlocked custodian seals the survey's key to another analyst."""
    private_key = unlocked_key(survey, granter)
    if private_key is None:
        raise SurveyError("Unlock the survey first: granting needs its key.")
    if grantee.id == granter.id:
        raise SurveyError("You can't give the key to yourself: choose another analyst.")
    refused = opener_refused(survey, grantee)
    if refused:
        # Recorded: someone tried to make the person who saw the key sheet a custodian.
        announce("custody.grant_refused", granter.email, survey.slug, to=grantee.email)
        raise SurveyError(refused)
    grant_key(survey, private_key, grantee)
    db.session.commit()
    announce("custody.grant", granter.email, survey.slug, to=grantee.email)


def revoke(survey: Survey, actor: User, holder: User) -> None:
    """Remove a custodian's grant; the last custodian's can't be removed."""
    wrap = custodian_wrap(survey, holder)
    if wrap is None:
        raise SurveyError(f'{holder.email} holds no key for "{survey.slug}".')
    if len(custodians_of(survey)) == 1:
        raise SurveyError(
            "At least one person must be able to unlock the answers. "
            "Give the key to someone else first."
        )
    survey.key_wraps.remove(wrap)
    db.session.commit()
    announce("custody.revoke", actor.email, survey.slug, holder=holder.email)


def eligible_custodians() -> list[User]:
    """Analysts, by email, for choosing custodians (with `can_be_custodian` reasons;
    `grantees` leaves out those a survey's custodian can't give its key to)."""
    users = db.session.scalars(select(User).order_by(User.email)).all()
    return [u for u in users if u.has_role(Role.ANALYST)]


def grantees(survey: Survey) -> list[User]:
    """The analysts a custodian of this survey may give its key to: not those who
    hold it or wait for a restore, not the survey's opener, and only those who can
    hold keys at all (`grant` refuses the same people, whatever a form sends)."""
    holders = {u.id for u in custodians_of(survey)}
    waiting = {w.user_id for w in survey.key_wraps if w.pending}
    return [
        u
        for u in eligible_custodians()
        if u.id not in holders
        and u.id not in waiting
        and can_be_custodian(u) is None
        and opener_refused(survey, u) is None
    ]
