"""Staff accounts: sign-in with argon2id and TOTP, passwords, roles.

Who may use which page is declared with `admin.access.allow`; the guard there
turns everyone else away.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import click
import pyotp
import segno
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import (
    Blueprint,
    Flask,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.cli import with_appcontext
from flask_login import LoginManager, current_user, login_user, logout_user
from markupsafe import Markup
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from admin.access import allow, guard, staff_member
from admin.keys import (
    give_custodian_key,
    lock_everything,
    refresh_custodian_key,
    rewrap_custodian_key,
)
from survey import crypto
from survey.config import INSTANCE_DIR, app_subkey
from survey.events import announce, cli_actor
from survey.models import Organisation, Role, SignInThrottle, StaffSession, User, db
from survey.retention import delete_lapsed_sign_ins, staff_session_limits
from survey.surveys import lookup_secret

bp = Blueprint("staff", __name__, url_prefix="/staff")
login_manager = LoginManager()

MAX_FAILED_LOGINS = 5
MAX_FAILED_SECOND_FACTORS = 5
# Wrong codes after one password before the password must be typed again.
MAX_CODES_PER_PASSWORD = 3
LOCKOUT = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 12
BACKUP_CODES = 10
PENDING_2FA_SECONDS = 300
RATE_LIMITS = {"staff.login": "20 per minute", "staff.second_factor": "20 per minute"}

# --- passwords ------------------------------------------------------------------------


def password_hasher() -> PasswordHasher:
    """argon2id; tests make it cheap through the config, not by changing code."""
    config = current_app.config
    return PasswordHasher(
        time_cost=int(config["CHORUS_ARGON2_TIME_COST"]),
        memory_cost=int(config["CHORUS_ARGON2_MEMORY_KIB"]),
        parallelism=1,
    )


def hash_password(password: str) -> str:
    return password_hasher().hash(password)


def password_problem(password: str) -> str | None:
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Use at least {MIN_PASSWORD_LENGTH} characters."
    if len(password) > 1000:
        return "Use at most 1000 characters."
    return None


def generate_password() -> str:
    """A one-time password for a new account (about 100 bits)."""
    return crypto.generate_code(20)


# --- accounts ---------------------------------------------------------------------------


class AccountError(ValueError):
    """An account operation that can't be done; the message says why."""


def normalise_email(email: str) -> str:
    return email.strip().lower()


def create_user(email: str, roles: list[Role], password: str, organisation: str | None) -> User:
    """A new member of staff; company readers belong to exactly one organisation."""
    email = normalise_email(email)
    if "@" not in email or len(email) > 254 or any(c.isspace() for c in email):
        raise AccountError(f"{email!r} is not an email address.")
    if not roles:
        raise AccountError("Give at least one role.")
    if db.session.scalar(select(User).where(User.email == email)):
        raise AccountError(f"There is already an account for {email}.")
    if (Role.COMPANY in roles) != bool(organisation):
        raise AccountError("A company reader needs --org, and only company readers have one.")
    problem = password_problem(password)
    if problem:
        raise AccountError(problem)
    org = None
    if organisation:
        org = db.session.scalar(select(Organisation).where(Organisation.name == organisation))
        if org is None:
            org = Organisation(name=organisation)
            db.session.add(org)
    user = User(
        email=email,
        roles=" ".join(sorted(r.value for r in set(roles))),
        password_hash=hash_password(password),
        organisation=org,
        must_change_password=True,
    )
    db.session.add(user)
    give_custodian_key(user, password)
    db.session.commit()
    return user


# --- staff sessions ---------------------------------------------------------------------
#
# A signed-in browser holds a random token in its (signed) cookie; the server keeps
# a row named by an HMAC of it. Deleting the row signs that browser out, whatever
# copies of its cookie exist.

STAFF_SESSION_KEY = "staff_session"
# last_seen_at is written at most this often, not on every request.
SEEN_EVERY = timedelta(minutes=1)
# What Flask-Login keeps in the session besides our token.
FLASK_LOGIN_KEYS = ("_user_id", "_fresh", "_id")


def _staff_session_id(token: str) -> str:
    key = app_subkey("chorus-staff-session/1")
    return hmac.new(key, token.encode(), hashlib.sha256).hexdigest()


def start_staff_session(user: User) -> None:
    """A new server-side session for this browser (the caller commits)."""
    token = secrets.token_urlsafe(32)  # 256 bits, only ever in the cookie
    db.session.add(StaffSession(id=_staff_session_id(token), user_id=user.id))
    session[STAFF_SESSION_KEY] = token


