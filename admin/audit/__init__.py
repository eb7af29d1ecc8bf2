"""The staff audit log: an append-only, keyed hash chain of every staff action.

- log.py: appending, hashing, verifying and re-keying the chain;
- pages.py: the log's page at /staff/audit, and the hook that records announced
  staff actions.
"""

from __future__ import annotations

from flask import Flask

from admin.audit import pages


def init_app(app: Flask) -> None:
    pages.init_app(app)
