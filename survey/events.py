"""Staff actions announced by the core, for whoever keeps the record.

`survey/` must not import `admin/`, yet the CLI's and the core's staff actions
(importing, opening, closing, exporting) belong in the audit log that lives in
admin/audit/log.py. So the core sends this signal and the app factory connects the
audit log to it. Respondent actions are never sent.
"""

from __future__ import annotations

import getpass
from typing import Any

from blinker import Namespace
from flask import current_app

_signals = Namespace()

# sender: the app; keyword arguments: action, actor, target, details
staff_action = _signals.signal("chorus-staff-action")


def cli_actor() -> str:
    """Who ran a command: the operating-system account, marked as such."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def announce(action: str, actor: str, target: str = "", **details: Any) -> None:
    """Tell listeners (the audit log) that a member of staff did something."""
    staff_action.send(
        current_app._get_current_object(),  # type: ignore[attr-defined]
        action=action,
        actor=actor,
        target=target,
        details=details,
    )
