"""The survey side's `chorus` commands: surveys, responses, invites, the demo,
retention (`chorus purge`), encrypted backups (`chorus backup`, `chorus restore`)
and serving; and the `chorus` console script itself.

With admin/cli.py this is the command-line layer: the only modules that use click.
The app factory registers both modules' COMMANDS in one place (Flask-Migrate adds
`chorus db`). Each command calls the same operations the pages call.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, NoAppException, ScriptInfo, with_appcontext
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from survey.backup import (
    KIND_NAMES,
    BackupError,
    backup_database,
    generate_key_file,
    read_key_file,
    restore_database,
)
from survey.config import INSTANCE_DIR, ConfigError
from survey.definition import DefinitionError, load_definition_text
from survey.doctor import any_failed, run_checks, settings_problem_check
from survey.events import announce, cli_actor
from survey.models import Survey, SurveyStatus, User, db
from survey.responses import purge_stale_drafts
from survey.retention import delete_lapsed_sign_ins, flush_inboxes, purge_expired
from survey.sealed_answers import responses_csv
from survey.stored import counts_note, stored_count
from survey.surveys import (
    TEMPLATE_NAME,
    SurveyError,
    bundled_template_text,
    close_survey,
    confirm_key_sheet,
    create_invite_codes,
    definition_of,
    find_survey,
    import_definition,
    invite_counts,
    key_sheet_groups,
    open_survey,
    prepare_keys,
    unwrap_with_password,
    unwrap_with_recovery_code,
)


def survey_or_fail(slug: str) -> Survey:
    """The survey named on the command line, or a usage error saying how to list them."""
    survey = find_survey(slug)
    if survey is None:
        raise click.ClickException(f'There is no survey "{slug}". `chorus survey list` shows them.')
    return survey


def _recovery_notice(code: str) -> str:
    return "\n".join(
        [
            "",
            "RECOVERY CODE — shown once, never stored:",
            "",
            f"    {code}",
            "",
            "Print it or write it down and keep it somewhere safe and offline. With it, anyone",
            "can read this survey's answers; without it, if everyone who can unlock them",
            "loses their password, nobody ever can.",
            "",
        ]
    )


def _custodians(emails: tuple[str, ...]) -> list[User]:
    users = []
    for email in emails:
        user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
        if user is None:
            raise click.ClickException(f"There is no account for {email}.")
        users.append(user)
    return users


def survey_key_from_stdin(survey: Survey, custodian: str | None) -> tuple[bytes, str]:
    """The survey's private key from the recovery code on standard input, or from
    the custodian's password when `custodian` is an email; and which it was (for
    the audit log). A password may begin or end with spaces: only the line ending
    is taken off."""
    user = _custodians((custodian,))[0] if custodian else None
    prompt = "Password" if user else "Recovery code"
    if sys.stdin.isatty():
        secret = click.prompt(prompt, hide_input=True)
    else:
        secret = sys.stdin.readline().rstrip("\r\n")
    try:
        if user:
            return unwrap_with_password(survey, user, secret), f"custodian {user.email}"
        return unwrap_with_recovery_code(survey, secret.strip()), "recovery code"
    except SurveyError as exc:
        raise click.ClickException(str(exc)) from None


def _check_key_sheet(survey: Survey) -> None:
    """At a terminal, ask for two groups of the code back before opening."""
    groups = key_sheet_groups(survey) or []
    for _ in range(3):
        typed = {n: click.prompt(f"Group {n} of the recovery code") for n in groups}
        try:
            confirm_key_sheet(survey, typed)
            return
        except SurveyError as exc:
            click.echo(str(exc), err=True)
    raise click.ClickException(
        f'"{survey.slug}" stays a draft. Run `chorus survey open` again for new keys.'
    )


@click.group("survey")
def survey_group() -> None:
    """Import, export, list, open and close surveys."""


@survey_group.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path), required=False)
@click.option("--template", is_flag=True, help='Import the bundled "Product-risk consultation".')
@click.option("--slug", help="Store it under this slug instead of the one in the file.")
@with_appcontext
def import_command(file: Path | None, template: bool, slug: str | None) -> None:
    """Import a chorus-survey/1 definition (JSON or YAML) as a draft."""
    if bool(file) == template:
        raise click.UsageError("Give a FILE or --template (one of them).")
    if template:
        text, name = bundled_template_text(), TEMPLATE_NAME
    else:
        assert file is not None
        try:
            text, name = file.read_text("utf-8"), file.name
        except (OSError, UnicodeDecodeError) as exc:
            raise click.ClickException(f"Can't read {file}: {exc}") from None
    try:
        definition = load_definition_text(text, name)
        if slug:
            definition = definition.with_slug(slug)
        survey = import_definition(definition)
    except DefinitionError as exc:
        lines = "\n".join(f"  {p}" for p in exc.problems)
        raise click.ClickException(f"{name} is not a valid survey definition:\n{lines}") from None
    except SurveyError as exc:
        raise click.ClickException(str(exc)) from None
    questions = sum(1 for _ in definition.answerable_questions())
    announce("survey.import", cli_actor(), survey.slug, source=name)
    click.echo(
        f'Imported "{survey.slug}" as a draft: '
        f"{len(definition.sections)} sections, {questions} questions."
    )


@survey_group.command("export")
@click.argument("slug")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File to write (default: standard output).",
)
@with_appcontext
def export_command(slug: str, out: Path | None) -> None:
    """Write a survey's definition as chorus-survey/1 JSON."""
    text = definition_of(survey_or_fail(slug)).to_json()
    if out:
        out.write_text(text, "utf-8")
        click.echo(f"Wrote {out}")
    else:
        click.echo(text, nl=False)


