"""Parts of respondent pages kept rendered (survey/respondent/fragments.py): a
question nobody has answered yet and the support list. A page built from kept
parts is the page rendered afresh; nothing a person answered is ever kept; each
language and each version of a survey has its own parts."""

from __future__ import annotations

import json
import re

from survey.models import db
from survey.respondent.fragments import kept_fragments
from survey.surveys import find_survey
from tests.factories import CSRF_RE, Respondent, page_text, small_survey_document

STORY = "a sentence only this respondent wrote 7731"


def kept_html(app) -> str:
    """Everything the app keeps rendered, as one string."""
    with app.app_context():
        return "".join(str(html) for html in kept_fragments().values())


def without_token(html: str) -> str:
    return CSRF_RE.sub('name="csrf_token" value=""', html)


def test_a_page_from_kept_parts_is_the_page_rendered_afresh(app, respondent):
    respondent.start()
    section = "/s/small/section/you"
    fresh = without_token(respondent.get(section).get_data(as_text=True))
    assert len(kept_fragments()) > 0
    kept_before = len(kept_fragments())
    warm = without_token(respondent.get(section).get_data(as_text=True))
    assert warm == fresh
    assert len(kept_fragments()) == kept_before
    # Emptied, the cache gives the same page again.
    kept_fragments().clear()
    assert without_token(respondent.get(section).get_data(as_text=True)) == fresh
    assert "How old are you?" in fresh and "Helpline" in fresh


def test_an_answered_question_or_one_with_an_error_is_never_kept(app, respondent):
    respondent.start()
    respondent.answer("you", {"age_band": "adult", "apps": "3"})
    respondent.pass_warning("e2ee")
    respondent.answer("e2ee", {"story": STORY, "story-quote": "yes", "wanted": "detect"}, "save")
    # Shown again with the answers, and with an error (a number out of range).
    page = respondent.section("e2ee")
    assert STORY in page_text(page)
    page = respondent.answer("you", {"age_band": "adult", "apps": "99"})
    assert page.status_code == 422 and "error-message" in respondent.last_html
    assert 'value="99"' in page.get_data(as_text=True)
    kept = kept_html(app)
    assert STORY not in kept
    assert "error-message" not in kept
    assert 'value="99"' not in kept
    assert "checked" not in kept
    # The questions nobody answered on those pages are kept.
    assert "Adults: one word" in kept


def test_each_language_has_its_own_kept_parts(app, client, make_open_survey):
    make_open_survey()
    english, spanish = Respondent(client, "small"), Respondent(app.test_client(), "small")
    english.start(lang="en")
    english.section("you")
    spanish.start(lang="es")
    spanish.section("you")
    assert "¿Cuántos años tienes?" in spanish.last_html
    assert "How old are you?" not in spanish.last_html
    english.section("you")
    assert "How old are you?" in english.last_html
    assert "¿Cuántos años tienes?" not in english.last_html


def test_a_changed_definition_is_never_shown_from_kept_parts(app, respondent):
    respondent.start()
    respondent.section("you")
    assert "How old are you?" in respondent.last_html
    # Changed in place in the database (as another process could), same slug.
    document = small_survey_document()
    document["sections"][0]["questions"][0]["text"] = {"en": "Your age band?", "es": "¿Edad?"}
    document["support"] = [{"name": "Night line", "phone": "0800 111 111"}]
    survey = find_survey("small")
    survey.definition_json = json.dumps(document)
    db.session.commit()
    respondent.section("you")
    assert "Your age band?" in respondent.last_html
    assert "Night line" in respondent.last_html
    assert not re.search(r"How old are you\?|Helpline", respondent.last_html)


def follow_up_tag(html: str) -> str:
    """The opening tag of the follow-up question "adult_only"."""
    tag = re.search(r'<div class="question[^"]*" id="q-adult_only"[^>]*>', html)
    assert tag, "the follow-up question isn't on the page"
    return tag.group(0)


def test_a_follow_up_is_kept_hidden_and_shown_apart(app, respondent):
    respondent.start()
    respondent.section("you")
    assert " hidden" in follow_up_tag(respondent.last_html)
    # Revealed by an answer on the same page, still unanswered itself.
    respondent.answer("you", {"age_band": "adult"}, "save")
    respondent.section("you")
    assert " hidden" not in follow_up_tag(respondent.last_html)
    # Someone else, before answering, still gets it hidden.
    other = Respondent(app.test_client(), "small")
    other.start()
    other.section("you")
    assert " hidden" in follow_up_tag(other.last_html)
