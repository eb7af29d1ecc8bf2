"""A report's horizontal bar chart, drawn by hand: as SVG (the site's chart files) and
as HTML (the standalone document and its PDF).

Words stay text, never paths: the reader's browser and WeasyPrint shape them in a
font that has their script (Arabic included), so a chart reads like the page around
it. A chart in a right-to-left language is mirrored: labels on the right, bars
growing from the right towards the left.

Why two drawings: the site serves each chart as an SVG file of its own (charts.py;
a page's strict CSP forbids inline styles, and a browser keeps the files), and
browsers lay out SVG text with the Unicode bidirectional algorithm. WeasyPrint, which
makes the PDF, shapes SVG text but lays a line out left to right whatever its
direction, so a label that mixes Arabic with digits or Latin words ("18 أو أكثر")
would read in the wrong order; in HTML it applies the algorithm. So the standalone
document draws its charts in HTML, with the same measures.

Sizes: the SVG is 320 units wide, shown at most that wide and scaled down to fit the
column it is in; its smallest text is 15 units, so it stays at least 12 px on a
320 px phone (tests/e2e/test_portal_browser.py measures it). Labels are wrapped
above their bars, so a long label never meets a bar, a grid line or a number.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from markupsafe import Markup

WIDTH = 320  # the SVG's width in its own units, and the most it is shown at (CSS px)
PAD = 2
LABEL_SIZE = 16
VALUE_SIZE = 15
TICK_SIZE = 15
LINE = 21  # a label line's height
LABEL_CHARS = 30  # characters per label line: a wide font's 30 fit in 316 units at 16
BAR = 16
VALUE_ROOM = 62  # beside the longest bar, for "100.0 %"
ROW_GAP = 14
AXIS = 30  # below the bars, for the percentage ticks
TICKS = (0, 25, 50, 75, 100)
FONTS = "system-ui, 'Noto Sans', 'DejaVu Sans', 'Liberation Sans', sans-serif"
# Arabic first in a font made for it; the others give Latin words and digits.
RTL_FONTS = "'Noto Sans Arabic', " + FONTS
BAR_COLOUR = "#1a4f8b"
TEXT_COLOUR = "#1d1d1f"
MUTED_COLOUR = "#4a4a4f"
GRID_COLOUR = "#d8d8da"


@dataclass(frozen=True)
class Bar:
    """One category: its label, its percentage (None: hidden) and what is written
    beside the bar (the percentage in the report's language, or "hidden")."""

    label: str
    percent: float | None
    value_text: str


@dataclass(frozen=True)
class _Row:
    lines: list[str]
    top: float  # the first label line's top
    bar_top: float


def _rows(bars: Sequence[Bar]) -> tuple[list[_Row], float]:
    """Where each category's label lines and bar go, and the height of the bars' area."""
    rows = []
    y = 4.0
    for bar in bars:
        lines = textwrap.wrap(bar.label, LABEL_CHARS) or [" "]
        top = y
        y += LINE * len(lines) + 2
        rows.append(_Row(lines, top, y))
        y += BAR + ROW_GAP
    return rows, y


def size(labels: Sequence[str]) -> tuple[int, int]:
    """The SVG's size in CSS pixels at its widest, for the <img>'s width and height
    (the page keeps the chart's room while it loads)."""
    _, body = _rows([Bar(str(label), None, "") for label in labels])
    return WIDTH, round(body + AXIS)


def svg(bars: Sequence[Bar], ticks: Sequence[str], language: str, rtl: bool) -> bytes:
    """The chart as an SVG document. `ticks` are the axis's words for 0, 25, 50, 75
    and 100 per cent; `rtl` mirrors it."""
    rows, body = _rows(bars)
    height = round(body + AXIS)
    scale = (WIDTH - 2 * PAD - VALUE_ROOM) / 100

    def x(at: float) -> float:
        """A distance from the start side (left, or right when mirrored)."""
        return round(WIDTH - at if rtl else at, 2)

    direction = "rtl" if rtl else "ltr"
    out = [
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}"'
        f' viewBox="0 0 {WIDTH} {height}" lang={quoteattr(language)}'
        f' xml:lang={quoteattr(language)} direction="{direction}"'
        f' font-family="{RTL_FONTS if rtl else FONTS}" fill="{TEXT_COLOUR}">'
    ]
    # Grid lines run only through the bars' own bands, never through a label or the
    # word "hidden".
    for tick in TICKS:
        gx = x(PAD + tick * scale)
        for bar, row in zip(bars, rows, strict=True):
            if bar.percent is None:
                continue
            out.append(
                f'<line x1="{gx}" y1="{row.bar_top - 3}" x2="{gx}" y2="{row.bar_top + BAR + 3}"'
                f' stroke="{GRID_COLOUR}" stroke-width="1"/>'
            )
    for bar, row in zip(bars, rows, strict=True):
        # text-anchor "start" is the right end of right-to-left text.
        for i, line in enumerate(row.lines):
            baseline = row.top + LINE * (i + 1) - 5
            out.append(
                f'<text x="{x(PAD)}" y="{baseline}" font-size="{LABEL_SIZE}"'
                f' direction="{direction}" text-anchor="start">{escape(line)}</text>'
            )
        middle = row.bar_top + BAR / 2 + VALUE_SIZE * 0.35
        if bar.percent is None:
            out.append(
                f'<text x="{x(PAD)}" y="{middle}" font-size="{VALUE_SIZE}"'
                f' fill="{MUTED_COLOUR}" direction="{direction}"'
                f' text-anchor="start">{escape(bar.value_text)}</text>'
            )
            continue
        length = max(float(bar.percent), 0.0) * scale
        left = WIDTH - PAD - length if rtl else PAD
        out.append(
            f'<rect x="{round(left, 2)}" y="{row.bar_top}" width="{round(length, 2)}"'
            f' height="{BAR}" fill="{BAR_COLOUR}"/>'
        )
        out.append(
            f'<text x="{x(PAD + length + 5)}" y="{middle}" font-size="{VALUE_SIZE}"'
            f' direction="{direction}" text-anchor="start">{escape(bar.value_text)}</text>'
        )
    axis = body + 2
    out.append(
        f'<line x1="{x(PAD)}" y1="{axis}" x2="{x(PAD + 100 * scale)}" y2="{axis}"'
        f' stroke="{MUTED_COLOUR}" stroke-width="1"/>'
    )
    for tick, word in zip(TICKS, ticks, strict=True):
        # The first tick starts at the bars' edge, so it is never cut off.
        anchor = "start" if tick == 0 else "middle"
        out.append(
            f'<text x="{x(PAD + tick * scale)}" y="{axis + TICK_SIZE + 4}"'
            f' font-size="{TICK_SIZE}" fill="{MUTED_COLOUR}" direction="{direction}"'
            f' text-anchor="{anchor}">{escape(word)}</text>'
        )
    out.append("</svg>\n")
    return "".join(out).encode("utf-8")


def html(bars: Sequence[Bar]) -> Markup:
    """The chart as HTML, for the standalone document: each label above its bar and
    the value just past the bar's end, laid out in the document's own direction (a
    right-to-left report mirrors it). A bar's length is its percentage of the track,
    four fifths of the width, which leaves room for the value beside a full bar."""
    items = []
    for bar in bars:
        if bar.percent is None:
            track = Markup('<span class="report-bars__hidden">{}</span>').format(bar.value_text)
        else:
            width = f"{max(float(bar.percent), 0.0):.1f}%"
            track = Markup(
                '<span class="report-bars__bar" style="width: {}"></span>'
                '<span class="report-bars__value">{}</span>'
            ).format(width, bar.value_text)
        items.append(
            Markup(
                '<li class="report-bars__item"><span class="report-bars__label">{}</span>'
                '<span class="report-bars__track">{}</span></li>'
            ).format(bar.label, track)
        )
    return Markup('<ul class="report-bars">{}</ul>').format(Markup("").join(items))
