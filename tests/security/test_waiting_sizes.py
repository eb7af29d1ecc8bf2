"""Someone with a mid-week copy of the database (or its WAL) tries to link what
waits there, a saved draft or an inbox entry, to the response it becomes.

The attack that worked: one person with long answers got a 32,797-byte inbox box
(everyone else 16,413), and after the flush the only response with a 16,445-byte
sealed value was theirs: dated and ordered. Drafts weren't padded at all. Now
every draft and every inbox entry of a survey is one size, whatever was typed:
the size of the largest answers the survey allows, its text boxes capped (and
the cap said on the page). Runs on SQLite and, with TEST_DATABASE_URL, PostgreSQL.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from sqlalchemy import text

from survey import crypto, inbox
from survey.definition import MAX_TEXT_CHARS_PER_SURVEY, parse_definition
from survey.models import InboxEntry, db
from survey.responses import DraftState, largest_draft_size
from survey.sealed_answers import export_rows, largest_padded_size
from survey.surveys import create_invite_codes, find_survey, unwrap_with_recovery_code
from tests.factories import Respondent, small_survey_document, store_the_week

# A character that takes four bytes in UTF-8, the most any character takes.
WIDE = "\U0001f600"


def sizes(sql: str) -> list[int]:
    return [len(bytes(value)) for (value,) in db.session.execute(text(sql)).all()]


def answer_nothing(r: Respondent) -> None:
    assert r.start().status_code == 302


def answer_briefly(r: Respondent) -> None:
    assert r.start().status_code == 302
    r.answer("you", {"age_band": "under_18", "apps": "2"})
    r.pass_warning("e2ee")
    r.answer(
        "e2ee", {"harm_scale": "3", "wanted": ["detect"], "story": "Less.", "story-quote": "no"}
    )


def answer_at_every_cap(r: Respondent) -> None:
    """Every text box full to its cap with the widest characters."""
    assert r.start().status_code == 302
    sent = r.answer("you", {"age_band": "adult", "apps": "30"})
    assert sent.status_code in (200, 302)
    r.answer("you", {"age_band": "adult", "adult_only": WIDE * 500, "apps": "-0.5"})
    r.pass_warning("e2ee")
    done = r.answer(
        "e2ee",
        {
            "harm_scale": "5",
            "wanted": ["detect", "_other"],
            "wanted-other": WIDE * 500,
            "story": WIDE * STORY_CAP,
            "story-quote": "yes",
        },
    )
    assert done.status_code == 302, r.last_html  # all within the caps: saved


STORY_CAP = 5000


def sizes_document(**changes: Any) -> dict[str, Any]:
    """The small survey, its long text taking up to 5,000 characters (20 KB at most)."""
    document = small_survey_document(slug="sizes", **changes)
    story = document["sections"][1]["questions"][2]
    assert story["id"] == "story"
    story["max_length"] = STORY_CAP
    return document


@pytest.fixture
def survey_and_recovery(make_open_survey):
    return make_open_survey(sizes_document())


def test_every_draft_of_a_survey_is_one_size(app, survey_and_recovery):
    for walk in (answer_nothing, answer_briefly, answer_at_every_cap):
        walk(Respondent(app.test_client(), "sizes"))
    # A draft kept under a resume code is re-keyed, and the same size.
    coded = Respondent(app.test_client(), "sizes")
    answer_at_every_cap(coded)
    coded.answer("e2ee", {"harm_scale": "1", "story": "x", "story-quote": "no"}, action="save")
    assert coded.last_html and coded.get("/s/sizes/code").status_code == 200
    assert coded.shown_code()

    drafts = sizes("SELECT sealed FROM drafts")
    assert len(drafts) == 4
    assert len(set(drafts)) == 1, drafts


def test_every_inbox_entry_of_a_survey_is_one_size(app, survey_and_recovery):
    _, recovery = survey_and_recovery
    receipts = []
    for walk in (answer_nothing, answer_briefly, answer_at_every_cap):
        r = Respondent(app.test_client(), "sizes")
        walk(r)
        assert r.submit().status_code == 302
        receipts.append(r.receipt_code())

    boxes = sizes("SELECT box FROM response_inbox")
    assert len(boxes) == 3
    assert len(set(boxes)) == 1, boxes
    client = app.test_client()
    client.post("/s/sizes/withdraw", data={"code": receipts[2], "step": "confirm"})
    assert sizes("SELECT box FROM response_inbox") == boxes[:2]
    # What waits is whole: once the week is stored, the long answers come out as typed.
    store_the_week("sizes")
    survey = find_survey("sizes")
    rows = export_rows(survey, unwrap_with_recovery_code(survey, recovery))
    assert len(rows) == 2


def test_a_withdrawn_entry_kept_for_its_invite_is_no_smaller(app, make_open_survey):
    survey, _ = make_open_survey(sizes_document(invite_only=True))
    codes = create_invite_codes(survey, 2)
    receipts = []
    for code in codes:
        r = Respondent(app.test_client(), "sizes")
        assert r.start(invite_code=code).status_code == 302
        r.answer("you", {"age_band": "adult", "adult_only": WIDE * 500})
        r.pass_warning("e2ee")
        r.answer("e2ee", {"story": WIDE * (STORY_CAP if code == codes[0] else 1)})
        assert r.submit().status_code == 302
        receipts.append(r.receipt_code())
    before = sizes("SELECT box FROM response_inbox")
    client = app.test_client()
    client.post("/s/sizes/withdraw", data={"code": receipts[0], "step": "confirm"})
    kept = db.session.execute(text("SELECT receipt_tag, box FROM response_inbox")).all()
    assert sorted(tag is None for tag, _ in kept) == [False, True]  # one kept for its invite
    assert [len(bytes(box)) for _, box in kept] == before


def test_the_long_answers_come_out_as_typed(app, survey_and_recovery):
    _, recovery = survey_and_recovery
    r = Respondent(app.test_client(), "sizes")
    answer_at_every_cap(r)
    assert r.submit().status_code == 302
    store_the_week("sizes")
    survey = find_survey("sizes")
    (row,) = export_rows(survey, unwrap_with_recovery_code(survey, recovery))
    assert WIDE * 500 in row and WIDE * STORY_CAP in row


def test_largest_answers_bound_every_answer(app, survey_and_recovery):
    """The padded sizes are worked out from the definition: no answers are longer."""
    definition = parse_definition(sizes_document())
    widest = DraftState(
        answers={
            "age_band": {"value": "under_18"},
            "adult_only": {"value": WIDE * 500},
            "apps": {"value": -123456789012.25},
            "harm_scale": {"state": "prefer_not_to_say"},
            "wanted": {"value": ["detect", "report", {"other": WIDE * 500}]},
            "story": {"value": "\n" * STORY_CAP, "quote_consent": False},
            "felt_safe": {"state": "prefer_not_to_say"},
        },
        skipped_sections=["you", "e2ee", "minors"],
        warnings_seen=["e2ee"],
        invite_lookup="a" * 64,
        at="minors",
    )
    assert len(widest.to_json()) <= largest_draft_size(definition)
    answers = {"format": "chorus-answers/1", "answers": widest.answers}
    assert 4 + len(crypto.canonical_json(answers)) <= largest_padded_size(definition)


def many_long_texts(count: int) -> dict[str, Any]:
    questions = [
        {"id": f"q{n}", "type": "long_text", "text": f"Question {n}"} for n in range(count)
    ]
    return {
        "format": "chorus-survey/1",
        "slug": "many",
        "title": "Many long answers",
        "support": [{"name": "Helpline", "phone": "0800 000 000"}],
        "sections": [{"id": "all", "title": "All", "questions": questions}],
    }


def test_a_survey_of_many_long_texts_has_a_lower_cap_and_bounded_sizes():
    """200 long texts at 5,000 characters would be 4 MB a draft: the app lowers the
    cap of every box to keep the survey's total, and the definition stays as written."""
    definition = parse_definition(many_long_texts(200))
    assert {q.text_limit for q in definition.questions()} == {250}
    assert "250" not in json.dumps(definition.to_dict())
    assert largest_draft_size(definition) < 4 * MAX_TEXT_CHARS_PER_SURVEY + 20_000
    # A survey within the total keeps its caps as written.
    assert {q.text_limit for q in parse_definition(many_long_texts(10)).questions()} == {5000}


