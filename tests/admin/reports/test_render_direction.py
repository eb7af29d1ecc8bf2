"""A report of a survey in a language written right to left says so: the standalone
document's <html> and the report body the site's pages include carry the survey's
lang and dir="rtl", so browsers and screen readers mirror and read it right."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
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


# --- charts (issue 21, point 13) ---------------------------------------------------------

HIDDEN_AR = "مخفي"
AGE_AR = ["أقل من 18 سنة", "18 سنة أو أكثر"]


def _svg_texts(svg: str) -> list[tuple[dict[str, str], str]]:
    """Each <text> element of a chart: its attributes and its words."""
    return [
        (dict(re.findall(r'([\w:-]+)="([^"]*)"', attributes)), words)
        for attributes, words in re.findall(r"<text([^>]*)>(.*?)</text>", svg)
    ]


def test_an_arabic_chart_keeps_its_words_as_text_and_is_mirrored():
    svg = render.chart_svg(AGE_AR, [None, 87.7], "ar").decode()
    texts = _svg_texts(svg)
    words = [w for _, w in texts]
    # Words left as text, for the reader's browser to shape: no glyph paths.
    assert HIDDEN_AR in words and AGE_AR[0] in words and AGE_AR[1] in words
    assert "hidden" not in words and "<path" not in svg
    assert 'lang="ar"' in svg and "Noto Sans Arabic" in svg
    assert all(attributes["direction"] == "rtl" for attributes, _ in texts)
    # Mirrored: labels start at the right edge, and the bar grows from it.
    from admin.reports import bar_chart

    right = bar_chart.WIDTH - bar_chart.PAD
    labels = [a for a, w in texts if w in AGE_AR]
    assert {float(a["x"]) for a in labels} == {right} and {a["text-anchor"] for a in labels} == {
        "start"
    }
    (rect,) = re.findall(r'<rect x="([\d.]+)" y="[\d.]+" width="([\d.]+)"', svg)
    assert abs(float(rect[0]) + float(rect[1]) - right) < 0.01 and float(rect[0]) > 50


def test_an_english_chart_grows_from_the_left_in_text_big_enough_for_a_phone():
    from admin.reports import bar_chart

    svg = render.chart_svg(["Yes", "No"], [80.0, 20.0], "en").decode()
    texts = _svg_texts(svg)
    assert all(a["direction"] == "ltr" for a, _ in texts)
    assert {float(a["x"]) for a, w in texts if w in ("Yes", "No")} == {bar_chart.PAD}
    assert all(float(x) == bar_chart.PAD for x in re.findall(r'<rect x="([\d.]+)"', svg))
    # Shown at most 320 px wide, scaled to the column: its smallest text is 15 units,
    # 12 px or more in a column of 256 px or wider (the browser test measures it).
    assert re.search(r'viewBox="0 0 320 \d+"', svg)
    assert min(float(a["font-size"]) for a, _ in texts) >= 15


def _arabic_chart_report(report: dict[str, Any]) -> dict[str, Any]:
    question = report["questions"][0]
    question.update(labels=AGE_AR, counts=[None, 349], display=["suppressed", "349"])
    question["percent"] = [None, 87.7]
    return report


def test_the_standalone_arabic_chart_is_html_in_the_documents_direction(arabic_report):
    html = render.standalone_html(_arabic_chart_report(arabic_report))
    chart = html[html.index(f'<span class="report-bars__label">{AGE_AR[0]}') :]
    chart = chart[: chart.index("</ul>")]
    assert f'<span class="report-bars__hidden">{HIDDEN_AR}</span>' in chart
    assert f'<span class="report-bars__label">{AGE_AR[1]}</span>' in chart
    assert 'style="width: 87.7%"' in chart
    # A font with Arabic in it comes first for a right-to-left report.
    assert '[dir="rtl"] body { font-family: "Noto Sans Arabic"' in html


@pytest.mark.skipif(
    not (shutil.which("pdftotext") and shutil.which("fc-list")), reason="poppler-utils"
)
def test_the_arabic_pdf_prints_hidden_as_arabic_text(arabic_report, tmp_path):
    fonts = subprocess.run(["fc-list", ":lang=ar", "family"], capture_output=True, text=True)
    assert "Noto Sans Arabic" in fonts.stdout, "install fonts-noto-core (README, .ci/run)"
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(render.report_pdf(_arabic_chart_report(arabic_report)))
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    # The chart's, the table's and the counts' hidden cells, as Arabic letters.
    assert text.count(HIDDEN_AR) >= 3