def end_staff_session() -> None:
    """Sign this browser out on the server: its row goes (commits)."""
    token = session.pop(STAFF_SESSION_KEY, None)
    if isinstance(token, str):
        db.session.execute(delete(StaffSession).where(StaffSession.id == _staff_session_id(token)))
        db.session.commit()


def end_all_staff_sessions(user: User) -> None:
    """Sign the account out everywhere (the caller commits).

    Every session row goes, and the session version moves on, so a sign-in
    waiting for its second factor can't finish either.
    """
    user.session_version += 1
    db.session.execute(delete(StaffSession).where(StaffSession.user_id == user.id))


def _staff_session_alive(user: User) -> bool:
    """Whether this browser's session is on the server, within its limits; a lapsed
    one is deleted, and a live one marked as seen (at most once a minute)."""
    token = session.get(STAFF_SESSION_KEY)
    if not isinstance(token, str):
        return False
    row = db.session.get(StaffSession, _staff_session_id(token))
    if row is None or row.user_id != user.id:
        return False
    now = datetime.now(UTC)
    idle, absolute = staff_session_limits()
    last_seen = _aware(row.last_seen_at)
    if now - last_seen > idle or now - _aware(row.created_at) > absolute:
        db.session.delete(row)
        db.session.commit()
        return False
    if now - last_seen >= SEEN_EVERY:
        row.last_seen_at = now
        db.session.commit()
    return True


def _forget_ended_session() -> None:
    """This browser's staff session has ended: nothing of it stays usable here."""
    lock_everything()  # survey keys unlocked in it end with it
    session.pop(STAFF_SESSION_KEY, None)
    for key in FLASK_LOGIN_KEYS:
        session.pop(key, None)
    g.staff_session_ended = True  # the guard says so on the way to the sign-in page


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """The signed-in user, while their session lives on the server.

    The id names the user and their session version; the session's own token
    must find a live row of theirs in `staff_sessions`.
    """
    uid, _, version = user_id.partition(":")
    user = db.session.get(User, int(uid)) if uid.isdigit() and version.isdigit() else None
    if user is None or not user.active or user.session_version != int(version):
        _forget_ended_session()
        return None
    if not _staff_session_alive(user):
        _forget_ended_session()
        return None
    return user


# --- sign-in ------------------------------------------------------------------------------

SIGN_IN_REFUSED = (
    "That email and password don't match an account that can sign in now. "
    "After several wrong tries an account is locked for 15 minutes."
)


def _throttle_lookup(email: str) -> str:
    """HMAC of the normalised email: an unknown email is never stored in the clear."""
    key = app_subkey("chorus-sign-in-throttle/1")
    return hmac.new(key, normalise_email(email).encode(), hashlib.sha256).hexdigest()


def forget_wrong_passwords(email: str) -> None:
    """Clear the wrong-password count for an email (the caller commits)."""
    db.session.execute(
        delete(SignInThrottle).where(SignInThrottle.lookup == _throttle_lookup(email))
    )


def is_locked(user: User, now: datetime) -> bool:
    return user.locked_until is not None and _aware(user.locked_until) > now


def _lock(user: User, now: datetime) -> None:
    user.locked_until = now + LOCKOUT
    # Whoever typed the wrong passwords or codes may not be the account's owner.
    announce("user.locked", "system:sign-in-throttle", user.email)


def _count_wrong_password(
    email: str, throttle: SignInThrottle | None, user: User | None, now: datetime
) -> None:
    """One more wrong password for this email (commits); the fifth locks its account.

    The count goes up in the database itself, so attempts sent at once all count.
    """
    lookup = _throttle_lookup(email)
    if throttle is None:
        db.session.add(SignInThrottle(lookup=lookup, failures=1, updated_at=now))
        failures = 1
    else:
        db.session.execute(
            update(SignInThrottle)
            .where(SignInThrottle.lookup == lookup)
            .values(failures=SignInThrottle.failures + 1, updated_at=now),
            execution_options={"synchronize_session": False},
        )
        failures = db.session.scalar(
            select(SignInThrottle.failures).where(SignInThrottle.lookup == lookup)
        )
    if failures is not None and failures >= MAX_FAILED_LOGINS:
        db.session.execute(
            update(SignInThrottle).where(SignInThrottle.lookup == lookup).values(failures=0),
            execution_options={"synchronize_session": False},
        )
        if user is not None and not is_locked(user, now):
            _lock(user, now)
    try:
        db.session.commit()
    except IntegrityError:  # the same new email's first failure, twice at once
        db.session.rollback()


