"""deploy/nginx/chorus.conf compresses what it sends, as deployed (gunicorn behind
nginx): static files, the app's pages and its report charts, also for readers behind
another proxy (a request with a Via header, as corporate and mobile proxies send);
and what the app says about caching reaches the browser unchanged."""

from __future__ import annotations

import gzip
import http.client
import re
from urllib.parse import urlencode

from bench.loadtest.stack import unverified_tls
from survey.config import STATIC_DIR
from survey.models import Role
from tests.factories import PASSWORD, gunicorn_behind_nginx, make_user

HOST = "chorus.example.org"
ORG = "Example Messaging Ltd"


class Browser:
    """Just enough of a browser: one cookie jar, gzip accepted, through a proxy."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: str | None = None, **headers: str):
        connection = http.client.HTTPSConnection(
            "127.0.0.1", self.port, timeout=60, context=unverified_tls()
        )
        sent = {
            "Host": HOST,
            "Accept-Encoding": "gzip",
            "Via": "1.1 office-proxy",
            **headers,
        }
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if body is not None:
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=body, headers=sent)
        response = connection.getresponse()
        data = response.read()
        for cookie in response.headers.get_all("Set-Cookie") or []:
            name, _, value = cookie.split(";", 1)[0].partition("=")
            self.cookies[name] = value
        connection.close()
        return response, data

    @staticmethod
    def text(response, data: bytes) -> str:
        if response.headers.get("Content-Encoding") == "gzip":
            data = gzip.decompress(data)
        return data.decode()


def test_static_files_pages_and_charts_are_compressed(
    app, database_url, tmp_path, make_published_report
):
    version = make_published_report([ORG])
    make_user("reader@acme.example", roles=(Role.COMPANY,), org=ORG)
    with gunicorn_behind_nginx(database_url, tmp_path) as port:
        browser = Browser(port)

        stylesheet = (STATIC_DIR / "chorus.css").read_bytes()
        response, data = browser.request("GET", "/static/chorus.css")
        assert response.status == 200
        assert response.headers["Content-Encoding"] == "gzip"
        assert "Accept-Encoding" in response.headers["Vary"]
        assert gzip.decompress(data) == stylesheet and len(data) < len(stylesheet) / 3
        assert response.headers["Content-Type"] == "text/css"  # whatever mime.types says
        # One Cache-Control, not one from `expires` and another from add_header.
        assert response.headers.get_all("Cache-Control") == ["public, max-age=31536000, immutable"]

        response, data = browser.request("GET", "/staff/login")
        page = browser.text(response, data)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        form = urlencode(
            {"csrf_token": token, "email": "reader@acme.example", "password": PASSWORD}
        )
        response, _ = browser.request("POST", "/staff/login", body=form)
        assert response.status == 302

        response, data = browser.request("GET", f"/portal/reports/{version.id}")
        assert response.status == 200
        assert response.headers["Content-Encoding"] == "gzip"
        assert response.headers["Cache-Control"] == "no-store"
        page = gzip.decompress(data).decode()
        assert len(data) < len(page.encode()) / 3
        chart = re.search(r'<img class="report-chart__image" src="([^"]+)"', page).group(1)

        response, data = browser.request("GET", chart.replace("&amp;", "&"))
        assert response.status == 200
        assert response.headers["Content-Type"] == "image/svg+xml; charset=utf-8"
        assert response.headers["Content-Encoding"] == "gzip"
        assert response.headers["Cache-Control"] == "private, max-age=86400"
        svg = gzip.decompress(data)
        assert svg.startswith(b"<?xml") and len(data) < len(svg) / 2
        # nginx marks the ETag of what it compressed as weak; the app still knows it.
        etag = response.headers["ETag"]
        response, data = browser.request("GET", chart, **{"If-None-Match": etag})
        assert response.status == 304 and data == b""
