"""Rendering a published report (`chorus-report/1`, see docs/report-format.md): HTML, PDF,
SVG charts and table exports.

Everything here is a function of the frozen report document alone, never of the
database: a published version must look the same whenever and wherever it is
rendered, and nothing that isn't in the document (which passed disclosure control)
can leak into a page, a chart or a spreadsheet.

The report body (templates/report/_body.html) is shared by the site's pages (the
company portal and staff pages, inside admin/layout.html, under the strict CSP of
survey.privacy) and by the standalone document that is downloaded and turned into
the PDF. The helpers the body needs are Jinja globals, registered on the Flask app
by `init_app` and on this module's own environment for the standalone document.

On the site, each chart is a file of its own (admin/reports/charts.py serves it,
with the same permission as the report): a page is its text and tables, and a
browser fetches and keeps the charts beside it. The standalone document carries its
charts inside itself as data: images, so it opens offline and the PDF needs no
request.

Hidden counts: the report document (the contract) marks them with the machine value
SUPPRESSED; what people read is HIDDEN_TEXT, the same for every hidden cell.
"""

from __future__ import annotations

import base64
import csv
import functools
import hashlib
import io
import json
import re
import textwrap
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import jinja2
import markdown
import matplotlib
import nh3
from flask import Flask
from markupsafe import Markup
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure

from survey.config import STATIC_DIR, TEMPLATES_DIR
from survey.i18n import text_direction
from survey.report_format import SUPPRESSED
from survey.spreadsheet import protect_xlsx_cell, safe_row
from survey.weeks import week_label, week_span_label

# The same drawing twice must give the same bytes (tests compare them, caches and
# published files stay stable): fixed ids instead of random ones. Set once at import,
# never changed afterwards, so it is safe under a threaded server.
matplotlib.rcParams["svg.hashsalt"] = "chorus-report"

HIDDEN_TEXT = "hidden"
"""What every hidden (suppressed) count shows on pages, in the PDF and in charts.
The document and the table exports keep the contract's machine value, SUPPRESSED."""
HIDDEN_EXPLANATION = "hidden to protect the people who answered"
"""Said to screen-reader users after every hidden cell: one sentence for all of
them, so that the words never tell a small cell from a complementary one."""

# -- Markdown ------------------------------------------------------------------

_NARRATIVE_TAGS = {"p", "ul", "ol", "li", "strong", "em", "a", "h3", "h4", "blockquote", "code"}
_NARRATIVE_ATTRIBUTES = {"a": {"href"}}
_NARRATIVE_SCHEMES = {"http", "https", "mailto"}


def markdown_html(text: str | None) -> Markup:
    """A narrative's Markdown as HTML that is safe to put on any page.

    Analysts write narratives, and a narrative is read by companies and (through
    the PDF) by anyone: it must not be able to run script, load anything, or style
    itself. So Markdown is rendered, then everything outside a small set of tags is
    dropped by nh3 (script and style with their content), links keep only
    http/https/mailto targets and get rel="noopener noreferrer".
    """
    if not text:
        return Markup("")
    html = markdown.markdown(text, output_format="html")
    clean = nh3.clean(
        html,
        tags=_NARRATIVE_TAGS,
        attributes=_NARRATIVE_ATTRIBUTES,
        url_schemes=_NARRATIVE_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )
    return Markup(clean)  # noqa: S704 - sanitized by nh3 just above


# -- Charts --------------------------------------------------------------------

_BAR_COLOUR = "#1a4f8b"
_TEXT_COLOUR = "#1d1d1f"
_MUTED_COLOUR = "#4a4a4f"


def format_percent(value: float | None) -> str:
    """One decimal and a percent sign, as the contract computes them."""
    return "" if value is None else f"{value:.1f}%"


def chart_alt(subject: str, labels: Sequence[str], percent: Sequence[float | None]) -> str:
    """A text alternative that says what the chart says, for people who can't see it.

    It names every shown value and how many are hidden, never which ones: the
    table below gives the rest, and the alt points there.
    """
    shown = [
        f"{label} {format_percent(p)}"
        for label, p in zip(labels, percent, strict=True)
        if p is not None
    ]
    hidden = sum(1 for p in percent if p is None)
    text = f"Bar chart of {subject}: " + (", ".join(shown) if shown else "no values shown")
    if hidden == 1:
        text += "; one value hidden to protect the people who answered"
    elif hidden > 1:
        text += f"; {hidden} values hidden to protect the people who answered"
    return text + ". Data in the table below."


