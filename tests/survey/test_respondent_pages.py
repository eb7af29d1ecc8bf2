"""What respondent pages say and in what order: the landing page, content warnings,
hints under questions, follow-up questions, the words for locking answers, and the
browser's icon request (through the Flask test client, on a real database)."""

from __future__ import annotations

import re

import pytest
from babel.messages.pofile import read_po

from survey.config import TRANSLATIONS_DIR
from tests.factories import Respondent, page_text, small_survey_document, template_document


def position(html: str, needle: str) -> int:
    assert needle in html, needle
    return html.index(needle)


# --- the landing page --------------------------------------------------------------------


def test_who_runs_it_how_long_and_start_come_first(client, make_open_survey):
    make_open_survey(
        small_survey_document(
            organiser={"en": "Helplines Together", "es": "Líneas de Ayuda Unidas"},
            intro={"en": "Why we ask.", "es": "Por qué preguntamos."},
        )
    )
    html = page_text(client.get("/s/small"))
    main = html[html.index("<main") :]
    start = position(main, "Start the survey")
    assert position(main, "Who runs it") < position(main, "Helplines Together") < start
    assert position(main, "How long it takes") < start
    # Everything else comes after Start: the intro, what's optional, what happens to answers.
    assert start < position(main, "Why we ask.")
    assert start < position(main, "Every question is optional")
    assert start < position(main, "locked (encrypted)")
    assert "Run by" not in html


def test_the_privacy_details_fold_with_a_one_line_summary_outside(client, make_open_survey):
    make_open_survey()
    page = page_text(client.get("/s/small"))
    html = page[page.index("<main") :]  # the header has a fold of its own, about leaving
    details = re.search(r"<details[^>]*>(.*?)</details>", html, re.S)
    assert details, "no <details> on the landing page"
    before = html[: details.start()]
    assert "We don't ask who you are, and your answers are locked (encrypted)" in before
    folded = details.group(1)
    assert re.search(r"<summary[^>]*>What happens to your answers</summary>", folded)
    for words in (
        "we don't record your IP address",
        "hold the key that unlocks your answers",
        "smaller than 10 people is hidden",
        "receipt code",
        "private code to come back later",
        "taking control of the running server itself",
    ):
        assert words in folded, words
    # The honest limit sits beside what protects answers, and is calm.
    assert folded.index("hold the key") < folded.index("running server") < folded.index("totals")
    assert "honestly" not in html and "JavaScript" not in html


def test_the_time_is_the_surveys_own_or_worked_out_from_its_questions(client, make_open_survey):
    make_open_survey(small_survey_document(estimated_minutes=12))
    assert "About 12 minutes. You can stop at any time." in page_text(client.get("/s/small"))
    # The small survey sets none: 7 questions, two sections and a warning come to 5.
    make_open_survey(small_survey_document(slug="untimed"))
    assert "About 5 minutes." in page_text(client.get("/s/untimed"))


def test_the_note_about_leaving_waits_until_there_is_something_to_lose(client, make_open_survey):
    make_open_survey()
    note = "Leaving ends your session"
    assert note not in page_text(client.get("/s/small"))
    r = Respondent(client, "small")
    r.start()
    assert note in page_text(r.section("you"))
    # Back on the landing page with answers begun, it says so again.
    assert note in page_text(client.get("/s/small"))


# --- words for locking answers -------------------------------------------------------------


def test_no_respondent_ever_reads_sealed():
    # English is every msgid; each language its .po's translations.
    for po in TRANSLATIONS_DIR.glob("*/LC_MESSAGES/messages.po"):
        with po.open("rb") as file:
            for message in read_po(file):
                # A plural message's id and string are tuples of its forms.
                for texts in (message.id, message.string):
                    for text in (texts,) if isinstance(texts, str) else texts:
                        assert not re.search(r"\bseal|sellad|sella\b", text, re.I), (po, text)


# The first mention on a page says what "locked" means; the later ones don't repeat it.
LOCKED_WORDS = re.compile(r"locked(?: \(encrypted\))?|con llave(?: \((?:se )?cifra\w*\))?")


@pytest.mark.parametrize("language", ["en", "es"])
def test_locked_is_explained_the_first_time_on_a_page_and_only_then(
    client, make_open_survey, language
):
    make_open_survey()
    r = Respondent(client, "small")
    landing = page_text(r.get(f"/s/small?lang={language}"))
    r.start(lang=language)
    r.answer("you", {"age_band": "under_18"})
    r.pass_warning("e2ee", "skip")
    review = page_text(r.get("/s/small/review"))
    for html in (landing, review):
        words = LOCKED_WORDS.findall(html[html.index("<main") : html.index("</main>")])
        assert words, html
        assert "(" in words[0] and all("(" not in w for w in words[1:]), words


