"""`chorus backup` and `chorus restore`: encrypted backups that restore into an empty
database, where the answers open with the survey's recovery code as before.

Every round trip runs on SQLite, and on PostgreSQL too when TEST_DATABASE_URL is a
PostgreSQL URL: each test makes its own databases there (a source, migrated, and an
empty target) and drops them afterwards.
"""

from __future__ import annotations

import io
import os
import secrets
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import flask_migrate
import pandas as pd
import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.engine import make_url

from admin.analysis.frame import answers_frame
from admin.audit.log import verify
from survey import create_app
from survey.backup import (
    HEADER,
    MAGIC,
    BackupError,
    BackupKey,
    backup_database,
    database_contents,
    decrypt_stream,
    encrypt_stream,
    generate_key_file,
    libpq_environment,
    pg_dump_command,
    pg_restore_command,
    read_key_file,
)
from survey.crypto import generate_code
from survey.definition import parse_definition
from survey.inbox import flush_inbox
from survey.models import AuditEntry, SurveyStatus, db
from survey.responses import (
    DraftState,
    final_answers,
    read_draft,
    receipt_exists,
    save_draft,
    start_draft,
    store_response,
    submit,
)
from survey.surveys import (
    close_survey,
    definition_of,
    find_survey,
    import_definition,
    open_survey,
    prepare_keys,
    unwrap_with_recovery_code,
)
from tests.conftest import base_config, is_postgres
from tests.factories import CUSTODIAN_EMAIL, custodian_user, person, small_survey_document
from tests.survey.test_cli import chorus_without_a_secret

STORY = "The moderators never answered my third report about the group chat."
WAITING_STORY = "Still waiting in the inbox when the backup was made."
TABLE_NAMES = (b"alembic_version", b"audit_log", b"surveys", b"survey_key_wraps", b"users")


# --- databases of each kind ----------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def kind(request: pytest.FixtureRequest) -> str:
    if request.param == "postgresql" and not is_postgres(os.environ.get("TEST_DATABASE_URL", "")):
        pytest.skip("PostgreSQL only with TEST_DATABASE_URL=postgresql+psycopg://…")
    return request.param


