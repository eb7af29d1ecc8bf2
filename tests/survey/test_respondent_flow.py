"""A respondent's way through sections and review (issue 21, points 5, 6 and 9):
finishing early, changing language without losing what was typed, and a review
that reads as the questions did."""

from __future__ import annotations

import re
from typing import Any

from tests.factories import Respondent, page_text, small_survey_document
from tests.survey.test_respondent_path import stored_answers


def flow_document() -> dict[str, Any]:
    """The small survey, with a whole-number count and a last section that has a
    follow-up of its own."""
    document = small_survey_document()
    document["sections"][0]["questions"][2]["integer"] = True
    document["sections"].append(
        {
            "id": "last",
            "title": {"en": "Last things", "es": "Últimas cosas"},
            "questions": [
                {
                    "id": "told",
                    "type": "single_choice",
                    "text": {"en": "Did you tell anyone?", "es": "¿Se lo contaste a alguien?"},
                    "options": [
                        {"value": "yes", "label": {"en": "Yes", "es": "Sí"}},
                        {"value": "no", "label": {"en": "No", "es": "No"}},
                    ],
                },
                {
                    "id": "told_who",
                    "type": "short_text",
                    "show_if": {"question": "told", "in": ["yes"]},
                    "text": {"en": "Who?", "es": "¿A quién?"},
                },
            ],
        }
    )
    return document


def started(client, make_open_survey) -> tuple[Respondent, str]:
    survey, recovery = make_open_survey(flow_document())
    r = Respondent(client, survey.slug)
    r.start()
    return r, recovery


# --- point 5: finish now ------------------------------------------------------------------


def test_every_section_but_the_last_offers_finish_now(client, make_open_survey):
    r, _ = started(client, make_open_survey)
    first = page_text(r.section("you"))
    assert re.search(r'<button type="submit" name="action" value="finish"[^>]*>', first)
    assert "Finish now and check your answers" in first
    r.answer("you", {"age_band": "adult", "adult_only": ""})
    r.pass_warning("e2ee")
    r.answer("e2ee", {})
    last = page_text(r.section("last"))
    assert "Save and review your answers" in last
    assert "Finish now and check your answers" not in last


def test_finish_now_from_step_two_saves_the_page_and_goes_to_review(client, make_open_survey):
    r, recovery = started(client, make_open_survey)
    r.answer("you", {"age_band": "adult", "adult_only": "", "apps": "3"})
    r.pass_warning("e2ee")
    finished = r.answer("e2ee", {"harm_scale": "2", "story": "Listen."}, action="finish")
    assert finished.status_code == 302 and finished.location.endswith("/s/small/review")
    review = page_text(r.get("/s/small/review"))
    # The page was saved; the section never reached is shown as not answered.
    assert "Listen." in review
    last = re.search(r'<section[^>]*aria-labelledby="review-last">(.*?)</section>', review, re.S)
    assert last and "You did not answer these questions." in last.group(1)
    assert 'href="/s/small/section/last"' in last.group(1)
    assert r.post("/s/small/submit").location.endswith("/s/small/receipt")
    [answers] = stored_answers("small", recovery)
    assert answers["apps"] == {"value": 3}
    assert answers["harm_scale"] == {"value": 2}
    assert answers["story"] == {"value": "Listen.", "quote_consent": False}
    # Never seen: skipped where branching shows it, not shown where it doesn't.
    assert answers["told"] == {"state": "skipped"}
    assert answers["told_who"] == {"state": "not_shown"}
    assert answers["felt_safe"] == {"state": "not_shown"}


