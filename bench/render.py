"""Rendering a 30-question report, beside a floor measured in the same run.

    .venv/bin/python bench/render.py [--rounds 3] [--pdf]

The report is the sample `chorus-report/1` document (tests/reports/sample-report.json)
grown to 30 questions with distinct numbers, as tests/admin/test_render.py does:
31 charts (one per question and one for the finding with a severity question).
Each round shifts the numbers, so no two rounds draw the same chart.

Chorus: admin.reports.render.standalone_html, the downloadable report.html: 31 bar charts
drawn in HTML (admin/reports/bar_chart.py: labels above their bars, percentages
beside them, hidden bars named, a text alternative each), the Jinja templates and
the embedded stylesheet. Also shown, not compared: the site's 31 charts as SVG
files (render.chart_svg, cache cleared first), what a portal reader's first visit
draws. With --pdf, admin.reports.render.report_pdf: that document laid out by
WeasyPrint.

Floor: the least any report with the same charts and tables must do, in this
process with the same libraries: the same 31 (labels, percent) series as plain
HTML bars (a label and a bar whose width is its percentage; no values, wrapping
or text alternative) and one plain HTML table per chart (label, count, percent;
escaped) joined into a page, with no template engine and no stylesheet. With
--pdf, WeasyPrint lays out that page. The ratio says what Chorus's layout,
templates and styles cost on top of writing the same numbers.

Times are CPU seconds of this process (time.process_time): all the work is here,
in one thread, so a busy neighbour on a shared machine doesn't count. Everything
is warmed up once (imports, fonts), then rounds alternate (Chorus, floor, floor,
Chorus, ...) and the best of each is compared. This is a report, not a test:
nothing asserts on a time.
"""

from __future__ import annotations

import argparse
import copy
import html
import json
import sys
import time
from collections.abc import Callable, Mapping
from typing import Any

from admin.reports import render
from survey.config import PROJECT_ROOT

SAMPLE = PROJECT_ROOT / "tests" / "reports" / "sample-report.json"
QUESTIONS = 30


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def thirty_questions(sample: Mapping[str, Any], shift: int) -> dict[str, Any]:
    """The sample report with 30 questions, each with its own numbers; `shift` makes
    every round's charts new to the chart cache."""
    big = copy.deepcopy(dict(sample))
    template = sample["questions"][2]
    questions = []
    for n in range(QUESTIONS):
        q = copy.deepcopy(template)
        q["id"] = f"q{n}"
        q["text"] = f"Question {n}: how much could this feature harm children?"
        q["section"] = f"Section {n // 5}"
        step = (shift * QUESTIONS + n) / 100
        q["percent"] = [None, 3.0, round(10.0 + step, 2), 30.1, round(55.1 - step, 2)]
        questions.append(q)
    big["questions"] = questions
    big["breakdowns"] = []
    for finding in big["findings"]:
        finding["evidence"] = {"questions": ["q0"], "breakdowns": [], "themes": []}
    return big


