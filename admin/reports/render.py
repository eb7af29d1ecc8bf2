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
browser fetches and keeps the charts beside it. The standalone document draws its
charts inside itself, in HTML (admin/reports/bar_chart.py says why), so it opens
offline and the PDF needs no request.

Hidden counts: the report document (the contract) marks them with the machine value
SUPPRESSED; what people read is HIDDEN_TEXT, the same for every hidden cell.
"""

from __future__ import annotations

import copy
import csv
import functools
import hashlib
import io
import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import jinja2
import markdown
import nh3
from babel.numbers import format_decimal, parse_pattern
from babel.numbers import format_percent as babel_percent
from flask import Flask
from markupsafe import Markup

from admin.reports import bar_chart
from survey.config import STATIC_DIR, TEMPLATES_DIR
from survey.i18n import (
    ENGLISH,
    N_,
    babel_locale,
    catalogue,
    direction_of,
    speaking,
    text_direction,
    translate_to,
)
from survey.report_format import SUPPRESSED
from survey.spreadsheet import protect_xlsx_cell, safe_row
from survey.weeks import week_label, week_span_label

HIDDEN_TEXT = N_("hidden")
"""What every hidden (suppressed) count shows on pages, in the PDF and in charts (in
the report's language). The document and the table exports keep the contract's
machine value, SUPPRESSED."""
HIDDEN_EXPLANATION = N_("hidden to protect the people who answered")
"""Said to screen-reader users after every hidden cell: one sentence for all of
them, so that the words never tell a small cell from a complementary one."""


def report_language(report: Mapping[str, Any]) -> str:
    """The language a report is written in: its survey's (`survey.language` in the
    document), English when a document doesn't say."""
    survey = report.get("survey") or {}
    language = survey.get("language") if isinstance(survey, Mapping) else None
    return language if isinstance(language, str) and language else ENGLISH


def _locale(language: str) -> Any:
    return babel_locale(language) or babel_locale(ENGLISH)


def format_number(value: Any, language: str = ENGLISH) -> str:
    """A count as `language` writes it ("1,234"; "1.234" in Spanish); anything that
    isn't a number as it is."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "" if value is None else str(value)
    return format_decimal(value, locale=_locale(language))


def format_count(count: Any, display: Any, language: str = ENGLISH) -> str:
    """A shown cell: its count in `language`'s digits, or the document's display text
    when the count isn't a plain number."""
    return format_number(count, language) if isinstance(count, int) else str(display)


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


@functools.cache
def _percent_pattern(language: str) -> Any:
    """`language`'s percent pattern ("#,##0%", "#,##0\u00a0%") with one decimal."""
    pattern = copy.copy(parse_pattern(_locale(language).percent_formats[None].pattern))
    pattern.frac_prec = (1, 1)
    return pattern


def format_percent(value: float | None, language: str = ENGLISH) -> str:
    """One decimal and a percent sign, as the contract computes them, written as
    `language` writes percentages ("92.0%"; "92,0 %" in Spanish)."""
    if value is None:
        return ""
    return babel_percent(
        Decimal(str(value)) / 100, format=_percent_pattern(language), locale=_locale(language)
    )


def chart_alt(
    subject: str,
    labels: Sequence[str],
    percent: Sequence[float | None],
    language: str = ENGLISH,
) -> str:
    """A text alternative that says what the chart says, for people who can't see it,
    in the report's language.

    It names every shown value and how many are hidden, never which ones: the
    table below gives the rest, and the alt points there.
    """
    shown = [
        f"{label} {format_percent(p, language)}"
        for label, p in zip(labels, percent, strict=True)
        if p is not None
    ]
    hidden = sum(1 for p in percent if p is None)
    values = ", ".join(shown) if shown else translate_to(language, N_("no values shown"))
    text = translate_to(
        language, N_("Bar chart of %(subject)s: %(values)s"), subject=subject, values=values
    )
    if hidden == 1:
        text += translate_to(language, N_("; one value hidden to protect the people who answered"))
    elif hidden > 1:
        text += translate_to(
            language,
            N_("; %(hidden)s values hidden to protect the people who answered"),
            hidden=format_number(hidden, language),
        )
    return text + translate_to(language, N_(". Data in the table below."))


def _bars(
    labels: Sequence[str], percent: Sequence[float | None], language: str
) -> list[bar_chart.Bar]:
    """A chart's categories with what is written beside each bar, in `language`:
    its percentage, or "hidden" (the same word as every other hidden cell)."""
    hidden = translate_to(language, HIDDEN_TEXT)
    return [
        bar_chart.Bar(str(label), p, hidden if p is None else format_percent(p, language))
        for label, p in zip(labels, percent, strict=True)
    ]


