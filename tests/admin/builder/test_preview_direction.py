"""The builder's preview of a survey written right to left: the staff page stays
English and left to right, the preview inside it is the survey's language, right to
left, and the staff notes within the preview are marked English, left to right."""

from __future__ import annotations

import json
import re
from pathlib import Path

from survey.definition import parse_definition
from survey.models import Role
from survey.surveys import import_definition
from tests.factories import make_user, sign_in

ARABIC = Path(__file__).resolve().parents[2] / "definitions" / "valid" / "arabic.json"


def test_an_arabic_preview_is_right_to_left_inside_an_english_page(app):
    import_definition(parse_definition(json.loads(ARABIC.read_text("utf-8"))))
    make_user("fac@example.org", roles=(Role.FACILITATOR,))
    staff = app.test_client()
    sign_in(staff, "fac@example.org")
    for path in (
        "/staff/surveys/arabic-rtl/preview",
        "/staff/surveys/arabic-rtl/preview/experience",
    ):
        page = staff.get(path).get_data(as_text=True)
        assert re.search(r'<html lang="en" dir="ltr">', page), path
        assert '<div class="preview" lang="ar" dir="rtl">' in page, path
        preview = page.split('<div class="preview"')[1]
        notes = re.findall(r'<[a-z0-9]+ [^>]*lang="en"[^>]*>', preview)
        assert notes and all('dir="ltr"' in note for note in notes), notes
