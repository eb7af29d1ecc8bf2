"""The database: SQLAlchemy 2 typed models for everything Chorus stores.

What is deliberately absent matters as much as what is here: no table holds an
answer in the clear, an IP address, a user agent, or a time finer than an ISO
week for anything a respondent did. Respondent rows have random ids, and on
SQLite they are WITHOUT ROWID tables so that not even the storage order says
which row came first.
"""

from __future__ import annotations

import enum
import hashlib
import secrets
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, cast

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.engine import CursorResult, Result
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, validates

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# Objects stay readable after a commit: a request that saves and then redirects
# would otherwise reload the survey row (32 kB of definition) just for its slug.
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})

# The models' base class. At run time it is db.Model, which Flask-SQLAlchemy builds from
# Base (adding its table naming and bind keys); mypy can't take a base class from an
# instance attribute (python/mypy#8603), so it checks the models against Base itself.
if TYPE_CHECKING:
    Model = Base
else:
    Model = db.Model


def autocommit_statements() -> None:
    """Run each statement of this request as a transaction of its own.

    For requests whose statements need nothing atomic between them (a read, a
    single write, or one statement that does both): no BEGIN, COMMIT or ROLLBACK
    goes to the database, which on PostgreSQL is two round trips fewer per request.
    Once the session has begun a transaction, that transaction goes on as it was.
    On SQLite nothing changes: there is no round trip to save (its driver begins a
    transaction only before a write, in the same process), and a submit there needs
    its two statements in one transaction (survey/responses.py `submit`).
    """
    if db.session.get_bind().dialect.name == "sqlite":
        return
    if not db.session().in_transaction():
        db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


def rows_changed(result: Result[Any]) -> int:
    """How many rows an UPDATE or DELETE run through the session changed.

    The session returns a CursorResult for these, which has the count, but is typed to
    return a plain Result; SQLAlchemy's typing notes (changelog 2.0.44) say to cast.
    """
    return cast("CursorResult[Any]", result).rowcount


def random_id() -> str:
    """A 128-bit random id: says nothing about when or in what order it was made."""
    return secrets.token_hex(16)


def iso_week(day: date | None = None) -> str:
    """The coarse date Chorus keeps for respondent actions, e.g. '2026-W48'."""
    year, week, _ = (day or datetime.now(UTC).date()).isocalendar()
    return f"{year}-W{week:02d}"


class SurveyStatus(enum.StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"
    ARCHIVED = "archived"


class Survey(Model):
    """One version of a survey: its definition, state and public key.

    The definition is the canonical `chorus-survey/1` JSON. Once a survey has
    responses its definition never changes; a new version is a new row.
    """

    __tablename__ = "surveys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    title: Mapped[str] = mapped_column(Text)
    definition_json: Mapped[str] = mapped_column(Text)
    # SHA-256 of definition_json, set with it (`_definition_digest`). Read with the
    # row, it names the version of the definition: parsed definitions are cached
    # under it (survey/surveys.py `definition_of`), so the JSON is read only once.
    definition_sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default=SurveyStatus.DRAFT.value)
    # X25519 public key that seals answers; set when the survey first opens.
    public_key: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    # Set when a report is first published. Withdrawal then ends for the responses
    # each version counts (`Response.counted`), not for the survey.
    report_published_week: Mapped[str | None] = mapped_column(String(8))
    # Set when a version is published while the survey is closed or archived: every
    # answer was stored at closing and that version counts them all, so nobody can
    # withdraw any more (survey/responses.py `withdrawal_state`). Opening the survey
    # again clears it.
    withdrawal_ended: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # After this day `chorus purge` deletes the survey's responses, drafts and invites.
    retain_until: Mapped[date | None] = mapped_column(Date)
    # While keys are made but the key sheet not yet confirmed: which groups of the
    # recovery code must be re-typed, and an HMAC lookup of them (never the code).
    recovery_check: Mapped[str | None] = mapped_column(String(200))
    # The survey this one was copied from ("copy into a new version").
    previous_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("surveys.id", ondelete="SET NULL")
    )
    # Who made the keys and saw the key sheet (its recovery code): they can't hold
    # the key, restore with the code, or approve a restore. None from the CLI.
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    key_wraps: Mapped[list[SurveyKeyWrap]] = relationship(
        back_populates="survey", cascade="all, delete-orphan"
    )

    @property
    def is_open(self) -> bool:
        return self.status == SurveyStatus.OPEN.value

    @validates("definition_json")
    def _definition_digest(self, key: str, document: str) -> str:
        """Every new definition gets its own digest, in the same change."""
        self.definition_sha256 = definition_digest(document)
        return document


