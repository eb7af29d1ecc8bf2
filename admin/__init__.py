"""The staff side: accounts and roles, the survey builder, key custody, analysis,
reports and the company portal. It uses survey/'s models, crypto and definitions;
nothing in survey/ imports it except the app factory."""

from __future__ import annotations

from flask import Flask

from admin import audit, auth, builder

# Limits on POSTs to staff endpoints, per client address (see survey.privacy).
RATE_LIMITS = auth.RATE_LIMITS


def init_app(app: Flask) -> None:
    """Attach the staff side: sign-in, the deny-by-default guard, the audit log,
    the survey builder."""
    auth.init_app(app)
    audit.init_app(app)
    app.register_blueprint(builder.bp)
