"""Key custody pages: opening a survey (choosing custodians, the key sheet), the survey's
keys page (unlock, lock, grant, revoke, restore), and the admin's restore approvals."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from flask import (
    Blueprint,
    Flask,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from admin.access import allow, staff_member, survey_or_404
from admin.accounts.passwords import check_current_password
from admin.custody.keys import (
    approve_restore,
    check_may_decide,
    eligible_custodians,
    grant,
    grantees,
    pending_restores,
    refuse_restore,
    request_restore,
    restore_history,
    revoke,
    unlock,
)
from admin.custody.unlock import lock, unlocked_key
from survey.events import announce
from survey.models import Role, Survey, SurveyKeyWrap, SurveyStatus, User, db
from survey.surveys import (
    SurveyError,
    can_be_custodian,
    confirm_key_sheet,
    custodian_wrap,
    custodians_of,
    is_opener,
    key_sheet_groups,
    pending_restore,
    prepare_keys,
    require_support_services,
    untranslated_texts,
)
from survey.surveys import open_survey as open_survey_now

# --- pages ---------------------------------------------------------------------------------

bp = Blueprint("keys", __name__, url_prefix="/staff/surveys")
RATE_LIMITS = {"keys.unlock_survey": "10 per minute", "keys.restore": "10 per minute"}
STAFF_WHO_OPEN = (Role.FACILITATOR, Role.ADMIN)


def _user_from_form(field: str) -> User | None:
    value = request.form.get(field, "")
    return db.session.get(User, int(value)) if value.isdigit() and len(value) < 10 else None


@bp.route("/<slug>/open", methods=["GET", "POST"])
@allow(*STAFF_WHO_OPEN)
def open_survey(slug: str):
    """Choose custodians, then print the key sheet (the first step of opening)."""
    survey = survey_or_404(slug)
    if survey.status != SurveyStatus.DRAFT.value:
        return render_template("admin/keys/open.html", survey=survey, analysts=[], error=None)
    if request.method == "GET" and key_sheet_groups(survey) and "new" not in request.args:
        return redirect(url_for("keys.confirm_sheet", slug=slug))
    try:
        require_support_services(survey)
    except SurveyError as exc:
        # Nothing to choose yet: the page says what's missing and where to add it.
        page = render_template(
            "admin/keys/open.html", survey=survey, analysts=[], error=None, no_support=str(exc)
        )
        return page, 409 if request.method == "POST" else 200
    missing = untranslated_texts(survey)
    if missing:
        # As for support: nothing to choose until every text is in every language.
        page = render_template(
            "admin/keys/open.html", survey=survey, analysts=[], error=None, untranslated=missing
        )
        return page, 409 if request.method == "POST" else 200
    error = None
    chosen = {v for v in request.form.getlist("custodian") if v.isdigit() and len(v) < 10}
    if request.method == "POST":
        custodians = [u for u in eligible_custodians() if str(u.id) in chosen]
        if not custodians:
            error = (
                "Choose at least one person who can unlock the answers (a key custodian): "
                "an analyst who will read them."
            )
        elif request.form.get("understood") != "yes":
            error = "Confirm that you understand what losing the key sheet means."
        else:
            try:
                code = prepare_keys(survey, custodians, opener=staff_member())
            except SurveyError as exc:
                error = str(exc)
            else:
                emails = [u.email for u in custodians]
                announce("survey.keys_made", current_user.email, slug, custodians=emails)
                return render_template(
                    "admin/keys/key_sheet.html",
                    survey=survey,
                    groups=list(enumerate(code.split("-"), start=1)),
                    custodians=custodians,
                    made_on=datetime.now(UTC).date().isoformat(),
                )
    page = render_template(
        "admin/keys/open.html",
        survey=survey,
        analysts=[(u, _why_not_custodian(u)) for u in eligible_custodians()],
        chosen=chosen,
        understood=request.form.get("understood") == "yes",
        error=error,
    )
    return page, 422 if error else 200


def _why_not_custodian(user: User) -> str | None:
    """Why this analyst can't be chosen on the opening page, or None when they can."""
    if user.id == staff_member().id:
        return "you are opening it and will see the recovery code"
    return can_be_custodian(user)


@bp.route("/<slug>/open/confirm", methods=["GET", "POST"])
@allow(*STAFF_WHO_OPEN)
def confirm_sheet(slug: str):
    """Re-type two groups of the recovery code from the printed sheet; then it opens."""
    survey = survey_or_404(slug)
    groups = key_sheet_groups(survey)
    if groups is None:
        return redirect(url_for("keys.open_survey", slug=slug))
    error = None
    typed = {n: request.form.get(f"group-{n}", "")[:40] for n in groups}
    if request.method == "POST":
        try:
            confirm_key_sheet(survey, typed)
            open_survey_now(survey)
        except SurveyError as exc:
            error = str(exc)
        else:
            announce("survey.open", current_user.email, slug, new_keys=True)
            return render_template("admin/keys/opened.html", survey=survey)
    page = render_template(
        "admin/keys/confirm_sheet.html", survey=survey, groups=groups, typed=typed, error=error
    )
    return page, 422 if error else 200