@survey_group.command("list")
@with_appcontext
def list_command() -> None:
    """Every survey with its status and number of responses."""
    surveys = db.session.scalars(db.select(Survey).order_by(Survey.slug)).all()
    if not surveys:
        click.echo("No surveys yet. Import one with `chorus survey import FILE`.")
        return
    for survey in surveys:
        click.echo(
            f"{survey.slug:<32} {survey.status:<9} "
            f"{stored_count(survey):>7} responses  {survey.title}"
        )
    click.echo(counts_note(), err=True)


@survey_group.command("open")
@click.argument("slug")
@click.option(
    "--custodian",
    "custodians",
    multiple=True,
    help="Email of an analyst who will be able to unlock the answers (a key custodian; repeat "
    "for several; needed the first time).",
)
@with_appcontext
def open_command(slug: str, custodians: tuple[str, ...]) -> None:
    """Open a survey for answers. The first time, make its keys: answers are locked
    (encrypted) with them, and only the --custodian analysts (with their passwords)
    and a recovery code printed once can unlock them. At a terminal, two groups of
    the code are asked back before the survey opens."""
    survey = survey_or_fail(slug)
    code = None
    try:
        if survey.status == SurveyStatus.DRAFT.value:
            interactive = sys.stdin.isatty()
            code = prepare_keys(survey, _custodians(custodians), sheet_check=interactive)
            announce("survey.keys_made", cli_actor(), slug, custodians=list(custodians))
            click.echo(_recovery_notice(code))
            if interactive:
                _check_key_sheet(survey)
        open_survey(survey)
    except SurveyError as exc:
        raise click.ClickException(str(exc)) from None
    announce("survey.open", cli_actor(), slug, new_keys=code is not None)
    click.echo(f'"{slug}" is open at /s/{slug}')


@survey_group.command("close")
@click.argument("slug")
@with_appcontext
def close_command(slug: str) -> None:
    """Stop taking answers."""
    try:
        close_survey(survey_or_fail(slug))
    except SurveyError as exc:
        raise click.ClickException(str(exc)) from None
    announce("survey.close", cli_actor(), slug)
    click.echo(f'"{slug}" is closed.')


@click.group("responses")
def responses_group() -> None:
    """Count and export responses."""