def definition_digest(document: str) -> str:
    """What `Survey.definition_sha256` holds for a definition document."""
    return hashlib.sha256(document.encode("utf-8")).hexdigest()


class SurveyKeyWrap(Model):
    """The survey's private key, encrypted for one holder.

    `holder` is "recovery" for the recovery code, or "custodian:<user id>" for an
    analyst, whose wrap is sealed to their own X25519 key (`user_id` set, so that
    deleting the account or resetting its password removes it). Without any wrap
    the answers can never be read again. A `pending` wrap was made from the
    recovery code and opens nothing until an admin other than its holder and the
    survey's opener approves it.
    """

    __tablename__ = "survey_key_wraps"
    __table_args__ = (UniqueConstraint("survey_id", "holder"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"))
    holder: Mapped[str] = mapped_column(String(64))
    salt: Mapped[bytes] = mapped_column(LargeBinary(32))
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary(128))
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    pending: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    survey: Mapped[Survey] = relationship(back_populates="key_wraps")
    user: Mapped[User | None] = relationship(back_populates="key_grants")


class Response(Model):
    """One submitted response: a sealed box and nothing readable about it.

    `receipt_lookup` is HMAC(server secret, receipt code): only the person
    holding the receipt code can find this row again, to withdraw it.

    `counted` is set when a published version of the report counts the response
    (admin/reports/publish.py): from then on it can't be withdrawn, so published
    counts only grow. It says no more than the week does: that the response was
    stored when some version was published.
    """

    __tablename__ = "responses"
    __table_args__ = {"sqlite_with_rowid": False}

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=random_id)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"), index=True)
    week: Mapped[str] = mapped_column(String(8), default=iso_week)
    format_version: Mapped[int] = mapped_column(Integer, default=1)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    receipt_lookup: Mapped[str] = mapped_column(String(64), unique=True)
    counted: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class InboxEntry(Model):
    """A submitted response waiting for the weekly flush (see survey/inbox.py).

    `box` holds the response (id, sealed answers, receipt and invite lookups)
    encrypted under a sub-key of the app's secret key, which the database never
    holds; the two tags are keyed hashes under another such sub-key, so that a
    spent invite and a receipt can be found without being readable. Nothing
    here links the entry to its invite or to the response row it becomes.
    """

    __tablename__ = "response_inbox"
    __table_args__ = {"sqlite_with_rowid": False}

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=random_id)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"), index=True)
    week: Mapped[str] = mapped_column(String(8), default=iso_week)
    invite_tag: Mapped[str | None] = mapped_column(String(64), unique=True)
    # None once the response is withdrawn and only its spent invite is left.
    receipt_tag: Mapped[str | None] = mapped_column(String(64), unique=True)
    box: Mapped[bytes] = mapped_column(LargeBinary)


class Draft(Model):
    """Answers in progress, encrypted under a key the server does not keep.

    While someone answers, the key lives only in their session cookie. When they
    ask for a resume code the key becomes scrypt(code, salt) and `resume_lookup`
    lets the code find the row again.
    """

    __tablename__ = "drafts"
    __table_args__ = {"sqlite_with_rowid": False}

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=random_id)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"), index=True)
    resume_lookup: Mapped[str | None] = mapped_column(String(64), unique=True)
    kdf_salt: Mapped[bytes | None] = mapped_column(LargeBinary(16))
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    saved_week: Mapped[str] = mapped_column(String(8), default=iso_week)


