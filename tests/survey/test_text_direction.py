"""Respondent pages of a survey written right to left say so on <html> (lang and
dir="rtl"), in the app's words of that language; other surveys stay dir="ltr"."""

from __future__ import annotations

import json
import re
from pathlib import Path

from survey.i18n import shipped_languages, translate_to

ARABIC = Path(__file__).resolve().parents[1] / "definitions" / "valid" / "arabic.json"


def test_arabic_is_shipped():
    assert "ar" in shipped_languages()


def test_an_arabic_survey_page_is_right_to_left_in_arabic(client, make_open_survey):
    make_open_survey(json.loads(ARABIC.read_text("utf-8")))
    page = client.get("/s/arabic-rtl").get_data(as_text=True)
    assert re.search(r'<html lang="ar" dir="rtl">', page)
    assert "ابدأ الاستبيان" in page and "Start the survey" not in page


def test_an_english_survey_page_is_left_to_right(client, make_open_survey):
    survey, _ = make_open_survey()
    page = client.get(f"/s/{survey.slug}").get_data(as_text=True)
    assert re.search(r'<html lang="en" dir="ltr">', page)


def test_arabic_words_for_arabic_and_its_regional_variants(app):
    assert translate_to("ar", "Start the survey") == "ابدأ الاستبيان"
    assert translate_to("ar-EG", "Step %(step)s of %(total)s", step=1, total=2) == "الخطوة 1 من 2"
