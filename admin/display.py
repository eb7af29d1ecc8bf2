"""How staff pages show what doesn't fit a phone's line as it is.

Registered as Jinja filters by admin.init_app; plain functions, tested on their own.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from markupsafe import Markup, escape

from survey.models import Role


def breakable_email(email: str | None) -> Markup:
    """An email address that may wrap after its @ (never in the middle of a name):
    escaped, with a <wbr> after the @, in a span the stylesheet lets break
    mid-word only when even one of its halves is wider than the screen."""
    text = escape(email or "")
    return Markup('<span class="email">{}</span>').format(Markup("@<wbr>").join(text.split("@")))


def company_reader(user: Any) -> bool:
    """A signed-in company reader who is nothing else: their pages are their
    organisation's portal, never "staff" (templates/admin/layout.html)."""
    return bool(
        getattr(user, "is_authenticated", False)
        and user.has_role(Role.COMPANY)
        and not user.has_role(Role.FACILITATOR, Role.ANALYST, Role.ADMIN)
    )


def counted(number: int, singular: str, plural: str | None = None) -> str:
    """`1 section`, `2 sections`: a count with its noun in the right form. Staff pages
    are in English only (their templates are not in the catalogues), so the two forms
    are English's; `plural` defaults to the singular with an s."""
    return f"{number:,} {singular if number == 1 else (plural or singular + 's')}"


def init_app(app: Flask) -> None:
    app.add_template_filter(breakable_email, "email")
    app.add_template_filter(counted, "counted")
    app.add_template_global(company_reader, "company_reader")