class InviteCode(Model):
    """A single-use invite. Marked used by the weekly flush of the response inbox,
    together with a whole week's responses in random order (survey/inbox.py):
    never linked to the response it let in."""

    __tablename__ = "invite_codes"
    __table_args__ = {"sqlite_with_rowid": False}

    lookup: Mapped[str] = mapped_column(String(64), primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"), index=True)
    used: Mapped[bool] = mapped_column(Boolean, default=False)


# --- staff ---------------------------------------------------------------------------


class Role(enum.StrEnum):
    ADMIN = "admin"
    FACILITATOR = "facilitator"
    ANALYST = "analyst"
    COMPANY = "company"


# Roles that must use two-factor sign-in (README.md "Staff accounts").
ROLES_NEEDING_2FA = frozenset({Role.ADMIN, Role.ANALYST})


def utcnow() -> datetime:
    return datetime.now(UTC)


class Organisation(Model):
    """A company (or other body) whose readers see reports addressed to it."""

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)

    users: Mapped[list[User]] = relationship(back_populates="organisation")


class User(Model):
    """A member of staff. Respondents never have accounts.

    `roles` holds role names separated by spaces; a company reader belongs to
    exactly one organisation. The TOTP secret is stored encrypted under a key
    derived from the app secret; backup codes only as HMAC lookups.
    """

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    roles: Mapped[str] = mapped_column(String(100), default="")
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT")
    )
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # A password someone else chose (CLI, admin reset) must be replaced at sign-in.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=True)
    totp_secret_sealed: Mapped[bytes | None] = mapped_column(LargeBinary(128))
    totp_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    totp_last_step: Mapped[int] = mapped_column(Integer, default=0)
    backup_code_lookups: Mapped[str] = mapped_column(Text, default="")
    # Wrong second-factor codes since the last right one: five lock the account
    # (wrong passwords are counted per email in `sign_in_throttles`).
    failed_second_factors: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Bumped when the password changes, so every other session ends (with the
    # account's rows in `staff_sessions`) and a pending sign-in can't finish.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    # A key custodian's own X25519 key pair: survey keys are sealed to the public
    # key; the private key is stored only encrypted under argon2id(password, salt).
    custodian_public_key: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    custodian_key_sealed: Mapped[bytes | None] = mapped_column(LargeBinary(128))
    custodian_key_salt: Mapped[bytes | None] = mapped_column(LargeBinary(16))
    # The argon2id parameters it was derived with (crypto.PasswordCost.to_text()).
    custodian_key_kdf: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    organisation: Mapped[Organisation | None] = relationship(back_populates="users")
    # Deleted with the account by the ORM too (SQLite doesn't enforce ON DELETE).
    key_grants: Mapped[list[SurveyKeyWrap]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )
    staff_sessions: Mapped[list[StaffSession]] = relationship(cascade="all, delete-orphan")

    @property
    def role_set(self) -> frozenset[Role]:
        return frozenset(Role(r) for r in self.roles.split())

    def has_role(self, *roles: Role) -> bool:
        return bool(self.role_set & set(roles))

    @property
    def needs_2fa(self) -> bool:
        return bool(self.role_set & ROLES_NEEDING_2FA)

    # What Flask-Login asks of a user object.
    is_anonymous = False

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"


class StaffSession(Model):
    """One signed-in browser of a member of staff; deleting the row signs it out.

    The random token lives only in that browser's cookie; `id` is an HMAC of it,
    so the table alone can't be turned back into a working cookie.
    """

    __tablename__ = "staff_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Written at most once a minute, not on every request.
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SignInThrottle(Model):
    """Wrong passwords typed for one email, whether or not it has an account.

    `lookup` is an HMAC of the normalised email, so an email nobody has an
    account for is never stored in the clear; and a wrong password costs the
    same database write for an unknown email as for a real account.
    """

    __tablename__ = "sign_in_throttles"

    lookup: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AuditEntry(Model):
    """One staff action in an append-only, hash-chained log.

    Each entry's hash covers its content and the previous entry's hash, and
    `prev_hash` is unique, so the chain can't fork even when two processes
    append at once: the loser's insert fails and it retries on the new head.
    Respondent actions are never recorded here.
    """

    __tablename__ = "audit_log"
    # Never reuse an id, even after the last entry was deleted (SQLite would).
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    actor: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(254), default="")
    details: Mapped[str] = mapped_column(Text, default="{}")
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    entry_hash: Mapped[str] = mapped_column(String(64), unique=True)


