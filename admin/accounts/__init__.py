"""Staff accounts: signing in (password, second factor, sessions), people and organisations.

- sign_in.py: passwords, account creation, server-side staff sessions, sign-in
  throttles, TOTP and backup codes (operations);
- sign_in_pages.py: the pages at /staff (sign in, code, sign out, home, two-factor
  set-up, password change) and the deny-by-default guard's wiring;
- people.py: the admin's operations on accounts and organisations;
- people_pages.py: their pages at /staff/people.
"""

from __future__ import annotations

from flask import Flask

from admin.accounts import people_pages, sign_in_pages

RATE_LIMITS = sign_in_pages.RATE_LIMITS


def init_app(app: Flask) -> None:
    sign_in_pages.init_app(app)
    people_pages.init_app(app)
