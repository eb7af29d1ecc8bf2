"""The wheel is enough to run Chorus: no checkout needed.

The wheel is built from a copy of this checkout and installed, without its
dependencies, into a fresh virtual environment. That environment sees the
dependencies through a `.pth` line naming this test run's own site-packages (a
plain path line: the editable install's finder there is not run, so `survey`
comes from the wheel, which is checked). Then, from an empty directory and with
no checkout on the path, `chorus db upgrade` migrates a new SQLite database,
`chorus survey import --template` loads the bundled survey, and gunicorn serves
pages from the templates and static files inside the wheel.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import sysconfig
import time
import tomllib
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from tests.conftest import TEST_SECRET_KEY, stop_server

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SAMPLE_REPORT = PROJECT_ROOT / "tests" / "reports" / "sample-report.json"
# Where pyproject.toml puts the checkout's top-level folders inside the wheel.
MAPPED_INTO_WHEEL = {"templates": "survey/templates", "migrations": "survey/migrations"}
PACKAGES = ("survey", "admin")
# Left out of the copy the wheel is built from: caches and local state.
NOT_SOURCE = shutil.ignore_patterns(
    ".git",
    ".venv",
    "__pycache__",
    "*.pyc",
    "instance",
    "build",
    "*.egg-info",
    "node_modules",
    "test-results",
    ".pytest_cache",
    ".ruff_cache",
)


@dataclass
class Installed:
    wheel: Path
    venv: Path
    site_packages: Path


def missing_build_backend() -> str | None:
    """Why this environment can't build the wheel offline, or None when it can."""
    pyproject = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text("utf-8"))
    for line in pyproject["build-system"]["requires"]:
        requirement = Requirement(line)
        try:
            version = metadata.version(requirement.name)
        except metadata.PackageNotFoundError:
            return f"{requirement.name} is not installed"
        if not requirement.specifier.contains(version, prereleases=True):
            return f"{requirement.name} {version} is installed, the build needs {requirement}"
    return None


def run(args: list[str], cwd: Path, env: dict[str, str]) -> str:
    result = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, (
        f"{' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
    )
    return result.stdout


def source_files() -> set[str]:
    """The files the wheel must carry, named as they sit inside it."""
    names = set()
    for top in (*PACKAGES, *MAPPED_INTO_WHEEL):
        for path in (PROJECT_ROOT / top).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                relative = path.relative_to(PROJECT_ROOT).as_posix()
                inside = MAPPED_INTO_WHEEL.get(top, top) + relative[len(top) :]
                names.add(inside)
    return names


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    problem = missing_build_backend()
    if problem:
        reason = f"can't build the wheel without the network: {problem} (run `make install`)"
        if os.environ.get("CI"):
            pytest.fail(reason)  # CI installs the build backend: never skip there
        pytest.skip(reason)
    base = tmp_path_factory.mktemp("wheel")
    # A copy, so the build leaves no build/ or egg-info in the checkout and no
    # stale file from an earlier build can slip into the wheel.
    source = base / "source"
    shutil.copytree(PROJECT_ROOT, source, ignore=NOT_SOURCE)
    dist = base / "dist"
    build_env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    pip = [sys.executable, "-m", "pip"]
    offline = ["--no-deps", "--no-index"]
    run(
        [*pip, "wheel", *offline, "--no-build-isolation", "-w", str(dist), str(source)],
        base,
        build_env,
    )
    (wheel,) = dist.glob("chorus-*.whl")

    venv = base / "venv"
    python = venv / "bin" / "python"
    run([sys.executable, "-m", "venv", "--without-pip", str(venv)], base, build_env)
    run([*pip, "--python", str(python), "install", *offline, str(wheel)], base, build_env)
    where = "import sysconfig; print(sysconfig.get_path('purelib'))"
    site_packages = Path(run([str(python), "-c", where], base, clean_env(venv, base)).strip())
    # The dependencies come from this test run's environment, not the network.
    ours = dict.fromkeys([sysconfig.get_path("purelib"), sysconfig.get_path("platlib")])
    (site_packages / "chorus-test-dependencies.pth").write_text("\n".join(ours) + "\n")
    return Installed(wheel=wheel, venv=venv, site_packages=site_packages)


def clean_env(venv: Path, home: Path, **chorus: str) -> dict[str, str]:
    """No PYTHONPATH, no checkout: only the new venv and the settings given."""
    return {
        "PATH": f"{venv / 'bin'}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",
        **chorus,
    }