def check_password(email: str, password: str) -> User | None:
    """The user if the password is right and the account isn't locked.

    Every refusal costs the same argon2 work, the same database write (the
    email's throttle row, which unknown emails get too) and says the same thing,
    so neither the answer nor its cost tells whether an account exists or is locked.
    """
    hasher = password_hasher()
    user = db.session.scalar(select(User).where(User.email == normalise_email(email)))
    throttle = db.session.get(SignInThrottle, _throttle_lookup(email))
    now = datetime.now(UTC)
    stored = user.password_hash if user else _dummy_hash(hasher)
    try:
        hasher.verify(stored, password)
        correct = user is not None
    except (VerificationError, InvalidHashError):
        correct = False
    if user is None or is_locked(user, now) or not correct or not user.active:
        _count_wrong_password(email, throttle, user, now)
        return None
    if throttle is not None:
        db.session.delete(throttle)
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
    # An analyst made before custody existed, or given the role since, gets a key now;
    # one stored under older argon2 settings is stored again under today's.
    if give_custodian_key(user, password):
        announce("custody.key_created", user.email, user.email)
    refresh_custodian_key(user, password)
    db.session.commit()
    return user


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; they were stored in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _dummy_hash(hasher: PasswordHasher) -> str:
    cache = current_app.extensions.setdefault("chorus", {})
    key = ("dummy_hash", hasher.time_cost, hasher.memory_cost)
    if key not in cache:
        cache[key] = hasher.hash(secrets.token_urlsafe(16))
    return cache[key]


# --- two-factor ------------------------------------------------------------------------------


def _totp_key() -> bytes:
    return app_subkey("chorus-totp/1")


def _totp_aad(user: User) -> bytes:
    return crypto.wrap_aad(0, f"totp:{user.id}")


def totp_secret(user: User) -> str | None:
    if user.totp_secret_sealed is None:
        return None
    return crypto.decrypt(_totp_key(), user.totp_secret_sealed, _totp_aad(user)).decode()


def start_totp_enrolment(user: User) -> str:
    """A new, unconfirmed TOTP secret for the user (replacing any unconfirmed one)."""
    secret = pyotp.random_base32()
    user.totp_secret_sealed = crypto.encrypt(_totp_key(), secret.encode(), _totp_aad(user))
    user.totp_confirmed = False
    db.session.commit()
    return secret


def _backup_lookup(code: str) -> str:
    return crypto.code_lookup(lookup_secret(), "staff-backup", code)


def check_second_factor(user: User, typed: str) -> bool:
    """A current TOTP code (each time step once only) or an unused backup code."""
    secret = totp_secret(user)
    digits = "".join(ch for ch in typed if ch.isdigit())
    if secret and len(digits) == 6 and len(typed.strip()) <= 8:
        totp = pyotp.TOTP(secret)
        now = datetime.now(UTC)
        for offset in (-1, 0, 1):  # one step of clock drift either way
            moment = now + timedelta(seconds=30 * offset)
            step = int(moment.timestamp()) // 30
            if step > user.totp_last_step and totp.verify(digits, for_time=moment):
                user.totp_last_step = step
                db.session.commit()
                return True
        return False
    lookups = json.loads(user.backup_code_lookups or "[]")
    lookup = _backup_lookup(typed) if crypto.is_well_formed_code(typed) else None
    if lookup and lookup in lookups:
        lookups.remove(lookup)
        user.backup_code_lookups = json.dumps(lookups)
        db.session.commit()
        announce("user.backup_code_used", user.email, user.email, left=len(lookups))
        return True
    return False


def check_sign_in_code(user: User, typed: str) -> bool:
    """The second factor at sign-in, counted against the account.

    Five wrong codes (TOTP or backup) lock the account as wrong passwords do,
    wherever they come from; only a right code resets the count. A locked
    account's code is refused, right or not.
    """
    now = datetime.now(UTC)
    if is_locked(user, now):
        return False
    # The attempt counts before its code is checked, in the database itself, so
    # guesses sent at once can't all be checked before any of them is counted.
    db.session.execute(
        update(User)
        .where(User.id == user.id)
        .values(failed_second_factors=User.failed_second_factors + 1),
        execution_options={"synchronize_session": False},
    )
    attempt = db.session.scalar(select(User.failed_second_factors).where(User.id == user.id))
    user.failed_second_factors = attempt
    if attempt <= MAX_FAILED_SECOND_FACTORS and check_second_factor(user, typed):
        user.failed_second_factors = 0
        db.session.commit()
        return True
    if attempt >= MAX_FAILED_SECOND_FACTORS:
        user.failed_second_factors = 0
        if not is_locked(user, now):
            _lock(user, now)
    db.session.commit()
    return False