def chart_size(labels: Sequence[str]) -> tuple[int, int]:
    """The chart's size in CSS pixels at its widest, for the <img>'s width and height:
    the page keeps the chart's room while it loads, instead of jumping."""
    return bar_chart.size([str(label) for label in labels])


@functools.lru_cache(maxsize=256)
def _chart_svg(labels: tuple[str, ...], percent: tuple[float | None, ...], language: str) -> bytes:
    """A horizontal bar chart of percentages as SVG bytes (cached: a report's charts
    don't change, and a portal page is rendered many times), mirrored for a language
    written right to left."""
    ticks = [_whole_percent(tick, language) for tick in bar_chart.TICKS]
    return bar_chart.svg(
        _bars(labels, percent, language), ticks, language, rtl=text_direction(language) == "rtl"
    )


def _whole_percent(value: int, language: str) -> str:
    """An axis tick ("25%", "25 %"), as `language` writes percentages."""
    return babel_percent(value / 100, locale=_locale(language))


def chart_svg(
    labels: Sequence[str], percent: Sequence[float | None], language: str = ENGLISH
) -> bytes:
    """The chart for one table as SVG bytes, its words and numbers in `language`:
    hidden bars are left out and labelled "hidden", the same as every other hidden cell."""
    return _chart_svg(tuple(str(label) for label in labels), tuple(percent), language)


@functools.cache
def _renderer_fingerprint() -> bytes:
    """What else decides a chart's bytes: the code that draws it."""
    drawing = Path(__file__).read_bytes() + Path(bar_chart.__file__).read_bytes()
    return hashlib.sha256(drawing).digest()


def chart_version(
    labels: Sequence[str], percent: Sequence[float | None], language: str = ENGLISH
) -> str:
    """A short fingerprint of the chart these numbers draw, without drawing it: it
    goes in the chart's URL and ETag, so a browser may keep a chart exactly as long
    as it stays the same (new numbers, a new language or a new Chorus give a new URL)."""
    content = json.dumps([[str(label) for label in labels], list(percent), language]).encode()
    return hashlib.sha256(_renderer_fingerprint() + content).hexdigest()[:20]


def chart_img(
    subject: str,
    labels: Sequence[str],
    percent: Sequence[float | None],
    src: str | None = None,
    language: str = ENGLISH,
) -> Markup:
    """The chart with a real text alternative: on the site, an <img> of its SVG file
    (`src`, served from the site's own origin, `img-src 'self'`); without one, in the
    standalone document (the download and the PDF), drawn in HTML (bar_chart says why).

    An SVG loaded as an image is its own document, so its presentation attributes
    don't meet the page's CSP (style-src 'self'); the standalone document isn't
    served under it. The SVG is drawn once per (labels, percents) and cached.
    """
    alt = chart_alt(subject, labels, percent, language)
    if src is None:
        # The table after it holds the same numbers for assistive technology; the
        # chart is one image to it, with the same alt text as the site's.
        return Markup('<div class="report-chart__bars" role="img" aria-label="{}">{}</div>').format(
            alt, bar_chart.html(_bars(labels, percent, language))
        )
    width, height = chart_size(labels)
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


def suppressed_cell(language: str = ENGLISH) -> Markup:
    """The one markup of every hidden (suppressed) cell: primary and complementary
    ones look and read the same, so the page never tells which hidden cells are small."""
    return Markup(
        '<span class="report-suppressed">{}<span class="visually-hidden"> ({})</span></span>'
    ).format(translate_to(language, HIDDEN_TEXT), translate_to(language, HIDDEN_EXPLANATION))


def bidi_isolate(text: Any) -> Markup:
    """`text` (escaped) isolated from the sentence around it, in its own direction: the
    words of another language inside a translated sentence ("Hours: 24 hours, every
    day" in an Arabic report) keep their order."""
    return Markup('<bdi dir="{}">{}</bdi>').format(direction_of(text), text)


def template_helpers() -> dict[str, Any]:
    """The globals templates/report/_body.html uses, for the site and standalone alike.
    Those that write words or numbers take the report's language (`lang` in the
    templates, from report_language)."""
    return {
        "report_chart": chart_img,
        "report_chart_key": chart_key,
        "report_markdown": markdown_html,
        "report_percent": format_percent,
        "report_number": format_number,
        "report_count": format_count,
        "report_suppressed": suppressed_cell,
        "report_anchor": anchor,
        "report_language": report_language,
        # dir="rtl" for a survey in a language written right to left.
        "text_direction": text_direction,
        # dir= of a piece of data of any language (an organisation, a quote, a theme):
        # isolated from the report's direction, in the PDF too (no dir="auto" there).
        "report_dir": direction_of,
        "bidi_isolate": bidi_isolate,
    }


