"""deploy/: the reverse proxy's configuration is valid nginx, and the systemd units
run what the README says (gunicorn with deploy/gunicorn.conf.py; chorus purge daily)."""

from __future__ import annotations

import configparser
import runpy
import subprocess
from pathlib import Path

from bench.loadtest.stack import self_signed
from survey.config import STATIC_DIR
from tests.factories import nginx_or_skip

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


def test_the_nginx_config_is_valid(tmp_path):
    nginx = nginx_or_skip()
    cert, key = self_signed(tmp_path)
    site = (DEPLOY / "nginx" / "chorus.conf").read_text("utf-8")
    for placeholder, real in (
        ("/etc/ssl/chorus/fullchain.pem", str(cert)),
        ("/etc/ssl/chorus/privkey.pem", str(key)),
        ("/var/log/nginx/chorus-error.log", str(tmp_path / "error.log")),
        ("/opt/chorus/lib/python3.11/site-packages/survey/static/", f"{STATIC_DIR}/"),
    ):
        assert placeholder in site
        site = site.replace(placeholder, real)
    (tmp_path / "chorus.conf").write_text(site, "utf-8")
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log stderr;\nevents {{}}\n"
        f"http {{ include {tmp_path}/chorus.conf; }}\n",
        "utf-8",
    )
    checked = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert checked.returncode == 0, checked.stderr
    assert "syntax is ok" in checked.stderr and "test is successful" in checked.stderr


def test_the_proxy_passes_only_the_headers_the_app_trusts():
    site = (DEPLOY / "nginx" / "chorus.conf").read_text("utf-8")
    sent = {line.split()[1] for line in site.splitlines() if "proxy_set_header" in line}
    assert sent == {"Host", "X-Forwarded-For", "X-Forwarded-Proto", "Connection"}
    assert "access_log off;" in site and "$remote_addr" not in site
    assert "client_max_body_size 2m;" in site  # the app's MAX_CONTENT_LENGTH


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(DEPLOY / "systemd" / name, encoding="utf-8")
    return parser


def test_the_systemd_units_run_gunicorn_with_the_shipped_config_and_purge_daily():
    app = unit("chorus.service")
    start = app["Service"]["ExecStart"].split()
    assert start[0].endswith("/gunicorn") and start[-1] == "survey:create_app()"
    assert start[start.index("-c") + 1].endswith("gunicorn.conf.py")
    purge = unit("chorus-purge.service")
    assert purge["Service"]["ExecStart"].endswith("/chorus purge")
    assert purge["Service"]["EnvironmentFile"] == app["Service"]["EnvironmentFile"]
    timer = unit("chorus-purge.timer")
    assert timer["Timer"]["OnCalendar"].startswith("*-*-*")  # every day
    assert timer["Timer"]["Persistent"] == "true"  # a day missed while down runs at boot


def test_workers_are_replaced_at_counts_spread_wide_apart():
    """Found by `make loadtest`: gunicorn's workers share the load evenly, so they
    reach max_requests together; with a jitter of a tenth, all of them were
    replaced within seconds of each other, and requests waited (2 to 13 s) until
    a replacement had loaded the app. Their restart points must spread over half
    as many requests again, so that the others serve while one boots."""
    config = runpy.run_path(str(DEPLOY / "gunicorn.conf.py"))
    assert config["max_requests"] > 0
    assert config["max_requests_jitter"] >= config["max_requests"] // 2
