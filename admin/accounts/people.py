"""People and organisations: the admin's account-management operations and pages.

The operations are plain functions that take models and an actor (an admin's
email, or `cli:<user>` from the command line) and return what the person doing
it needs to be told; the views below only translate HTTP. Each operation
commits and announces itself, so the web page and `chorus user ...` leave the
same trail in the audit log. Nothing secret (a password, a code) ever goes into
an announcement's details.

An admin can't know an analyst's old password, so resetting it loses that
analyst's key grants for good (admin/custody/keys.py explains why); every place that
does so names the surveys, so someone can grant them again.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from admin.accounts.passwords import (
    forget_wrong_passwords,
    generate_password,
    hash_password,
    normalise_email,
    password_problem,
)
from admin.accounts.sign_in import AccountError, create_user, end_all_staff_sessions
from admin.custody.keys import forget_custodian_key, reset_custodian_key
from survey.events import announce
from survey.models import Organisation, Role, Survey, SurveyKeyWrap, User, db, utcnow

MAX_ORGANISATION_NAME = 200
MAX_ROW_ID = 2**31 - 1  # PostgreSQL's INTEGER


class FormProblem(AccountError):
    """Something typed into a form that can't be used; `field` is the input's id."""

    def __init__(self, message: str, field: str):
        super().__init__(message)
        self.field = field


class Refused(AccountError):
    """An operation the account's (or organisation's) current state doesn't allow."""


# --- accounts --------------------------------------------------------------------------


@dataclass(frozen=True)
class PasswordReset:
    """A reset's outcome: the one-time password (shown once) and the lost grants."""

    password: str
    grants_lost: list[str] = field(default_factory=list)


def all_accounts() -> list[User]:
    return list(
        db.session.scalars(
            select(User).options(selectinload(User.organisation)).order_by(User.email)
        )
    )


