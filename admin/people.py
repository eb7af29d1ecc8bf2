"""People and organisations: the admin's account-management operations and pages.

The operations are plain functions that take models and an actor (an admin's
email, or `cli:<user>` from the command line) and return what the person doing
it needs to be told; the views below only translate HTTP. Each operation
commits and announces itself, so the web page and `chorus user ...` leave the
same trail in the audit log. Nothing secret (a password, a code) ever goes into
an announcement's details.

An admin can't know an analyst's old password, so resetting it loses that
analyst's key grants for good (admin/keys.py explains why); every place that
does so names the surveys, so someone can grant them again.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any

import click
from flask import (
    Blueprint,
    Flask,
    abort,
    flash,
    get_flashed_messages,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.cli import with_appcontext
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from admin.access import allow
from admin.auth import (
    AccountError,
    create_user,
    end_all_staff_sessions,
    forget_wrong_passwords,
    generate_password,
    hash_password,
    normalise_email,
    password_problem,
)
from admin.keys import forget_custodian_key, reset_custodian_key
from survey.events import announce, cli_actor
from survey.models import Organisation, Role, Survey, SurveyKeyWrap, User, db, utcnow

bp = Blueprint("people", __name__, url_prefix="/staff/people")

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


# --- views --------------------------------------------------------------------------------


def _me() -> str:
    return current_user.email


def _row_id(value: str) -> int | None:
    """A row id typed in a URL or form, or None when it can't name a row.

    Checked here because PostgreSQL refuses text and out-of-range numbers for
    an integer column with an error, where SQLite just finds nothing.
    """
    value = value.strip()
    if not value.isdigit() or len(value) > 10 or int(value) > MAX_ROW_ID:
        return None
    return int(value)


def _account(user_id: str) -> User:
    """The account a URL names, or 404.

    URL arguments are plain strings rather than `<int:...>` because the
    authorization-matrix test builds every URL with a placeholder "x" for
    arguments it has no object for, which an int converter can't build.
    """
    row_id = _row_id(user_id)
    return (db.session.get(User, row_id) if row_id else None) or abort(404)


def _organisation(org_id: str) -> Organisation:
    row_id = _row_id(org_id)
    return (db.session.get(Organisation, row_id) if row_id else None) or abort(404)


def _organisation_choice() -> int | None:
    value = request.form.get("organisation", "").strip()
    if not value:
        return None
    row_id = _row_id(value)
    if row_id is None:
        raise FormProblem("Choose an organisation from the list.", "organisation")
    return row_id


def _role_names() -> list[str]:
    return request.form.getlist("role")[: len(Role) + 1]


def _form_page(template: str, problem: FormProblem | None, status: int = 200, **context: Any):
    context.setdefault("organisations", [org for org, _ in organisations_with_counts()])
    page = render_template(
        template,
        roles=list(Role),
        role_labels=ROLE_LABELS,
        error=str(problem) if problem else None,
        error_field=problem.field if problem else None,
        has_errors=problem is not None,
        notices=get_flashed_messages(),
        **context,
    )
    return page, 422 if problem and status == 200 else status


ROLE_LABELS = {
    Role.ADMIN: "Admin",
    Role.FACILITATOR: "Facilitator",
    Role.ANALYST: "Analyst (key custodian)",
    Role.COMPANY: "Company reader",
}


@bp.get("/")
@allow(Role.ADMIN)
def index():
    return render_template(
        "admin/people/index.html",
        accounts=all_accounts(),
        is_locked=is_locked,
        notices=get_flashed_messages(),
    )


@bp.route("/new", methods=["GET", "POST"])
@allow(Role.ADMIN)
def new():
    form = {"email": "", "roles": [], "organisation": ""}
    if request.method == "POST":
        form = {
            "email": request.form.get("email", "")[:300],
            "roles": _role_names(),
            "organisation": request.form.get("organisation", "")[:20],
        }
        try:
            user, password = create_account(
                form["email"], form["roles"], _organisation_choice(), _me()
            )
        except FormProblem as problem:
            return _form_page("admin/people/new.html", problem, form=form)
        return render_template("admin/people/created.html", user=user, password=password)
    return _form_page("admin/people/new.html", None, form=form)


@bp.route("/<user_id>", methods=["GET", "POST"])
@allow(Role.ADMIN)
def account(user_id: str):
    user = _account(user_id)
    form = {
        "roles": [r.value for r in user.role_set],
        "organisation": str(user.organisation_id or ""),
    }
    if request.method == "POST":
        form = {"roles": _role_names(), "organisation": request.form.get("organisation", "")[:20]}
        try:
            lost = change_roles(user, form["roles"], _organisation_choice(), _me())
        except FormProblem as problem:
            db.session.rollback()
            return _account_page(user, form, problem)
        flash(f"Roles of {user.email} saved: {user.roles}.")
        if lost:
            flash(
                f"{user.email} is no longer an analyst, so their keys for these surveys "
                f"were removed: {', '.join(lost)}."
            )
        return redirect(url_for("people.account", user_id=user.id))
    return _account_page(user, form, None)


def _account_page(user: User, form: dict, problem: AccountError | None, status: int = 200):
    if isinstance(problem, Refused):
        status, problem = 409, FormProblem(str(problem), "actions")
    return _form_page(
        "admin/people/account.html",
        problem,  # type: ignore[arg-type]
        status,
        user=user,
        form=form,
        locked=is_locked(user),
        is_me=user.email == _me(),
        is_analyst=user.has_role(Role.ANALYST),
    )


def _state_change(user_id: str, change) -> Any:
    """Run a state change on an account; refusals come back on its page as 409."""
    user = _account(user_id)
    try:
        message = change(user)
    except Refused as refused:
        db.session.rollback()
        form = {
            "roles": [r.value for r in user.role_set],
            "organisation": str(user.organisation_id or ""),
        }
        return _account_page(user, form, refused)
    flash(message)
    return redirect(url_for("people.account", user_id=user.id))


@bp.post("/<user_id>/deactivate")
@allow(Role.ADMIN)
def deactivate(user_id: str):
    def change(user: User) -> str:
        set_active(user, False, _me())
        return f"{user.email} is switched off and signed out everywhere."

    return _state_change(user_id, change)


@bp.post("/<user_id>/reactivate")
@allow(Role.ADMIN)
def reactivate(user_id: str):
    def change(user: User) -> str:
        set_active(user, True, _me())
        return f"{user.email} can sign in again."

    return _state_change(user_id, change)


@bp.post("/<user_id>/unlock")
@allow(Role.ADMIN)
def unlock_account(user_id: str):
    def change(user: User) -> str:
        unlock(user, _me())
        return f"{user.email} is unlocked."

    return _state_change(user_id, change)


@bp.route("/<user_id>/reset-password", methods=["GET", "POST"])
@allow(Role.ADMIN)
def reset_password_page(user_id: str):
    user = _account(user_id)
    if request.method == "POST":
        try:
            reset = reset_password(user, _me())
        except Refused as refused:
            db.session.rollback()
            return _confirm_reset_password(user, str(refused)), 409
        return render_template("admin/people/password_reset.html", user=user, reset=reset)
    return _confirm_reset_password(user, None)


def _confirm_reset_password(user: User, refused: str | None) -> str:
    return render_template(
        "admin/people/confirm_reset_password.html",
        user=user,
        refused=refused,
        grants=granted_surveys(user),
        is_analyst=user.has_role(Role.ANALYST),
    )


@bp.route("/<user_id>/reset-2fa", methods=["GET", "POST"])
@allow(Role.ADMIN)
def reset_2fa_page(user_id: str):
    user = _account(user_id)
    if request.method == "POST":

        def change(user: User) -> str:
            reset_two_factor(user, _me())
            return (
                f"Two-factor sign-in of {user.email} is reset: they set it up again "
                "at their next sign-in."
            )

        return _state_change(user_id, change)
    return render_template("admin/people/confirm_reset_2fa.html", user=user)


@bp.route("/organisations", methods=["GET", "POST"])
@allow(Role.ADMIN)
def organisations():
    name = ""
    problem = None
    if request.method == "POST":
        name = request.form.get("name", "")[:500]
        try:
            organisation = create_organisation(name, _me())
        except FormProblem as exc:
            problem = exc
        else:
            flash(f"Organisation “{organisation.name}” created.")
            return redirect(url_for("people.organisations"))
    page = render_template(
        "admin/people/organisations.html",
        rows=organisations_with_counts(),
        name=name,
        error=str(problem) if problem else None,
        error_field=problem.field if problem else None,
        has_errors=problem is not None,
        notices=get_flashed_messages(),
    )
    return page, 422 if problem else 200


@bp.route("/organisations/<org_id>", methods=["GET", "POST"])
@allow(Role.ADMIN)
def organisation(org_id: str):
    org = _organisation(org_id)
    name = org.name
    problem: AccountError | None = None
    status = 200
    if request.method == "POST":
        name = request.form.get("name", "")[:500]
        try:
            rename_organisation(org, name, _me())
        except FormProblem as exc:
            db.session.rollback()
            problem, status = exc, 422
        else:
            flash(f"Organisation renamed to “{org.name}”.")
            return redirect(url_for("people.organisation", org_id=org.id))
    return _organisation_page(org, name, problem, status)


def _organisation_page(org: Organisation, name: str, problem: AccountError | None, status: int):
    members = db.session.scalars(
        select(User).where(User.organisation_id == org.id).order_by(User.email)
    ).all()
    page = render_template(
        "admin/people/organisation.html",
        org=org,
        name=name,
        members=members,
        error=str(problem) if problem else None,
        error_field=getattr(problem, "field", "delete"),
        has_errors=problem is not None,
        notices=get_flashed_messages(),
    )
    return page, status


@bp.post("/organisations/<org_id>/delete")
@allow(Role.ADMIN)
def delete_organisation_page(org_id: str):
    org = _organisation(org_id)
    try:
        delete_organisation(org, _me())
    except Refused as refused:
        db.session.rollback()
        return _organisation_page(org, org.name, refused, 409)
    flash(f"Organisation “{org.name}” deleted.")
    return redirect(url_for("people.organisations"))


# --- command line ------------------------------------------------------------------------


@click.command("reset-password")
@click.argument("email")
@with_appcontext
def reset_password_command(email: str) -> None:
    """Give an account a new one-time password, ending its sessions. Reads the
    password from standard input when one is piped in; otherwise prints one.
    An analyst loses every key grant (their old key needs the old password)."""
    user = find_account(email)
    if user is None:
        raise click.ClickException(f"There is no account for {email}.")
    piped = "" if sys.stdin.isatty() else sys.stdin.readline().strip()
    try:
        reset = reset_password(user, cli_actor(), piped or None)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Password of {user.email} reset; their sessions have ended.")
    if reset.grants_lost:
        click.echo(
            "An admin can't know the old password, so their keys for these surveys are gone: "
            f"{', '.join(reset.grants_lost)}. Another custodian, or the survey's recovery "
            "code, can grant them again."
        )
    if not piped:
        click.echo(f"One-time password (shown once, must be changed at sign-in): {reset.password}")


@click.command("list")
@with_appcontext
def list_command() -> None:
    """Every account: email, roles, organisation, two-factor, on/off, lockout."""
    accounts = all_accounts()
    if not accounts:
        click.echo("No accounts yet. Make one with `chorus user create EMAIL --role ROLE`.")
        return
    for user in accounts:
        state = "active" if user.active else "switched-off"
        if is_locked(user):
            state += f" locked-until:{user.locked_until:%Y-%m-%dT%H:%MZ}"
        click.echo(
            f"{user.email:<40} {user.roles:<28} "
            f"{'2fa' if user.totp_confirmed else 'no-2fa':<6} {state}"
            + (f"  org:{user.organisation.name}" if user.organisation else "")
        )


def init_app(app: Flask) -> None:
    """The people pages, and `reset-password`/`list` in auth's `chorus user` group."""
    if "people" not in app.blueprints:
        app.register_blueprint(bp)
    user_group = app.cli.commands.get("user")
    if isinstance(user_group, click.Group):
        user_group.add_command(reset_password_command)
        user_group.add_command(list_command)