@responses_group.command("count")
@click.argument("slug")
@with_appcontext
def count_command(slug: str) -> None:
    """How many responses a survey has, as of its last weekly flush."""
    survey = survey_or_fail(slug)
    click.echo(stored_count(survey))
    click.echo(counts_note(survey), err=True)


@responses_group.command("export")
@click.argument("slug")
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="CSV file to write.",
)
@click.option(
    "--custodian",
    help="Email of someone who can unlock the answers (a key custodian): read their password "
    "instead of the recovery code.",
)
@with_appcontext
def export_responses_command(slug: str, out: Path, custodian: str | None) -> None:
    """Decrypt every response to a CSV file. Reads the recovery code (or, with
    --custodian, that custodian's password) from standard input.

    The CSV holds answers in the clear: keep it on an encrypted disk and delete
    it when done.
    """
    survey = survey_or_fail(slug)
    private_key, key = survey_key_from_stdin(survey, custodian)
    text, count = responses_csv(survey, private_key)
    out.write_text(text, encoding="utf-8")
    announce("responses.export", cli_actor(), slug, rows=count, key=key)
    click.echo(f"Wrote {count} responses to {out}", err=True)


@click.group("invites")
def invites_group() -> None:
    """Invite codes for invite-only surveys."""


@invites_group.command("create")
@click.argument("slug")
@click.option("--count", default=10, show_default=True, type=int)
@with_appcontext
def create_invites_command(slug: str, count: int) -> None:
    """Make single-use invite codes and print them (they are not stored readably)."""
    survey = survey_or_fail(slug)
    if not definition_of(survey).invite_only:
        raise click.ClickException(
            f'"{slug}" does not ask for an invite code, so codes would change nothing: '
            "anyone with its link can answer. Turn on “Invite only” in its settings "
            "(in the builder, or invite_only: true in its definition) first."
        )
    try:
        codes = create_invite_codes(survey, count)
    except SurveyError as exc:
        raise click.ClickException(str(exc)) from None
    announce("invites.create", cli_actor(), slug, count=count)
    click.echo("\n".join(codes))
    issued, used = invite_counts(survey)
    click.echo(f"{issued} invite codes issued, {used} used.", err=True)


@click.command("demo")
@click.option("--slug", default="demo", show_default=True)
@click.option("--responses", "target", default=300, show_default=True, type=int)
@click.option("--custodian", default="analyst@demo.chorus", show_default=True)
@with_appcontext
def demo_command(slug: str, target: int, custodian: str) -> None:
    """Set up the demo: the bundled template at /s/SLUG, open, with synthetic responses.

    Run `chorus user demo` first: its analyst holds the demo survey's key.
    """
    from survey.synthetic import add_synthetic_responses

    survey = find_survey(slug)
    if survey is None:
        definition = load_definition_text(bundled_template_text(), TEMPLATE_NAME).with_slug(slug)
        survey = import_definition(definition)
    code_file = INSTANCE_DIR / "demo-recovery-code.txt"
    if survey.status == SurveyStatus.DRAFT.value:
        try:
            code = prepare_keys(survey, _custodians((custodian,)), sheet_check=False)
        except SurveyError as exc:
            raise click.ClickException(str(exc)) from None
        # Demo only: a real recovery code is never written to disk.
        code_file.parent.mkdir(parents=True, exist_ok=True)
        code_file.write_text(code + "\n")
        code_file.chmod(0o600)
        click.echo(_recovery_notice(code))
    if survey.status != SurveyStatus.OPEN.value:
        open_survey(survey)
    missing = target - stored_count(survey)
    if missing > 0:
        add_synthetic_responses(survey, missing, seed=len(slug) + missing)
    click.echo(f"Demo survey: http://127.0.0.1:5000/s/{slug}  ({stored_count(survey)} responses)")
    if code_file.exists():
        click.echo(f"Its recovery code (demo only) is kept in {code_file}; to export the answers:")
        click.echo(
            f"  CHORUS_DEMO=1 .venv/bin/chorus responses export {slug} --out answers.csv"
            f" < {code_file}"
        )