# --- content warnings --------------------------------------------------------------------


def test_a_warning_offers_continue_and_skip_alike_and_back(client, make_open_survey):
    make_open_survey()
    r = Respondent(client, "small")
    r.start()
    r.answer("you", {"age_band": "under_18"})
    html = r.section("e2ee").get_data(as_text=True)
    buttons = re.findall(
        r'<button type="submit" name="action" value="(\w+)" class="([^"]+)">', html
    )
    # Finishing now (straight to the review) comes after the two, in another style.
    assert [value for value, _ in buttons] == ["continue", "skip", "finish"]
    assert buttons[0][1] == buttons[1][1], "continue and skip must look alike"
    back = re.search(r'<a class="back-link" href="([^"]+)">Back</a>', html)
    assert back and back.group(1) == "/s/small/section/you"
    # Back is a plain link: it works without JavaScript, and changes nothing.
    assert page_text(client.get(back.group(1))).count("<h1>About you</h1>") == 1


def test_back_from_a_warning_on_the_first_section_leads_to_the_landing_page(
    client, make_open_survey
):
    document = small_survey_document(slug="warned")
    document["sections"][0]["content_warning"] = {
        "en": "This section asks about you.",
        "es": "Esta sección pregunta sobre ti.",
    }
    make_open_survey(document)
    r = Respondent(client, "warned")
    r.start()
    html = r.section("you").get_data(as_text=True)
    assert '<a class="back-link" href="/s/warned">Back</a>' in html


# --- hints: nothing said twice under one question ---------------------------------------------


def hints_of(html: str, question_id: str) -> list[str]:
    end = r'(?=<div class="question|<div class="actions)'
    block = re.search(rf'<div class="question[^"]*" id="q-{question_id}".*?{end}', html, re.S)
    assert block, question_id
    return [h.strip() for h in re.findall(r'<p class="hint"[^>]*>(.*?)</p>', block.group(0), re.S)]


def test_the_app_adds_no_sentence_a_question_already_says(client, make_open_survey):
    document = small_survey_document(slug="hinted")
    wanted = document["sections"][1]["questions"][1]
    del wanted["max_choices"]
    wanted["help"] = {"en": "Choose as many as you like.", "es": "Elige todas las que quieras."}
    story = document["sections"][1]["questions"][2]
    story["help"] = {
        "en": "Write freely. Please leave out names and places.",
        "es": "Escribe libremente. Por favor, no incluyas nombres ni lugares.",
    }
    make_open_survey(document)
    r = Respondent(client, "hinted")
    r.start()
    r.answer("you", {})
    r.pass_warning("e2ee")
    for language in ("en", "es"):
        html = page_text(r.get(f"/s/hinted/section/e2ee?lang={language}"))
        wanted_hints, story_hints = hints_of(html, "wanted"), hints_of(html, "story")
        other_cap = {"en": "Up to 500 characters.", "es": "Hasta 500 caracteres."}[language]
        assert wanted_hints == [wanted["help"][language], other_cap]  # the "Other" box's cap
        assert story_hints[0] == story["help"][language]
        assert (
            story_hints[1]
            == {"en": "Up to 200 characters.", "es": "Hasta 200 caracteres."}[language]
        )


def test_nor_a_sentence_the_question_itself_says(client, make_open_survey):
    document = small_survey_document(slug="said")
    document["sections"][0]["questions"][1]["text"] = {
        "en": "Adults: one word. Please leave out names and places.",
        "es": "Adultos: una palabra. Por favor, no incluyas nombres de personas ni lugares.",
    }
    make_open_survey(document)
    r = Respondent(client, "said")
    r.start()
    r.answer("you", {"age_band": "adult"})
    assert hints_of(page_text(r.section("you")), "adult_only") == ["Up to 500 characters."]


def test_without_help_the_app_says_its_hints(client, make_open_survey):
    document = small_survey_document(slug="plain")
    del document["sections"][1]["questions"][1]["max_choices"]
    make_open_survey(document)
    r = Respondent(client, "plain")
    r.start()
    r.answer("you", {})
    r.pass_warning("e2ee")
    html = page_text(r.section("e2ee"))
    assert hints_of(html, "wanted") == ["Choose as many as you like.", "Up to 500 characters."]
    # (the story's other hint is the quote question's own)
    assert hints_of(html, "story")[0] == "Up to 200 characters. Please leave out names and places."


