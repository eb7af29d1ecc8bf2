"""The admin's pages for people and organisations at /staff/people."""

from __future__ import annotations

from typing import Any

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
from flask_login import current_user
from sqlalchemy import select

from admin.access import allow
from admin.accounts.people import (
    MAX_ROW_ID,
    FormProblem,
    Refused,
    all_accounts,
    change_roles,
    create_account,
    create_organisation,
    delete_organisation,
    granted_surveys,
    is_locked,
    organisations_with_counts,
    rename_organisation,
    reset_password,
    reset_two_factor,
    set_active,
    unlock,
)
from admin.accounts.sign_in import (
    AccountError,
)
from survey.models import Organisation, Role, User, db

bp = Blueprint("people", __name__, url_prefix="/staff/people")

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
    Role.ANALYST: "Analyst (can be given the key to unlock answers)",
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
    form: dict[str, Any] = {"email": "", "roles": [], "organisation": ""}
    if request.method == "POST":
        email, roles = request.form.get("email", "")[:300], _role_names()
        form = {
            "email": email,
            "roles": roles,
            "organisation": request.form.get("organisation", "")[:20],
        }
        try:
            user, password = create_account(email, roles, _organisation_choice(), _me())
        except FormProblem as problem:
            return _form_page("admin/people/new.html", problem, form=form)
        return render_template("admin/people/created.html", user=user, password=password)
    return _form_page("admin/people/new.html", None, form=form)


@bp.route("/<user_id>", methods=["GET", "POST"])
@allow(Role.ADMIN)
def account(user_id: str):
    user = _account(user_id)
    form: dict[str, Any] = {
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


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
