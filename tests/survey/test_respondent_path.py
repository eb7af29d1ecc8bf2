"""The respondent's whole path through the Flask test client, on a real database."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select, update

from survey import crypto
from survey.models import Draft, InviteCode, Response, db
from survey.sealed_answers import decrypted_responses
from survey.surveys import (
    close_survey,
    create_invite_codes,
    find_survey,
    response_count,
    unwrap_with_recovery_code,
)
from tests.factories import Respondent, page_text, small_survey_document, store_the_week


def stored_answers(slug: str, recovery_code: str) -> list[dict]:
    """Every answer sent, once the weekly flush has stored it (staff read no sooner)."""
    store_the_week(slug)
    survey = find_survey(slug)
    key = unwrap_with_recovery_code(survey, recovery_code)
    return [answers for _, answers in decrypted_responses(survey, key)]


def complete_small_survey(r: Respondent, age: str = "adult") -> None:
    r.start()
    r.answer("you", {"age_band": age, "apps": "4"})
    if age == "adult":
        # The branch revealed a question on the same page: it is shown again.
        r.answer("you", {"age_band": age, "apps": "4", "adult_only": "hello"})
    r.pass_warning("e2ee")
    r.answer(
        "e2ee", {"harm_scale": "4", "wanted": ["detect", "report"], "story": "Keep detection."}
    )
    if age == "under_18":
        r.answer("minors", {"felt_safe": "no"})


def test_landing_page_explains_and_sets_no_cookie(client, make_open_survey):
    make_open_survey()
    response = client.get("/s/small")
    html = page_text(response)
    assert response.status_code == 200
    assert "Messaging safety" in html
    assert "every question is optional" in html.lower()
    assert "locked (encrypted) the moment they reach us" in html
    assert "smaller than 10 people is hidden" in html
    assert "Helpline" in html and "0800 000 000" in html
    assert "Set-Cookie" not in response.headers


def test_full_path_stores_one_sealed_response_with_the_right_states(client, make_open_survey):
    survey, recovery = make_open_survey()
    r = Respondent(client, survey.slug)
    start = r.start()
    assert start.status_code == 302 and start.location.endswith("/s/small/section/you")
    first = r.answer("you", {"age_band": "adult", "apps": ""})
    # adult_only appears on the same page once age_band is answered.
    assert first.status_code == 200 and "Some more questions appeared" in r.last_html
    assert 'name="adult_only"' in r.last_html
    r.answer("you", {"age_band": "adult", "adult_only": "", "apps-pnts": "1"})
    warning = r.section("e2ee")
    assert "This section mentions abuse." in r.last_html and warning.status_code == 200
    r.pass_warning("e2ee")
    done = r.answer(
        "e2ee",
        {
            "harm_scale": "_prefer_not_to_say",
            "wanted": ["detect", "_other"],
            "wanted-other": "Age checks",
            "story": "Keep detection.",
        },
    )
    # The "minors" section is hidden for adults: next comes the review.
    assert done.location.endswith("/s/small/review")
    review = page_text(r.get("/s/small/review"))
    assert "Keep detection." in review and "Other: Age checks" in review
    assert "Prefer not to say" in review
    sent = r.post("/s/small/submit")
    assert sent.status_code == 302 and sent.location.endswith("/s/small/receipt")
    receipt = r.receipt_code()
    assert crypto.is_well_formed_code(receipt)

    [answers] = stored_answers("small", recovery)
    assert answers == {
        "age_band": {"value": "adult"},
        "adult_only": {"state": "skipped"},
        "apps": {"state": "prefer_not_to_say"},
        "harm_scale": {"state": "prefer_not_to_say"},
        "wanted": {"value": ["detect", {"other": "Age checks"}]},
        # No choice about quoting means no.
        "story": {"value": "Keep detection.", "quote_consent": False},
        "felt_safe": {"state": "not_shown"},
    }
    assert db.session.scalar(select(func.count()).select_from(Draft)) == 0


def test_receipt_confirmation_clears_the_session_cookie(client, make_open_survey):
    survey, _ = make_open_survey()
    r = Respondent(client, survey.slug)
    complete_small_survey(r)
    r.submit()
    r.receipt_code()
    unconfirmed = r.post("/s/small/receipt", {})
    assert unconfirmed.status_code == 422 and "confirm you have saved" in r.last_html
    finished = r.post("/s/small/receipt", {"saved": "1"})
    assert finished.status_code == 302 and "/s/small/thanks" in finished.location
    cookie = finished.headers["Set-Cookie"]
    assert cookie.startswith("chorus=;") and "Max-Age=0" in cookie
    thanks = r.get(finished.location)
    assert thanks.status_code == 200 and "Helpline" in r.last_html


def test_double_submit_and_refresh_store_one_response(client, make_open_survey):
    survey, _ = make_open_survey()
    r = Respondent(client, survey.slug)
    complete_small_survey(r)
    r.get("/s/small/review")
    token = r.csrf()
    cookie_before = client.get_cookie("chorus").value
    first = client.post("/s/small/submit", data={"csrf_token": token})
    # A double click: the second request carries the cookie from before the first answered.
    client.set_cookie("chorus", cookie_before)
    second = client.post("/s/small/submit", data={"csrf_token": token})
    # A refresh after success carries the new cookie.
    third = client.post("/s/small/submit", data={"csrf_token": token})
    for response in (first, second, third):
        assert response.status_code == 302 and response.location.endswith("/s/small/receipt")
    assert response_count(find_survey("small")) == 1


def test_answers_saved_again_after_the_submit_read_them_are_the_ones_sent(
    client, make_open_survey, monkeypatch
):
    """Another tab saves between the submit's read and its write: the submit finds
    the draft changed, reads it again and sends what was saved last."""
    from survey.respondent import views

    _, recovery = make_open_survey()
    r = Respondent(client, "small")
    complete_small_survey(r)
    [before] = db.session.scalars(select(Draft.sealed)).all()
    r.answer("e2ee", {"harm_scale": "2", "story": "Saved in another tab."})
    monkeypatch.setattr(views, "draft_as_read", lambda survey, handle: before)
    sent = r.submit()
    assert sent.status_code == 302 and sent.location.endswith("/s/small/receipt")
    [answers] = stored_answers("small", recovery)
    assert answers["story"]["value"] == "Saved in another tab."
    assert db.session.scalar(select(func.count()).select_from(Draft)) == 0


def test_skip_section_and_branching_give_not_shown_and_skipped(client, make_open_survey):
    survey, recovery = make_open_survey()
    r = Respondent(client, survey.slug)
    r.start()
    r.answer("you", {"age_band": "under_18"})
    skipped = r.pass_warning("e2ee", action="skip")
    assert skipped.location.endswith("/s/small/section/minors")
    r.answer("minors", {"felt_safe": "yes"})
    review = page_text(r.get("/s/small/review"))
    assert "You skipped this section." in review
    r.post("/s/small/submit")
    [answers] = stored_answers("small", recovery)
    assert answers["adult_only"] == {"state": "not_shown"}
    assert answers["harm_scale"] == {"state": "skipped"}
    assert answers["felt_safe"] == {"value": "yes"}


def test_changing_an_earlier_answer_drops_answers_that_branching_now_hides(
    client, make_open_survey
):
    survey, recovery = make_open_survey()
    r = Respondent(client, survey.slug)
    r.start()
    r.answer("you", {"age_band": "under_18"})
    r.pass_warning("e2ee", action="skip")
    r.answer("minors", {"felt_safe": "no"})
    # adult_only wasn't on the page that was posted: its value is not taken...
    revealed = r.answer("you", {"age_band": "adult", "adult_only": "smuggled"})
    assert revealed.status_code == 200 and "Some more questions appeared" in r.last_html
    assert "smuggled" not in r.last_html
    # ...until the page that shows it is answered.
    r.answer("you", {"age_band": "adult", "adult_only": "changed"})
    r.submit()
    [answers] = stored_answers("small", recovery)
    assert answers["felt_safe"] == {"state": "not_shown"}
    assert answers["adult_only"] == {"value": "changed"}


def test_back_keeps_answers(client, make_open_survey):
    survey, _ = make_open_survey()
    r = Respondent(client, survey.slug)
    r.start()
    r.answer("you", {"age_band": "under_18", "apps": "7"})
    r.pass_warning("e2ee")
    back = r.answer("e2ee", {"story": "typed before going back"}, action="back")
    assert back.location.endswith("/s/small/section/you")
    page = page_text(r.section("you"))
    assert 'value="7"' in page
    assert 'value="under_18" checked' in page
    again = page_text(r.section("e2ee"))
    assert "typed before going back" in again


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ({"apps": "31"}, "Enter a number between 0 and 30"),
        ({"apps": "many"}, "Enter a number, like 3"),
        ({"age_band": "robot"}, "Choose one of the answers shown"),
        ({"age_band": ["under_18", "adult"]}, "Choose only one answer"),
        ({"apps": "3", "apps-pnts": "1"}, "not both"),
    ],
)
def test_impossible_values_get_a_message_and_nothing_is_stored(
    client, make_open_survey, answers, message
):
    survey, _ = make_open_survey()
    r = Respondent(client, survey.slug)
    r.start()
    response = r.answer("you", answers)
    assert response.status_code == 422
    assert message in r.last_html
    assert "There is a problem" in r.last_html and 'href="#' in r.last_html
    assert r.get("/s/small/section/you").status_code == 200
    assert 'value="31"' not in r.last_html  # nothing of the bad page was saved


def test_over_long_answer_is_shown_back_in_full(client, make_open_survey):
    survey, _ = make_open_survey()
    r = Respondent(client, survey.slug)
    r.start()
    r.answer("you", {})
    r.pass_warning("e2ee")
    long_text = "word " * 60  # 300 characters, limit 200
    response = r.answer("e2ee", {"story": long_text, "harm_scale": "2"})
    assert response.status_code == 422
    assert "shorten it to 200 characters" in r.last_html
    assert long_text.strip() in r.last_html
    assert 'value="2" checked' in r.last_html


def test_too_many_choices_and_unknown_fields_are_handled(client, make_open_survey):
    survey, _ = make_open_survey()
    r = Respondent(client, survey.slug)
    r.start()
    r.answer("you", {})
    r.pass_warning("e2ee")
    response = r.answer("e2ee", {"wanted": ["detect", "report", "defaults"], "injected": "x"})
    assert response.status_code == 422 and "Choose at most 2 answers" in r.last_html


def test_save_and_resume_on_another_device(app, make_open_survey):
    survey, recovery = make_open_survey()
    first_device = Respondent(app.test_client(), survey.slug)
    first_device.start()
    saved = first_device.answer("you", {"age_band": "under_18", "apps": "3"}, action="save")
    assert saved.location.endswith("/s/small/code")
    first_device.get("/s/small/code")
    code = first_device.shown_code()
    assert "can't show it again" in first_device.last_html
    assert first_device.post("/s/small/code", {}).status_code == 422
    back_to_work = first_device.post("/s/small/code", {"saved": "1"})
    assert back_to_work.location.endswith("/s/small/section/you")

    other = Respondent(app.test_client(), survey.slug)
    other.get("/s/small/resume")
    typed = code.lower().replace("-", " ")
    resumed = other.post("/s/small/resume", {"code": typed})
    # Back where they saved, not on a review page that would look finished.
    assert resumed.status_code == 302 and resumed.location.endswith("/s/small/section/you")
    page = page_text(other.section("you"))
    assert 'value="3"' in page
    other.pass_warning("e2ee", action="skip")
    other.answer("minors", {"felt_safe": "yes"})
    other.submit()
    [answers] = stored_answers("small", recovery)
    assert answers["apps"] == {"value": 3} and answers["felt_safe"] == {"value": "yes"}
    # The code dies with the submission.
    again = Respondent(app.test_client(), survey.slug)
    again.get("/s/small/resume")
    assert again.post("/s/small/resume", {"code": code}).status_code == 422
    assert "couldn't find saved answers" in again.last_html


def test_a_new_resume_code_replaces_the_old_one(app, make_open_survey):
    survey, _ = make_open_survey()
    r = Respondent(app.test_client(), survey.slug)
    r.start()
    r.answer("you", {"apps": "1"}, action="save")
    r.get("/s/small/code")
    old = r.shown_code()
    r.post("/s/small/code", {"saved": "1"})
    r.answer("you", {"apps": "2"}, action="save")
    r.get("/s/small/code")
    new = r.shown_code()
    assert new != old
    other = Respondent(app.test_client(), survey.slug)
    other.get("/s/small/resume")
    assert other.post("/s/small/resume", {"code": old}).status_code == 422
    assert other.post("/s/small/resume", {"code": new}).status_code == 302


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "doesn't look like a code"),
        ("hello", "doesn't look like a code"),
        ("ABCD-EFGH-JKMN-PQR!", "doesn't look like a code"),
        ("ABCD-EFGH-JKMN-PQRS", "couldn't find saved answers"),
        ("x" * 5000, "doesn't look like a code"),
    ],
)
def test_garbage_resume_codes_get_a_clear_message(client, make_open_survey, typed, message):
    make_open_survey()
    r = Respondent(client, "small")
    r.get("/s/small/resume")
    response = r.post("/s/small/resume", {"code": typed})
    assert response.status_code == 422 and message in r.last_html


def test_idle_session_ends_calmly_and_keeps_typed_text(app, make_open_survey, monkeypatch):
    survey, _ = make_open_survey()
    r = Respondent(app.test_client(), survey.slug)
    r.start()
    r.section("you")
    token = r.csrf()
    later = time.time() + 61 * 60
    monkeypatch.setattr("survey.respondent.session.time.time", lambda: later)
    response = r.post(
        "/s/small/section/you", {"csrf_token": token, "adult_only": "my careful words"}
    )
    assert response.status_code == 200
    assert "Your session has ended" in r.last_html
    assert "my careful words" in r.last_html
    assert "/s/small/resume" in r.last_html


def test_form_from_a_lost_session_explains_and_keeps_text(client, make_open_survey):
    make_open_survey()
    response = client.post(
        "/s/small/section/e2ee", data={"csrf_token": "stale", "story": "words I must not lose"}
    )
    html = page_text(response)
    assert response.status_code == 400
    assert "Your session has ended" in html and "words I must not lose" in html


def test_withdraw_with_receipt_until_the_report_is_published(client, make_open_survey):
    survey, _ = make_open_survey()
    r = Respondent(client, survey.slug)
    complete_small_survey(r)
    r.submit()
    receipt = r.receipt_code()
    r.post("/s/small/receipt", {"saved": "1"})
    assert response_count(find_survey("small")) == 1

    w = Respondent(client, "small")
    w.get("/s/small/withdraw")
    assert (
        w.post("/s/small/withdraw", {"code": "ABCD-EFGH-JKMN-PQRS"}, csrf=False).status_code == 422
    )
    assert "couldn't find answers" in w.last_html
    found = w.post("/s/small/withdraw", {"code": receipt.lower()}, csrf=False)
    assert found.status_code == 200 and "Withdraw these answers?" in w.last_html
    assert response_count(find_survey("small")) == 1  # nothing deleted before confirming
    done = w.post("/s/small/withdraw", {"code": receipt, "step": "confirm"}, csrf=False)
    assert done.status_code == 200 and "have been withdrawn" in w.last_html
    db.session.expire_all()
    assert response_count(find_survey("small")) == 0
    twice = w.post("/s/small/withdraw", {"code": receipt, "step": "confirm"}, csrf=False)
    assert twice.status_code == 422


def test_no_withdrawal_once_a_published_version_counts_the_answers(client, make_open_survey):
    survey, _ = make_open_survey()
    r = Respondent(client, survey.slug)
    complete_small_survey(r)
    r.submit()
    receipt = r.receipt_code()
    store_the_week("small")
    survey = find_survey("small")
    survey.report_published_week = "2026-W50"
    db.session.execute(update(Response).values(counted=True))  # as publishing does
    db.session.commit()
    page = client.post("/s/small/withdraw", data={"code": receipt, "step": "confirm"})
    assert "can no longer be withdrawn" in page_text(page)
    assert response_count(survey) == 1


def test_invite_only_survey(app, make_open_survey):
    survey, _ = make_open_survey(small_survey_document(slug="invited", invite_only=True))
    [code, _spare] = create_invite_codes(survey, 2)
    r = Respondent(app.test_client(), "invited")
    landing = page_text(r.get("/s/invited"))
    assert 'name="invite_code"' in landing
    assert r.start(invite_code="").status_code == 422 and "Enter the invite code" in r.last_html
    assert r.start(invite_code="nonsense").status_code == 422 and "look like a code" in r.last_html
    assert r.start(invite_code="ABCD-EFGH-JKMN-PQRS").status_code == 422
    assert "couldn't find that invite code" in r.last_html
    assert r.start(invite_code=code.lower()).status_code == 302
    r.answer("you", {"age_band": "under_18"})
    r.submit()
    assert response_count(find_survey("invited")) == 1
    # The invite is marked used by the weekly flush (here: closing), not at submit.
    close_survey(find_survey("invited"))
    invites = db.session.scalars(select(InviteCode)).all()
    assert sorted(i.used for i in invites) == [False, True]
    # The used row holds nothing but its lookup, survey and flag: no link to the response.
    assert set(InviteCode.__table__.columns.keys()) == {"lookup", "survey_id", "used"}
    survey = find_survey("invited")
    survey.status = "open"
    db.session.commit()
    # A used code starts like any other (no oracle), and is refused at submit.
    again = Respondent(app.test_client(), "invited")
    assert again.start(invite_code=code).status_code == 302
    again.answer("you", {"age_band": "under_18"})
    assert again.submit().status_code == 409
    assert "already been used to send answers" in again.last_html
    assert response_count(find_survey("invited")) == 1


def test_an_invite_used_twice_concurrently_lets_only_one_through(app, make_open_survey):
    survey, _ = make_open_survey(small_survey_document(slug="invited", invite_only=True))
    [code] = create_invite_codes(survey, 1)
    a = Respondent(app.test_client(), "invited")
    b = Respondent(app.test_client(), "invited")
    a.start(invite_code=code)
    b.start(invite_code=code)  # both started before either submitted
    assert a.submit().status_code == 302
    refused = b.submit()
    assert refused.status_code == 409 and "already been used to send answers" in b.last_html
    assert response_count(find_survey("invited")) == 1


@pytest.mark.parametrize("path", ["/s/nowhere", "/s/nowhere/section/you", "/s/nowhere/withdraw"])
def test_unknown_survey_is_a_calm_page(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert "couldn't find this survey" in page_text(response)


def test_draft_survey_looks_unknown(app, client):
    from survey.definition import parse_definition
    from survey.surveys import import_definition

    import_definition(parse_definition(small_survey_document(slug="not-yet")))
    response = client.get("/s/not-yet")
    assert response.status_code == 404 and "couldn't find this survey" in page_text(response)


def test_closed_survey_is_calm_and_refuses_submission(client, make_open_survey):
    survey, _ = make_open_survey()
    r = Respondent(client, survey.slug)
    complete_small_survey(r)
    r.get("/s/small/review")
    token = r.csrf()
    close_survey(find_survey("small"))
    refused = client.post("/s/small/submit", data={"csrf_token": token})
    assert refused.status_code == 200 and "closed before your answers were sent" in page_text(
        refused
    )
    assert response_count(find_survey("small")) == 0
    landing = client.get("/s/small")
    assert landing.status_code == 200 and "This survey has closed" in page_text(landing)


def test_spanish_pages(client, make_open_survey):
    make_open_survey()
    r = Respondent(client, "small")
    landing = page_text(r.get("/s/small?lang=es"))
    assert '<html lang="es" dir="ltr">' in landing and "Empezar la encuesta" in landing
    r.start(lang="es")
    page = page_text(r.section("you"))
    assert "¿Cuántos años tienes?" in page and "Prefiero no decirlo" in page
    english = page_text(r.get("/s/small/section/you?lang=en"))
    assert "How old are you?" in english


def test_responses_have_random_ids_and_only_a_week(client, make_open_survey):
    survey, _ = make_open_survey()
    for _ in range(3):
        r = Respondent(client, survey.slug)
        complete_small_survey(r)
        r.submit()
        client.delete_cookie("chorus")
    close_survey(find_survey("small"))  # stores the inbox, as the weekly flush does
    rows = db.session.scalars(select(Response)).all()
    assert len(rows) == 3
    assert len({row.id for row in rows}) == 3
    assert all(len(row.id) == 32 and int(row.id, 16) >= 0 for row in rows)
    assert all(
        row.week.startswith(str(time.gmtime().tm_year)[:3]) and "-W" in row.week for row in rows
    )
    assert set(Response.__table__.columns.keys()) == {
        "id",
        "survey_id",
        "week",
        "format_version",
        "sealed",
        "receipt_lookup",
        # Whether a published version counts it: set for all of a version at once.
        "counted",
    }
    assert not any(row.counted for row in rows)
    # Sizes are padded to buckets, so a short and a long answer look alike.
    assert len({len(row.sealed) for row in rows}) == 1


def test_quote_consent_is_asked_and_sealed_with_the_answer(client, make_open_survey):
    survey, recovery = make_open_survey()
    r = Respondent(client, survey.slug)
    r.start()
    r.answer("you", {})
    r.pass_warning("e2ee")
    page = page_text(r.section("e2ee"))
    assert "May we quote these words in the report?" in page
    r.answer("e2ee", {"story": "Quote me.", "story-quote": "yes"})
    r.section("e2ee")
    assert 'value="yes" checked' in r.last_html  # shown again as chosen
    assert "You said these words may be quoted." in page_text(r.get("/s/small/review"))
    r.submit()
    [answers] = stored_answers("small", recovery)
    assert answers["story"] == {"value": "Quote me.", "quote_consent": True}


def test_back_to_the_landing_page_and_start_again_keeps_the_answers(client, make_open_survey):
    survey, recovery = make_open_survey()
    r = Respondent(client, survey.slug)
    r.start()
    r.answer("you", {"apps": "5"}, action="back")  # Back from the first page: the landing page
    landing = page_text(r.get("/s/small"))
    assert "already started this survey" in landing and "Continue the survey" in landing
    again = r.post("/s/small/start", {"lang": "en"}, csrf=False)
    assert again.location.endswith("/s/small/section/you")
    assert 'value="5"' in page_text(r.section("you"))
    r.submit()
    [answers] = stored_answers("small", recovery)
    assert answers["apps"] == {"value": 5}
