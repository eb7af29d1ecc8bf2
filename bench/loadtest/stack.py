"""The load test's own production stack on this machine, and the faults it can suffer.

Everything lives in one temporary folder and on free ports, and nothing of the
machine's own services is touched (CI runs the PostgreSQL test suite against the
system PostgreSQL at the same time):

- PostgreSQL: a cluster of its own, `initdb` into the folder with the newest
  /usr/lib/postgresql/*/bin, started with `pg_ctl` (as the `postgres` account when
  run as root: PostgreSQL refuses to run as root);
- Redis: `redis-server` with no persistence (`save ""`, `appendonly no`), as the
  README asks, shared by the app processes for rate limits;
- gunicorn with deploy/gunicorn.conf.py (gthread workers), the app configured as
  the README's production section says: PostgreSQL, Redis, CHORUS_PROXY_HOPS=1,
  secure cookies, the secret key in a file;
- nginx with deploy/nginx/chorus.conf, on local ports with a throwaway certificate.

`Stack` starts them in that order and stops them in the reverse order, also when
the run fails or is interrupted, then deletes the folder. The faults (`kill_worker`,
`restart_postgres`, `stop_postgres`, `stop_redis`) act on this stack only.
"""

from __future__ import annotations

import datetime as dt
import glob
import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import psycopg
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from survey.config import STATIC_DIR

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEPLOY = PROJECT_ROOT / "deploy"
SERVER_NAME = "chorus.example.org"
DATABASE = "chorus"