def test_the_wheel_carries_code_templates_static_files_and_migrations(installed):
    with zipfile.ZipFile(installed.wheel) as wheel:
        names = set(wheel.namelist())
    missing = sorted(source_files() - names)
    assert not missing, f"not in the wheel: {missing}"
    assert "survey/bundled/product-risk-consultation.json" in names
    assert "survey/static/chorus.css" in names
    assert "survey/templates/base.html" in names
    assert "survey/migrations/alembic.ini" in names
    # Nothing from outside the packages: no tests, no local state.
    tops = {name.split("/")[0] for name in names}
    assert tops == {"survey", "admin", *(n for n in tops if n.endswith(".dist-info"))}


def test_installed_chorus_migrates_imports_and_serves_from_any_directory(installed, tmp_path):
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    env = clean_env(
        installed.venv,
        tmp_path,
        CHORUS_SECRET_KEY=TEST_SECRET_KEY,
        CHORUS_DATABASE_URL=f"sqlite:///{tmp_path / 'chorus.db'}",
        CHORUS_SECURE_COOKIES="0",
        # The cheapest argon2 settings a server started from the environment accepts.
        CHORUS_ARGON2_TIME_COST="5",
        CHORUS_ARGON2_MEMORY_KIB="7168",
    )
    bin_dir = installed.venv / "bin"

    def in_venv(program: str, *args: str) -> str:
        return run([str(bin_dir / program), *args], cwd=workdir, env=env)

    # The code is the wheel's, not this checkout's (nor the editable install's).
    where = "import json, survey, admin; print(json.dumps([survey.__file__, admin.__file__]))"
    for module_file in json.loads(in_venv("python", "-c", where)):
        assert Path(module_file).is_relative_to(installed.site_packages), module_file

    in_venv("chorus", "db", "upgrade")
    assert "Imported" in in_venv("chorus", "survey", "import", "--template")
    assert "product-risk" in in_venv("chorus", "survey", "list")

    port = free_port()
    log_path = tmp_path / "gunicorn.log"
    # No control socket: gunicorn would otherwise open one in the home directory.
    gunicorn = ["-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "1"]
    gunicorn.append("--no-control-socket")
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [str(bin_dir / "python"), *gunicorn, "survey:create_app()"],
            cwd=workdir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            base_url = f"http://127.0.0.1:{port}"
            home = wait_for_page(base_url + "/", server, log_path)
            assert "<h1>Chorus</h1>" in home
            assert '<html lang="en" dir="ltr">' in home
            sign_in = fetch(base_url + "/staff/login")
            assert "csrf_token" in sign_in
            stylesheet = fetch(base_url + "/static/chorus.css")
            assert stylesheet == (PROJECT_ROOT / "survey" / "static" / "chorus.css").read_text()
        finally:
            stop_server(server)

    assert not (workdir / "instance").exists(), "CHORUS_DATABASE_URL was set: no instance/"

    # The standalone report reads its template and stylesheets outside Flask.
    standalone = in_venv(
        "python",
        "-c",
        "import json, sys; from admin.reports.render import standalone_html; "
        "print(standalone_html(json.load(open(sys.argv[1]))))",
        str(SAMPLE_REPORT),
    )
    assert "Survivors want detection kept when encryption is added" in standalone
    assert "/* report */" in standalone  # staff.css's report rules, from the wheel

    # Templates and migrations are read from the wheel, and without CHORUS_DATABASE_URL
    # the SQLite file is in the working directory's instance/, not in site-packages.
    probe = in_venv(
        "python",
        "-c",
        "import json, survey.config as c; print(json.dumps({"
        "'templates': str(c.TEMPLATES_DIR), 'migrations': str(c.MIGRATIONS_DIR), "
        "'instance': str(c.INSTANCE_DIR), "
        "'database': c.settings_from_env({'CHORUS_SECRET_KEY': 'k' * 32})"
        "['SQLALCHEMY_DATABASE_URI']}))",
    )
    paths = json.loads(probe)
    package = installed.site_packages / "survey"
    assert Path(paths["templates"]) == package / "templates"
    assert Path(paths["migrations"]) == package / "migrations"
    assert Path(paths["instance"]) == workdir / "instance"
    assert paths["database"] == f"sqlite:///{workdir / 'instance' / 'chorus.db'}"
    assert not (installed.site_packages / "instance").exists()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=30) as reply:  # noqa: S310
        assert reply.status == 200, url
        return reply.read().decode("utf-8")


def wait_for_page(url: str, server: subprocess.Popen, log_path: Path) -> str:
    for _ in range(600):
        if server.poll() is not None:
            pytest.fail(f"gunicorn exited early:\n{log_path.read_text()}")
        try:
            return fetch(url)
        except urllib.error.HTTPError:
            pytest.fail(f"{url} answered with an error:\n{log_path.read_text()}")
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"gunicorn didn't answer:\n{log_path.read_text()}")
