"""The app's own words exist in every language, with the same placeholders."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from survey.i18n import FALLBACK, MESSAGES, translate

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
SOURCES = Path(__file__).resolve().parents[2] / "survey"


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("language", sorted(set(MESSAGES) - {FALLBACK}))
def test_every_language_has_every_message_with_the_same_placeholders(language):
    english, other = MESSAGES[FALLBACK], MESSAGES[language]
    assert set(other) == set(english)
    for key, text in english.items():
        assert placeholders(other[key]) == placeholders(text), key
        assert other[key].strip(), key


def test_every_message_the_code_and_templates_use_exists():
    used: set[str] = set()
    for path in TEMPLATES.rglob("*.html"):
        used |= set(re.findall(r"\bt\('([a-z_0-9]+)'\s*[,)]", path.read_text()))
    for path in SOURCES.glob("*.py"):
        text = path.read_text()
        used |= set(re.findall(r'\btranslate\(\s*"([a-z_0-9]+)"', text))
        used |= set(re.findall(r'AnswerError\(\s*"([a-z_0-9]+)"', text))
    error_keys = {key for key in used if f"err_{key}" in MESSAGES[FALLBACK]}
    missing = {key for key in used - error_keys if key not in MESSAGES[FALLBACK]}
    assert used and not missing, missing
    # Keys the templates build: 'quote_' ~ choice.
    assert {"quote_yes", "quote_no"} <= set(MESSAGES[FALLBACK])


def test_unknown_language_falls_back_to_english():
    assert translate("start", "fr") == "Start the survey"
    assert translate("step_of", "es", step=2, total=7) == "Paso 2 de 7"


@pytest.mark.parametrize("language", ["ar", "he", "fa", "ur", "ar-EG", "fa_IR"])
def test_languages_written_right_to_left(language):
    from survey.i18n import is_rtl, text_direction

    assert is_rtl(language) and text_direction(language) == "rtl"


@pytest.mark.parametrize("language", ["en", "es", "pt-BR", "tr", "not-a-language", ""])
def test_languages_written_left_to_right_or_unknown(language):
    from survey.i18n import is_rtl, text_direction

    assert not is_rtl(language) and text_direction(language) == "ltr"


def test_pages_speak_english_unless_a_respondent_page_chooses_the_survey_language(app):
    from flask_babel import get_locale

    from survey.i18n import use_language

    # Each request has its own app context (and `g`), as in production.
    with app.app_context(), app.test_request_context("/"):
        assert str(get_locale()) == "en"
        use_language("es")
        assert str(get_locale()) == "es"
    with app.app_context(), app.test_request_context("/"):
        assert str(get_locale()) == "en"