def test_an_answer_longer_than_the_survey_cap_is_refused_on_the_page(app, make_open_survey):
    make_open_survey(many_long_texts(20))  # 20 × 5,000 > 50,000: each box takes 2,500
    r = Respondent(app.test_client(), "many")
    assert r.start().status_code == 302
    page = r.section("all")
    assert "Up to 2500 characters." in r.last_html, page
    sent = r.answer("all", {"q0": "kept", "q1": "y" * 2501, "q2": "also kept"})
    assert sent.status_code == 422
    summary = re.search(r'<ul class="error-summary__list">(.*?)</ul>', r.last_html, re.S)
    assert summary and 'href="#q1"' in summary.group(1)
    assert "shorten it to 2500 characters" in summary.group(1)
    assert ">kept</textarea>" in r.last_html and ">also kept</textarea>" in r.last_html
    assert "y" * 2501 in r.last_html  # nothing typed is lost
    assert (
        sizes("SELECT sealed FROM drafts")
        and r.answer("all", {"q1": "y" * 2500}).status_code == 302
    )


def test_the_other_box_says_its_cap_and_its_error_points_at_it(app, survey_and_recovery):
    r = Respondent(app.test_client(), "sizes")
    assert r.start().status_code == 302
    r.answer("you", {"age_band": "under_18"})
    r.pass_warning("e2ee")
    r.section("e2ee")
    other_box = re.search(r'<div class="choice-other">(.*?)</div>', r.last_html, re.S)
    assert other_box and "Up to 500 characters." in other_box.group(1)
    sent = r.answer("e2ee", {"wanted": ["_other"], "wanted-other": "z" * 501, "story": "mine"})
    assert sent.status_code == 422
    summary = re.search(r'<ul class="error-summary__list">(.*?)</ul>', r.last_html, re.S)
    assert summary and 'href="#wanted-other"' in summary.group(1)
    assert ">mine</textarea>" in r.last_html


