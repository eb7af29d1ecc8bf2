"""Report rendering (admin/reports/render.py) from the sample `chorus-report/1` document:
what is shown, that suppressed cells can't be told apart, that narratives can't run
script, and that the PDF and the table exports hold the published numbers."""

from __future__ import annotations

import copy
import csv
import io
import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from admin.reports import render
from survey.privacy import CONTENT_SECURITY_POLICY
from survey.report_format import SUPPRESSED

SAMPLE = Path(__file__).resolve().parents[3] / "tests" / "reports" / "sample-report.json"
SUPPRESSED_SNIPPET = re.compile(r'<span class="report-suppressed">.*?</span></span>')


@pytest.fixture
def report() -> dict[str, Any]:
    return json.loads(SAMPLE.read_text("utf-8"))


@pytest.fixture
def body(report) -> str:
    return str(render.body_html(report))


def _text(html: str) -> str:
    """The page's text without tags, whitespace squeezed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_every_shown_count_and_percent_appears(report, body):
    text = _text(body)
    for q in report["questions"]:
        assert q["text"] in body
        for label, count, display, percent in zip(
            q["labels"], q["counts"], q["display"], q["percent"], strict=True
        ):
            assert label in body
            if count is not None:
                assert re.search(rf"{re.escape(label)} {display} {percent:.1f}%", text), label
        assert f"Answered: {q['answered']}" in text
        assert f"Prefer not to say: {q['prefer_not_to_say']}" in text
        assert f"Skipped: {q['skipped']}" in text
    breakdown = report["breakdowns"][0]
    for row in range(2):
        count, percent = breakdown["display"][row][0], breakdown["percent"][row][0]
        assert f"{count} ({percent:.1f}%)" in text
    for fact in (
        "412",
        "Published Week of 1 February 2027",  # 2027-W05, as readers say it
        "Example Messaging Ltd",
        "Collection period Weeks of 4 January to 25 January 2027",  # 2027-W01 to W04
    ):
        assert fact in text
    meta = body[: body.index("</header>")]
    assert "W0" not in meta  # the weeks stay in the document, not in what people read


def test_every_suppressed_cell_has_the_same_markup(report, body):
    snippets = SUPPRESSED_SNIPPET.findall(body)
    assert set(snippets) == {str(render.suppressed_cell())}
    # Question tables: count and percent cells; breakdown: 4; severity table: 2;
    # themes: a hidden count, and hidden cells of a theme's breakdown; and the one in
    # the method section's explanation.
    hidden_in_questions = sum(q["counts"].count(None) for q in report["questions"])
    hidden_in_breakdowns = sum(row.count(None) for row in report["breakdowns"][0]["counts"])
    hidden_in_severity = report["findings"][0]["severity"]["counts"].count(None)
    hidden_in_themes = sum(
        (t["count"] is None) + (t["breakdown"]["counts"].count(None) if t["breakdown"] else 0)
        for t in report["themes"]
    )
    expected = (
        2 * hidden_in_questions
        + hidden_in_breakdowns
        + 2 * hidden_in_severity
        + hidden_in_themes
        + 1
    )
    assert len(snippets) == expected
    # Nothing else on the page tells hidden cells apart (e.g. "fewer than 10"): outside
    # the snippets, only the charts' alt texts count them, and the method section
    # names the technical term once.
    rest = _text(re.sub(r'alt="[^"]*"', "", SUPPRESSED_SNIPPET.sub("", body)))
    assert rest.count(SUPPRESSED) == 1
    assert "the hidden numbers “suppressed”" in rest
    assert "fewer than" not in body.lower()


def test_readers_see_hidden_where_the_document_says_suppressed(report):
    # The document keeps the contract's machine value; people read plain words.
    assert {d for q in report["questions"] for d in q["display"] if not d.isdigit()} == {SUPPRESSED}
    cell = _text(str(render.suppressed_cell())).strip()
    assert cell == f"{render.HIDDEN_TEXT} ({render.HIDDEN_EXPLANATION})"
    assert cell == "hidden (hidden to protect the people who answered)"


def test_narrative_script_never_appears(report, body):
    assert "<script" not in body.lower()
    assert "alert(" not in body
    assert "Nine in ten respondents <strong>support</strong>" in body
    assert "<li>Keep detection when rolling out encryption</li>" in body


@pytest.mark.parametrize(
    ("markdown", "present", "absent"),
    [
        ("[x](javascript:alert(1))", ["x"], ["javascript:", "href"]),
        (
            "[site](https://example.org)",
            ['<a href="https://example.org" rel="noopener noreferrer">site</a>'],
            [],
        ),
        ("[mail](mailto:a@example.org)", ['href="mailto:a@example.org"'], []),
        ('<img src="x" onerror="alert(1)">', [], ["<img", "onerror"]),
        ('<p style="color:red">hi</p>', ["hi"], ["style="]),
        ("<style>body{}</style>text", ["text"], ["<style", "body{}"]),
        ("# Big\n\n### Small", ["<h3>Small</h3>", "Big"], ["<h1>"]),
        ('<a href="https://e.org" onclick="x()">e</a>', ['href="https://e.org"'], ["onclick"]),
        ("> quoted", ["<blockquote>"], []),
    ],
)
def test_markdown_is_sanitized(markdown, present, absent):
    html = str(render.markdown_html(markdown))
    for fragment in present:
        assert fragment in html
    for fragment in absent:
        assert fragment not in html


def test_narrative_links_in_the_report_are_sanitized(report):
    report["findings"][1]["narrative"] = "[bad](javascript:alert(1)) and [ok](https://e.org)"
    body = str(render.body_html(report))
    assert "javascript:" not in body
    assert 'href="https://e.org" rel="noopener noreferrer"' in body


class _Figures(HTMLParser):
    """Collects charts (the standalone document's, drawn in HTML) and what follows
    each one (the next table)."""

    def __init__(self) -> None:
        super().__init__()
        self.charts: list[dict[str, str | None]] = []
        self.events: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if "report-chart__bars" in (attributes.get("class") or "").split():
            self.charts.append(attributes)
            self.events.append("chart")
        elif tag == "table":
            self.events.append("table")


def test_every_chart_has_alt_text_and_a_table_after_it(report, body):
    parser = _Figures()
    parser.feed(body)
    charts = len(report["questions"]) + sum(1 for f in report["findings"] if f["severity"])
    assert len(parser.charts) == charts
    for chart in parser.charts:
        # One image to assistive technology, with the same text alternative as the
        # site's <img>: the table after it holds the numbers.
        assert chart["role"] == "img"
        assert (chart["aria-label"] or "").endswith("Data in the table below.")
    events = parser.events
    for index, event in enumerate(events):
        if event == "chart":
            assert events[index + 1] == "table"


def test_alt_text_summarises_the_values():
    question = json.loads(SAMPLE.read_text("utf-8"))["questions"][2]
    alt = render.chart_alt(
        "answers to " + question["text"], question["labels"], question["percent"]
    )
    assert alt == (
        "Bar chart of answers to How much could end-to-end encryption without safeguards harm"
        " children?: 2 3.0%, 3 10.0%, 4 30.1%, 5 (Very much) 55.1%; one value hidden to"
        " protect the people who answered. Data in the table below."
    )


def test_charts_are_deterministic_and_label_suppressed_bars():
    labels, percent = ["Yes", "No", "Other"], [80.0, 20.0, None]
    first = render.chart_svg(labels, percent)
    render._chart_svg.cache_clear()
    second = render.chart_svg(labels, percent)
    assert first == second
    svg = first.decode()
    # Words stay text (the reader's browser shapes them), bars are rectangles.
    assert "<path" not in svg and svg.count("<rect") == 2
    assert ">hidden</text>" in svg and ">80.0%</text>" in svg


def test_the_sites_body_has_no_style_attributes_or_scripts(report):
    # On the site (under style-src 'self') charts are files named by URL; only the
    # standalone document draws them in HTML, with each bar's width as a style.
    body = str(render.body_html(report, chart_url=lambda key, labels, percent: f"/c/{key}"))
    assert "style=" not in body
    assert "<style" not in body
    assert "<script" not in body


def test_csp_allows_our_own_images_only_and_no_inline_styles():
    # Charts on the site are files of our own (admin/reports/charts.py), not data: URIs.
    directives = dict(d.split(" ", 1) for d in CONTENT_SECURITY_POLICY.split("; "))
    assert directives["img-src"] == "'self'"
    assert directives["style-src"] == "'self'"


def test_withheld_breakdown_says_so(report):
    report["breakdowns"][0]["withheld"] = True
    body = str(render.body_html(report))
    assert "Too few respondents to break this down" in body
    assert "(81.6%)" not in body


def test_finding_without_severity_has_no_chart(report, body):
    second = body[body.index('id="finding-f2"') : body.index('id="report-questions"')]
    assert "Safety settings must be on by default for under-18s" in second
    assert "report-chart" not in second and "How severe" not in second
    first = body[body.index('id="finding-f1"') : body.index('id="finding-f2"')]
    assert first.count("report-chart__bars") == 1 and "How severe" in first


def test_evidence_links_point_at_sections_that_exist(body):
    targets = set(re.findall(r'href="#([^"]+)"', body))
    ids = set(re.findall(r'id="([^"]+)"', body))
    assert targets <= ids
    assert {"question-detect_images", "question-harm_scale", "breakdown-0"} <= targets


def test_previous_version_link(report):
    body = str(render.body_html(report, version_url=lambda n: f"/reports/demo/v{n}"))
    assert '<a href="/reports/demo/v1">version 1</a>' in body
    assert "replaces version 1" in _text(str(render.body_html(report)))


def test_questions_are_grouped_by_section_in_document_order(body):
    order = [
        body.index(s) for s in ("About you", "End-to-end encrypted messaging", "What should change")
    ]
    assert order == sorted(order)
    assert body.count('<h3 class="report-group">End-to-end encrypted messaging</h3>') == 1
    # The standalone document (download, PDF) folds nothing.
    assert "<details" not in body


def test_html_is_escaped(report):
    report["survey"]["title"] = "<b>Title</b>"
    report["questions"][0]["labels"][0] = "<i>Under</i> 18"
    report["findings"][0]["affected"] = "<script>x()</script>"
    html = render.standalone_html(report)
    assert "<b>Title</b>" not in html and "&lt;b&gt;Title&lt;/b&gt;" in html
    assert "<i>Under</i>" not in html
    assert "<script>" not in html


def test_standalone_document_is_complete_and_self_contained(report):
    html = render.standalone_html(report)
    assert html.startswith("<!doctype html>")
    assert '<html lang="en" dir="ltr">' in html
    assert "<title>Product-risk consultation: impact report, version 2</title>" in html
    assert "<style>" in html and "@page" in html and ".report-suppressed" in html
    # No external request: nothing loads from anywhere (links to support services are
    # only followed if the reader clicks them).
    assert not re.search(r'(src|srcset)="(?!data:)', html)
    assert "<link" not in html and "@import" not in html and "url(" not in html


def test_html_draws_a_chart_for_each_of_thirty_questions(report):
    # How long this takes is measured by bench/render.py, not asserted here.
    html = render.standalone_html(_thirty_questions(report))
    assert html.count('class="report-chart__bars"') == 31


def _thirty_questions(report: dict[str, Any]) -> dict[str, Any]:
    """A report of 30 questions with distinct numbers (so no chart is cached)."""
    big = copy.deepcopy(report)
    template = report["questions"][2]
    questions = []
    for n in range(30):
        q = copy.deepcopy(template)
        q["id"] = f"q{n}"
        q["text"] = f"Question {n}: how much could this feature harm children?"
        q["section"] = f"Section {n // 5}"
        q["percent"] = [None, 3.0, 10.0 + n / 10, 30.1, round(55.1 - n / 10, 1)]
        questions.append(q)
    big["questions"] = questions
    big["breakdowns"] = []
    for finding in big["findings"]:
        finding["evidence"] = {"questions": ["q0"], "breakdowns": [], "themes": []}
    return big


# -- PDF -----------------------------------------------------------------------

needs_poppler = pytest.mark.skipif(
    not shutil.which("pdftotext") or not shutil.which("pdftoppm"),
    reason="poppler-utils (pdftotext, pdftoppm) is not installed",
)


@needs_poppler
def test_pdf_holds_the_report_and_renders(report, tmp_path):
    pdf = render.report_pdf(report)
    assert pdf.startswith(b"%PDF-")
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout
    for expected in (
        "Product-risk consultation",
        "Survivors want detection kept when encryption is added",
        "Safety settings must be on by default for under-18s",
        "hidden",
        "Childline",
        "0808 801 0331",
        "Page 1 of",
    ):
        assert expected in text, expected
    # The footer carries the survey title on every page.
    pages = text.split("\f")
    assert all("Product-risk consultation" in page for page in pages if page.strip())
    assert "alert(" not in text
    subprocess.run(
        ["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "2", str(path), str(tmp_path / "page")],
        check=True,
    )
    assert sorted(p.name for p in tmp_path.glob("page-*.png")) == ["page-1.png", "page-2.png"]


def test_pdf_fetches_nothing(report):
    report["findings"][1]["narrative"] = "![x](https://example.org/tracker.png)"
    pdf = render.report_pdf(report)  # the image is dropped by the sanitizer
    assert pdf.startswith(b"%PDF-")


def test_pdf_of_thirty_questions_renders(report):
    # How long this takes is measured by `bench/render.py --pdf`, not asserted here.
    assert render.report_pdf(_thirty_questions(report)).startswith(b"%PDF-")


# -- Table exports -------------------------------------------------------------


def test_csv_holds_the_published_tables(report):
    rows = list(csv.reader(io.StringIO(render.tables_csv(report))))
    assert ["Survey", "Product-risk consultation"] in rows
    assert ["Version", "2"] in rows
    assert ["Published", "2027-W05"] in rows
    assert ["Respondents", "412"] in rows
    assert ["Disclosure rule", report["disclosure"]["method"]] in rows
    assert ["category", "label", "count", "percent"] in rows
    assert ["support", "Support", "366", "92.0"] in rows
    assert ["1", "1 (Not at all)", SUPPRESSED, SUPPRESSED] in rows
    assert ["other", "Other", SUPPRESSED, SUPPRESSED] in rows
    assert ["Under 18", "40", SUPPRESSED, SUPPRESSED] in rows
    assert ["18 or older", "93.4", SUPPRESSED, SUPPRESSED] in rows
    # Four question blocks and one breakdown block after the header block.
    assert sum(1 for row in rows if row[:1] == ["Question"]) == 4
    assert sum(1 for row in rows if row[:1] == ["Breakdown"]) == 1


def test_exports_contain_only_what_the_document_holds(report):
    report["questions"][0]["counts"][0] = None  # as if suppressed
    report["questions"][0]["percent"][0] = None
    text = render.tables_csv(report)
    assert "under_18,Under 18,suppressed,suppressed" in text
    # Nothing that isn't in the document: no quote, no narrative, no id of anything else.
    assert "Nine in ten" not in text and "script" not in text


def test_formula_like_labels_stay_text(report):
    report["questions"][0]["labels"][0] = "=HYPERLINK(1)"
    rows = list(csv.reader(io.StringIO(render.tables_csv(report))))
    assert ["under_18", "'=HYPERLINK(1)", "49", "12.3"] in rows
    workbook = load_workbook(io.BytesIO(render.tables_xlsx(report)))
    cell = workbook["age_band"]["B7"]
    assert cell.value == "=HYPERLINK(1)" and cell.data_type == "s"


def test_xlsx_holds_the_published_tables(report):
    workbook = load_workbook(io.BytesIO(render.tables_xlsx(report)))
    assert workbook.sheetnames == [
        "Report",
        "themes",
        "theme_evidence_lost",
        "age_band",
        "detect_images",
        "harm_scale",
        "wanted",
        "breakdown_0",
    ]
    themes = list(workbook["themes"].iter_rows(values_only=True))
    assert ("evidence_lost", "Evidence disappears", 57, 61.3) in themes
    assert ("not_believed", "Not believed", SUPPRESSED, SUPPRESSED) in themes
    header = {row[0]: row[1] for row in workbook["Report"].iter_rows(values_only=True)}
    assert header["Survey"] == "Product-risk consultation"
    assert header["Version"] == 2 and header["Respondents"] == 412
    assert header["Published"] == "2027-W05"
    assert header["Disclosure rule"] == report["disclosure"]["method"]
    harm = [list(row) for row in workbook["harm_scale"].iter_rows(values_only=True)]
    assert ["1", "1 (Not at all)", SUPPRESSED, SUPPRESSED] in harm
    assert ["5", "5 (Very much)", 220, 55.1] in harm
    grid = [list(row) for row in workbook["breakdown_0"].iter_rows(values_only=True)]
    assert ["Under 18", 40, SUPPRESSED, SUPPRESSED] in grid
    assert ["18 or older", 326, SUPPRESSED, SUPPRESSED] in grid


def test_withheld_breakdown_exports_no_cells(report):
    report["breakdowns"][0]["withheld"] = True
    text = render.tables_csv(report)
    assert "Too few respondents to break this down" in text
    assert "Under 18,40" not in text


def test_body_renders_inside_the_site(app, report):
    from flask import render_template_string

    with app.test_request_context("/"):
        html = render_template_string(
            '{% extends "admin/layout.html" %}{% block main %}'
            '{% include "report/_body.html" %}{% endblock %}',
            report=report,
            chart_url=lambda key, labels, percent: f"/charts/{key}.svg",
        )
    main = html[html.index('<main id="main"') : html.index("</main>")]
    assert "Survivors want detection kept when encryption is added" in main
    assert "style=" not in main
    assert set(SUPPRESSED_SNIPPET.findall(main)) == {str(render.suppressed_cell())}