# --- reports ---------------------------------------------------------------------------


class FindingStatus(enum.StrEnum):
    """What a company says it will do about a finding."""

    ACCEPTED = "accepted"
    PLANNED = "planned"
    DECLINED = "declined"
    NEEDS_INFORMATION = "needs_information"


class Theme(Model):
    """One theme of a survey's codebook: what free-text answers may be coded with.

    The codebook is the analysts' own vocabulary (labels, descriptions, keyword
    rules), not respondent data, so it is stored in the clear. Which answer carries
    which theme is not: that lives in a sealed `AnalysisState`.
    """

    __tablename__ = "themes"
    __table_args__ = (UniqueConstraint("survey_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    feature: Mapped[str] = mapped_column(String(500), default="")
    harm: Mapped[str] = mapped_column(String(500), default="")
    keywords_json: Mapped[str] = mapped_column(Text, default="[]")
    position: Mapped[int] = mapped_column(Integer, default=0)


class AnalysisState(Model):
    """Analysts' work on a survey's answers, sealed to the survey's key like the
    answers themselves: each coder's codes and decisions, and the quotes approved
    for publication. `name` says whose and what (`coding:report`, `quotes`, …);
    `revision` makes concurrent saves fail instead of overwriting each other."""

    __tablename__ = "analysis_states"
    __table_args__ = (UniqueConstraint("survey_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(80))
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    revision: Mapped[int] = mapped_column(Integer, default=1)


class ReportDraft(Model):
    """The report an analyst is building for a survey: findings, narrative, choices.

    It holds the analyst's own words and choices, never respondent data (the
    numbers are computed from the sealed answers when the report is built).
    """

    __tablename__ = "report_drafts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    survey_id: Mapped[int] = mapped_column(
        ForeignKey("surveys.id", ondelete="CASCADE"), unique=True
    )
    config_json: Mapped[str] = mapped_column(Text, default="{}")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ReportVersion(Model):
    """A published report version, frozen: its `chorus-report/1` snapshot, and the
    HTML and PDF rendered from it. Published versions never change."""

    __tablename__ = "report_versions"
    __table_args__ = (UniqueConstraint("survey_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    previous_id: Mapped[int | None] = mapped_column(
        ForeignKey("report_versions.id", ondelete="SET NULL")
    )
    published_week: Mapped[str] = mapped_column(String(8))
    published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    published_by: Mapped[str] = mapped_column(String(254))
    respondents: Mapped[int] = mapped_column(Integer)
    snapshot_json: Mapped[str] = mapped_column(Text)
    html: Mapped[str] = mapped_column(Text)
    pdf: Mapped[bytes] = mapped_column(LargeBinary)

    survey: Mapped[Survey] = relationship()
    addressees: Mapped[list[Organisation]] = relationship(secondary="report_addressees")


class ReportAddressee(Model):
    """A published version is addressed to these organisations (and only they see it)."""

    __tablename__ = "report_addressees"

    version_id: Mapped[int] = mapped_column(
        ForeignKey("report_versions.id", ondelete="CASCADE"), primary_key=True
    )
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True
    )


class FindingAnswer(Model):
    """One company's answer to one finding at one moment. Append-only: the newest
    is the current answer, the older ones are its history."""

    __tablename__ = "finding_answers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("report_versions.id", ondelete="CASCADE"), index=True
    )
    finding_id: Mapped[str] = mapped_column(String(64))
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(24))
    planned_for: Mapped[date | None] = mapped_column(Date)
    text: Mapped[str] = mapped_column(Text, default="")
    author: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    organisation: Mapped[Organisation] = relationship()