class StackError(Exception):
    """A part of the stack didn't start or stop as it should; the message says which."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for(what: str, ready: Any, timeout: float, log: Path | None = None) -> None:
    """Poll `ready()` until it is true, or fail naming `what` (with its log's tail)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            return
        time.sleep(0.1)
    tail = ""
    if log is not None and log.exists():
        tail = "\n" + "\n".join(log.read_text("utf-8", "replace").splitlines()[-30:])
    raise StackError(f"{what} did not come up within {timeout:.0f} s{tail}")


def port_open(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A throwaway certificate and key for SERVER_NAME, as PEM files (key mode 0600)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, SERVER_NAME)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(SERVER_NAME)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "fullchain.pem", folder / "privkey.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.touch(mode=0o600)
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def unverified_tls() -> ssl.SSLContext:
    """For the throwaway self-signed certificate on this machine."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def postgres_bin() -> Path:
    """The newest PostgreSQL server's binaries (Debian's layout)."""
    found = sorted(
        (Path(p) for p in glob.glob("/usr/lib/postgresql/*/bin")),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    if not found or not (found[-1] / "initdb").exists():
        raise StackError("no PostgreSQL server binaries in /usr/lib/postgresql/*/bin")
    return found[-1]


def nginx_binary() -> str:
    found = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    if not found:
        raise StackError("nginx is not installed (Debian: apt-get install nginx-light)")
    return found


def nginx_site(folder: Path, https_port: int, http_port: int, app_port: int) -> str:
    """deploy/nginx/chorus.conf on local ports, with a throwaway certificate."""
    cert, key = self_signed(folder)
    site = (DEPLOY / "nginx" / "chorus.conf").read_text("utf-8")
    for shipped, here in (
        ("    listen 443 ssl http2;\n    listen [::]:443 ssl http2;\n",
         f"    listen 127.0.0.1:{https_port} ssl;\n"),
        ("    listen 80;\n    listen [::]:80;\n", f"    listen 127.0.0.1:{http_port};\n"),
        ("server 127.0.0.1:8000;", f"server 127.0.0.1:{app_port};"),
        ("/etc/ssl/chorus/fullchain.pem", str(cert)),
        ("/etc/ssl/chorus/privkey.pem", str(key)),
        ("/var/log/nginx/chorus-error.log", str(folder / "chorus-error.log")),
        ("/opt/chorus/lib/python3.11/site-packages/survey/static/", f"{STATIC_DIR}/"),
    ):  # fmt: skip
        if shipped not in site:
            raise StackError(f"deploy/nginx/chorus.conf no longer has {shipped.strip()!r}")
        site = site.replace(shipped, here)
    return site


class Stack:
    """PostgreSQL, Redis, gunicorn and nginx of this run; a context manager."""

    def __init__(
        self, workers: int = 3, threads: int = 4, say: Any = print, keep_logs: Path | None = None
    ):
        self.workers = workers
        self.keep_logs = keep_logs
        self.threads = threads
        self.say = say
        self.root = Path(tempfile.mkdtemp(prefix="chorus-loadtest-"))
        # The postgres account walks through to its own folder; nothing here is listed.
        self.root.chmod(0o711)
        self.as_root = os.geteuid() == 0
        self.pg_bin = postgres_bin()
        self.pg_dir = self.root / "postgresql"
        self.pg_data = self.pg_dir / "data"
        self.pg_port = free_port()
        self.redis_port = free_port()
        self.app_port = free_port()
        self.https_port = free_port()
        self.http_port = free_port()
        self.secret_key = "chorus-loadtest-" + secrets.token_urlsafe(48)
        self.gunicorn: subprocess.Popen[bytes] | None = None
        self.gunicorn_pid: int | None = None
        self.redis: subprocess.Popen[bytes] | None = None
        self.nginx: subprocess.Popen[bytes] | None = None
        self.postgres_running = False
        self._logs: list[IO[bytes]] = []
        # A fault's steps and `close` never run at once: a fault's second half
        # (starting PostgreSQL or Redis again) is skipped once the stack is closing.
        self.fault_lock = threading.Lock()
        self.closing = threading.Event()

    # --- where things are ---------------------------------------------------------------

    @property
    def database_url(self) -> str:
        # psycopg waits for an unreachable server with no limit of its own.
        return (
            f"postgresql+psycopg://postgres@127.0.0.1:{self.pg_port}/{DATABASE}?connect_timeout=5"
        )

    @property
    def redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.redis_port}/0"

    def log(self, name: str) -> Path:
        return self.root / f"{name}.log"

    def _log_file(self, name: str) -> IO[bytes]:
        handle = self.log(name).open("ab")
        self._logs.append(handle)
        return handle

    # --- starting and stopping ------------------------------------------------------------

    def __enter__(self) -> Stack:
        try:
            self.start_postgres()
            self.start_redis()
            self.start_gunicorn()
            self.start_nginx()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _as_postgres(self, command: list[str]) -> list[str]:
        """PostgreSQL refuses to run as root: then its commands run as `postgres`."""
        if self.as_root:
            return ["runuser", "-u", "postgres", "--", *command]
        return command

    def _pg_ctl(self, *args: str, timeout: float = 60) -> None:
        command = self._as_postgres(
            [str(self.pg_bin / "pg_ctl"), "-D", str(self.pg_data), "-w", "-t", "30", *args]
        )
        done = subprocess.run(
            command, cwd=self.pg_dir, capture_output=True, text=True, timeout=timeout, check=False
        )
        if done.returncode != 0:
            raise StackError(f"pg_ctl {' '.join(args)} failed: {done.stderr or done.stdout}")

    def start_postgres(self) -> None:
        self.pg_dir.mkdir(mode=0o700)
        if self.as_root:
            shutil.chown(self.pg_dir, "postgres", "postgres")
        initdb = self._as_postgres(
            [str(self.pg_bin / "initdb"), "-D", str(self.pg_data), "-U", "postgres",
             "-A", "trust", "-E", "UTF8", "--no-sync", "--no-instructions"]
        )  # fmt: skip
        done = subprocess.run(
            initdb, cwd=self.pg_dir, capture_output=True, text=True, timeout=120, check=False
        )
        if done.returncode != 0:
            raise StackError(f"initdb failed: {done.stderr or done.stdout}")
        settings = "\n".join(
            [
                "listen_addresses = '127.0.0.1'",
                f"port = {self.pg_port}",
                f"unix_socket_directories = '{self.pg_dir}'",
                "max_connections = 200",
                "shared_buffers = 64MB",
                # As the README asks of production: no statement log, no commit times.
                "log_statement = 'none'",
                "track_commit_timestamp = off",
                "",
            ]
        )
        with (self.pg_data / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write(settings)
        self._pg_ctl("-l", str(self.pg_dir / "postgres.log"), "start")
        self.postgres_running = True
        with psycopg.connect(
            f"host=127.0.0.1 port={self.pg_port} user=postgres dbname=postgres", autocommit=True
        ) as connection:
            connection.execute(f"CREATE DATABASE {DATABASE}")
        self.say(f"  PostgreSQL {self.pg_bin.parent.name}: 127.0.0.1:{self.pg_port}")

    def start_redis(self) -> None:
        folder = self.root / "redis"
        folder.mkdir(exist_ok=True)
        self.redis = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.redis_port),
             "--save", "", "--appendonly", "no", "--dir", str(folder),
             "--daemonize", "no", "--loglevel", "warning"],
            stdin=subprocess.DEVNULL, stdout=self._log_file("redis"), stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        wait_for("Redis", self.redis_answers, 30, self.log("redis"))
        if self.gunicorn is None:
            self.say(f"  Redis (no persistence): 127.0.0.1:{self.redis_port}")

    def redis_answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.redis_port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def app_env(self) -> dict[str, str]:
        key_file = self.root / "secret-key"
        if not key_file.exists():
            key_file.touch(mode=0o600)
            key_file.write_text(self.secret_key + "\n", "utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CHORUS_", "RATELIMIT_"))}
        return {
            **env,
            # This checkout's code, whatever the virtualenv's editable install points at.
            "PYTHONPATH": str(PROJECT_ROOT),
            "PYTHONUNBUFFERED": "1",
            "CHORUS_SECRET_KEY_FILE": str(key_file),
            "CHORUS_DATABASE_URL": self.database_url,
            "CHORUS_REDIS_URL": self.redis_url,
            "CHORUS_PROXY_HOPS": "1",
            "CHORUS_BIND": f"127.0.0.1:{self.app_port}",
            "CHORUS_WORKERS": str(self.workers),
            "CHORUS_THREADS": str(self.threads),
            "CHORUS_LOG_LEVEL": "WARNING",
        }

    def start_gunicorn(self) -> None:
        gunicorn = Path(sys.executable).parent / "gunicorn"
        self.gunicorn = subprocess.Popen(
            [str(gunicorn), "-c", str(DEPLOY / "gunicorn.conf.py"), "survey:create_app()"],
            cwd=self.root, env=self.app_env(), stdin=subprocess.DEVNULL,
            stdout=self._log_file("gunicorn"), stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        self.gunicorn_pid = self.gunicorn.pid

        def healthy() -> bool:
            if self.gunicorn is not None and self.gunicorn.poll() is not None:
                raise StackError(
                    "gunicorn exited:\n" + self.log("gunicorn").read_text("utf-8", "replace")
                )
            return self.app_healthy() and len(self.worker_pids()) == self.workers

        wait_for("gunicorn", healthy, 60, self.log("gunicorn"))
        self.say(
            f"  gunicorn (deploy/gunicorn.conf.py): {self.workers} gthread workers of "
            f"{self.threads} threads, 127.0.0.1:{self.app_port}"
        )

    def app_healthy(self) -> bool:
        try:
            with urllib.request.urlopen(
                f"http://127.0.0.1:{self.app_port}/healthz", timeout=5
            ) as reply:
                return bool(reply.status == 200)
        except (OSError, urllib.error.HTTPError):
            return False

    def start_nginx(self) -> None:
        folder = self.root / "nginx"
        folder.mkdir()
        (folder / "chorus.conf").write_text(
            nginx_site(folder, self.https_port, self.http_port, self.app_port), "utf-8"
        )
        mime = "include /etc/nginx/mime.types;\n" if Path("/etc/nginx/mime.types").exists() else ""
        main = folder / "nginx.conf"
        main.write_text(
            "daemon off;\n"
            + ("user root;\n" if self.as_root else "")
            + f"pid {folder}/nginx.pid;\nerror_log {folder}/error.log warn;\n"
            "worker_processes 1;\nevents { worker_connections 1024; }\n"
            f"http {{\n{mime}default_type application/octet-stream;\n"
            f"include {folder}/chorus.conf;\n}}\n",
            "utf-8",
        )
        self.nginx = subprocess.Popen(
            [nginx_binary(), "-p", str(folder), "-c", str(main)],
            stdin=subprocess.DEVNULL, stdout=self._log_file("nginx"), stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip

        def listening() -> bool:
            if self.nginx is not None and self.nginx.poll() is not None:
                raise StackError("nginx exited:\n" + self.log("nginx").read_text())
            return port_open(self.https_port)

        wait_for("nginx", listening, 30, self.log("nginx"))
        self.say(
            f"  nginx (deploy/nginx/chorus.conf): https://127.0.0.1:{self.https_port}, self-signed"
        )

    def close(self) -> None:
        """Stop everything this stack started (by its own process ids), delete the folder."""
        self.closing.set()
        with self.fault_lock:
            self._close()

    def _close(self) -> None:
        workers = self.worker_pids()
        for process in (self.nginx, self.gunicorn):
            if process is not None:
                stop_process(process, 40)
        for pid in workers:  # a worker outliving its master (it would notice and exit)
            kill_quietly(pid)
        if self.redis is not None:
            stop_process(self.redis, 10)
        if self.postgres_running:
            try:
                self._pg_ctl("-m", "immediate", "stop")
            except (StackError, subprocess.TimeoutExpired) as error:
                self.say(f"  could not stop the load test's PostgreSQL: {error}")
            self.postgres_running = False
        for handle in self._logs:
            handle.close()
        if self.keep_logs is not None:
            self.keep_logs.mkdir(parents=True, exist_ok=True)
            for log in [*self.root.glob("*.log"), *self.root.glob("*/*.log")]:
                shutil.copy(log, self.keep_logs / f"{log.parent.name}-{log.name}")
        shutil.rmtree(self.root, ignore_errors=True)

    # --- looking at gunicorn ---------------------------------------------------------------

    def worker_pids(self) -> list[int]:
        """gunicorn's worker processes now: the children of its master."""
        if self.gunicorn_pid is None:
            return []
        children = Path(f"/proc/{self.gunicorn_pid}/task/{self.gunicorn_pid}/children")
        try:
            return [int(pid) for pid in children.read_text().split()]
        except OSError:
            return []

    def master_running(self) -> bool:
        return self.gunicorn is not None and self.gunicorn.poll() is None

    def server_log_problems(self) -> list[str]:
        """Lines of gunicorn's log that say a request escaped the app (gunicorn's own
        bare 500) or a worker died other than by our hand."""
        text = self.log("gunicorn").read_text("utf-8", "replace")
        return [
            line
            for line in text.splitlines()
            if "Error handling request" in line or "Exception in worker process" in line
        ]

    # --- faults ------------------------------------------------------------------------------

    @contextmanager
    def while_open(self) -> Iterator[None]:
        """Hold the stack open for one step of a fault; StackError if it is closing."""
        with self.fault_lock:
            if self.closing.is_set():
                raise StackError("the stack is closing")
            yield

    def pause(self, seconds: float) -> None:
        if self.closing.wait(seconds):
            raise StackError("the stack is closing")

    def kill_worker(self) -> str:
        """kill -9 one worker; return once the master has replaced it."""
        with self.while_open():
            return self._kill_worker()

    def _kill_worker(self) -> str:
        before = self.worker_pids()
        if not before:
            raise StackError("gunicorn has no workers to kill")
        victim = before[0]
        os.kill(victim, signal.SIGKILL)

        def replaced() -> bool:
            now = self.worker_pids()
            return victim not in now and len(now) == self.workers

        wait_for("a replacement gunicorn worker", replaced, 60, self.log("gunicorn"))
        return f"worker {victim} killed (SIGKILL) and replaced"

    def restart_postgres(self) -> str:
        with self.while_open():
            # With its log named: a postmaster started without one would keep our pipes open.
            self._pg_ctl("-l", str(self.pg_dir / "postgres.log"), "-m", "fast", "restart")
        return "PostgreSQL restarted (pg_ctl restart -m fast)"

    def stop_postgres(self, seconds: float) -> str:
        with self.while_open():
            self._pg_ctl("-m", "fast", "stop")
            self.postgres_running = False
        self.pause(seconds)
        with self.while_open():
            self._pg_ctl("-l", str(self.pg_dir / "postgres.log"), "start")
            self.postgres_running = True
        return f"PostgreSQL stopped for {seconds:.0f} s (pg_ctl stop -m fast, then start)"

    def stop_redis(self, seconds: float) -> str:
        with self.while_open():
            if self.redis is not None:
                stop_process(self.redis, 10)
        self.pause(seconds)
        with self.while_open():
            self.start_redis()
        return f"Redis stopped for {seconds:.0f} s (SIGTERM), then started again (empty)"


def stop_process(process: subprocess.Popen[bytes], grace: float) -> None:
    """Ask (SIGTERM), then insist (SIGKILL)."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)


def kill_quietly(pid: int) -> None:
    """SIGKILL a leftover gunicorn worker of ours, if that process id is still one."""
    try:
        if b"gunicorn" not in Path(f"/proc/{pid}/cmdline").read_bytes():
            return
        os.kill(pid, signal.SIGKILL)
    except (OSError, ProcessLookupError):
        pass
