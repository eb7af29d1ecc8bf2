"""Impact reports in the `chorus-report/1` format (docs/report-format.md).

- draft.py: the analyst's draft (findings, narrative, limitations, rounding);
- build.py: the document, from the published tables and the draft;
- publish.py: freezing a version for the organisations it is addressed to;
- render.py: HTML, PDF, CSV and XLSX of a document, and its charts;
- pages.py: the analyst's report pages (settings, findings, preview, publish);
- themes.py, coding.py, quotes.py: themes in free-text answers, and quotes;
- theme_pages.py: the analyst's pages for them (codebook, coding, agreement, quotes).
"""

from __future__ import annotations

from flask import Flask

from admin.reports import pages, render, theme_pages


def init_app(app: Flask) -> None:
    pages.init_app(app)
    theme_pages.init_app(app)
    render.init_app(app)
