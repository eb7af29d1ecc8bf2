"""The sign-in pages at /staff: password, second factor, sign-out, the staff home, setting up
two-factor sign-in and changing the password."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pyotp
from flask import (
    Blueprint,
    Flask,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user

from admin.access import allow, guard, staff_member
from admin.accounts.passwords import (
    CURRENT_REFUSED,
    check_current_password,
    hash_password,
    password_problem,
)
from admin.accounts.sign_in import (
    PENDING_2FA_SECONDS,
    SIGN_IN_REFUSED,
    STAFF_SESSION_KEY,
    check_password,
    check_sign_in_code,
    confirm_totp,
    end_all_staff_sessions,
    end_staff_session,
    login_manager,
    pending_sign_in_spent,
    qr_svg,
    start_staff_session,
    start_totp_enrolment,
    totp_secret,
    wrong_codes,
)
from admin.custody.keys import rewrap_custodian_key
from admin.custody.unlock import lock_everything
from survey.events import announce
from survey.models import User, db
from survey.retention import delete_lapsed_sign_ins, staff_session_limits

bp = Blueprint("staff", __name__, url_prefix="/staff")
RATE_LIMITS = {"staff.login": "20 per minute", "staff.second_factor": "20 per minute"}

# --- views ------------------------------------------------------------------------------------


def _finish_sign_in(user: User) -> Any:
    lock_everything()  # an earlier sign-in's unlocks in this browser end here
    session.clear()  # nothing from before sign-in (a respondent's draft key) carries over
    delete_lapsed_sign_ins(datetime.now(UTC))  # everyone's, while we are here
    start_staff_session(user)
    login_user(user)  # never remember=True: no cookie outlives the server's session
    db.session.commit()
    announce("user.sign_in", user.email, user.email)
    return redirect(url_for("staff.home"))


def sign_in_notice(reason: str) -> str | None:
    """What the sign-in page says about why the person is there again."""
    if reason == "session":
        idle, absolute = staff_session_limits()
        return (
            "You have been signed out. A session ends after "
            f"{int(idle.total_seconds() // 60)} minutes without use, "
            f"{int(absolute.total_seconds() // 3600)} hours after signing in, "
            "at sign-out, and when the password changes. Please sign in again."
        )
    if reason == "codes":
        return "That was too many wrong codes. Please sign in again with your password."
    return None


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("staff.home"))
    notice = sign_in_notice(request.args.get("ended", ""))
    error = None
    email = ""
    if request.method == "POST":
        email = request.form.get("email", "")[:254]
        user = check_password(email, request.form.get("password", "")[:1000])
        if user is None:
            error = SIGN_IN_REFUSED
        elif user.totp_confirmed:
            session["pending_2fa"] = {
                "uid": user.id,
                "v": user.session_version,
                "until": int(datetime.now(UTC).timestamp()) + PENDING_2FA_SECONDS,
                # Wrong codes so far: the ones typed after this password count.
                "f": wrong_codes(user),
            }
            return redirect(url_for("staff.second_factor"))
        else:
            return _finish_sign_in(user)
    status = 422 if error else 200
    page = render_template("admin/login.html", error=error, email=email, notice=notice)
    return page, status


@bp.route("/login/code", methods=["GET", "POST"])
def second_factor():
    pending = session.get("pending_2fa") or {}
    user = db.session.get(User, pending.get("uid", 0)) if pending else None
    expired = int(datetime.now(UTC).timestamp()) > int(pending.get("until", 0))
    if user is None or expired or user.session_version != pending.get("v") or not user.active:
        session.pop("pending_2fa", None)
        return redirect(url_for("staff.login"))
    if pending_sign_in_spent(user, pending):
        session.pop("pending_2fa", None)
        return redirect(url_for("staff.login", ended="codes"))
    error = None
    if request.method == "POST":
        if check_sign_in_code(user, request.form.get("code", "")[:64]):
            return _finish_sign_in(user)
        if pending_sign_in_spent(user, pending):
            session.pop("pending_2fa", None)
            return redirect(url_for("staff.login", ended="codes"))
        error = "That code isn't right. Codes change every 30 seconds; each works once."
    status = 422 if error else 200
    return render_template("admin/second_factor.html", error=error), status


@bp.post("/logout")
@allow()
def logout():
    announce("user.sign_out", current_user.email, current_user.email)
    lock_everything()
    end_staff_session()
    logout_user()
    session.clear()
    return redirect(url_for("staff.login"))


@bp.get("/")
@allow()
def home():
    return render_template("admin/home.html")


@bp.route("/2fa", methods=["GET", "POST"])
@allow()
def setup_2fa():
    user = staff_member()
    if user.totp_confirmed:
        return render_template("admin/setup_2fa.html", done=True, codes=None)
    error = None
    if request.method == "POST":
        codes = confirm_totp(user, request.form.get("code", "")[:64])
        if codes:
            return render_template("admin/setup_2fa.html", done=True, codes=codes)
        error = "That code isn't right. Check the time on your phone and try the newest code."
    secret = totp_secret(user) if user.totp_secret_sealed else None
    if secret is None or request.method == "GET":
        secret = start_totp_enrolment(user)
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name="Chorus")
    page = render_template(
        "admin/setup_2fa.html", done=False, codes=None, secret=secret, qr=qr_svg(uri), error=error
    )
    return page, 422 if error else 200


@bp.route("/password", methods=["GET", "POST"])
@allow()
def change_password():
    user = staff_member()
    error = None
    if request.method == "POST":
        current = request.form.get("current", "")[:1000]
        new = request.form.get("new", "")[:1001]
        if not check_current_password(user, current):
            error = CURRENT_REFUSED
        else:
            error = password_problem(new)
            if not error and new != request.form.get("confirm", ""):
                error = "The two new passwords are different."
            if not error and new == current:
                error = "Choose a password different from the current one."
        if not error:
            user.password_hash = hash_password(new)
            rewrap_custodian_key(user, current, new)
            user.must_change_password = False
            end_all_staff_sessions(user)  # every other session of this account ends
            session.pop(STAFF_SESSION_KEY, None)
            start_staff_session(user)  # and this one goes on under a new token
            login_user(user)
            db.session.commit()
            announce("user.password_changed", user.email, user.email)
            return redirect(url_for("staff.home"))
    status = 422 if error else 200
    return render_template("admin/password.html", error=error), status


def init_app(app: Flask) -> None:
    # Templates get Flask-Login's `current_user` proxy rather than its context
    # processor's user, loaded for every page: a staff member is looked for only
    # where a page or check asks, so a respondent's page never runs Flask-Login.
    login_manager.init_app(app, add_context_processor=False)
    app.context_processor(lambda: {"current_user": current_user})
    login_manager.login_view = "staff.login"
    app.register_blueprint(bp)
    app.before_request(guard)
