"""The staff side: accounts and roles, the survey builder, key custody, analysis,
reports and the company portal. It uses survey/'s models, crypto and definitions;
nothing in survey/ imports it except the app factory."""

from __future__ import annotations

from flask import Flask

from admin import analysis, audit, auth, builder, keys, people, portal, render, report_pages

# Limits on POSTs to staff endpoints, per client address (see survey.privacy).
RATE_LIMITS = {**auth.RATE_LIMITS, **keys.RATE_LIMITS}


def init_app(app: Flask) -> None:
    """Attach the staff side: sign-in, the deny-by-default guard, the survey
    builder, key custody, analysis, the audit log, and the admin's pages for
    people and organisations, and the company portal."""
    auth.init_app(app)
    builder.init_app(app)
    keys.init_app(app)
    analysis.init_app(app)
    report_pages.init_app(app)
    audit.init_app(app)
    people.init_app(app)  # after auth: it adds to auth's `chorus user` group
    portal.init_app(app)
    render.init_app(app)
