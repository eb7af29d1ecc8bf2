"""The staff side, one package per concern:

- accounts/: signing in, two-factor, people and organisations;
- builder/: the survey editor, lifecycle, retention, invites, import and export;
- custody/: analysts' keys, grants, restores and the unlock store;
- audit/: the append-only audit log;
- analysis/: the decrypted frame, tables, disclosure control, the analysis page;
- reports/: drafts, building, publishing and rendering reports;
- portal/: company readers' pages;
- access.py: deny by default (every page declares who may use it);
- display.py: template filters for what must wrap on a phone (emails);
- cli.py: the staff side's `chorus` commands.

It uses survey/'s models, crypto and definitions; nothing in survey/ imports it
except the app factory.
"""

from __future__ import annotations

from flask import Flask

from admin import accounts, analysis, audit, builder, custody, display, portal, reports

# Limits on POSTs to staff endpoints, per client address (see survey/privacy.py).
RATE_LIMITS = {**accounts.RATE_LIMITS, **custody.RATE_LIMITS}


def init_app(app: Flask) -> None:
    """Attach the staff side's pages: accounts (with the deny-by-default guard), the
    builder, key custody, analysis, reports, the audit log and the company portal."""
    display.init_app(app)
    accounts.init_app(app)
    builder.init_app(app)
    custody.init_app(app)
    analysis.init_app(app)
    reports.init_app(app)
    audit.init_app(app)
    portal.init_app(app)