def distributions(report: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Every table the report draws a chart for: findings' severities, then questions."""
    severities = [f["severity"] for f in report["findings"] if f.get("severity")]
    return [*severities, *report["questions"]]


# --- floor ---------------------------------------------------------------------------


def floor_chart(labels: list[str], percent: list[float | None]) -> str:
    """The same series with nothing but labels and bars: no values, wrapping or text
    alternative (a hidden bar is left empty)."""
    bars = "".join(
        f'<li>{html.escape(label)}<div style="width:{p or 0.0:.1f}%;height:1em;'
        'background:#1a4f8b"></div></li>'
        for label, p in zip(labels, percent, strict=True)
    )
    return f'<ul class="chart">{bars}</ul>'


def floor_html(report: Mapping[str, Any]) -> str:
    parts = ["<!doctype html><html><body>"]
    for table in distributions(report):
        labels = [str(label) for label in table["labels"]]
        parts.append(floor_chart(labels, table["percent"]) + "<table>")
        for label, display, percent in zip(labels, table["display"], table["percent"], strict=True):
            shown = "suppressed" if percent is None else f"{percent:.1f}%"
            parts.append(
                f"<tr><th>{html.escape(label)}</th><td>{html.escape(str(display))}</td>"
                f"<td>{shown}</td></tr>"
            )
        parts.append("</table>")
    parts.append("</body></html>")
    return "".join(parts)


def floor_pdf(report: Mapping[str, Any]) -> bytes:
    import weasyprint

    return weasyprint.HTML(string=floor_html(report)).write_pdf()


# --- measuring -----------------------------------------------------------------------


def cpu_seconds(work: Callable[[Any], Any], report: Mapping[str, Any]) -> tuple[float, Any]:
    started = time.process_time()
    result = work(report)
    return time.process_time() - started, result


def compare(
    name: str,
    chorus: Callable[[dict[str, Any]], Any],
    floor: Callable[[dict[str, Any]], Any],
    reports: list[dict[str, Any]],
    check: Callable[[Any, Any], None],
) -> dict[str, float]:
    """Best CPU seconds of Chorus and the floor over the rounds, in ABBA order; each
    round renders its own report (fresh charts) with both."""
    work = {"chorus": chorus, "floor": floor}
    best = {"chorus": float("inf"), "floor": float("inf")}
    for index, report in enumerate(reports):
        order = ("chorus", "floor") if index % 2 == 0 else ("floor", "chorus")
        results = {}
        for which in order:
            seconds, results[which] = cpu_seconds(work[which], report)
            best[which] = min(best[which], seconds)
            log(f"  {name} {which}: {seconds:.2f} s")
        check(results["chorus"], results["floor"])
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds of each")
    parser.add_argument("--pdf", action="store_true", help="also render the PDF")
    args = parser.parse_args(argv)
    sample = json.loads(SAMPLE.read_text("utf-8"))
    # Round 0 warms up (imports, font cache, templates); rounds 1.. are timed.
    warm = thirty_questions(sample, 0)
    charts = len(distributions(warm))
    render.standalone_html(warm)
    floor_html(warm)
    reports = [thirty_questions(sample, shift) for shift in range(1, args.rounds + 1)]

    def same_charts(chorus_html: str, floor_page: str) -> None:
        drawn = chorus_html.count('class="report-chart__bars"')
        assert drawn == floor_page.count('<ul class="chart">') == charts

    def site_charts(report: Mapping[str, Any]) -> None:
        render._chart_svg.cache_clear()
        for table in distributions(report):
            render.chart_svg(table["labels"], table["percent"])

    html_best = compare("HTML", render.standalone_html, floor_html, reports, same_charts)
    svg = min(cpu_seconds(site_charts, report)[0] for report in reports)
    rows = [
        ("HTML, charts drawn", html_best["chorus"], html_best["floor"]),
        ("site's SVG charts", svg, None),
    ]
    summary: dict[str, Any] = {
        "questions": QUESTIONS,
        "charts": charts,
        "rounds": args.rounds,
        "html_chorus_s": round(html_best["chorus"], 3),
        "html_floor_s": round(html_best["floor"], 3),
        "html_ratio": round(html_best["chorus"] / html_best["floor"], 2),
        "site_svg_charts_s": round(svg, 3),
    }
    if args.pdf:
        floor_pdf(warm)
        render.report_pdf(warm)
        pdf_reports = [thirty_questions(sample, shift) for shift in range(101, 101 + args.rounds)]

        def both_pdfs(chorus_pdf: bytes, floor_document: bytes) -> None:
            assert chorus_pdf.startswith(b"%PDF-") and floor_document.startswith(b"%PDF-")

        pdf_best = compare("PDF", render.report_pdf, floor_pdf, pdf_reports, both_pdfs)
        rows.append(("PDF, charts drawn", pdf_best["chorus"], pdf_best["floor"]))
        summary |= {
            "pdf_chorus_s": round(pdf_best["chorus"], 3),
            "pdf_floor_s": round(pdf_best["floor"], 3),
            "pdf_ratio": round(pdf_best["chorus"] / pdf_best["floor"], 2),
        }

    print(
        f"rendering a report of {QUESTIONS} questions ({charts} charts), "
        f"best of {args.rounds} rounds, CPU seconds:"
    )
    print(f"  {'':<22}{'Chorus':>8}{'floor':>8}{'ratio':>8}")
    for label, chorus_s, floor_s in rows:
        floor_text = f"{floor_s:8.2f}{chorus_s / floor_s:8.2f}" if floor_s else f"{'':>16}"
        print(f"  {label:<22}{chorus_s:8.2f}{floor_text}")
    print(json.dumps(summary, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
