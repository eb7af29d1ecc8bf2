"""The company portal: the reports addressed to a company's readers, and their answers
to each finding.

- answers.py: which versions a reader may see, answering findings, the history of
  answers, and their CSV;
- pages.py: the portal's pages, and the staff's view of every organisation's answers.
"""

from __future__ import annotations

from flask import Flask

from admin.portal import pages


def init_app(app: Flask) -> None:
    pages.init_app(app)