def template_filters() -> dict[str, Callable[..., str]]:
    """The filters it uses: weeks as readers say them (the site's app has the same),
    given the report's language."""
    return {"week": week_label, "week_span": week_span_label}


def anchor(kind: str, key: Any) -> str:
    """A stable id for a finding, question, breakdown or theme section, so evidence
    links and the contents list can point at it (ids are kept to safe characters)."""
    return f"{kind}-" + re.sub(r"[^A-Za-z0-9_-]", "-", str(key))


def init_app(app: Flask) -> None:
    """Let the site's templates show a report (portal and staff pages): `report_body`
    and `report_finding` render it in its own language inside an English page."""
    app.jinja_env.globals.update(template_helpers())
    app.jinja_env.globals.update(report_body=site_body, report_finding=site_finding)


def site_body(report: Mapping[str, Any], **context: Any) -> Markup:
    """templates/report/_body.html with the site's environment (its CSP-safe chart
    files, its url_for), in the report's language whatever the page around it speaks.
    `context` is what _body.html takes besides the report (fold, chart_url...)."""
    from flask import current_app

    template = current_app.jinja_env.get_template("report/_body.html")
    with speaking(report_language(report)):
        return Markup(template.render(report=report, **context))  # noqa: S704


def site_finding(report: Mapping[str, Any], *args: Any) -> Markup:
    """One finding (templates/report/_finding.html's finding_content, same arguments)
    on the site, in the report's language."""
    from flask import current_app

    macros = current_app.jinja_env.get_template("report/_finding.html").module
    with speaking(report_language(report)):
        return Markup(macros.finding_content(report, *args))  # type: ignore[attr-defined]  # noqa: S704


@functools.cache
def _environment(language: str = ENGLISH) -> jinja2.Environment:
    """A Jinja environment of our own for the standalone document, speaking
    `language` (the report's): it must render without a Flask app (CLI, background
    publishing, tests), with the autoescaping, the lenient undefined and the gettext
    of the site's (jinja2.ext.i18n, new style, trimmed), so optional keys (a support
    line's hours) and translated words read the same in both."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    env.policies["ext.i18n.trimmed"] = True
    env.install_gettext_translations(catalogue(language), newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(template_helpers())
    env.filters.update(template_filters())
    return env


def body_html(
    report: Mapping[str, Any],
    version_url: Callable[[int], str | None] | None = None,
    chart_url: Callable[[str, Sequence[str], Sequence[float | None]], str] | None = None,
) -> Markup:
    """The report body alone (what the site puts inside its layout); `chart_url`
    names the charts' files as the site does (without it, they are drawn inside)."""
    template = _environment(report_language(report)).get_template("report/_body.html")
    page = template.render(report=report, version_url=version_url, chart_url=chart_url)
    return Markup(page)  # noqa: S704


def standalone_html(report: Mapping[str, Any]) -> str:
    """A complete, self-contained HTML document of the report: the downloadable
    report.html and the source of the PDF, in the report's language. Its stylesheet
    is embedded (it is a file, not a page served under the CSP) and it makes no
    request of any kind."""
    language = report_language(report)
    template = _environment(language).get_template("report/standalone.html")
    return template.render(
        report=report,
        version_url=None,
        stylesheet=_stylesheet(),
        page_numbers=page_numbers_css(language),
    )


PAGE_NUMBERS = N_("Page %(page)s of %(pages)s")


def page_numbers_css(language: str) -> Markup:
    """The PDF's page numbers ("Page 2 of 5", "Página 2 de 5") as a CSS @page rule:
    the translated words as CSS strings around the page counters."""
    marker = "\x00"
    text = translate_to(
        language, PAGE_NUMBERS, page=f"{marker}page{marker}", pages=f"{marker}pages{marker}"
    )
    pieces = []
    for index, part in enumerate(re.split(f"{marker}(pages?){marker}", text)):
        if index % 2:
            pieces.append(f"counter({part})")
        elif part:
            # Every character that could end the string or the <style> element, escaped.
            escaped = "".join(f"\\{ord(c):x} " if c in '"\\<>&' else c for c in part)
            pieces.append(f'"{escaped}"')
    rule = "@page { @bottom-right { content: " + " ".join(pieces) + "; } }"
    return Markup(rule)  # noqa: S704 - escaped just above


_REPORT_BLOCK = "/* report */"
_REPORT_SLOT = "/* @report-block"


@functools.cache
def _stylesheet() -> Markup:
    """The standalone stylesheet: its own base and print rules around staff.css's
    report block, so the site and the download share one set of report rules."""
    site = (STATIC_DIR / "staff.css").read_text("utf-8")
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

    # Nothing is ever read (the charts are drawn in the page); a data: URL is allowed,
    # anything else fails the render.
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
