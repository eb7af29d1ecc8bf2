"""The app not answering behind deploy/'s nginx: the site's own calm page, not nginx's.

A worker killed or restarting, or gunicorn stopped, makes nginx answer 502 itself;
too many connections from one address, 503. Its own page names nginx and has no
quick exit; deploy/nginx/chorus.conf sends survey/static/unavailable.html instead,
with the headers the app's pages carry. The app's own error pages pass through.
"""

from __future__ import annotations

import http.client
import subprocess

from bench.loadtest.stack import unverified_tls
from tests.conftest import stop_server
from tests.factories import free_port, nginx_or_skip, nginx_site, wait_for_port


def test_with_no_app_behind_it_nginx_sends_the_calm_page_with_the_headers(tmp_path):
    nginx = nginx_or_skip()
    closed_app_port, https_port, http_port = free_port(), free_port(), free_port()
    config = nginx_site(tmp_path, https_port, http_port, closed_app_port)
    log_path = tmp_path / "nginx.log"
    with log_path.open("wb") as log:
        proxy = subprocess.Popen(
            [nginx, "-p", str(tmp_path), "-c", str(config)],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            wait_for_port(https_port, proxy, log_path)
            connection = http.client.HTTPSConnection(
                "127.0.0.1", https_port, timeout=30, context=unverified_tls()
            )
            connection.request("POST", "/s/small/submit", headers={"Host": "chorus.example.org"})
            response = connection.getresponse()
            page = response.read().decode("utf-8")
            connection.close()
        finally:
            stop_server(proxy)

    assert response.status == 502
    assert "<h1>This service is briefly unavailable</h1>" in page
    assert "Leave this page quickly" in page
    assert 'lang="es"' in page  # it can't know the survey's language: both
    assert "nginx" not in page
    assert response.getheader("Content-Type") == "text/html; charset=utf-8"
    assert response.getheader("Cache-Control") == "no-store"
    assert "default-src 'none'" in response.getheader("Content-Security-Policy")
    assert response.getheader("Retry-After") == "30"
    assert response.getheader("Strict-Transport-Security")
    assert response.getheader("Server") == "nginx"  # server_tokens off: no version