@click.command("purge")
@click.option(
    "--today",
    metavar="YYYY-MM-DD",
    help=(
        "Purge as if it were this day (default: today in UTC): the inbox's weeks, "
        "retention dates and draft lifetimes are judged by it; lapsed staff "
        "sessions by the real clock."
    ),
)
@with_appcontext
def purge_command(today: str | None) -> None:
    """Store last week's answers from the inbox (in shuffled batches), then delete
    the responses, drafts and invite codes of every survey whose retention date
    has passed, and saved drafts nobody can come back to (older than
    CHORUS_DRAFT_WEEKS, or a week old without a resume code). Surveys and published
    reports stay. Run it daily (from cron, say); safe to run again: what is gone is
    not counted twice."""
    if today is None:
        day = datetime.now(UTC).date()
    else:
        try:
            day = date.fromisoformat(today.strip())
        except ValueError:
            raise click.BadParameter(
                f"{today!r} is not a date: use YYYY-MM-DD, e.g. 2026-11-25.", param_hint="--today"
            ) from None
    flush_inboxes(day)
    # Staff sessions lapse in minutes and hours: always judged by the real clock.
    lapsed = delete_lapsed_sign_ins(datetime.now(UTC))
    if lapsed:
        click.echo(f"Deleted {lapsed} lapsed staff sessions.")
    purged = purge_expired(day, cli_actor())
    stale = purge_stale_drafts(day)
    db.session.commit()
    if stale:
        click.echo(f"Deleted {stale} saved drafts nobody can come back to.")
    if not purged:
        if not stale:
            click.echo("Nothing to purge.")
        return
    for survey in purged:
        click.echo(
            f'Purged "{survey.slug}": {survey.responses} responses, '
            f"{survey.drafts} drafts, {survey.invites} invite codes"
            + (
                f", {survey.analysis} locked (encrypted) pieces of analysis."
                if survey.analysis
                else "."
            )
        )


def _key_file_option(required: bool) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option(
        "--key-file",
        type=click.Path(dir_okay=False, path_type=Path),
        envvar="CHORUS_BACKUP_KEY_FILE",
        show_envvar=True,
        required=required,
        help="Your backup key, made once by `chorus backup keygen`.",
    )


def _push_app_context(ctx: click.Context) -> None:
    """What `with_appcontext` does, for `chorus backup`, which needs the app only when
    it runs itself: `chorus backup keygen` must work before there is any app."""
    if not current_app:
        ctx.with_resource(ctx.ensure_object(ScriptInfo).load_app().app_context())


@click.group("backup", invoke_without_command=True)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The backup file to write (a new file).",
)
@_key_file_option(required=False)
@click.pass_context
def backup_group(ctx: click.Context, out: Path | None, key_file: Path | None) -> None:
    """Back the whole database up into a new file, encrypted with your backup key:
    `chorus backup --out FILE --key-file KEY`.

    Make the key once with `chorus backup keygen --out KEY` and keep it away from
    the database and its backups: Chorus never stores it, and without it no backup
    can be restored. `chorus restore` reads the file back.
    """
    if ctx.invoked_subcommand is not None:
        return
    if out is None or key_file is None:
        raise click.UsageError(
            "Give --out FILE and --key-file KEY (or set CHORUS_BACKUP_KEY_FILE). "
            "Make a key once with `chorus backup keygen --out KEY`."
        )
    _push_app_context(ctx)
    try:
        made = backup_database(db.engine.url, out, read_key_file(key_file))
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    announce(
        "database.backup", cli_actor(), kind=made.kind, key_id=made.key_id, size=made.file_bytes
    )
    click.echo(
        f"Wrote {out}: the {KIND_NAMES[made.kind]} database "
        f"({made.database_bytes:,} bytes), encrypted with backup key {made.key_id}."
    )


