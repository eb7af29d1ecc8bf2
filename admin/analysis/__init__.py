"""Analysis: an unlocked survey's answers, decrypted in memory only, and their tables.

- frame.py: the answers as a pandas DataFrame (in a pool of processes for large
  surveys), cached for the length of an unlock;
- tables.py: counts per question and week, two-way breakdowns;
- sdc.py: statistical disclosure control (primary and complementary suppression,
  rounding, the protection rule, differencing);
- published.py: the tables a report publishes, each protected with the tables it
  is linked to;
- pages.py: the analysis page (true counts beside what a report would hide) and
  the responses CSV.
"""

from __future__ import annotations

from flask import Flask

from admin.analysis import pages


def init_app(app: Flask) -> None:
    pages.init_app(app)