def test_a_content_note_offers_finish_now_too(client, make_open_survey):
    r, recovery = started(client, make_open_survey)
    r.answer("you", {"age_band": "adult", "adult_only": "", "apps": "1"})
    note = page_text(r.section("e2ee"))
    assert "Content note" in note and "Finish now and check your answers" in note
    finished = r.pass_warning("e2ee", "finish")
    assert finished.location.endswith("/s/small/review")
    review = page_text(r.get("/s/small/review"))
    e2ee = re.search(r'aria-labelledby="review-e2ee">(.*?)</section>', review, re.S)
    assert e2ee and "You did not answer these questions." in e2ee.group(1)
    r.post("/s/small/submit")
    [answers] = stored_answers("small", recovery)
    assert answers["apps"] == {"value": 1}
    assert answers["harm_scale"] == {"state": "skipped"}
    assert answers["told"] == {"state": "skipped"}


def test_finish_now_with_a_problem_shows_it_and_stays(client, make_open_survey):
    r, _ = started(client, make_open_survey)
    refused = r.answer("you", {"age_band": "adult", "apps": "many"}, action="finish")
    assert refused.status_code == 422
    assert "There is a problem" in r.last_html and 'value="many"' in r.last_html


def test_finish_now_goes_to_review_even_when_an_answer_reveals_a_question(client, make_open_survey):
    r, recovery = started(client, make_open_survey)
    # Without the page's script, "adult" would show the page again with adult_only.
    finished = r.answer("you", {"age_band": "adult"}, action="finish")
    assert finished.location.endswith("/s/small/review")
    r.get("/s/small/review")
    r.post("/s/small/submit")
    [answers] = stored_answers("small", recovery)
    assert answers["age_band"] == {"value": "adult"}
    assert answers["adult_only"] == {"state": "skipped"}
    assert answers["harm_scale"] == {"state": "skipped"}


# --- point 6: changing language keeps what was typed --------------------------------------


def test_section_language_choices_are_buttons_of_its_form(client, make_open_survey):
    r, _ = started(client, make_open_survey)
    page = page_text(r.section("you"))
    assert '<form id="section-form"' in page
    button = re.search(r'<button type="submit" form="section-form"[^>]*name="lang"[^>]*>', page)
    assert button and 'value="es"' in button.group(0)
    # Enter in a box sends the form's first button: save and continue, not a language.
    first = re.search(r'<button[^>]*form="section-form"[^>]*>', page)
    assert first and 'name="action" value="next"' in first.group(0)


def test_switching_language_keeps_the_typed_answer_and_saves_it(client, make_open_survey):
    r, recovery = started(client, make_open_survey)
    r.section("you")
    switched = r.post("/s/small/section/you", {"age_band": "under_18", "apps": "4", "lang": "es"})
    assert switched.status_code == 302 and switched.location.endswith("/s/small/section/you")
    spanish = page_text(r.get(switched.location))
    assert '<html lang="es"' in spanish and "Sobre ti" in spanish
    assert re.search(r'name="apps" value="4"', spanish)
    assert re.search(r'value="under_18" checked', spanish)
    # Later pages stay in Spanish; what was typed was saved and is sent.
    r.post("/s/small/section/you", {"age_band": "under_18", "apps": "4", "action": "next"})
    r.pass_warning("e2ee", "skip")
    assert "Jóvenes" in page_text(r.section("minors"))
    r.post("/s/small/section/minors", {"action": "finish"})
    r.get("/s/small/review")
    r.post("/s/small/submit")
    [answers] = stored_answers("small", recovery)
    assert answers["apps"] == {"value": 4} and answers["age_band"] == {"value": "under_18"}


def test_switching_language_with_a_problem_keeps_it_without_an_error_page(client, make_open_survey):
    r, _ = started(client, make_open_survey)
    r.section("you")
    fields = {"age_band": "under_18", "apps": "2.5"}
    switched = r.post("/s/small/section/you", {**fields, "lang": "es"})
    spanish = r.last_html
    assert switched.status_code == 200 and "Sobre ti" in spanish
    assert 'name="apps" value="2.5"' in spanish and "error-summary" not in spanish
    # The answer that could be stored was; the next save points out the problem, in Spanish.
    assert re.search(r'value="under_18" checked', page_text(r.section("you")))
    refused = r.post("/s/small/section/you", {**fields, "action": "next"})
    assert refused.status_code == 422 and "Escribe un número entero" in r.last_html