_FIGURE_WIDTH = 4.8  # inches at 72 dpi: narrow, so it stays legible scaled to a phone
_LABEL_CHARS = 58  # characters per line of a category label above its bar
_LABEL_LINE = 0.21  # inches per line of label
_BAR = 0.24
_GAP = 0.12
_AXIS = 0.42  # room below for the percentage axis


def _layout(
    labels: Sequence[str],
) -> tuple[list[list[str]], list[tuple[float, float]], float]:
    """Where a chart's labels and bars go: the wrapped labels, (label top, bar centre)
    per category and the height of the bars' area, in inches from the top."""
    wrapped = [textwrap.wrap(label, _LABEL_CHARS) or [" "] for label in labels]
    rows: list[tuple[float, float]] = []
    y = 0.08
    for lines in wrapped:
        label_top = y
        y += _LABEL_LINE * len(lines)
        rows.append((label_top, y + _BAR / 2 + 0.02))
        y += _BAR + 0.04 + _GAP
    return wrapped, rows, max(y, 0.5)


def chart_size(labels: Sequence[str]) -> tuple[int, int]:
    """The chart's size in CSS pixels (96 per inch), for the <img>'s width and height:
    the page keeps the chart's room while it loads, instead of jumping."""
    _, _, body = _layout([str(label) for label in labels])
    return round(_FIGURE_WIDTH * 96), round((body + _AXIS) * 96)


@functools.lru_cache(maxsize=256)
def _chart_svg(labels: tuple[str, ...], percent: tuple[float | None, ...]) -> bytes:
    """A horizontal bar chart of percentages as SVG bytes (cached: a report's charts
    don't change, and a portal page is rendered many times).

    Each label sits above its bar rather than beside it, so the chart can be narrow
    and its text stays readable when a phone scales it down to the screen. The
    layout is worked out in inches (the y axis is in inches from the top).
    """
    wrapped, rows, body = _layout(labels)
    height = body + _AXIS
    figure = Figure(figsize=(_FIGURE_WIDTH, height), dpi=72)
    FigureCanvasSVG(figure)
    axes = figure.add_axes((0.02, _AXIS / height, 0.96, body / height))
    axes.set_xlim(0, 112)
    axes.set_ylim(body, 0)
    for (label_top, centre), lines, p in zip(rows, wrapped, percent, strict=True):
        axes.text(
            0.6,
            label_top,
            "\n".join(lines),
            va="top",
            ha="left",
            fontsize=12,
            color=_TEXT_COLOUR,
            linespacing=1.25,
            # Long labels cross the grid lines: keep them readable over them.
            bbox={"facecolor": "white", "edgecolor": "none", "pad": 1},
        )
        if p is None:
            axes.text(
                1.5,
                centre,
                HIDDEN_TEXT,
                va="center",
                ha="left",
                fontsize=11,
                color=_MUTED_COLOUR,
                fontstyle="italic",
            )
        else:
            axes.barh([centre], [float(p)], height=_BAR, color=_BAR_COLOUR)
            axes.text(
                float(p) + 1.2,
                centre,
                format_percent(p),
                va="center",
                ha="left",
                fontsize=11,
                color=_TEXT_COLOUR,
            )
    axes.set_yticks([])
    axes.set_xticks(
        [0, 25, 50, 75, 100], ["0%", "25%", "50%", "75%", "100%"], fontsize=10, color=_MUTED_COLOUR
    )
    for side in ("top", "right", "left"):
        axes.spines[side].set_visible(False)
    axes.xaxis.grid(True, color="#d8d8da", linewidth=0.8)
    axes.set_axisbelow(True)
    out = io.BytesIO()
    # No date in the metadata: the same chart is the same file.
    figure.savefig(out, format="svg", metadata={"Date": None})
    return out.getvalue()


def chart_svg(labels: Sequence[str], percent: Sequence[float | None]) -> bytes:
    """The chart for one table as SVG bytes: hidden bars are left out and labelled
    "hidden", the same as every other hidden cell."""
    return _chart_svg(tuple(str(label) for label in labels), tuple(percent))


@functools.cache
def _renderer_fingerprint() -> bytes:
    """What else decides a chart's bytes: this file's code and matplotlib's version."""
    return hashlib.sha256(Path(__file__).read_bytes() + matplotlib.__version__.encode()).digest()


