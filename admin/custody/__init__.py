"""Key custody: who can read a survey's answers.

- keys.py: analysts' key pairs, grants and revocations, restoring access with the
  recovery code (a second person approves);
- unlock.py: the unlock store, the service analysis and reports ask for a survey's
  key while an analyst has it unlocked;
- pages.py: opening a survey (custodians, key sheet), the survey's keys page, and
  the admin's restore approvals.
"""

from __future__ import annotations

from flask import Flask

from admin.custody import pages, unlock

RATE_LIMITS = pages.RATE_LIMITS


def init_app(app: Flask) -> None:
    unlock.init_app(app)
    pages.init_app(app)