def test_drafts_and_boxes_of_the_previous_release_still_open(app, survey_and_recovery):
    """Expand/contract: what the release before wrote opens here, and what this one
    writes opens the way the release before read it."""
    from survey import responses

    survey, recovery = survey_and_recovery
    r = Respondent(app.test_client(), "sizes")
    answer_briefly(r)
    (draft_id, sealed) = db.session.execute(text("SELECT id, sealed FROM drafts")).one()
    # Written now: the previous release's reader was json.loads of the plaintext.
    key = crypto.new_key()
    state = DraftState(answers={"apps": {"value": 3}})
    new = responses._seal_draft(survey, key, draft_id, state)
    plain = crypto.decrypt(key, new, responses._draft_aad(survey, draft_id))
    assert json.loads(plain)["answers"] == {"apps": {"value": 3}}
    # Written before: unpadded.
    old = crypto.encrypt(key, state.to_json(), responses._draft_aad(survey, draft_id))
    handle = responses.DraftHandle(draft_id, key)
    assert responses.open_draft(survey, handle, old).answers == state.answers
    assert bytes(sealed)  # the real draft is there too

    # A box written now opens as the previous release opened it (json.loads of unpad).
    assert r.submit().status_code == 302
    entry = db.session.scalars(db.select(InboxEntry)).one()
    box_key = inbox.app_subkey(inbox.BOX_KEY_PURPOSE)
    aad = inbox._aad(survey.id, entry.id)
    document = json.loads(crypto.unpad(crypto.decrypt(box_key, entry.box, aad)))
    assert document["receipt_lookup"] and document["sealed"]
    # A box the previous release wrote (spaced JSON to 16 KiB) is flushed like any.
    plain = crypto.pad(crypto.canonical_json(document).ljust(16380, b" "))
    entry.box = crypto.encrypt(box_key, plain, aad)
    db.session.commit()
    assert inbox.flush_inbox(find_survey("sizes"), everything=True) == 1
    rows = export_rows(find_survey("sizes"), unwrap_with_recovery_code(survey, recovery))
    assert len(rows) == 1
