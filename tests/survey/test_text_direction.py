"""Respondent pages of a survey written right to left say so on <html> (lang and
dir="rtl"), in the app's words of that language; other surveys stay dir="ltr"."""

from __future__ import annotations

import json
import re
from pathlib import Path

from survey.i18n import shipped_languages, translate_to
from tests.factories import Respondent

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


# --- runs of the other direction (issue 21, point 11) -------------------------------------

CHILDLINE = {
    "name": "Childline (UK, for children and young people under 19)",
    "phone": "0800 1111",
    "hours": "24 hours, every day",
    "url": "https://www.childline.org.uk",
}


def arabic_with_an_english_helpline() -> dict:
    """The Arabic survey naming a UK helpline in English, as many will: the English
    run must keep its own direction inside the Arabic page."""
    document = json.loads(ARABIC.read_text("utf-8"))
    document["support"] = [*document["support"], CHILDLINE]
    return document


def _tags(page: str, pattern: str) -> list[str]:
    return re.findall(pattern, page)


def assert_isolated(page: str) -> None:
    """Every phone number, web address and code reads left to right on its own, and
    every service's name and hours keep the direction of their own words."""
    phones = _tags(page, r'<a href="tel:[^"]*"[^>]*>')
    addresses = _tags(page, r'<a href="https?://[^"]*"[^>]*>')
    names = _tags(page, r'<span class="support-list__name"[^>]*>')
    assert phones and addresses and names
    for tag in phones + addresses:
        assert 'dir="ltr"' in tag, tag
    for tag in names:
        assert 'dir="auto"' in tag, tag
    for hours in re.findall(r"(?:الساعات|Hours): (<[^>]+>)", page):
        assert hours == '<bdi dir="auto">', hours
    for tag in _tags(page, r'<(?:span|input)[^>]*class="[^"]*(?:code-box__code|input--code)[^>]*>'):
        assert 'dir="ltr"' in tag, tag


def test_support_services_phone_numbers_and_addresses_keep_their_direction(
    client, make_open_survey
):
    make_open_survey(arabic_with_an_english_helpline())
    landing = client.get("/s/arabic-rtl").get_data(as_text=True)
    assert CHILDLINE["hours"] in landing and "0800 1111" in landing
    assert_isolated(landing)
    respondent = Respondent(client, "arabic-rtl")
    respondent.start(lang="ar")
    respondent.section("about_you")
    section = respondent.last_html
    assert 'id="age_band--under_18"' in section
    assert_isolated(section)
    # What a person types takes the direction of its own first letter.
    assert re.search(r'<input class="input" type="text" dir="auto" id="apps_used-other"', section)


def test_review_answers_take_the_direction_of_what_was_typed(client, make_open_survey):
    """An answer typed in English on an Arabic page reads left to right on the review."""
    make_open_survey(arabic_with_an_english_helpline())
    respondent = Respondent(client, "arabic-rtl")
    respondent.start(lang="ar")
    respondent.answer("about_you", {"apps_used": "_other", "apps_used-other": "WhatsApp (v2)"})
    review = respondent.get("/s/arabic-rtl/review").get_data(as_text=True)
    assert re.search(r'<dd class="review-list__answer" dir="auto">[^<]*WhatsApp \(v2\)', review)


def test_the_resume_code_and_code_boxes_read_left_to_right(client, make_open_survey):
    make_open_survey(arabic_with_an_english_helpline())
    resume = client.get("/s/arabic-rtl/resume").get_data(as_text=True)
    assert 'class="input input--code"' in resume
    assert_isolated(resume)


def test_language_names_keep_their_own_direction(client, make_open_survey):
    """The language switch names each language in itself: "English" on an Arabic
    page reads left to right."""
    document = arabic_with_an_english_helpline()
    document["languages"] = ["ar", "en"]
    # Every text in both languages (which words the English ones are is beside the point).
    for holder, key in _texts(document):
        holder[key] = {"ar": holder[key], "en": holder[key]}
    make_open_survey(document)
    page = client.get("/s/arabic-rtl").get_data(as_text=True)
    assert re.search(r'<a href="[^"]*\?lang=en" lang="en" dir="ltr"', page)
    assert re.search(r'<span aria-current="true" lang="ar" dir="rtl"', page)


def _texts(document: dict):
    for key in ("title", "intro", "organiser", "closing_message"):
        if key in document:
            yield document, key
    for resource in document["support"]:
        yield from ((resource, key) for key in ("name", "hours") if key in resource)
    for section in document["sections"]:
        keys = ("title", "intro", "content_warning")
        yield from ((section, key) for key in keys if key in section)
        for question in section["questions"]:
            yield from ((question, key) for key in ("text", "help") if key in question)
            for option in question.get("options", []):
                yield option, "label"
            if "scale" in question:
                yield from ((question["scale"], key) for key in ("min_label", "max_label"))