@backup_group.command("keygen")
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The key file to make (readable only by you; never overwritten).",
)
def keygen_command(out: Path) -> None:
    """Make a random 256-bit backup key, once. The key is written only to the file,
    never shown: copy the file somewhere safe, away from the database host."""
    try:
        key = generate_key_file(out)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"Wrote backup key {key.key_id} to {out} (mode 0600). Keep a copy away from the "
        "database and its backups: without it no backup made with it can be restored."
    )


@click.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_key_file_option(required=True)
@click.option(
    "--force",
    is_flag=True,
    help="Restore over a database that is not empty (SQLite: replace it; PostgreSQL: "
    "drop and remake the backup's tables).",
)
@with_appcontext
def restore_command(file: Path, key_file: Path, force: bool) -> None:
    """Restore a backup made by `chorus backup` into the configured database, which
    must be empty (unless --force). Stop the app first.

    The whole file is checked before anything is written: a wrong key, or a
    damaged, altered or cut-short file, restores nothing.
    """
    db.session.remove()
    db.engine.dispose()
    try:
        restored = restore_database(db.engine.url, file, read_key_file(key_file), force=force)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    db.engine.dispose()
    revision = restored.contents.revision
    try:
        announce(
            "database.restore",
            cli_actor(),
            kind=restored.kind,
            key_id=restored.key_id,
            forced=force,
            revision=revision,
        )
    except SQLAlchemyError:
        db.session.rollback()
        click.echo(
            "The audit log can't record the restore in this schema yet: run `chorus db upgrade`.",
            err=True,
        )
    click.echo(
        f"Restored {file} into the {KIND_NAMES[restored.kind]} database: "
        f"{len(restored.contents.tables)} tables, schema at revision {revision}.\n"
        "Run `chorus db upgrade` to bring the schema up to this version of Chorus, and "
        "give the app the same CHORUS_SECRET_KEY it had when the backup was made."
    )


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
def serve_command(host: str, port: int) -> None:
    """Serve with Werkzeug, logging requests without client addresses (demo, tests).

    In production use gunicorn (see the README).
    """
    from werkzeug.serving import run_simple

    from survey.privacy import AddresslessRequestHandler, configure_logging

    app = app_for_commands()
    configure_logging(app.config["CHORUS_LOG_LEVEL"])
    run_simple(host, port, app, threaded=True, request_handler=AddresslessRequestHandler)


@click.command("doctor")
@click.pass_context
def doctor_command(ctx: click.Context) -> None:
    """Check the running configuration: one line per check (OK, WARN or FAIL) with
    what to do. Exits with status 1 if any check fails.

    It needs no working app: settings the app refuses to start with (no secret key)
    are reported like any other failure.
    """
    try:
        app = ctx.ensure_object(ScriptInfo).load_app()
    except NoAppException as exc:
        checks = [settings_problem_check(exc.format_message())]
    else:
        checks = run_checks(app, os.environ)
    for check in checks:
        click.echo(check.line())
    ctx.exit(1 if any_failed(checks) else 0)


# Registered by the app factory, with admin/cli.py's, in one place.
COMMANDS = (
    survey_group,
    responses_group,
    invites_group,
    demo_command,
    purge_command,
    backup_group,
    restore_command,
    serve_command,
    doctor_command,
)


def app_for_commands() -> Flask:
    """The app for a command, or a usage error saying which setting to fix.

    Click prints the error's message alone, without a traceback: a missing secret
    key is a setting to make, not a crash.
    """
    from survey import create_app

    try:
        return create_app()
    except ConfigError as exc:
        raise NoAppException(str(exc)) from None


def main() -> None:
    """The `chorus` console script.

    The commands are registered on the script's group too, not only on the app,
    so that `chorus --help` lists them even when no app can be made; a command
    that needs the app then says what to set.
    """
    from flask_migrate.cli import db as migrations_group

    from survey import chorus_commands

    cli = FlaskGroup(create_app=app_for_commands, add_default_commands=True, load_dotenv=False)
    for command in (*chorus_commands(), migrations_group):
        cli.add_command(command)
    cli.help = "Chorus: survivor-consultation surveys."
    cli.main(prog_name="chorus")
