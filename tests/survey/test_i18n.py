"""The app's words in the survey's language (gettext, survey/i18n.py); which languages
are written right to left. tests/project/test_catalogues.py checks the catalogues."""

from __future__ import annotations

import pytest

from survey.answers import ERROR_MESSAGES, AnswerError
from survey.i18n import language_name, translate_to


def test_a_message_in_a_shipped_language_with_its_placeholders_filled(app):
    assert translate_to("es", "Step %(step)s of %(total)s", step=2, total=7) == "Paso 2 de 7"
    # A regional variant finds its language's catalogue.
    assert translate_to("es-MX", "Start the survey") == "Empezar la encuesta"


@pytest.mark.parametrize("language", ["fr", "he", "not-a-language"])
def test_a_language_without_a_catalogue_gets_english(app, language):
    assert translate_to(language, "Start the survey") == "Start the survey"


def test_every_answer_error_has_a_message_whose_placeholders_its_params_fill():
    # Each code's message is a msgid (tests/project/test_catalogues.py checks them all
    # translated); the params the parser gives fill every placeholder.
    assert AnswerError("too_long", {"limit": 5}).text == ERROR_MESSAGES["too_long"]
    assert ERROR_MESSAGES["out_of_range"] % {"min": 1, "max": 3} == "Enter a number between 1 and 3"


def test_language_names_are_written_in_the_language_itself():
    assert language_name("es") == "Español"
    assert language_name("ar") == "العربية"
    assert language_name("xx-not-a-tag") == "xx-not-a-tag"


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


def test_speaking_a_language_for_a_while_then_the_requests_own_again(app):
    """A report in its survey's language inside an English staff page: gettext, and a
    template's _(), follow `speaking` and come back after it (the catalogue is kept
    per request: this checks it is dropped and restored)."""
    from flask import render_template_string

    from survey.i18n import gettext, speaking, use_language

    with app.app_context(), app.test_request_context("/"):
        use_language("en")
        assert gettext("Back") == "Back"
        with speaking("es"):
            assert gettext("Back") == render_template_string("{{ _('Back') }}") == "Atrás"
        assert render_template_string("{{ _('Back') }}") == gettext("Back") == "Back"
        use_language("es")
        assert gettext("Back") == "Atrás"