def find_account(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def granted_surveys(user: User) -> list[str]:
    """Slugs of the surveys whose key is granted to this account."""
    return list(
        db.session.scalars(
            select(Survey.slug)
            .join(SurveyKeyWrap, SurveyKeyWrap.survey_id == Survey.id)
            .where(SurveyKeyWrap.user_id == user.id)
            .order_by(Survey.slug)
        )
    )


def is_locked(user: User) -> bool:
    until = user.locked_until
    if until is None:
        return False
    if until.tzinfo is None:  # SQLite hands back naive datetimes, stored in UTC
        until = until.replace(tzinfo=utcnow().tzinfo)
    return until > utcnow()


def _roles_from(names: list[str]) -> list[Role]:
    try:
        roles = sorted({Role(name) for name in names})
    except ValueError:
        raise FormProblem("Choose roles from the list.", "role-admin") from None
    if not roles:
        raise FormProblem("Choose at least one role.", "role-admin")
    return roles


def _organisation_for(roles: list[Role], organisation_id: int | None) -> Organisation | None:
    """A company reader needs exactly one (existing) organisation; others none."""
    if Role.COMPANY not in roles:
        if organisation_id is not None:
            raise FormProblem(
                "Only company readers belong to an organisation: choose “No organisation”, "
                "or tick “Company reader”.",
                "organisation",
            )
        return None
    if organisation_id is None:
        raise FormProblem("A company reader needs an organisation: choose one.", "organisation")
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None:
        raise FormProblem("Choose an organisation from the list.", "organisation")
    return organisation


def create_account(
    email: str, role_names: list[str], organisation_id: int | None, actor: str
) -> tuple[User, str]:
    """A new account with a one-time password (returned, to be shown once)."""
    email = normalise_email(email)
    if not email:
        raise FormProblem("Enter an email address.", "email")
    roles = _roles_from(role_names)
    organisation = _organisation_for(roles, organisation_id)
    password = generate_password()
    try:
        user = create_user(email, roles, password, organisation.name if organisation else None)
    except AccountError as exc:
        db.session.rollback()
        raise FormProblem(str(exc), "email") from None
    announce(
        "user.create",
        actor,
        user.email,
        roles=user.roles,
        org=organisation.name if organisation else "",
    )
    return user, password


def change_roles(
    user: User, role_names: list[str], organisation_id: int | None, actor: str
) -> list[str]:
    """Set an account's roles and organisation; returns surveys whose grants were lost.

    Nobody adds a role to their own account (an admin who made themselves an
    analyst could be granted survey keys), nor removes their own admin role.
    Losing the analyst role deletes the analyst's key and every grant sealed to it:
    a former analyst must not keep the means to read answers.
    """
    roles = _roles_from(role_names)
    if actor == user.email and not set(roles) <= user.role_set:
        raise FormProblem(
            "You can't give yourself a role: ask another admin to do it.", "role-admin"
        )
    organisation = _organisation_for(roles, organisation_id)
    if actor == user.email and user.has_role(Role.ADMIN) and Role.ADMIN not in roles:
        raise FormProblem(
            "You can't remove your own admin role: ask another admin to do it.", "role-admin"
        )
    before = user.roles
    before_org = user.organisation.name if user.organisation else ""
    lost: list[str] = []
    if user.has_role(Role.ANALYST) and Role.ANALYST not in roles:
        lost = forget_custodian_key(user)
    user.roles = " ".join(r.value for r in roles)
    user.organisation = organisation
    db.session.commit()
    announce(
        "user.roles_changed",
        actor,
        user.email,
        roles_before=before,
        roles=user.roles,
        org_before=before_org,
        org=organisation.name if organisation else "",
        grants_lost=lost,
    )
    return lost


def set_active(user: User, active: bool, actor: str) -> None:
    """Switch an account off (ending every session) or on again."""
    if not active and actor == user.email:
        raise Refused("You can't switch off your own account: ask another admin to do it.")
    if user.active == active:
        return
    user.active = active
    if not active:
        end_all_staff_sessions(user)  # every open session ends now
    db.session.commit()
    announce("user.reactivated" if active else "user.deactivated", actor, user.email)


def reset_password(user: User, actor: str, password: str | None = None) -> PasswordReset:
    """A new one-time password that must be changed at the next sign-in.

    Ends every session and clears a lockout. An analyst's old key can't be
    opened without the old password, so they get a new key and lose every grant.
    """
    if actor == user.email:
        raise Refused("You can't reset your own password here: use “Change your password” instead.")
    password = password or generate_password()
    problem = password_problem(password)
    if problem:
        raise AccountError(problem)
    user.password_hash = hash_password(password)
    user.must_change_password = True
    end_all_staff_sessions(user)
    user.failed_second_factors = 0
    user.locked_until = None
    forget_wrong_passwords(user.email)
    lost: list[str] = []
    if user.has_role(Role.ANALYST) or user.custodian_public_key is not None:
        lost = reset_custodian_key(user, password)
    db.session.commit()
    announce("user.password_reset", actor, user.email, grants_lost=lost)
    return PasswordReset(password, lost)


def reset_two_factor(user: User, actor: str) -> None:
    """Forget the authenticator and backup codes: they enrol again at next sign-in.

    Sessions end too, since whoever holds the lost phone may be signed in.
    """
    if actor == user.email:
        raise Refused("You can't reset your own two-factor sign-in: ask another admin.")
    user.totp_secret_sealed = None
    user.totp_confirmed = False
    user.backup_code_lookups = ""
    end_all_staff_sessions(user)
    db.session.commit()
    announce("user.2fa_reset", actor, user.email)


def unlock(user: User, actor: str) -> None:
    """Lift a lockout after too many wrong passwords, before its 15 minutes are up."""
    user.failed_second_factors = 0
    user.locked_until = None
    forget_wrong_passwords(user.email)
    db.session.commit()
    announce("user.unlocked", actor, user.email)


# --- organisations ------------------------------------------------------------------------


def organisations_with_counts() -> list[tuple[Organisation, int]]:
    members = (
        select(User.organisation_id, func.count(User.id).label("n"))
        .group_by(User.organisation_id)
        .subquery()
    )
    rows = db.session.execute(
        select(Organisation, func.coalesce(members.c.n, 0))
        .outerjoin(members, members.c.organisation_id == Organisation.id)
        .order_by(Organisation.name)
    ).all()
    return [(org, int(n)) for org, n in rows]


def _organisation_name(name: str, current: Organisation | None = None) -> str:
    name = " ".join(name.split())
    if not name:
        raise FormProblem("Enter the organisation's name.", "name")
    if len(name) > MAX_ORGANISATION_NAME:
        raise FormProblem(f"Use at most {MAX_ORGANISATION_NAME} characters.", "name")
    same = db.session.scalar(
        select(Organisation).where(func.lower(Organisation.name) == name.lower())
    )
    if same is not None and same is not current:
        raise FormProblem(f"There is already an organisation called “{same.name}”.", "name")
    return name


def _commit_name() -> None:
    """Commit; a name taken meanwhile by another request gets the same message."""
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise FormProblem("There is already an organisation with that name.", "name") from None


def create_organisation(name: str, actor: str) -> Organisation:
    organisation = Organisation(name=_organisation_name(name))
    db.session.add(organisation)
    _commit_name()
    announce("organisation.create", actor, organisation.name)
    return organisation


def rename_organisation(organisation: Organisation, name: str, actor: str) -> None:
    old = organisation.name
    organisation.name = _organisation_name(name, organisation)
    if organisation.name == old:
        return
    _commit_name()
    announce("organisation.rename", actor, organisation.name, old_name=old)


def delete_organisation(organisation: Organisation, actor: str) -> None:
    """Only an organisation without members: its readers would be left without one."""
    members = db.session.scalar(
        select(func.count(User.id)).where(User.organisation_id == organisation.id)
    )
    if members:
        raise Refused(
            f"“{organisation.name}” still has {members} member"
            f"{'s' if members != 1 else ''}: move or remove them first."
        )
    name = organisation.name
    db.session.delete(organisation)
    db.session.commit()
    announce("organisation.delete", actor, name)