def _pending_sign_in_spent(user: User, pending: dict[str, Any]) -> bool:
    """Whether a sign-in waiting for its code must start again from the password.

    The count lives on the account, not in the cookie (which could be replayed):
    three wrong codes since this password, a lock, or a reset count end it.
    """
    since = int(pending.get("f", 0))
    wrong = user.failed_second_factors - since
    return wrong < 0 or wrong >= MAX_CODES_PER_PASSWORD or is_locked(user, datetime.now(UTC))


def confirm_totp(user: User, typed: str) -> list[str] | None:
    """Confirm enrolment with a first code; returns new backup codes (shown once)."""
    if user.totp_secret_sealed is None or not check_second_factor(user, typed):
        return None
    codes = [crypto.generate_code() for _ in range(BACKUP_CODES)]
    user.totp_confirmed = True
    user.backup_code_lookups = json.dumps([_backup_lookup(c) for c in codes])
    db.session.commit()
    announce("user.2fa_enabled", user.email, user.email)
    return codes


def qr_svg(uri: str) -> Markup:
    """The provisioning URI as an inline SVG QR code (no image request, CSP-safe)."""
    svg = segno.make(uri, error="m").svg_inline(scale=4, dark="#1d1d1f", light="#ffffff")
    return Markup(svg)  # noqa: S704 - segno's own SVG markup, built from our URI


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
                "f": user.failed_second_factors,
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
    if _pending_sign_in_spent(user, pending):
        session.pop("pending_2fa", None)
        return redirect(url_for("staff.login", ended="codes"))
    error = None
    if request.method == "POST":
        if check_sign_in_code(user, request.form.get("code", "")[:64]):
            return _finish_sign_in(user)
        if _pending_sign_in_spent(user, pending):
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
        try:
            password_hasher().verify(user.password_hash, current)
        except (VerificationError, InvalidHashError):
            error = "Your current password isn't right."
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
    login_manager.init_app(app)
    login_manager.login_view = "staff.login"
    app.register_blueprint(bp)
    app.before_request(guard)
    register_cli(app)


# --- command line -----------------------------------------------------------------------------


def register_cli(app: Flask) -> None:
    @click.group("user")
    def user_group() -> None:
        """Staff accounts."""

    @user_group.command("create")
    @click.argument("email")
    @click.option(
        "--role",
        "roles",
        multiple=True,
        required=True,
        type=click.Choice([r.value for r in Role]),
        help="Repeat for several roles.",
    )
    @click.option("--org", help="The organisation of a company reader (made if new).")
    @with_appcontext
    def create_command(email: str, roles: tuple[str, ...], org: str | None) -> None:
        """Create an account. Reads a password from standard input when one is
        piped in; otherwise prints a one-time password. Either way it must be
        changed at the first sign-in."""
        piped = "" if sys.stdin.isatty() else sys.stdin.readline().strip()
        password = piped or generate_password()
        try:
            user = create_user(email, [Role(r) for r in roles], password, org)
        except AccountError as exc:
            raise click.ClickException(str(exc)) from None
        announce("user.create", cli_actor(), user.email, roles=user.roles, org=org or "")
        click.echo(f"Created {user.email} ({user.roles}).")
        if not piped:
            click.echo(f"One-time password (shown once, must be changed at sign-in): {password}")

    @user_group.command("demo")
    @with_appcontext
    def demo_command() -> None:
        """Demo only: one account per role, and print their sign-in details."""
        if not current_app.config["CHORUS_DEMO"]:
            raise click.ClickException("Demo accounts are made only with CHORUS_DEMO=1.")
        logins_file = INSTANCE_DIR / "demo-staff-logins.txt"
        accounts = [
            ("admin@demo.chorus", Role.ADMIN, None),
            ("facilitator@demo.chorus", Role.FACILITATOR, None),
            ("analyst@demo.chorus", Role.ANALYST, None),
            ("reader@demo.chorus", Role.COMPANY, "Example Messaging Ltd"),
        ]
        lines = logins_file.read_text().splitlines() if logins_file.exists() else []
        for email, role, org in accounts:
            if db.session.scalar(select(User).where(User.email == email)):
                continue
            password = generate_password()
            user = create_user(email, [role], password, org)
            user.must_change_password = False  # demo only: sign in with what is printed
            db.session.commit()
            announce("user.create", cli_actor(), email, roles=user.roles, org=org or "")
            lines.append(f"{email}  {password}  ({role.value})")
        logins_file.parent.mkdir(parents=True, exist_ok=True)
        logins_file.write_text("\n".join(lines) + "\n")
        logins_file.chmod(0o600)
        click.echo("Staff logins (demo only; admins and analysts set up two-factor sign-in")
        click.echo("with an authenticator app at their first sign-in), at /staff/login:")
        for line in lines:
            click.echo(f"  {line}")

    app.cli.add_command(user_group)