def chart_version(labels: Sequence[str], percent: Sequence[float | None]) -> str:
    """A short fingerprint of the chart these numbers draw, without drawing it: it
    goes in the chart's URL and ETag, so a browser may keep a chart exactly as long
    as it stays the same (new numbers, or a new Chorus, give a new URL)."""
    content = json.dumps([[str(label) for label in labels], list(percent)]).encode()
    return hashlib.sha256(_renderer_fingerprint() + content).hexdigest()[:20]


def chart_img(
    subject: str,
    labels: Sequence[str],
    percent: Sequence[float | None],
    src: str | None = None,
) -> Markup:
    """The chart as an <img> with a real alt text: from `src` (the site's chart file)
    or, without one, carrying the SVG in a data: URI (the standalone document).

    Matplotlib's SVG carries a <style> element and style attributes, which the site's
    CSP (style-src 'self') blocks when SVG is inlined in a page; an SVG loaded as an
    image is its own document and isn't affected. The site serves it from its own
    origin (`img-src 'self'`). The chart is drawn once per (labels, percents) and cached.
    """
    alt = chart_alt(subject, labels, percent)
    width, height = chart_size(labels)
    if src is None:
        data = base64.b64encode(chart_svg(labels, percent)).decode("ascii")
        return Markup(
            '<img class="report-chart__image" src="data:image/svg+xml;base64,{}" alt="{}"'
            ' width="{}" height="{}">'
        ).format(data, alt, width, height)
    # Fetched when it comes near the screen: a chart in a folded section is fetched
    # only when the section is opened.
    return Markup(
        '<img class="report-chart__image" src="{}" alt="{}" width="{}" height="{}"'
        ' loading="lazy" decoding="async">'
    ).format(src, alt, width, height)


def chart_key(kind: str, key: str) -> str:
    """The name of one chart of a report: "question-<id>" for a question's answers,
    "severity-<finding id>" for a finding's severity."""
    return f"{kind}-{key}"


def chart_series(
    report: Mapping[str, Any], key: str
) -> tuple[list[str], list[float | None]] | None:
    """The labels and percentages a report's chart `key` draws, or None when the report
    has no such chart. Only what the document holds: what disclosure control hid is
    None here, and a chart can't show it."""
    kind, _, name = key.partition("-")
    if kind == "question":
        for q in report.get("questions") or []:
            if q.get("id") == name:
                return list(q.get("labels") or []), list(q.get("percent") or [])
    elif kind == "severity":
        for f in report.get("findings") or []:
            severity = f.get("severity")
            if f.get("id") == name and severity:
                return list(severity.get("labels") or []), list(severity.get("percent") or [])
    return None


# -- Templates -----------------------------------------------------------------


def suppressed_cell() -> Markup:
    """The one markup of every hidden (suppressed) cell: primary and complementary
    ones look and read the same, so the page never tells which hidden cells are small."""
    return Markup(
        '<span class="report-suppressed">{}<span class="visually-hidden"> ({})</span></span>'
    ).format(HIDDEN_TEXT, HIDDEN_EXPLANATION)


def template_helpers() -> dict[str, Any]:
    """The globals templates/report/_body.html uses, for the site and standalone alike."""
    return {
        "report_chart": chart_img,
        "report_chart_key": chart_key,
        "report_markdown": markdown_html,
        "report_percent": format_percent,
        "report_suppressed": suppressed_cell,
        "report_anchor": anchor,
        # dir="rtl" for a survey in a language written right to left.
        "text_direction": text_direction,
    }


def template_filters() -> dict[str, Callable[..., str]]:
    """The filters it uses: weeks as readers say them (the site's app has the same)."""
    return {"week": week_label, "week_span": week_span_label}


def anchor(kind: str, key: Any) -> str:
    """A stable id for a finding, question, breakdown or theme section, so evidence
    links and the contents list can point at it (ids are kept to safe characters)."""
    return f"{kind}-" + re.sub(r"[^A-Za-z0-9_-]", "-", str(key))


def init_app(app: Flask) -> None:
    """Let the site's templates include report/_body.html (portal and staff pages)."""
    app.jinja_env.globals.update(template_helpers())


