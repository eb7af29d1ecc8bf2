"""The rendered report in Chromium: the standalone document and the body inside the
site's layout, with axe-core, at a phone's and a laptop's width; inside the site, the
charts must load under the real Content-Security-Policy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flask import render_template_string

from admin.reports import render
from survey.config import PROJECT_ROOT
from survey.privacy import CONTENT_SECURITY_POLICY
from tests.e2e.helpers import assert_accessible

pytestmark = pytest.mark.browser

SAMPLE = Path(__file__).resolve().parents[1] / "reports" / "sample-report.json"
SITE = "http://chorus.test"


@pytest.fixture
def report():
    return json.loads(SAMPLE.read_text("utf-8"))


@pytest.fixture
def page(browser):
    context = browser.new_context()
    yield context.new_page()
    context.close()


@pytest.mark.parametrize("width", [320, 1024])
def test_standalone_report_is_accessible_and_fits(page, report, width):
    page.set_viewport_size({"width": width, "height": 900})
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.set_content(render.standalone_html(report))
    assert_accessible(page)
    # Self-contained: the only "requests" are the charts' data: URLs.
    assert all(url.startswith("data:") for url in requests), requests
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    loaded = page.evaluate(
        "[...document.images].every(i => i.complete && i.naturalWidth > 0 && i.alt)"
    )
    assert loaded


def test_report_body_inside_the_site_layout_under_the_csp(app, page, report):
    # As the site's pages do: charts named by URL (served here as the app serves them,
    # see tests/admin/portal/test_charts.py), never inside the page.
    charts = {}
    for key in [f"question-{q['id']}" for q in report["questions"]] + ["severity-f1"]:
        labels, percent = render.chart_series(report, key)
        charts[f"{SITE}/charts/{key}.svg"] = render.chart_svg(labels, percent)
    with app.test_request_context("/"):
        html = render_template_string(
            '{% extends "admin/layout.html" %}{% block main %}'
            '{% include "report/_body.html" %}{% endblock %}',
            report=report,
            chart_url=lambda key, labels, percent: f"/charts/{key}.svg",
        )
    assert "data:" not in html
    static = PROJECT_ROOT / "survey" / "static"
    stylesheets = {name: (static / name).read_text("utf-8") for name in ("chorus.css", "staff.css")}
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )

    def serve(route):
        url = route.request.url.split("?", 1)[0]  # static URLs carry ?v=<content hash>
        name = url.rsplit("/", 1)[-1]
        if "/static/" in url and name in stylesheets:
            route.fulfill(status=200, content_type="text/css", body=stylesheets[name])
        elif url.endswith("/static/chorus.js"):
            route.fulfill(status=200, content_type="text/javascript", body="")
        elif url in charts:
            route.fulfill(
                status=200,
                content_type="image/svg+xml",
                headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY},
                body=charts[url],
            )
        else:
            route.fulfill(
                status=200,
                content_type="text/html; charset=utf-8",
                headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY},
                body=html,
            )

    page.route(f"{SITE}/**", serve)
    page.set_viewport_size({"width": 1024, "height": 900})
    page.goto(f"{SITE}/staff/reports/demo/2")
    assert_accessible(page)
    assert violations == []
    images = page.locator("img.report-chart__image")
    assert images.count() == 5
    loaded = (
        "[...document.querySelectorAll('img.report-chart__image')]"
        ".every(i => i.complete && i.naturalWidth > 0)"
    )
    for index in range(5):  # they load as they come near the screen
        images.nth(index).scroll_into_view_if_needed()
    for _ in range(300):  # an upper bound, not a timing
        if page.evaluate(loaded):
            break
        page.wait_for_timeout(100)
    assert page.evaluate(loaded)
    # Every suppressed cell reads alike, and the site's stylesheet hides the
    # explanation from sight (it is for screen readers).
    cells = page.locator(".report-suppressed")
    assert cells.count() > 0
    texts = set(cells.all_inner_texts())
    assert len(texts) == 1 and texts.pop().startswith("hidden")
    box = cells.first.locator(".visually-hidden").bounding_box()
    assert box is not None and box["width"] <= 1 and box["height"] <= 1
    page.set_viewport_size({"width": 320, "height": 900})
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
