"""The audit log's page at /staff/audit, and the hook that records staff actions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import (
    Blueprint,
    Flask,
    current_app,
    has_app_context,
    render_template,
    request,
)
from sqlalchemy import func, select

from admin.access import allow
from admin.audit.log import (
    EXTENSION_KEY,
    record,
    timestamp_text,
    verify,
)
from survey.events import staff_action
from survey.models import AuditEntry, Role, db

# --- the page ------------------------------------------------------------------------------

bp = Blueprint("audit", __name__, url_prefix="/staff/audit")

PAGE_SIZE = 50
MAX_FILTER = 254


@dataclass
class LogPage:
    """One page of the log, newest first, and where it sits among the others."""

    entries: list[AuditEntry]
    number: int
    pages: int
    total: int


def entries_page(number: int, action_prefix: str = "", actor: str = "") -> LogPage:
    """Page `number` (from 1, clamped to the pages there are) of the matching entries.

    `action_prefix` keeps actions starting with it ("user." for every account
    action); `actor` keeps actors containing it. Both are matched literally.
    """
    query = select(AuditEntry)
    if action_prefix:
        query = query.where(AuditEntry.action.startswith(action_prefix, autoescape=True))
    if actor:
        query = query.where(AuditEntry.actor.contains(actor, autoescape=True))
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    number = min(max(1, number), pages)
    entries = db.session.scalars(
        query.order_by(AuditEntry.id.desc())
        .limit(PAGE_SIZE)
        .offset((number - 1) * PAGE_SIZE)
        .execution_options(populate_existing=True)
    ).all()
    return LogPage(list(entries), number, pages, total)


def _page_number(value: str) -> int:
    """A page number from the query string; anything else is page 1."""
    value = value.strip()
    return int(value) if value.isdigit() and len(value) <= 9 else 1


@bp.get("/")
@allow(Role.ADMIN)
def log_page():
    """The log, newest first, with the chain's state and head at the top.

    Reading it is not itself recorded: an entry per page view would bury the
    actions it exists to show (and each view would change the head it shows).
    """
    action = request.args.get("action", "").strip()[:MAX_FILTER]
    actor = request.args.get("actor", "").strip()[:MAX_FILTER]
    page = entries_page(_page_number(request.args.get("page", "1")), action, actor)
    return render_template(
        "admin/audit.html",
        report=verify(),
        page=page,
        action=action,
        actor=actor,
        timestamp_text=timestamp_text,
    )


# --- wiring -------------------------------------------------------------------------------


def _on_staff_action(
    sender: object,
    *,
    action: str,
    actor: str,
    target: str = "",
    details: Mapping[str, Any] | None = None,
    **_: Any,
) -> None:
    """Record an announced staff action in the log of the app that announced it.

    The signal is process-wide and connected once, but every app (tests make
    many) has its own database: record in the sender's, and only for apps that
    asked for an audit log through `init_app`.
    """
    app = sender if isinstance(sender, Flask) else None
    if app is None and has_app_context():
        app = current_app._get_current_object()  # type: ignore[attr-defined]
    if app is None or not app.extensions.get(EXTENSION_KEY):
        return
    if has_app_context() and current_app._get_current_object() is app:  # type: ignore[attr-defined]
        record(action, actor, target, details)
    else:
        with app.app_context():
            record(action, actor, target, details)


def init_app(app: Flask) -> None:
    """Record this app's announced staff actions; add the log's page.

    Safe to call more than once: blinker keeps one connection per receiver.
    """
    app.extensions[EXTENSION_KEY] = True
    if bp.name not in app.blueprints:
        app.register_blueprint(bp)
    # weak=False: the receiver is a module function, but say so rather than rely on it.
    staff_action.connect(_on_staff_action, weak=False)