@functools.cache
def _environment() -> jinja2.Environment:
    """A Jinja environment of our own for the standalone document: it must render
    without a Flask app (CLI, background publishing, tests), with the autoescaping
    and the lenient undefined of the site's, so optional keys (a support line's
    hours) read the same in both."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(template_helpers())
    env.filters.update(template_filters())
    return env


def body_html(
    report: Mapping[str, Any], version_url: Callable[[int], str | None] | None = None
) -> Markup:
    """The report body alone (what the site puts inside its layout)."""
    template = _environment().get_template("report/_body.html")
    return Markup(template.render(report=report, version_url=version_url))  # noqa: S704


def standalone_html(report: Mapping[str, Any]) -> str:
    """A complete, self-contained HTML document of the report: the downloadable
    report.html and the source of the PDF. Its stylesheet is embedded (it is a file,
    not a page served under the CSP) and it makes no request of any kind."""
    template = _environment().get_template("report/standalone.html")
    return template.render(report=report, version_url=None, stylesheet=_stylesheet())


_REPORT_BLOCK = "/* report */"
_REPORT_SLOT = "/* @report-block"


@functools.cache
def _stylesheet() -> Markup:
    """The standalone stylesheet: its own base and print rules around chorus.css's
    report block, so the site and the download share one set of report rules."""
    site = (STATIC_DIR / "chorus.css").read_text("utf-8")
    start = site.index(_REPORT_BLOCK)
    # The block runs to the next block header ("/* name */" on a line of its own).
    after = re.search(r"\n/\* [a-z][a-z ]* \*/\n", site[start + len(_REPORT_BLOCK) :])
    end = start + len(_REPORT_BLOCK) + after.start() if after else len(site)
    report_rules = site[start:end]
    own = (TEMPLATES_DIR / "report" / "standalone.css").read_text("utf-8")
    slot = own.index(_REPORT_SLOT)
    combined = own[:slot] + report_rules + "\n" + own[slot:]
    # Our own files, but a stray "</style" would still end the element early.
    return Markup(combined.replace("</", "<\\/"))  # noqa: S704


class RenderError(Exception):
    """A PDF that can't be made; the message says why, for a person."""


def report_pdf(report: Mapping[str, Any]) -> bytes:
    """The report as an A4 PDF (WeasyPrint), from the standalone document.

    Fetching anything but data: URLs is refused: the document is self-contained,
    and a URL in anything analyst-written must never make the server reach out.
    A refused or failed fetch stops the render with WeasyPrint's
    FatalURLFetchingError, a BaseException (so no `except Exception` would
    catch it): it becomes a RenderError, an ordinary error with a clear message.
    """
    import weasyprint
    from weasyprint.urls import FatalURLFetchingError

    # Only data: URLs (the charts) are ever read; anything else fails the render.
    fetcher = weasyprint.urls.URLFetcher(allowed_protocols={"data"}, fail_on_errors=True)
    document = weasyprint.HTML(string=standalone_html(report), url_fetcher=fetcher)
    try:
        return document.write_pdf()
    except FatalURLFetchingError as exc:
        raise RenderError(
            "The PDF could not be made: the report refers to an image or file that "
            "isn't part of it, and Chorus never fetches anything while making a PDF. "
            "Remove images and embedded files from the report's texts and try again."
        ) from exc


# -- Table exports -------------------------------------------------------------


def _question_texts(report: Mapping[str, Any]) -> dict[str, str]:
    return {q["id"]: q["text"] for q in report.get("questions", [])}


def _cell(count: Any, display: Any) -> Any:
    """A count as exported: the number, or the one suppressed text."""
    if count is None:
        return SUPPRESSED
    return count if isinstance(count, int) else display


def _percent_cell(value: float | None) -> Any:
    return SUPPRESSED if value is None else value


