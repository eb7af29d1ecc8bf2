"""How staff pages show what doesn't fit a phone's line as it is.

Registered as Jinja filters by admin.init_app; plain functions, tested on their own.
"""

from __future__ import annotations

from flask import Flask
from markupsafe import Markup, escape


def breakable_email(email: str | None) -> Markup:
    """An email address that may wrap after its @ (never in the middle of a name):
    escaped, with a <wbr> after the @, in a span the stylesheet lets break
    mid-word only when even one of its halves is wider than the screen."""
    text = escape(email or "")
    return Markup('<span class="email">{}</span>').format(Markup("@<wbr>").join(text.split("@")))


def init_app(app: Flask) -> None:
    app.add_template_filter(breakable_email, "email")
