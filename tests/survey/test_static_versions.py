"""Static URLs carry their content's hash, so a year-long cache never serves an old file."""

from __future__ import annotations

import hashlib
import re

from survey.config import STATIC_DIR


def test_pages_link_static_files_by_their_content_hash(client):
    page = client.get("/").get_data(as_text=True)
    links = dict(re.findall(r'/static/([\w.-]+)\?v=([0-9a-f]{12})"', page))
    assert {"chorus.css", "chorus.js"} <= set(links)
    for name, version in links.items():
        assert version == hashlib.sha256((STATIC_DIR / name).read_bytes()).hexdigest()[:12]
    served = client.get(f"/static/chorus.css?v={links['chorus.css']}")
    assert served.status_code == 200 and served.data == (STATIC_DIR / "chorus.css").read_bytes()
