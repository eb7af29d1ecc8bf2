"""Every respondent page reads plainly (issue 21, point 10): the prose of each page
at Flesch-Kincaid grade 6 or below in English and Fernández-Huerta 80 or above in
Spanish (tests/plain_words.py), in every state a person can meet it.

`respondent_pages` walks any survey's pages, so the bundled template can be held
to the same bars (pass its document); here it walks the small test survey, whose
own words are short enough to leave the app's words to be measured.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import update

from survey.models import Response, db
from survey.surveys import close_survey, find_survey
from tests.factories import CODE_RE, Respondent, small_survey_document, store_the_week
from tests.plain_words import english_grade, spanish_ease

GRADE_AT_MOST = 6.0
EASE_AT_LEAST = 80.0


def respondent_pages(
    app: Flask, slug: str, language: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[str, str]]:
    """(name, HTML) of every page a respondent can see of the open survey `slug`, in
    `language`: landing, resume form, withdraw (each state), each section and
    content note, review, resume code, receipt, thanks, the expired pages and the
    closed survey's page. Leaves the survey closed."""
    lang = f"?lang={language}"
    client = app.test_client()

    def page(path: str) -> str:
        return client.get(path).get_data(as_text=True)

    yield "landing", page(f"/s/{slug}{lang}")
    yield "resume form", page(f"/s/{slug}/resume{lang}")
    yield "withdraw: before any report", page(f"/s/{slug}/withdraw{lang}")

    r = Respondent(client, slug)
    location = r.start(lang=language).location
    saved_once = False
    while not location.endswith("/review"):
        path = location.split("?")[0]
        html = client.get(path).get_data(as_text=True)
        r.last_html = html
        section_id = path.rsplit("/", 1)[1]
        if f"/section/{section_id}/warning" in html:
            yield f"content note: {section_id}", html
            location = r.post(f"{path}/warning", {"action": "continue"}).location
            continue
        yield f"section: {section_id}", html
        if not saved_once:
            saved_once = True
            r.post(path, {"action": "save"})
            yield "resume code", page(f"/s/{slug}/code")
            yield "resume code to print", page(f"/s/{slug}/code/print")
            r.get(f"/s/{slug}/code")
            r.post(f"/s/{slug}/code", {"saved": "1"})
            r.last_html = client.get(path).get_data(as_text=True)
        location = r.post(path, {"action": "next"}).location
    yield "review", page(f"/s/{slug}/review")
    r.get(f"/s/{slug}/review")
    r.post(f"/s/{slug}/submit")
    receipt_html = page(f"/s/{slug}/receipt")
    yield "receipt", receipt_html
    yield "receipt to print", page(f"/s/{slug}/receipt/print")
    match = CODE_RE.search(receipt_html)
    assert match
    receipt = match.group(1).replace("<wbr>", "")
    r.last_html = receipt_html
    r.post(f"/s/{slug}/receipt", {"saved": "1"})
    yield "thanks", page(f"/s/{slug}/thanks{lang}")

    w = Respondent(app.test_client(), slug)
    w.get(f"/s/{slug}/withdraw{lang}")
    confirm = w.client.post(f"/s/{slug}/withdraw", data={"code": receipt, "lang": language})
    yield "withdraw: confirm", confirm.get_data(as_text=True)
    wrong = w.client.post(
        f"/s/{slug}/withdraw", data={"code": "ABCD-EFGH-JKMN-PQRS", "lang": language}
    )
    yield "withdraw: code not found", wrong.get_data(as_text=True)
    done = w.client.post(
        f"/s/{slug}/withdraw", data={"code": receipt, "step": "confirm", "lang": language}
    )
    yield "withdraw: done", done.get_data(as_text=True)

    # A version is out: a new person's answers, counted in it.
    again = Respondent(app.test_client(), slug)
    again.start(lang=language)
    again.get(f"/s/{slug}/review")
    again.post(f"/s/{slug}/submit")
    counted = again.receipt_code()
    store_the_week(slug)
    survey = find_survey(slug)
    survey.report_published_week = "2026-W50"
    db.session.execute(update(Response).values(counted=True))
    db.session.commit()
    yield "landing: after a report", page(f"/s/{slug}{lang}")
    yield "withdraw: after a report", page(f"/s/{slug}/withdraw{lang}")
    refused = app.test_client().post(
        f"/s/{slug}/withdraw", data={"code": counted, "lang": language}
    )
    yield "withdraw: counted", refused.get_data(as_text=True)

    # A session that ended: the form of a lost session, then a receipt shown too long.
    lost = app.test_client().post(
        f"/s/{slug}/section/x{lang}", data={"csrf_token": "stale", "lang": language}
    )
    yield "session ended", lost.get_data(as_text=True)
    late = Respondent(app.test_client(), slug)
    late.start(lang=language)
    late.get(f"/s/{slug}/review")
    late.post(f"/s/{slug}/submit")
    later = time.time() + 60 * 60
    monkeypatch.setattr("survey.respondent.session.time.time", lambda: later)
    yield "receipt expired", late.client.get(f"/s/{slug}/receipt").get_data(as_text=True)
    monkeypatch.undo()

    close_survey(find_survey(slug))
    yield "closed", page(f"/s/{slug}{lang}")
    survey = find_survey(slug)
    survey.withdrawal_ended = True
    db.session.commit()
    yield "withdraw: ended", page(f"/s/{slug}/withdraw{lang}")


# A list of support services is names, phone numbers and hours, not sentences.
CONTACT_LIST = re.compile(r'<ul class="support-list">.*?</ul>', re.DOTALL)


def prose_of(html: str) -> str:
    """The page as the measures should read it: without its list of services."""
    return CONTACT_LIST.sub("", html)


def measured(app, make_open_survey, document: dict[str, Any], language: str, monkeypatch):
    """(page, grade in English or ease in Spanish) of every page of `document`."""
    survey, _ = make_open_survey(document)
    measure = english_grade if language == "en" else spanish_ease
    pages = list(respondent_pages(app, survey.slug, language, monkeypatch))
    # A page in another language would be measured by the wrong yardstick.
    assert [name for name, html in pages if f'<html lang="{language}"' not in html] == []
    return [(name, measure(prose_of(html))) for name, html in pages]


def test_every_page_of_the_small_survey_reads_plainly_in_english(
    app, make_open_survey, monkeypatch
):
    grades = measured(app, make_open_survey, small_survey_document(), "en", monkeypatch)
    assert len(grades) >= 20
    too_hard = [(name, grade) for name, grade in grades if grade > GRADE_AT_MOST]
    assert not too_hard, grades


def test_every_page_of_the_small_survey_reads_plainly_in_spanish(
    app, make_open_survey, monkeypatch
):
    eases = measured(app, make_open_survey, small_survey_document(), "es", monkeypatch)
    too_hard = [(name, ease) for name, ease in eases if ease < EASE_AT_LEAST]
    assert not too_hard, eases


def test_the_thanks_page_lists_support_once(client, make_open_survey):
    make_open_survey()
    html = client.get("/s/small/thanks").get_data(as_text=True)
    assert html.count('<ul class="support-list">') == 1
    assert html.count("0800 000 000") == 1
    # Every other page keeps the list in its footer.
    assert client.get("/s/small").get_data(as_text=True).count('<ul class="support-list">') == 1