def table_blocks(report: Mapping[str, Any]) -> Iterator[tuple[str, list[list[Any]]]]:
    """The published tables as (name, rows): a header block, one per question and
    one per breakdown. Only what the document holds; the CSV and XLSX exports are
    both made from this, so they can't disagree."""
    survey = report.get("survey", {})
    weeks = report.get("collection_weeks") or []
    yield (
        "Report",
        [
            ["Survey", survey.get("title", "")],
            ["Version", report.get("version")],
            ["Published", report.get("published", "")],
            ["Respondents", report.get("respondents")],
            ["Collection period", " to ".join(weeks)],
            ["Addressed to", "; ".join(report.get("addressed_to") or [])],
            ["Disclosure rule", report.get("disclosure", {}).get("method", "")],
            ["Format", report.get("format", "")],
        ],
    )
    themes = report.get("themes") or []
    if themes:
        rows: list[list[Any]] = [
            ["Themes", "respondents who wrote in their own words", themes[0].get("answered")],
            ["theme", "label", "count", "percent"],
        ]
        for t in themes:
            rows.append(
                [
                    t["id"],
                    t["label"],
                    _cell(t["count"], t["display"]),
                    _percent_cell(t.get("percent")),
                ]
            )
        yield "themes", rows
        texts = _question_texts(report)
        for t in themes:
            b = t.get("breakdown")
            if not b:
                continue
            rows = [["Theme", t["id"], f"{t['label']} by {texts.get(b['by'], b['by'])}"]]
            if b.get("withheld"):
                rows.append(["Too few respondents to break this down"])
            else:
                rows.append(["group", "count", "row percent"])
                for label, count, display, percent in zip(
                    b["row_labels"], b["counts"], b["display"], b["percent"], strict=True
                ):
                    rows.append([label, _cell(count, display), _percent_cell(percent)])
            yield f"theme_{t['id']}", rows
    for q in report.get("questions", []):
        rows = [
            ["Question", q["id"], q.get("text", "")],
            ["Answered", q.get("answered")],
            ["Prefer not to say", q.get("prefer_not_to_say")],
            ["Skipped", q.get("skipped")],
            ["Not shown", q.get("not_shown")],
            ["category", "label", "count", "percent"],
        ]
        for category, label, count, display, percent in zip(
            q["categories"], q["labels"], q["counts"], q["display"], q["percent"], strict=True
        ):
            rows.append([category, label, _cell(count, display), _percent_cell(percent)])
        yield q["id"], rows
    texts = _question_texts(report)
    for index, b in enumerate(report.get("breakdowns", [])):
        title = f"{texts.get(b['question'], b['question'])} by {texts.get(b['by'], b['by'])}"
        rows = [["Breakdown", f"{b['question']} by {b['by']}", title]]
        row_labels = b.get("row_labels") or b["rows"]
        column_labels = b.get("column_labels") or b["columns"]
        if b.get("withheld"):
            rows.append(["Too few respondents to break this down"])
        else:
            rows.append(["count", *column_labels])
            for label, counts, displays in zip(row_labels, b["counts"], b["display"], strict=True):
                rows.append([label, *(_cell(c, d) for c, d in zip(counts, displays, strict=True))])
            if b.get("percent"):
                rows.append(["row percent", *column_labels])
                for label, percents in zip(row_labels, b["percent"], strict=True):
                    rows.append([label, *(_percent_cell(p) for p in percents)])
        yield f"breakdown_{index}", rows


def tables_csv(report: Mapping[str, Any]) -> str:
    """All published tables in one CSV, blocks separated by an empty line."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for number, (_name, rows) in enumerate(table_blocks(report)):
        if number:
            writer.writerow([])
        for row in rows:
            # Labels are written by people, and companies open the file in Excel.
            writer.writerow(safe_row(row))
    return out.getvalue()


def _sheet_title(name: str, used: set[str]) -> str:
    """Excel's sheet names: at most 31 characters, none of []:*?/\\, unique."""
    base = re.sub(r"[\[\]:*?/\\]", "_", name)[:31] or "sheet"
    title, n = base, 2
    while title.lower() in used:
        suffix = f"_{n}"
        title, n = base[: 31 - len(suffix)] + suffix, n + 1
    used.add(title.lower())
    return title


def tables_xlsx(report: Mapping[str, Any]) -> bytes:
    """All published tables as a workbook: a Report sheet, then a sheet per table."""
    from datetime import datetime

    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    # Fixed document dates: the export is a function of the report, not of the clock.
    fixed = datetime(2000, 1, 1)
    workbook.properties.created = fixed
    workbook.properties.modified = fixed
    workbook.properties.creator = "Chorus"
    assert workbook.active is not None  # a new workbook starts with one empty sheet
    workbook.remove(workbook.active)
    used: set[str] = set()
    for name, rows in table_blocks(report):
        sheet = workbook.create_sheet(_sheet_title(name, used))
        for row in rows:
            sheet.append(row)
        for row_cells in sheet.iter_rows():
            for cell in row_cells:
                # A label starting with "=" must stay text, never become a formula.
                protect_xlsx_cell(cell)
        sheet["A1"].font = Font(bold=True)
        sheet.column_dimensions["A"].width = 24
        sheet.column_dimensions["B"].width = 30
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
