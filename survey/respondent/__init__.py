"""The survivor's side on the web: the pages at /s/<slug>.

- views.py: the routes, one per step (landing, sections, review, submit,
  receipt, resume and withdrawal codes, quick exit);
- session.py: what the respondent's cookie holds and when it is forgotten;
- pages.py: finding the survey, the language, rendering, navigation and the
  calm pages for whatever isn't a normal step.

Answer parsing (survey/answers.py), the strings (survey/i18n.py) and the
response store (survey/responses.py) are the core's, shared with the staff side.
"""

from __future__ import annotations

from flask import Flask
from flask_wtf.csrf import CSRFProtect

from survey.respondent.views import RATE_LIMITS, bp, csrf_failed, start, withdraw_answers

__all__ = ["RATE_LIMITS", "csrf_failed", "init_app"]


def init_app(app: Flask, csrf: CSRFProtect) -> None:
    app.register_blueprint(bp)
    # Starting and withdrawing check where the request comes from instead of a form
    # token: a token would need a cookie before the person has chosen to take part.
    csrf.exempt(start)
    csrf.exempt(withdraw_answers)
