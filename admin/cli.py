"""The staff side's `chorus` commands: accounts (`chorus user`), the audit log
(`chorus audit`) and reports (`chorus report`).

With survey/cli.py this is the command-line layer: the only modules that use
click. The app factory registers both modules' COMMANDS in one place; each command
calls the same operations the pages call, and nothing on the web side imports
this module.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from admin.accounts.people import all_accounts, find_account, is_locked, reset_password
from admin.accounts.sign_in import AccountError, create_user, generate_password
from admin.analysis.frame import answers_frame
from admin.audit.log import (
    REKEY_ACTION,
    AuditError,
    current_head,
    last_entries,
    record,
    rekey,
    timestamp_text,
    verify,
)
from admin.reports import render
from admin.reports.build import build_report, theme_evidence
from admin.reports.draft import ReportError, draft_for
from admin.reports.publish import next_version, report_pdf
from survey.cli import survey_key_from_stdin
from survey.config import INSTANCE_DIR
from survey.events import announce, cli_actor
from survey.models import Role, User, db
from survey.surveys import find_survey

# --- chorus user ---------------------------------------------------------------------------


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
def user_demo_command() -> None:
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


@user_group.command("reset-password")
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


@user_group.command("list")
@with_appcontext
def user_list_command() -> None:
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


# --- chorus audit ---------------------------------------------------------------------------


@click.group("audit")
def audit_group() -> None:
    """The staff audit log: check its chain, read its last entries."""


@audit_group.command("verify")
@click.option(
    "--expect-head",
    metavar="HASH",
    help="A head hash noted earlier; fail if that entry is no longer in the log.",
)
@with_appcontext
def verify_command(expect_head: str | None) -> None:
    """Check every entry's hash and the chain; exit 1 if anything is wrong."""
    report = verify(expect_head=expect_head.strip().lower() if expect_head else None)
    click.echo(f"{report.count} entries, head {report.head}")
    for problem in report.problems:
        click.echo(problem)
    if report.problems:
        click.get_current_context().exit(1)


@audit_group.command("rekey")
@with_appcontext
def rekey_command() -> None:
    """Once, after upgrading: re-hash a log written before the chain was keyed.

    Checks the old chain first and changes nothing if it is broken. Prints the
    old head (compare it with one you noted) and the new one (note it instead).
    """
    try:
        done = rekey()
    except AuditError as exc:
        click.echo(str(exc))
        click.get_current_context().exit(1)
    record(
        REKEY_ACTION,
        cli_actor(),
        details={
            "unkeyed_entries": done.unkeyed,
            "unkeyed_head": done.unkeyed_head,
            "old_head": done.old_head,
        },
    )
    click.echo(f"Re-keyed {done.unkeyed} unkeyed entries; the last of them had hash")
    click.echo(f"  {done.unkeyed_head}  (compare with a head noted before the upgrade)")
    click.echo(f"Old head {done.old_head}, re-keyed as {done.new_head}")
    click.echo(f"Head now {current_head()}  (note this one from now on)")


@audit_group.command("log")
@click.option("--last", "last", default=20, show_default=True, type=click.IntRange(min=1))
@with_appcontext
def log_command(last: int) -> None:
    """Print the newest entries, oldest first: id, time, actor, action, target, details.

    Fields are separated by two spaces; an empty target shows as "-".
    """
    for entry in last_entries(last):
        click.echo(
            "  ".join(
                [
                    str(entry.id),
                    timestamp_text(entry.at),
                    entry.actor,
                    entry.action,
                    entry.target or "-",
                    entry.details,
                ]
            )
        )


# --- chorus report --------------------------------------------------------------------------


@click.group("report")
def report_group() -> None:
    """Impact reports."""


@report_group.command("build")
@click.argument("slug")
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write report.json, report.html and report.pdf into.",
)
@click.option(
    "--custodian",
    help="Email of a key custodian: read their password instead of the recovery code.",
)
@with_appcontext
def build_command(slug: str, out: Path, custodian: str | None) -> None:
    """Build the next version of SLUG's report from its draft, without publishing
    it. Reads the recovery code (or, with --custodian, that custodian's password)
    from standard input."""
    survey = find_survey(slug)
    if survey is None:
        raise click.ClickException(f'There is no survey "{slug}".')
    key, who = survey_key_from_stdin(survey, custodian)
    frame = answers_frame(survey, key)
    try:
        evidence = theme_evidence(survey, frame, key)
        document = build_report(
            survey, frame, draft_for(survey), next_version(survey, []), evidence
        )
        pdf = report_pdf(document)
    except ReportError as exc:
        raise click.ClickException(str(exc)) from None
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(document, ensure_ascii=False, indent=2), "utf-8")
    (out / "report.html").write_text(render.standalone_html(document), "utf-8")
    (out / "report.pdf").write_bytes(pdf)
    announce("report.build", cli_actor(), slug, respondents=document["respondents"], key=who)
    click.echo(
        f"Wrote report.json, report.html and report.pdf to {out} "
        f"({len(frame)} responses, {len(document['findings'])} findings; not published)."
    )


COMMANDS = (user_group, audit_group, report_group)
