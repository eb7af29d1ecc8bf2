"""Encrypted database backups (`chorus backup`) and restoring them (`chorus restore`).

A backup is the whole database: PostgreSQL's `pg_dump --format=custom`, or a
copy of the SQLite file made with SQLite's backup API. Answers in it are sealed
already, but the rest (staff e-mail addresses, the audit log, invite and inbox
tables) is not, and a backup travels further than the database: so the file is
encrypted at rest with a key the operator keeps, which is neither the app's
secret key nor stored anywhere by Chorus (`chorus backup keygen` writes it once,
to a file the operator takes away).

File format ("CHORUSBK1"), everything big-endian:

    header  = magic "CHORUSBK1" | kind (1 byte: "p" PostgreSQL custom dump,
              "s" SQLite file) | key id (8) | salt (16) | chunk size (uint32)
    chunk   = final flag (1 byte: 0 or 1) | length (uint32) | AES-256-GCM ciphertext

Each file has its own AES-256-GCM key, HKDF-SHA256 of the backup key with the
file's random salt, so no nonce is ever used twice under one key; chunks are
numbered from 0 and each one's nonce is its number (12 bytes). Every chunk's
associated data is the whole header plus its final flag: the header can't be
changed, chunks can't be reordered, dropped or repeated (the counter), and a file
cut short lacks its final chunk. The key id
(an HMAC of the backup key, which says nothing about it) only lets a wrong key
be named as such rather than as damage.

The plaintext never sits whole in memory. A PostgreSQL dump goes from pg_dump's
output straight into the encryptor, and a restore is read twice: once to check
every chunk, then again into `pg_restore --single-transaction`, so a damaged or
altered file restores nothing. SQLite's copy (made, and on restore checked,
before it is used) lives for the moment it takes in a private temporary
directory (mode 0700, the file 0600) that is removed even on failure.
"""

from __future__ import annotations

import hmac
import os
import secrets
import shutil
import sqlite3
import struct
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Literal

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

MAGIC = b"CHORUSBK1"
KEY_BYTES = 32
KEY_ID_BYTES = 8
SALT_BYTES = 16
TAG_BYTES = 16
CHUNK_BYTES = 1024 * 1024
# A header may not ask a reader for more memory than this per chunk.
MAX_CHUNK_BYTES = 16 * 1024 * 1024
HEADER = struct.Struct(f">{len(MAGIC)}sc{KEY_ID_BYTES}s{SALT_BYTES}sI")
FRAME = struct.Struct(">BI")
KEY_LINE_PREFIX = "chorus-backup-key-1:"

Kind = Literal["postgresql", "sqlite"]
KIND_CODES: dict[Kind, bytes] = {"postgresql": b"p", "sqlite": b"s"}
KIND_NAMES = {"postgresql": "PostgreSQL", "sqlite": "SQLite"}

# libpq's connection parameters that have an environment variable: the connection is
# handed to pg_dump and pg_restore through their environment, never their arguments.
LIBPQ_ENVIRONMENT = {
    "host": "PGHOST",
    "hostaddr": "PGHOSTADDR",
    "port": "PGPORT",
    "user": "PGUSER",
    "password": "PGPASSWORD",
    "passfile": "PGPASSFILE",
    "service": "PGSERVICE",
    "options": "PGOPTIONS",
    "application_name": "PGAPPNAME",
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "sslmode": "PGSSLMODE",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcrl": "PGSSLCRL",
    "sslcompression": "PGSSLCOMPRESSION",
    "requiressl": "PGREQUIRESSL",
    "channel_binding": "PGCHANNELBINDING",
    "gssencmode": "PGGSSENCMODE",
    "krbsrvname": "PGKRBSRVNAME",
    "target_session_attrs": "PGTARGETSESSIONATTRS",
    "load_balance_hosts": "PGLOADBALANCEHOSTS",
}


class BackupError(Exception):
    """A backup or restore can't go ahead; the message says why, for the operator."""


# --- the operator's key -----------------------------------------------------------------


