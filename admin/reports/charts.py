"""A report's charts as files of their own, for the site's report pages.

A report page names each chart by URL (`<img src>`) instead of carrying it inside
itself, so the page is its text and tables, and the browser fetches the charts
beside it and may keep them. Who may fetch a chart is decided by the view that
serves it, exactly as for the report it belongs to (the company portal for a
published version, the custodians' preview for the next one): these functions
only find the chart in a document and make the response.

A chart's URL carries its fingerprint (`?v=`, render.chart_version), which changes
whenever its numbers or the drawing code do; the same fingerprint is its ETag.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from flask import Response, abort, request, url_for

from admin.reports import render

SVG = "image/svg+xml"
# A published version never changes, and its chart URLs carry their fingerprint:
# the reader's own browser may keep them for a day without asking again (never a
# shared cache: the report is addressed to the reader's organisation alone).
PUBLISHED_CACHE = "private, max-age=86400"
# The preview comes from answers decrypted while the survey is unlocked: nothing of
# it is kept in the browser, so locking the survey really ends what can be seen.
PREVIEW_CACHE = "no-store"

ChartUrl = Callable[[str, Sequence[str], Sequence[float | None]], str]


def chart_urls(endpoint: str, report: Mapping[str, Any], **values: Any) -> ChartUrl:
    """What a page of `report` uses to name its charts: `endpoint` with `values` (the
    report's address), the chart's key and its fingerprint (which covers the
    report's language: the chart's words and numbers are written in it)."""
    language = render.report_language(report)

    def url(key: str, labels: Sequence[str], percent: Sequence[float | None]) -> str:
        version = render.chart_version(labels, percent, language)
        return url_for(endpoint, key=key, v=version, **values)

    return url


def chart_response(report: Mapping[str, Any], key: str, cache_control: str) -> Response:
    """The SVG of the report's chart `key` (404 when it has none), answering a
    request that already holds this very chart (If-None-Match) with 304."""
    series = render.chart_series(report, key)
    if series is None:
        abort(404)
    labels, percent = series
    language = render.report_language(report)
    response = Response(render.chart_svg(labels, percent, language), mimetype=SVG)
    response.headers["Cache-Control"] = cache_control
    response.set_etag(render.chart_version(labels, percent, language))
    response.make_conditional(request)  # in place: 304 without a body when it matches
    return response
