"""Deny by default: one before_request check for every staff page.

The respondent pages and a short list of endpoints are public; every other
endpoint must declare who may use it with `@allow(...)`, or nobody can (even
admins). Staff who must change a password someone else chose, or who hold a role
that needs two-factor sign-in, can do nothing else until they have.

Every staff module imports `allow` from here, so none of them needs another's
views to say who may use its own; and what every staff view shares: the two
lookups `staff_member()` and `survey_or_404()`, and `attachment()` for downloads.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, Response, abort, current_app, g, redirect, request, url_for
from flask_login import current_user

from survey.health import HEALTH_ENDPOINT
from survey.models import Role, Survey, User
from survey.surveys import find_survey

# Endpoints anyone may reach; the respondent blueprint is public as a whole.
PUBLIC_BLUEPRINTS = frozenset({"respond"})
PUBLIC_ENDPOINTS = frozenset(
    {"static", "home", "favicon", HEALTH_ENDPOINT, "staff.login", "staff.second_factor"}
)
# Reachable while signed in but before two-factor enrolment or a forced password change.
ENROLMENT_ENDPOINTS = frozenset({"staff.setup_2fa", "staff.change_password", "staff.logout"})
ANY_STAFF = frozenset(Role)

_allowed_roles: dict[str, frozenset[Role]] = {}
View = TypeVar("View", bound=Callable[..., Any])


def allow(*roles: Role) -> Callable[[View], View]:
    """Declare which roles may use a view (none given: any member of staff)."""

    def declare(view: View) -> View:
        _allowed_roles[f"{view.__module__}.{view.__qualname__}"] = frozenset(roles) or ANY_STAFF
        return view

    return declare


def roles_for_endpoint(app: Flask, endpoint: str | None) -> frozenset[Role] | None:
    """The roles a (non-public) endpoint allows; None when it declared nothing."""
    view = app.view_functions.get(endpoint or "")
    if view is None:
        return None
    return _allowed_roles.get(f"{view.__module__}.{view.__qualname__}")


def is_public(endpoint: str | None, blueprint: str | None) -> bool:
    return endpoint in PUBLIC_ENDPOINTS or blueprint in PUBLIC_BLUEPRINTS


def guard():
    """Deny by default: the one check every request goes through."""
    if request.endpoint is None or is_public(request.endpoint, request.blueprint):
        return None
    if not current_user.is_authenticated:
        if request.method == "GET":
            # A session that lapsed or was ended is told so on the sign-in page.
            if g.get("staff_session_ended"):
                return redirect(url_for("staff.login", ended="session"))
            return redirect(url_for("staff.login"))
        abort(401)
    if request.endpoint not in ENROLMENT_ENDPOINTS:
        if current_user.must_change_password:
            return redirect(url_for("staff.change_password"))
        if current_user.needs_2fa and not current_user.totp_confirmed:
            return redirect(url_for("staff.setup_2fa"))
    allowed = roles_for_endpoint(current_app, request.endpoint)
    if allowed is None or not current_user.has_role(*allowed):
        abort(403)
    return None


def staff_member() -> User:
    """The signed-in member of staff (the guard has let only them this far)."""
    return current_user._get_current_object()  # type: ignore[attr-defined]


def survey_or_404(slug: str) -> Survey:
    """The survey a staff URL names, or the 404 page."""
    survey = find_survey(slug)
    if survey is None:
        abort(404)
    return survey


def attachment(body: str | bytes, mimetype: str, filename: str) -> Response:
    """A file to download (never shown in the browser), named `filename`."""
    return Response(
        body,
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
