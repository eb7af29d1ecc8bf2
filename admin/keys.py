"""Key custody: analysts' own keys, grants of survey keys, unlock sessions, recovery.

Every analyst has an X25519 key pair whose private half is stored only under
argon2id(their password). A survey's private key is sealed to each custodian's
public key and wrapped under the survey's recovery code (survey.surveys does the
sealing and unwrapping; this module keeps analysts' keys in step with their
passwords and serves the custody pages).

An admin who resets a password can't know the old one, so the analyst's old
private key is gone for good: their grants are deleted and they get a new key.
Another custodian, or the recovery code, grants the surveys again.
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from survey import crypto
from survey.config import password_cost
from survey.models import Role, SurveyKeyWrap, User, db
from survey.surveys import SurveyError, custodian_private_key


def _store(user: User, key: crypto.CustodianKey) -> None:
    user.custodian_public_key = key.public_key
    user.custodian_key_sealed = key.sealed_private_key
    user.custodian_key_salt = key.salt


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
    return lost


def reset_custodian_key(user: User, new_password: str) -> list[str]:
    """After an admin's password reset: a new key pair, and every old grant gone.

    Returns the slugs of the surveys whose grants were lost (no commit).
    """
    lost = forget_custodian_key(user)
    give_custodian_key(user, new_password)
    return lost
