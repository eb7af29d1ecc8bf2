"""A report of a survey in a language written right to left says so: the standalone
document's <html> and the report body the site's pages include carry the survey's
lang and dir="rtl", so browsers and screen readers mirror and read it right."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from admin.reports import render

SAMPLE = Path(__file__).resolve().parents[3] / "tests" / "reports" / "sample-report.json"


@pytest.fixture
def arabic_report() -> dict[str, Any]:
    report: dict[str, Any] = json.loads(SAMPLE.read_text("utf-8"))
    report["survey"]["language"] = "ar"
    return report


def test_the_standalone_report_of_an_arabic_survey_is_right_to_left(arabic_report):
    html = render.standalone_html(arabic_report)
    assert '<html lang="ar" dir="rtl">' in html
    assert re.search(r'<article class="report" lang="ar" dir="rtl">', html)


def test_the_report_body_in_the_site_carries_the_survey_direction(app, arabic_report):
    from flask import render_template_string

    with app.test_request_context("/"):
        page = render_template_string(
            '{% extends "admin/layout.html" %}{% block main %}'
            '{% include "report/_body.html" %}{% endblock %}',
            report=arabic_report,
        )
    # The staff page around it stays English, left to right; the report is Arabic.
    assert re.search(r'<html lang="en"[^>]*>', page)
    assert 'dir="rtl"' not in page.split('<article class="report"')[0]
    assert '<article class="report" lang="ar" dir="rtl">' in page


def test_an_english_report_stays_left_to_right():
    report = json.loads(SAMPLE.read_text("utf-8"))
    html = render.standalone_html(report)
    assert '<html lang="en" dir="ltr">' in html
    assert '<article class="report" lang="en" dir="ltr">' in html
