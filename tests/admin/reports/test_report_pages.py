"""The analyst's report editor: findings and settings, checked and kept as typed."""

from __future__ import annotations

from admin.reports.draft import draft_for
from survey.surveys import find_survey
from tests.factories import (
    CUSTODIAN_EMAIL,
    CUSTODIAN_PASSWORD,
    csrf,
    make_user,
    page_text,
    sign_in,
    sign_in_enrolled,
)


def analyst(app):
    client = app.test_client()
    sign_in_enrolled(client, CUSTODIAN_EMAIL, CUSTODIAN_PASSWORD)
    return client


def post(client, path, data):
    token = csrf(client, "/staff/surveys/small/report")
    return client.post(path, data={"csrf_token": token, **data})


def test_an_analyst_writes_edits_orders_and_deletes_findings(app, make_open_survey):
    make_open_survey()
    client = analyst(app)
    assert "No findings yet" in page_text(client.get("/staff/surveys/small/report"))
    new = "/staff/surveys/small/report/findings/new"
    refused = post(
        client,
        new,
        {"id": "Bad id", "title": "", "severity_question": "wanted", "narrative": "Kept text"},
    )
    text = page_text(refused)
    assert refused.status_code == 422
    assert "its id must be" in text and "give it a title" in text and "scale question" in text
    assert "Kept text" in text  # what was typed comes back
    assert draft_for(find_survey("small")).findings == []

    made = post(
        client,
        new,
        {
            "id": "f1",
            "title": "Detection matters",
            "feature": "end-to-end encryption",
            "affected_by": "age_band",
            "severity_question": "harm_scale",
            "mitigation_questions": "wanted",
            "narrative": "**Keep** detection.",
        },
    )
    assert made.status_code == 302
    post(client, new, {"id": "f2", "title": "Defaults"})
    duplicate = post(client, new, {"id": "f2", "title": "Again"})
    assert duplicate.status_code == 422 and "exists" in page_text(duplicate)
    first = draft_for(find_survey("small")).findings[0]
    assert (first.id, first.affected_by, first.severity_question) == (
        "f1",
        ["age_band"],
        "harm_scale",
    )

    edited = post(client, "/staff/surveys/small/report/findings/f2", {"title": "Safe defaults"})
    assert edited.status_code == 302
    post(client, "/staff/surveys/small/report/findings/f2/move", {"direction": "up"})
    assert [f.id for f in draft_for(find_survey("small")).findings] == ["f2", "f1"]
    post(client, "/staff/surveys/small/report/findings/f2/delete", {})
    assert [f.title for f in draft_for(find_survey("small")).findings] == ["Detection matters"]

    settings = post(
        client,
        "/staff/surveys/small/report/settings",
        {"limitations": "Few answered.", "rounding": "yes"},
    )
    assert settings.status_code == 302
    draft = draft_for(find_survey("small"))
    assert draft.limitations == "Few answered." and draft.rounding is True


def test_junk_never_breaks_the_editor(app, make_open_survey):
    make_open_survey()
    client = analyst(app)
    for data in (
        {"id": "x" * 500, "title": "t" * 5000},
        {"id": "f9", "title": "ok", "affected_by": "nope", "evidence_questions": "\x00"},
        {"id": "f9", "title": "ok", "narrative": "n" * 30000},
    ):
        response = post(client, "/staff/surveys/small/report/findings/new", data)
        assert response.status_code == 422, data
    assert client.get("/staff/surveys/small/report/findings/ghost").status_code == 302
    assert client.get("/staff/surveys/ghost/report").status_code == 404


def test_only_analysts_edit_reports(app, make_open_survey):
    make_open_survey()
    make_user("fac@example.org")
    client = app.test_client()
    sign_in(client, "fac@example.org")
    assert client.get("/staff/surveys/small/report").status_code == 403