# --- point 9: the review, the Other box and whole numbers -------------------------------


def test_review_shows_labels_change_links_and_skipped_questions_compactly(client, make_open_survey):
    r, _ = started(client, make_open_survey)
    r.answer("you", {"age_band": "adult", "adult_only": ""})
    r.pass_warning("e2ee")
    r.answer("e2ee", {"harm_scale": "1", "wanted": ["detect"]}, action="finish")
    review = page_text(r.get("/s/small/review"))
    assert "1 – None" in review
    e2ee = re.search(r'aria-labelledby="review-e2ee">(.*?)</section>', review, re.S)
    assert e2ee
    change = re.search(
        r'<a href="/s/small/section/e2ee#q-harm_scale">Change'
        r"<span class=\"visually-hidden\"> How much harm\?</span></a>",
        e2ee.group(1),
    )
    assert change, e2ee.group(1)
    # Not answered: listed once, compactly, each a link to its question.
    assert re.search(r"Not answered:.*?#q-story", e2ee.group(1), re.S)
    assert "Not answered</dd>" not in review


def test_a_scale_point_between_the_ends_is_described_with_both_ends(client, make_open_survey):
    r, _ = started(client, make_open_survey)
    r.answer("you", {"age_band": "under_18"})
    r.pass_warning("e2ee")
    r.answer("e2ee", {"harm_scale": "3"}, action="finish")
    review = page_text(r.get("/s/small/review"))
    assert "3 (from 1 – None to 5 – A lot)" in review
    spanish = page_text(r.get("/s/small/review?lang=es"))
    assert "3 (de 1 – Nada a 5 – Mucho)" in spanish


def test_the_other_box_says_when_to_use_it_and_is_ignored_beside_another_answer(
    client, make_open_survey
):
    r, recovery = started(client, make_open_survey)
    r.answer("you", {"age_band": "adult", "adult_only": ""})
    r.pass_warning("e2ee")
    page = page_text(r.section("e2ee"))
    assert "If you chose Other, please describe it" in page
    assert 'data-other-for="wanted"' in page and "other-box.js" in page
    assert "other-box.js" not in page_text(r.section("you"))
    r.answer("e2ee", {"wanted": ["detect"], "wanted-other": "left over"}, action="finish")
    review = page_text(r.get("/s/small/review"))
    assert "Detection" in review and "left over" not in review
    r.post("/s/small/submit")
    [answers] = stored_answers("small", recovery)
    assert answers["wanted"] == {"value": ["detect"]}


def test_number_questions_say_whether_decimals_are_allowed(client, make_open_survey):
    document = flow_document()
    document["sections"][0]["questions"].append(
        {"id": "share", "type": "number", "text": {"en": "Share?", "es": "¿Parte?"}}
    )
    survey, recovery = make_open_survey(document)
    r = Respondent(client, survey.slug)
    r.start()
    page = page_text(r.section("you"))
    assert re.search(
        r'id="apps-limits">Enter a number between 0 and 30. Whole numbers only.<', page
    )
    assert 'inputmode="numeric" id="apps"' in page
    assert re.search(r'id="share-limits">You can use decimals.<', page)
    refused = r.post(
        "/s/small/section/you", {"age_band": "under_18", "apps": "2.5", "share": "2.5"}
    )
    assert refused.status_code == 422 and "Enter a whole number, like 3" in r.last_html
    saved = r.post("/s/small/section/you", {"age_band": "under_18", "apps": "2", "share": "2.5"})
    assert saved.status_code == 302
    r.pass_warning("e2ee", "skip")
    r.section("minors")
    r.post("/s/small/section/minors", {"action": "next"})
    r.get("/s/small/review")
    r.post("/s/small/submit")
    [answers] = stored_answers("small", recovery)
    assert answers["apps"] == {"value": 2} and answers["share"] == {"value": 2.5}
