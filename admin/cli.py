"""The staff side's `chorus` commands: accounts (`chorus user`), the audit log
(`chorus audit`), reports (`chorus report`), themes and quotes (`chorus themes`,
`chorus quotes`).

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

from admin.accounts.passwords import generate_password
from admin.accounts.people import all_accounts, find_account, is_locked, reset_password
from admin.accounts.sign_in import AccountError, create_user
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
from admin.reports.coding import (
    CodingError,
    FreeText,
    accept_rule_matches,
    codebook,
    export_codebook,
    free_texts_of,
    import_codebook,
    load_coding,
)
from admin.reports.draft import ReportError, draft_for
from admin.reports.publish import next_version, report_pdf
from admin.reports.quotes import (
    QuoteError,
    candidates,
    candidates_csv,
    decisions_from_csv,
    load_decisions,
    masker_problem,
)
from admin.reports.themes import CodebookError, identifying_warnings
from survey.cli import survey_key_from_stdin, survey_or_fail
from survey.config import INSTANCE_DIR
from survey.events import announce, cli_actor
from survey.models import Role, Survey, User, db
from survey.surveys import definition_of

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
            f"{', '.join(reset.grants_lost)}. Someone else who holds a survey's key, or its "
            "recovery code, can give them the key again."
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


CUSTODIAN_HELP = (
    "Email of someone who can unlock the answers (a key custodian): read their password "
    "instead of the recovery code."
)


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
    help=CUSTODIAN_HELP,
)
@with_appcontext
def build_command(slug: str, out: Path, custodian: str | None) -> None:
    """Build the next version of SLUG's report from its draft, without publishing
    it. Reads the recovery code (or, with --custodian, that custodian's password)
    from standard input."""
    survey, key, who = _survey_with_key(slug, custodian)
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


# --- chorus themes and chorus quotes ----------------------------------------------------------


def _survey_with_key(slug: str, custodian: str | None) -> tuple[Survey, bytes, str]:
    """The survey, its private key from standard input, and which secret it was."""
    survey = survey_or_fail(slug)
    key, who = survey_key_from_stdin(survey, custodian)
    return survey, key, who


def _free_texts(survey: Survey, key: bytes) -> list[FreeText]:
    return free_texts_of(answers_frame(survey, key), definition_of(survey))


@click.group("themes")
def themes_group() -> None:
    """The codebook of a survey's themes, and coding free text with it. Each command
    reads the recovery code (or, with --custodian, that custodian's password) from
    standard input."""


@themes_group.command("import")
@click.argument("slug")
@click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--custodian", help=CUSTODIAN_HELP)
@with_appcontext
def themes_import_command(slug: str, file: Path, custodian: str | None) -> None:
    """Add the themes of FILE (CSV: id,label,description,feature,harm,keywords, keywords
    separated by ;) to SLUG's codebook, updating those whose id is already there."""
    survey, _, _ = _survey_with_key(slug, custodian)
    try:
        result = import_codebook(survey, file.read_text("utf-8-sig"), cli_actor())
    except CodebookError as exc:
        raise click.ClickException(f"{file} can't be imported, nothing changed:\n{exc}") from None
    click.echo(f"Added {len(result.added)} themes, updated {len(result.updated)}.")
    warnings = [
        f"  {theme.id}, {warning}"
        for theme in codebook(survey)
        if theme.id in {*result.added, *result.updated}
        for warning in identifying_warnings(theme)
    ]
    if warnings:
        click.echo(
            "Check these: the codebook is stored unencrypted, and they look like they "
            "could identify someone (edit them with `chorus themes import` or on the "
            "Themes page):\n" + "\n".join(warnings)
        )


@themes_group.command("export")
@click.argument("slug")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="File to write.")
@click.option("--custodian", help=CUSTODIAN_HELP)
@with_appcontext
def themes_export_command(slug: str, out: Path | None, custodian: str | None) -> None:
    """SLUG's codebook as CSV, to --out or standard output."""
    survey, _, _ = _survey_with_key(slug, custodian)
    text = export_codebook(survey)
    if out:
        out.write_text(text, "utf-8")
        click.echo(f"Wrote {len(codebook(survey))} themes to {out}", err=True)
    else:
        click.echo(text, nl=False)


@themes_group.command("code")
@click.argument("slug")
@click.option(
    "--from-rules",
    is_flag=True,
    required=True,
    help="Accept every keyword-rule match into the report's coding.",
)
@click.option("--theme", "theme_id", help="Only this theme's rule.")
@click.option("--custodian", help=CUSTODIAN_HELP)
@with_appcontext
def themes_code_command(
    slug: str, from_rules: bool, theme_id: str | None, custodian: str | None
) -> None:
    """Code SLUG's free text from the codebook's keyword rules: your decision to accept
    every match (suggestions turned down in the browser stay turned down). Prints how
    many answers each theme was added to."""
    survey, key, who = _survey_with_key(slug, custodian)
    if not codebook(survey):
        raise click.ClickException(
            f'"{slug}" has no themes yet: `chorus themes import {slug} FILE.csv` adds some.'
        )
    try:
        added = accept_rule_matches(survey, key, _free_texts(survey, key), theme_id)
    except CodingError as exc:
        raise click.ClickException(str(exc)) from None
    announce("themes.code", cli_actor(), slug, rules="accepted", key=who)
    width = max(len(t) for t in added)
    for theme, count in added.items():
        click.echo(f"{theme:<{width}}  {count} answers")


@click.group("quotes")
def quotes_group() -> None:
    """Quotes of consenting respondents: export the masked candidates, approve them.
    Each command reads the recovery code (or, with --custodian, that custodian's
    password) from standard input."""


@quotes_group.command("export")
@click.argument("slug")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--theme", "theme_id", help="Only answers that carry this theme.")
@click.option("--custodian", help=CUSTODIAN_HELP)
@with_appcontext
def quotes_export_command(
    slug: str, out: Path, theme_id: str | None, custodian: str | None
) -> None:
    """Write the candidates (answers whose authors agreed to be quoted, masked) as CSV:
    id, question, themes, text, approved. Fill `approved` with yes or no, edit the
    text as needed, then `chorus quotes approve`. The masked texts are still
    respondents' words: keep the file on an encrypted disk and delete it when done."""
    survey, key, who = _survey_with_key(slug, custodian)
    definition = definition_of(survey)
    problem = masker_problem(definition)
    if problem:
        raise click.ClickException(f"{slug}: {problem} Nothing was written.")
    found = candidates(
        _free_texts(survey, key),
        load_coding(survey, key),
        load_decisions(survey, key),
        definition.languages,
        theme_id,
    )
    out.write_text(candidates_csv(key, found, definition), "utf-8")
    announce("quotes.export", cli_actor(), slug, key=who)
    click.echo(f"Wrote {len(found)} candidates to {out}", err=True)


@quotes_group.command("approve")
@click.argument("slug")
@click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--custodian", help=CUSTODIAN_HELP)
@with_appcontext
def quotes_approve_command(slug: str, file: Path, custodian: str | None) -> None:
    """Record the decisions of a filled-in candidates FILE: rows with approved = yes are
    published with their text as edited, rows with no are rejected, empty rows wait."""
    survey, key, who = _survey_with_key(slug, custodian)
    try:
        done = decisions_from_csv(survey, key, _free_texts(survey, key), file.read_text("utf-8"))
    except QuoteError as exc:
        raise click.ClickException(f"{file}: nothing recorded:\n{exc}") from None
    announce("quotes.decide", cli_actor(), slug, key=who)
    click.echo(f"Approved {done.approved}, rejected {done.rejected}, left {done.left} undecided.")


COMMANDS = (user_group, audit_group, report_group, themes_group, quotes_group)