@dataclass(frozen=True)
class BackupKey:
    """A 256-bit backup key. Its repr leaves the key out, so no log or traceback shows it."""

    secret: bytes = field(repr=False)

    @property
    def key_id(self) -> str:
        """A name for the key that says nothing about it: written in each backup's
        header, printed and recorded in the audit log."""
        return _key_id(self.secret).hex()


def _key_id(secret: bytes) -> bytes:
    return hmac.digest(secret, b"chorus-backup key id", "sha256")[:KEY_ID_BYTES]


def generate_key_file(path: Path) -> BackupKey:
    """Make a new random backup key and write it to `path` (mode 0600, never over an
    existing file: overwriting a key would make every backup made with it unreadable)."""
    key = BackupKey(secrets.token_bytes(KEY_BYTES))
    content = (
        f"# Chorus backup key {key.key_id}. Keep it away from the database and its backups:\n"
        "# without it no backup made with it can be restored, and with a backup it reads\n"
        "# the whole database.\n"
        f"{KEY_LINE_PREFIX}{key.secret.hex()}\n"
    )
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise BackupError(f"{path} already exists: a key is never overwritten.") from None
    except OSError as exc:
        raise BackupError(f"Can't create {path}: {exc.strerror}") from None
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
    return key


def read_key_file(path: Path) -> BackupKey:
    """The backup key in a file written by `generate_key_file`.

    A file other accounts can read is refused, as ssh refuses such a private key:
    the key reads every backup.
    """
    try:
        mode = path.stat().st_mode
        lines = path.read_text("ascii").splitlines()
    except FileNotFoundError:
        raise BackupError(f"There is no key file {path}.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BackupError(f"Can't read the key file {path}: {exc}") from None
    if mode & 0o077:
        raise BackupError(
            f"The key file {path} can be read by other accounts (mode {mode & 0o777:04o}): "
            f"`chmod 600 {path}` first."
        )
    keys = [line.strip() for line in lines if line.strip().startswith(KEY_LINE_PREFIX)]
    if len(keys) != 1:
        raise BackupError(
            f"{path} is not a Chorus backup key (make one with `chorus backup keygen`)."
        )
    digits = "".join(keys[0].removeprefix(KEY_LINE_PREFIX).split())
    try:
        secret = bytes.fromhex(digits)
    except ValueError:
        secret = b""
    if len(secret) != KEY_BYTES:
        raise BackupError(f"The key in {path} is damaged: it should be 64 hex digits.")
    return BackupKey(secret)


# --- the encrypted stream ---------------------------------------------------------------


@dataclass(frozen=True)
class BackupHeader:
    kind: Kind
    key_id: str
    salt: bytes
    chunk_bytes: int
    raw: bytes


def _file_cipher(key: BackupKey, salt: bytes) -> AESGCM:
    file_key = HKDF(
        algorithm=hashes.SHA256(), length=KEY_BYTES, salt=salt, info=b"chorus-backup/1 file key"
    ).derive(key.secret)
    return AESGCM(file_key)


def _nonce(counter: int) -> bytes:
    return counter.to_bytes(12, "big")


def _read_up_to(source: IO[bytes], size: int) -> bytes:
    """`size` bytes, or fewer only at the end: a pipe hands over what it has."""
    parts = []
    wanted = size
    while wanted:
        part = source.read(wanted)
        if not part:
            break
        parts.append(part)
        wanted -= len(part)
    return b"".join(parts)


def encrypt_stream(
    source: IO[bytes], sink: IO[bytes], key: BackupKey, kind: Kind, chunk_bytes: int = CHUNK_BYTES
) -> int:
    """Encrypt everything `source` gives into `sink` in the CHORUSBK1 format, a chunk at
    a time; returns the number of plaintext bytes."""
    if not 0 < chunk_bytes <= MAX_CHUNK_BYTES:
        raise ValueError(f"chunk_bytes must be between 1 and {MAX_CHUNK_BYTES}")
    salt = secrets.token_bytes(SALT_BYTES)
    header = HEADER.pack(MAGIC, KIND_CODES[kind], _key_id(key.secret), salt, chunk_bytes)
    cipher = _file_cipher(key, salt)
    sink.write(header)
    total = 0
    counter = 0
    chunk = _read_up_to(source, chunk_bytes)
    while True:
        # A full chunk may be the last one: look ahead to know which flag it gets.
        following = _read_up_to(source, chunk_bytes) if len(chunk) == chunk_bytes else b""
        final = not following
        flag = 1 if final else 0
        box = cipher.encrypt(_nonce(counter), chunk, header + bytes([flag]))
        sink.write(FRAME.pack(flag, len(box)))
        sink.write(box)
        total += len(chunk)
        if final:
            return total
        chunk = following
        counter += 1


def read_header(source: IO[bytes]) -> BackupHeader:
    """The header of a backup file; BackupError if it isn't one."""
    raw = _read_up_to(source, HEADER.size)
    if not raw or not MAGIC.startswith(raw[: len(MAGIC)]):
        raise BackupError("This is not a Chorus backup (it doesn't start with CHORUSBK1).")
    if len(raw) < HEADER.size:
        raise BackupError("The backup is cut short: it ends inside its header.")
    _, code, key_id, salt, chunk_bytes = HEADER.unpack(raw)
    kinds = {c: k for k, c in KIND_CODES.items()}
    if code not in kinds or not 0 < chunk_bytes <= MAX_CHUNK_BYTES:
        raise BackupError("The backup's header is damaged.")
    return BackupHeader(kinds[code], key_id.hex(), salt, chunk_bytes, raw)


def decrypt_stream(source: IO[bytes], sink: IO[bytes] | None, key: BackupKey) -> BackupHeader:
    """Check and decrypt a CHORUSBK1 stream into `sink` (None: only check it).

    Raises BackupError naming what is wrong: another key, a cut-short file, an
    altered or damaged chunk, or data after the end. `sink` has by then had the
    chunks before the bad one, so callers check a whole file before using it.
    """
    header = read_header(source)
    if header.key_id != key.key_id:
        raise BackupError(
            f"This backup was made with another key (key id {header.key_id}); "
            f"the key file holds key {key.key_id}."
        )
    cipher = _file_cipher(key, header.salt)
    counter = 0
    while True:
        frame = _read_up_to(source, FRAME.size)
        if len(frame) < FRAME.size:
            raise BackupError(
                f"The backup is cut short: it ends after {counter} chunks, before its last one."
            )
        flag, length = FRAME.unpack(frame)
        if flag not in (0, 1) or not TAG_BYTES <= length <= header.chunk_bytes + TAG_BYTES:
            raise BackupError(f"The backup is damaged or altered at chunk {counter + 1}.")
        box = _read_up_to(source, length)
        if len(box) < length:
            raise BackupError(f"The backup is cut short: it ends inside chunk {counter + 1}.")
        try:
            chunk = cipher.decrypt(_nonce(counter), box, header.raw + bytes([flag]))
        except InvalidTag:
            raise BackupError(
                f"The backup is damaged or altered: chunk {counter + 1} fails its check."
            ) from None
        if sink is not None:
            sink.write(chunk)
        if flag == 1:
            if source.read(1):
                raise BackupError("The backup has data after its end: it was altered.")
            return header
        counter += 1


# --- where the database is --------------------------------------------------------------


def database_kind(url: str | URL) -> Kind:
    """Which kind of database a SQLAlchemy URL names; BackupError for any other."""
    backend = make_url(url).get_backend_name()
    if backend == "postgresql":
        return "postgresql"
    if backend == "sqlite":
        return "sqlite"
    raise BackupError(f"Chorus backs up PostgreSQL and SQLite databases, not {backend}.")


def sqlite_path(url: str | URL) -> Path:
    """The file of a SQLite URL (`sqlite:///relative` or `sqlite:////absolute`)."""
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise BackupError("The configured SQLite database is not a file Chorus can back up.")
    return Path(database)


def libpq_environment(url: str | URL) -> dict[str, str]:
    """libpq's environment variables for a SQLAlchemy PostgreSQL URL
    (`postgresql+psycopg://user:pass@host:port/db?sslmode=require`).

    The password goes in PGPASSWORD, so it never shows in a process list; the rest
    goes there too, so the command line names nothing about the connection.
    """
    parsed = make_url(url)
    given = {
        "host": parsed.host,
        "port": None if parsed.port is None else str(parsed.port),
        "user": parsed.username,
        "password": parsed.password,
    }
    values = {name: value for name, value in given.items() if value}
    for name, setting in parsed.query.items():
        if name not in LIBPQ_ENVIRONMENT:
            raise BackupError(
                f"The database URL has a setting pg_dump can't be given: {name!r}. "
                "Set it in a libpq service file (PGSERVICEFILE) instead."
            )
        values[name] = setting if isinstance(setting, str) else ",".join(setting)
    return {LIBPQ_ENVIRONMENT[name]: value for name, value in values.items()}


def _conninfo_dbname(url: str | URL) -> str:
    """`dbname='…'` for pg_dump's and pg_restore's --dbname (quoted as libpq wants,
    so a name is never read as a connection string)."""
    database = make_url(url).database
    if not database:
        raise BackupError("The database URL names no database.")
    quoted = database.replace("\\", "\\\\").replace("'", "\\'")
    return f"dbname='{quoted}'"


def pg_dump_command(url: str | URL) -> list[str]:
    """pg_dump's command line: the custom format (compressed, and what pg_restore reads)
    to standard output. It names only the database; the connection is in
    `libpq_environment`."""
    return [_client_program("pg_dump"), "--format=custom", "--dbname", _conninfo_dbname(url)]


def pg_restore_command(url: str | URL, *, clean: bool) -> list[str]:
    """pg_restore's command line, reading the dump from standard input, all in one
    transaction that any error rolls back; with `clean`, the backup's objects are
    dropped first (a restore over a database that isn't empty)."""
    return [
        _client_program("pg_restore"),
        "--single-transaction",
        "--exit-on-error",
        # Objects belong to the role the app connects as; the source's roles and
        # grants may not exist here.
        "--no-owner",
        "--no-acl",
        *(["--clean", "--if-exists"] if clean else []),
        "--dbname",
        _conninfo_dbname(url),
    ]


def _client_environment(url: str | URL) -> dict[str, str]:
    # The app's own libpq reads PG* variables too: keep them, with the URL's on top.
    return {**os.environ, **libpq_environment(url)}


def _client_program(program: str) -> str:
    found = shutil.which(program)
    if found is None:
        raise BackupError(
            f"{program} is not installed: install PostgreSQL's client tools "
            "(Debian: postgresql-client) at the server's major version or newer."
        )
    return found


# --- what a database holds --------------------------------------------------------------


@dataclass(frozen=True)
class DatabaseContents:
    """The tables a database holds and, if it has one, its Alembic revision."""

    tables: tuple[str, ...]
    revision: str | None

    @property
    def empty(self) -> bool:
        return not self.tables

    def describe(self) -> str:
        """What is there, in a sentence for the operator."""
        if self.empty:
            return "it is empty"
        shown = ", ".join(self.tables[:8]) + (", …" if len(self.tables) > 8 else "")
        schema = (
            f"Chorus's schema at revision {self.revision}"
            if self.revision
            else "no Chorus schema (no alembic_version)"
        )
        return f"it holds {len(self.tables)} tables ({shown}) and {schema}"


def database_contents(url: str | URL) -> DatabaseContents:
    """What the database at `url` holds now; a SQLite file that doesn't exist is empty
    (and isn't made by looking)."""
    if database_kind(url) == "sqlite":
        return _sqlite_contents(sqlite_path(url))
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            tables = connection.scalars(
                text(
                    "SELECT table_schema || '.' || table_name FROM information_schema.tables"
                    " WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
                    " ORDER BY 1"
                )
            ).all()
            names = tuple(t.removeprefix("public.") for t in tables)
            revision = None
            if "alembic_version" in names:
                revision = connection.scalar(text("SELECT version_num FROM alembic_version"))
    except SQLAlchemyError as exc:
        raise BackupError(f"Can't read the database: {getattr(exc, 'orig', exc)}") from None
    finally:
        engine.dispose()
    return DatabaseContents(names, revision)


def _sqlite_contents(path: Path) -> DatabaseContents:
    if not path.exists() or (path.is_file() and path.stat().st_size == 0):
        return DatabaseContents((), None)
    if not path.is_file():
        raise BackupError(f"{path} is not a file.")
    try:
        with _sqlite(path) as connection:
            names = tuple(
                row[0]
                for row in connection.execute(
                    "SELECT name FROM sqlite_master WHERE type IN ('table', 'view')"
                    " AND name NOT LIKE 'sqlite_%' ORDER BY name"
                )
            )
            revision = None
            if "alembic_version" in names:
                row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
                revision = row[0] if row else None
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is not a SQLite database Chorus can read: {exc}") from None
    return DatabaseContents(names, revision)


@contextmanager
def _sqlite(path: Path) -> Iterator[sqlite3.Connection]:
    """A connection that is closed afterwards (sqlite3's own `with` only commits)."""
    connection = sqlite3.connect(path)
    try:
        yield connection
    finally:
        connection.close()


@contextmanager
def _private_file(name: str) -> Iterator[Path]:
    """A path for plaintext in a new directory only this account can enter (0700), the
    file made 0600; both removed afterwards, whatever happens."""
    with tempfile.TemporaryDirectory(prefix="chorus-backup-") as directory:
        path = Path(directory) / name
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        yield path


# --- backing up -------------------------------------------------------------------------


@dataclass(frozen=True)
class BackupMade:
    kind: Kind
    key_id: str
    database_bytes: int
    file_bytes: int


def backup_database(url: str | URL, out: Path, key: BackupKey) -> BackupMade:
    """Back the database at `url` up into `out`, encrypted with `key`.

    The file appears at `out` only when complete (written beside it, then renamed);
    an existing file is never overwritten.
    """
    kind = database_kind(url)
    if out.exists():
        raise BackupError(f"{out} already exists: give a new file name.")
    if not out.parent.is_dir():
        raise BackupError(f"There is no directory {out.parent} to write the backup into.")
    descriptor, partial_name = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    partial = Path(partial_name)
    try:
        with os.fdopen(descriptor, "wb") as sink:
            if kind == "postgresql":
                size = _dump_postgresql(url, sink, key)
            else:
                size = _dump_sqlite(sqlite_path(url), sink, key)
            sink.flush()
            os.fsync(sink.fileno())
        os.replace(partial, out)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return BackupMade(kind, key.key_id, size, out.stat().st_size)


def _dump_postgresql(url: str | URL, sink: IO[bytes], key: BackupKey) -> int:
    """pg_dump's custom format, from its output straight into the encryptor."""
    command = pg_dump_command(url)
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(  # noqa: S603 - fixed arguments, no shell
            command, stdout=subprocess.PIPE, stderr=errors, env=_client_environment(url)
        )
        assert process.stdout is not None
        try:
            size = encrypt_stream(process.stdout, sink, key, "postgresql")
        except BaseException:
            process.kill()
            raise
        finally:
            process.stdout.close()
            process.wait()
        if process.returncode != 0:
            raise BackupError(f"pg_dump failed: {_messages(errors)}")
    return size


def _dump_sqlite(path: Path, sink: IO[bytes], key: BackupKey) -> int:
    """A consistent copy made with SQLite's backup API (safe while the app writes)."""
    if not path.is_file():
        raise BackupError(f"There is no SQLite database at {path}.")
    with _private_file("chorus.db") as copy:
        try:
            with _sqlite(path) as source, _sqlite(copy) as target:
                source.backup(target)
        except sqlite3.Error as exc:
            raise BackupError(f"Can't copy the SQLite database {path}: {exc}") from None
        with copy.open("rb") as plaintext:
            return encrypt_stream(plaintext, sink, key, "sqlite")


def _messages(errors: IO[bytes]) -> str:
    errors.seek(0)
    return errors.read().decode("utf-8", "replace").strip() or "no message"


# --- restoring --------------------------------------------------------------------------


@dataclass(frozen=True)
class Restored:
    kind: Kind
    key_id: str
    replaced: DatabaseContents
    contents: DatabaseContents


def check_backup(backup: Path, key: BackupKey) -> BackupHeader:
    """Read a whole backup through, checking every chunk; BackupError if any fails."""
    try:
        with backup.open("rb") as source:
            return decrypt_stream(source, None, key)
    except OSError as exc:
        raise BackupError(f"Can't read {backup}: {exc.strerror}") from None


def restore_database(
    url: str | URL, backup: Path, key: BackupKey, *, force: bool = False
) -> Restored:
    """Restore a backup into the database at `url`, which must be empty unless `force`.

    The whole file is checked before anything is written, so a wrong key or a
    damaged, altered or cut-short backup restores nothing. With `force`, a SQLite
    database is replaced whole; on PostgreSQL the backup's tables are dropped and
    made again (tables the backup doesn't have stay). Stop the app first.
    """
    kind = database_kind(url)
    before = database_contents(url)
    if not before.empty and not force:
        raise BackupError(
            f"The configured database is not empty: {before.describe()}. Restore into an "
            "empty database, or give --force to replace what is there."
        )
    header = check_backup(backup, key)
    if header.kind != kind:
        raise BackupError(
            f"This is a backup of a {KIND_NAMES[header.kind]} database; "
            f"the configured database is {KIND_NAMES[kind]}."
        )
    if kind == "postgresql":
        _restore_postgresql(url, backup, key, clean=not before.empty)
    else:
        _restore_sqlite(sqlite_path(url), backup, key)
    return Restored(kind, key.key_id, before, database_contents(url))


def _restore_postgresql(url: str | URL, backup: Path, key: BackupKey, *, clean: bool) -> None:
    """Decrypt into pg_restore, all in one transaction: if the file changed since it
    was checked, or anything fails, pg_restore rolls everything back."""
    command = pg_restore_command(url, clean=clean)
    with tempfile.TemporaryFile() as errors, backup.open("rb") as source:
        process = subprocess.Popen(  # noqa: S603 - fixed arguments, no shell
            command, stdin=subprocess.PIPE, stderr=errors, env=_client_environment(url)
        )
        assert process.stdin is not None
        try:
            decrypt_stream(source, process.stdin, key)
            process.stdin.close()
        except BrokenPipeError:
            pass  # pg_restore stopped early: its exit status and messages say why
        except BaseException:
            process.kill()
            raise
        finally:
            process.wait()
        if process.returncode != 0:
            raise BackupError(f"pg_restore failed (nothing was restored): {_messages(errors)}")


def _restore_sqlite(path: Path, backup: Path, key: BackupKey) -> None:
    """Decrypt into a private file, check it is a sound SQLite database, then copy it
    into the configured file with SQLite's backup API (which takes the database's
    locks, so it never corrupts a file another connection has open)."""
    if not path.parent.is_dir():
        raise BackupError(f"There is no directory {path.parent} for the database.")
    with _private_file("chorus.db") as copy:
        with backup.open("rb") as source, copy.open("wb") as plaintext:
            decrypt_stream(source, plaintext, key)
        try:
            with _sqlite(copy) as restored:
                problems = [row[0] for row in restored.execute("PRAGMA quick_check")]
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"The backup holds no sound SQLite database: {exc}") from None
        if problems != ["ok"]:
            raise BackupError(f"The backup's SQLite database is damaged: {problems[0]}")
        if not path.exists():
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        try:
            with _sqlite(copy) as restored, _sqlite(path) as target:
                restored.backup(target)
        except sqlite3.Error as exc:
            raise BackupError(f"Can't write {path}: {exc} (is the app still running?)") from None