def _custody_page(survey: Survey, error: str | None = None, error_field: str = ""):
    me = staff_member()
    holds = custodian_wrap(survey, me) is not None
    holders = custodians_of(survey)
    page = render_template(
        "admin/keys/custody.html",
        survey=survey,
        custodians=holders,
        holds=holds,
        is_analyst=me.has_role(Role.ANALYST),
        unlocked=holds and unlocked_key(survey, me) is not None,
        my_restore=pending_restore(survey, me),
        opener=is_opener(survey, me),
        restores=[w for w in survey.key_wraps if w.pending],
        history=restore_history(survey) if holds or me.has_role(Role.ADMIN) else [],
        grantees=grantees(survey),
        idle_minutes=current_app.config["CHORUS_UNLOCK_IDLE_MINUTES"],
        error=error,
        error_field=error_field,
    )
    return page, 422 if error else 200


@bp.get("/<slug>/keys")
@allow(Role.ANALYST, Role.FACILITATOR, Role.ADMIN)
def custody(slug: str):
    """Who holds the survey's key; for analysts: unlock, lock, grant, revoke, restore."""
    return _custody_page(survey_or_404(slug))


def _act(slug: str, error_field: str, action: Callable[[Survey, User], None]):
    """Do one custody action for the signed-in analyst; back to the custody page,
    or the page again with the reason beside `error_field`."""
    survey = survey_or_404(slug)
    try:
        action(survey, staff_member())
    except SurveyError as exc:
        return _custody_page(survey, str(exc), error_field)
    return redirect(url_for("keys.custody", slug=slug))


UNLOCK_REFUSED = (
    "That password does not open your key. After several wrong tries, here or when "
    "signing in, the account is locked for 15 minutes."
)


@bp.post("/<slug>/keys/unlock")
@allow(Role.ANALYST)
def unlock_survey(slug: str):
    password = request.form.get("password", "")[:1000]

    def unlock_with(survey: Survey, me: User) -> None:
        # The key opens with the account's password, so this form could test guesses
        # at it: a wrong one counts with the sign-in's, towards the same lock.
        if not check_current_password(me, password):
            raise SurveyError(UNLOCK_REFUSED)
        unlock(survey, me, password)

    return _act(slug, "password", unlock_with)


@bp.post("/<slug>/keys/lock")
@allow(Role.ANALYST)
def lock_survey(slug: str):
    def lock_now(survey: Survey, me: User) -> None:
        if lock(survey):
            announce("custody.lock", me.email, slug)

    return _act(slug, "custodians", lock_now)


@bp.post("/<slug>/keys/grant")
@allow(Role.ANALYST)
def grant_to(slug: str):
    def grant_to_chosen(survey: Survey, me: User) -> None:
        grantee = _user_from_form("user_id")
        if grantee is None:
            raise SurveyError("Choose the analyst who should hold the key.")
        grant(survey, me, grantee)

    return _act(slug, "grantee", grant_to_chosen)


@bp.post("/<slug>/keys/revoke")
@allow(Role.ANALYST)
def revoke_from(slug: str):
    def revoke_chosen(survey: Survey, me: User) -> None:
        holder = _user_from_form("user_id")
        if holder is None:
            raise SurveyError("Choose whose key to take back.")
        if custodian_wrap(survey, me) is None:
            raise SurveyError("Only someone who holds the key can take another's back.")
        revoke(survey, me, holder)

    return _act(slug, "custodians", revoke_chosen)


@bp.post("/<slug>/keys/restore")
@allow(Role.ANALYST)
def restore(slug: str):
    code = request.form.get("recovery_code", "")[:200]
    return _act(slug, "recovery_code", lambda survey, me: request_restore(survey, me, code))


# The admins' page of restores waiting for a second person. Its own prefix: under
# /staff/surveys/ a fixed name would hide a survey of the same slug.
restores_bp = Blueprint("restores", __name__, url_prefix="/staff/restores")


def _restores_page(error: str | None = None, status: int = 200):
    me = staff_member()
    page = render_template(
        "admin/keys/restores.html",
        restores=[(w, _why_not_decide(w, me)) for w in pending_restores()],
        error=error,
        error_field="restores",
    )
    return page, status


def _why_not_decide(wrap: SurveyKeyWrap, admin: User) -> str | None:
    try:
        check_may_decide(wrap, admin)
    except SurveyError as exc:
        return str(exc)
    return None


@restores_bp.get("/")
@allow(Role.ADMIN)
def restores():
    """Restores with the recovery code waiting for an admin's approval."""
    return _restores_page()


def _decide(decision: Callable[[SurveyKeyWrap, User], None]):
    value = request.form.get("restore_id", "")
    wrap = (
        db.session.get(SurveyKeyWrap, int(value)) if value.isdigit() and len(value) < 10 else None
    )
    if wrap is None or not wrap.pending:
        return _restores_page("Choose a restore from the list.", 422)
    try:
        decision(wrap, staff_member())
    except SurveyError as exc:
        db.session.rollback()
        return _restores_page(str(exc), 409)
    return redirect(url_for("restores.restores"))


@restores_bp.post("/approve")
@allow(Role.ADMIN)
def approve():
    return _decide(approve_restore)


@restores_bp.post("/refuse")
@allow(Role.ADMIN)
def refuse():
    return _decide(refuse_restore)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.register_blueprint(restores_bp)
