"""The survey builder: the editor (sections, questions, translations, branching), preview,
import and export, copying, the lifecycle (close, reopen, archive), retention dates and
invite codes.

- pages.py: the pages at /staff/surveys, calling survey/surveys.py and
  survey/definition.py for every change to a survey;
- forms.py: reading and checking the editor's forms into the survey format.
"""

from __future__ import annotations

from flask import Flask

from admin.builder import pages


def init_app(app: Flask) -> None:
    pages.init_app(app)