def test_no_template_question_says_a_sentence_twice(client, make_open_survey):
    document = template_document()
    make_open_survey(document)
    r = Respondent(client, document["slug"])
    r.start()
    repeated = []
    for section in document["sections"]:
        for language in document["languages"]:
            html = page_text(
                r.get(f"/s/{document['slug']}/section/{section['id']}?lang={language}")
            )
            if "Skip this section" in html or "Saltar esta sección" in html:
                r.pass_warning(section["id"])
                html = page_text(
                    r.get(f"/s/{document['slug']}/section/{section['id']}?lang={language}")
                )
            for question in section["questions"]:
                if f'id="q-{question["id"]}"' not in html:
                    continue
                sentences = [
                    s.strip().lower()
                    for hint in hints_of(html, question["id"])
                    for s in re.split(r"(?<=[.!?])\s+", hint)
                    if s.strip()
                ]
                repeated += [
                    f"{question['id']} ({language}): {s}"
                    for s in set(sentences)
                    if sentences.count(s) > 1
                ]
    assert repeated == []


# --- the browser's icon ------------------------------------------------------------------------


def test_the_favicon_request_gets_an_empty_answer_kept_for_a_week(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 204 and response.data == b""
    assert response.headers["Cache-Control"] == "public, max-age=604800"
    assert "Set-Cookie" not in response.headers


# --- follow-up questions on the same page ------------------------------------------------------


def test_a_follow_up_is_on_the_page_hidden_until_its_answer_is_chosen(respondent):
    r = respondent
    r.start()
    html = r.section("you").get_data(as_text=True)
    block = re.search(
        r'<div class="question question--follow-up" id="q-adult_only"([^>]*)>\s*(<input[^>]*>)',
        html,
    )
    assert block, "the follow-up isn't on the page"
    assert 'data-show-if="age_band"' in block.group(
        1
    ) and 'data-show-if-values="adult"' in block.group(1)
    assert block.group(1).rstrip().endswith("hidden")
    assert 'name="_revealed" value="adult_only"' in block.group(2) and "disabled" in block.group(2)
    assert re.search(r'<script src="/static/follow-ups\.js\?v=[0-9a-f]{12}" defer></script>', html)
    # A page without follow-ups doesn't load the script.
    r.answer("you", {"age_band": "under_18"})
    r.pass_warning("e2ee")
    assert "follow-ups.js" not in r.section("e2ee").get_data(as_text=True)


def test_a_follow_up_shown_by_the_script_is_saved_with_its_answer(respondent):
    r = respondent
    r.start()
    saved = r.answer("you", {"age_band": "adult", "adult_only": "hello", "_revealed": "adult_only"})
    assert saved.status_code == 302 and saved.location.endswith("/s/small/section/e2ee")
    review = page_text(r.get("/s/small/review"))
    assert re.search(r"Adults: one word</dt>\s*<dd[^>]*>hello<", review)


def test_without_the_script_the_page_is_shown_again_with_the_follow_up(respondent):
    r = respondent
    r.start()
    again = r.answer("you", {"age_band": "adult", "apps": "4"})
    html = page_text(again)
    assert again.status_code == 200 and "Some more questions appeared below" in html
    block = re.search(r'id="q-adult_only"([^>]*)>', html)
    assert "hidden" not in block.group(1)
    # The answers given were kept.
    assert 'value="4"' in html and re.search(r'value="adult" checked', html)


def test_the_server_decides_what_counts_whatever_the_page_sent(respondent):
    r = respondent
    r.start()
    # An answer to a follow-up its trigger doesn't show is not kept, even marked shown.
    r.answer("you", {"age_band": "under_18", "adult_only": "sneaky", "_revealed": "adult_only"})
    assert "sneaky" not in page_text(r.get("/s/small/review"))
    assert "Adults: one word" not in page_text(r.get("/s/small/review"))
    # A shown follow-up with a problem is refused like any question, shown, nothing lost.
    long = "word " * 120
    refused = r.answer("you", {"age_band": "adult", "adult_only": long, "_revealed": "adult_only"})
    html = page_text(refused)
    assert refused.status_code == 422 and 'href="#adult_only"' in html
    assert "hidden" not in re.search(r'id="q-adult_only"([^>]*)>', html).group(1)
    assert long.strip() in html
    # Changing the answer that showed it hides it again; its answer no longer counts.
    r.answer("you", {"age_band": "adult", "adult_only": "hello", "_revealed": "adult_only"})
    r.answer("you", {"age_band": "under_18", "adult_only": "hello"})
    html = r.section("you").get_data(as_text=True)
    assert re.search(r'id="q-adult_only"[^>]*hidden>', html)
    assert "Adults: one word" not in page_text(r.get("/s/small/review"))