@pytest.fixture
def new_database(kind: str, tmp_path: Path) -> Iterator[Callable[[str], str]]:
    """Makes a new empty database of the kind under test and returns its URL; the
    PostgreSQL ones are dropped afterwards."""
    made: list[str] = []

    def make(name: str) -> str:
        if kind == "sqlite":
            return f"sqlite:///{tmp_path / name}.db"
        import psycopg

        database = f"chorus_backup_{name}_{os.getpid()}_{secrets.token_hex(4)}"
        with psycopg.connect(_server_dsn(), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{database}"')
        made.append(database)
        server = make_url(os.environ["TEST_DATABASE_URL"])
        return server.set(database=database).render_as_string(hide_password=False)

    yield make
    if made:
        import psycopg

        with psycopg.connect(_server_dsn(), autocommit=True) as connection:
            for database in made:
                connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def _server_dsn() -> str:
    server = make_url(os.environ["TEST_DATABASE_URL"]).set(drivername="postgresql")
    return server.render_as_string(hide_password=False)


def app_for(url: str) -> Flask:
    """An app on this database, with the tests' secret key (the same for every app, as a
    restored database needs the secret key it was made with)."""
    return create_app(base_config(url))


@dataclass
class Source:
    """A migrated database with an open survey: four stored responses and one still
    waiting in the inbox; its recovery code and its answers as they were."""

    app: Flask
    url: str
    code: str
    receipt: str
    frame: pd.DataFrame


@pytest.fixture
def source(new_database: Callable[[str], str]) -> Iterator[Source]:
    url = new_database("source")
    app = app_for(url)
    with app.app_context():
        flask_migrate.upgrade()
        survey = import_definition(parse_definition(small_survey_document()))
        code = prepare_keys(survey, [custodian_user()], sheet_check=False)
        open_survey(survey)
        survey = find_survey("small")
        definition = definition_of(survey)
        for answers in (
            person("adult", 3, ["detect"], apps=4, story=STORY, consent=True),
            person("under_18", 5, ["report", "defaults"]),
            person("pnts", 1, story="Nothing to add.", consent=False),
            person("adult", 2, ["detect"], apps=0),
        ):
            state = DraftState()
            state.answers.update(answers)
            store_response(survey, final_answers(definition, state))
        db.session.commit()
        # Sent through the real path: it waits in the inbox, sealed under the secret key.
        draft = start_draft(survey)
        state = DraftState()
        state.answers.update(person("adult", 4, story=WAITING_STORY, consent=True))
        save_draft(survey, draft, state)
        receipt = generate_code()
        submit(survey, draft, receipt, read_draft(survey, draft.draft_id))
        frame = answers_frame(survey, unwrap_with_recovery_code(survey, code), workers=1)
        # Staff read only stored responses: the waiting one is not in the frame yet.
        assert (
            len(frame) == 4
            and STORY in set(frame["story"])
            and WAITING_STORY not in set(frame["story"])
        )
        db.session.remove()
        yield Source(app, url, code, receipt, frame)
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "keys" / "backup.key"
    path.parent.mkdir()
    generate_key_file(path)
    return path


def chorus(app: Flask, *args: str):
    """Run a `chorus` command against this app's database."""
    with app.app_context():
        result = app.test_cli_runner().invoke(args=list(args))
        db.session.remove()
        db.engine.dispose()
    return result


def back_up(source: Source, key_file: Path, out: Path) -> Path:
    result = chorus(source.app, "backup", "--out", str(out), "--key-file", str(key_file))
    assert result.exit_code == 0, result.output
    return out


def is_empty(url: str) -> bool:
    return database_contents(url).empty


# --- round trips ---------------------------------------------------------------------------


def test_round_trip_opens_the_answers_with_the_recovery_code(
    source, key_file, new_database, tmp_path
):
    backup = tmp_path / "chorus.chorusbk"
    made = chorus(source.app, "backup", "--out", str(backup), "--key-file", str(key_file))
    assert made.exit_code == 0, made.output
    key = read_key_file(key_file)
    assert f"encrypted with backup key {key.key_id}" in made.output
    with source.app.app_context():
        # Announced with the key's id and the file's size, never the key or a path.
        entry = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
        assert entry is not None and entry.action == "database.backup"
        assert key.key_id in entry.details and str(backup.stat().st_size) in entry.details
        assert key.secret.hex() not in entry.details and str(tmp_path) not in entry.details
        db.session.remove()
    target = new_database("target")
    assert is_empty(target)

    result = chorus(app_for(target), "restore", str(backup), "--key-file", str(key_file))
    assert result.exit_code == 0, result.output
    assert "Restored" in result.output and "chorus db upgrade" in result.output
    assert key.secret.hex() not in made.output + result.output

    restored_app = app_for(target)
    with restored_app.app_context():
        survey = find_survey("small")
        assert survey is not None and survey.status == SurveyStatus.OPEN.value
        frame = answers_frame(survey, unwrap_with_recovery_code(survey, source.code), workers=1)
        pd.testing.assert_frame_equal(frame.sort_index(), source.frame.sort_index())
        assert STORY in set(frame["story"])
        # The inbox entry still answers to its receipt (the same secret key opens it),
        # and its answers are stored by the flush as they were sent.
        assert receipt_exists(survey, source.receipt)
        flush_inbox(survey, everything=True)
        flushed = answers_frame(survey, unwrap_with_recovery_code(survey, source.code), workers=1)
        assert len(flushed) == 5 and WAITING_STORY in set(flushed["story"])
        # The audit chain came along whole, and the restore is its last entry.
        assert verify().ok
        actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
        # The backup is announced once made, so it isn't in itself.
        assert actions[-1] == "database.restore" and "database.backup" not in actions
        last = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
        assert last is not None and key.key_id in last.details
        assert str(tmp_path) not in last.details and key.secret.hex() not in last.details
        db.session.remove()
        db.engine.dispose()
    if make_url(target).get_backend_name() == "sqlite":
        assert stat.S_IMODE(Path(make_url(target).database).stat().st_mode) == 0o600


def test_the_backup_holds_no_plaintext(source, key_file, tmp_path, monkeypatch):
    monkeypatch.setenv("CHORUS_BACKUP_KEY_FILE", str(key_file))
    backup = tmp_path / "chorus.chorusbk"
    result = chorus(source.app, "backup", "--out", str(backup))
    assert result.exit_code == 0, result.output
    data = backup.read_bytes()
    assert data.startswith(MAGIC)
    # A plain dump names its tables (pg_dump compresses the rows, SQLite's file doesn't):
    # the check below is only worth something if it would see them.
    with backup.open("rb") as encrypted, io.BytesIO() as plain:
        decrypt_stream(encrypted, plain, read_key_file(key_file))
        clear = plain.getvalue()
    assert all(name in clear for name in TABLE_NAMES)
    for secret in (*TABLE_NAMES, CUSTODIAN_EMAIL.encode(), STORY.encode(), b"Messaging safety"):
        assert secret not in data
    assert b"SQLite format 3" not in data and b"PGDMP" not in data
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600


def test_restore_refuses_a_database_that_is_not_empty(source, key_file, tmp_path):
    backup = back_up(source, key_file, tmp_path / "chorus.chorusbk")
    with source.app.app_context():
        close_survey(find_survey("small"))
        db.session.remove()

    refused = chorus(source.app, "restore", str(backup), "--key-file", str(key_file))
    assert refused.exit_code == 1
    assert "The configured database is not empty: it holds" in refused.output
    assert "alembic_version" in refused.output and "Chorus's schema at revision" in refused.output
    assert "--force" in refused.output
    with source.app.app_context():
        assert find_survey("small").status == SurveyStatus.CLOSED.value
        db.session.remove()

    # --force puts back what the backup holds.
    forced = chorus(source.app, "restore", str(backup), "--key-file", str(key_file), "--force")
    assert forced.exit_code == 0, forced.output
    with source.app.app_context():
        survey = find_survey("small")
        assert survey.status == SurveyStatus.OPEN.value
        frame = answers_frame(survey, unwrap_with_recovery_code(survey, source.code), workers=1)
        pd.testing.assert_frame_equal(frame.sort_index(), source.frame.sort_index())
        db.session.remove()


# --- what fails, fails whole ---------------------------------------------------------------


def flipped(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]


DAMAGES = {
    "a byte flipped in the middle": (
        lambda d: flipped(d, len(d) // 2),
        "damaged or altered: chunk 1 fails its check",
    ),
    "a byte of the tag flipped": (
        lambda d: flipped(d, len(d) - 1),
        "damaged or altered: chunk 1 fails its check",
    ),
    "a byte of the salt flipped": (
        lambda d: flipped(d, 30),
        "damaged or altered: chunk 1 fails its check",
    ),
    "a byte of the magic flipped": (lambda d: flipped(d, 0), "not a Chorus backup"),
    "cut in half": (lambda d: d[: len(d) // 2], "cut short: it ends inside chunk 1"),
    "the last byte cut off": (lambda d: d[:-1], "cut short: it ends inside chunk 1"),
    "only the header": (lambda d: d[: HEADER.size + 2], "cut short: it ends after 0 chunks"),
    "cut inside the header": (lambda d: d[:20], "cut short: it ends inside its header"),
    "a byte added": (lambda d: d + b"\x00", "data after its end"),
    "empty": (lambda d: b"", "not a Chorus backup"),
}


def test_a_damaged_file_or_another_key_restores_nothing(source, key_file, new_database, tmp_path):
    good = back_up(source, key_file, tmp_path / "chorus.chorusbk").read_bytes()
    target = new_database("target")
    target_app = app_for(target)

    def refused(data: bytes, key: Path) -> str:
        bad = tmp_path / "bad.chorusbk"
        bad.write_bytes(data)
        result = chorus(target_app, "restore", str(bad), "--key-file", str(key))
        assert result.exit_code == 1
        assert "Traceback" not in result.output
        assert is_empty(target)
        if make_url(target).get_backend_name() == "sqlite":
            assert not Path(make_url(target).database or "").exists()
        return result.output

    for name, (damage, message) in DAMAGES.items():
        assert message in refused(damage(good), key_file), name
    other = tmp_path / "other.key"
    generate_key_file(other)
    output = refused(good, other)
    assert "made with another key" in output
    assert read_key_file(key_file).key_id in output


def test_a_backup_of_the_other_kind_of_database_is_refused(key_file, new_database, tmp_path, kind):
    other = "sqlite" if kind == "postgresql" else "postgresql"
    backup = tmp_path / "other.chorusbk"
    with backup.open("wb") as sink:
        encrypt_stream(io.BytesIO(b"not this database"), sink, read_key_file(key_file), other)
    target = new_database("target")
    result = chorus(app_for(target), "restore", str(backup), "--key-file", str(key_file))
    assert result.exit_code == 1 and "This is a backup of a" in result.output
    assert is_empty(target)


def test_a_backup_never_overwrites_a_file(key_file, tmp_path):
    existing = tmp_path / "backups" / "chorus.chorusbk"
    existing.parent.mkdir()
    existing.write_bytes(b"last week's")
    with pytest.raises(BackupError, match="already exists"):
        backup_database(f"sqlite:///{tmp_path / 'any.db'}", existing, read_key_file(key_file))
    assert existing.read_bytes() == b"last week's"
    assert list(existing.parent.iterdir()) == [existing]


def test_a_failed_backup_leaves_no_file(kind, key_file, tmp_path):
    if kind == "sqlite":
        missing, message = f"sqlite:///{tmp_path / 'missing.db'}", "There is no SQLite database"
    else:
        server = make_url(os.environ["TEST_DATABASE_URL"])
        missing = server.set(database=f"chorus_missing_{secrets.token_hex(4)}")
        message = "pg_dump failed: .* does not exist"
    out = tmp_path / "backups" / "chorus.chorusbk"
    out.parent.mkdir()
    with pytest.raises(BackupError, match=message):
        backup_database(missing, out, read_key_file(key_file))
    assert list(out.parent.iterdir()) == []


# --- the stream format ---------------------------------------------------------------------


KEY = BackupKey(bytes(range(32)))


def encrypted(data: bytes, chunk_bytes: int = 64) -> bytes:
    sink = io.BytesIO()
    assert encrypt_stream(io.BytesIO(data), sink, KEY, "sqlite", chunk_bytes) == len(data)
    return sink.getvalue()


def decrypted(data: bytes) -> bytes:
    sink = io.BytesIO()
    decrypt_stream(io.BytesIO(data), sink, KEY)
    return sink.getvalue()


@pytest.mark.parametrize("size", [0, 1, 63, 64, 65, 128, 1000])
def test_every_length_round_trips_in_chunks(size):
    data = secrets.token_bytes(size)
    box = encrypted(data)
    assert decrypted(box) == data
    chunks = max(1, -(-size // 64))
    assert len(box) == HEADER.size + chunks * (5 + 16) + size
    # A fresh salt each time: the same data never gives the same file.
    assert encrypted(data) != box


def frames(box: bytes) -> tuple[bytes, list[bytes]]:
    """A file's header and its chunks' frames, as they lie in the file."""
    header, rest, found = box[: HEADER.size], box[HEADER.size :], []
    while rest:
        length = int.from_bytes(rest[1:5], "big")
        found.append(rest[: 5 + length])
        rest = rest[5 + length :]
    return header, found


def test_chunks_cannot_be_dropped_reordered_or_repeated():
    header, chunks = frames(encrypted(secrets.token_bytes(300)))
    assert len(chunks) == 5
    for changed, message in [
        (chunks[:-1], "cut short: it ends after 4 chunks"),  # the final chunk cut off
        (chunks[1:], "chunk 1 fails its check"),
        ([chunks[1], chunks[0], *chunks[2:]], "chunk 1 fails its check"),
        ([chunks[0], *chunks], "chunk 2 fails its check"),
        (chunks[:2] + chunks[3:], "chunk 3 fails its check"),
    ]:
        with pytest.raises(BackupError, match=message):
            decrypted(header + b"".join(changed))
    # Nor can a chunk be passed off as the last one: the flag is authenticated.
    early_end = bytes([1]) + chunks[1][1:]
    with pytest.raises(BackupError, match="chunk 2 fails its check"):
        decrypted(header + chunks[0] + early_end)


def test_the_header_is_authenticated():
    box = encrypted(b"x" * 100)
    for at in range(len(MAGIC), HEADER.size):
        with pytest.raises(BackupError):
            decrypted(flipped(box, at))


# --- the key -------------------------------------------------------------------------------


def test_keygen_writes_a_private_key_file_and_never_prints_it(tmp_path):
    result = chorus_without_a_secret(tmp_path, "backup", "keygen", "--out", "backup.key")
    assert result.returncode == 0, result.stderr
    path = tmp_path / "backup.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    key = read_key_file(path)
    assert len(key.secret) == 32 and key.key_id in result.stdout
    assert key.secret.hex() not in result.stdout + result.stderr
    assert key.secret.hex() not in repr(key)
    # A key is never overwritten: backups made with it would be lost.
    again = chorus_without_a_secret(tmp_path, "backup", "keygen", "--out", "backup.key")
    assert again.returncode == 1 and "already exists" in again.stderr
    assert read_key_file(path) == key


def test_a_key_file_others_can_read_is_refused(key_file):
    key_file.chmod(0o644)
    with pytest.raises(BackupError, match="can be read by other accounts"):
        read_key_file(key_file)


@pytest.mark.parametrize(
    "content",
    ["", "hello\n", "chorus-backup-key-1:abcd\n", "chorus-backup-key-1:" + "zz" * 32 + "\n"],
)
def test_a_file_that_is_not_a_key_is_refused(tmp_path, content):
    path = tmp_path / "not.key"
    path.write_text(content)
    path.chmod(0o600)
    with pytest.raises(BackupError, match=r"not a Chorus backup key|is damaged"):
        read_key_file(path)


# --- the connection to PostgreSQL ----------------------------------------------------------


URL = "postgresql+psycopg://chorus:p%40ss%3Aw%2Frd@db.example.org:6543/chorus?sslmode=require"


def test_the_password_goes_in_the_environment_never_the_command_line():
    env = libpq_environment(URL)
    assert env == {
        "PGHOST": "db.example.org",
        "PGPORT": "6543",
        "PGUSER": "chorus",
        "PGPASSWORD": "p@ss:w/rd",
        "PGSSLMODE": "require",
    }
    for command in (pg_dump_command(URL), pg_restore_command(URL, clean=True)):
        line = " ".join(command)
        assert "p@ss" not in line and "p%40ss" not in line and "db.example.org" not in line
        assert "dbname='chorus'" in command


def test_a_database_name_is_never_read_as_a_connection_string():
    command = pg_dump_command("postgresql+psycopg://u@h/odd'name host=evil")
    assert r"dbname='odd\'name host=evil'" in command


def test_a_url_setting_libpq_has_no_variable_for_is_refused():
    with pytest.raises(BackupError, match="'sslpassword'"):
        libpq_environment("postgresql+psycopg://u@h/chorus?sslpassword=x")
