"""The survey builder through the test client, signed in as a facilitator."""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime, timedelta

import pytest
import yaml
from sqlalchemy import func, select

from survey.definition import load_definition_text, parse_definition
from survey.models import AuditEntry, InviteCode, Role, Survey, db
from survey.surveys import definition_of, find_survey, import_definition
from tests.factories import (
    Respondent,
    csrf,
    make_user,
    page_text,
    sign_in,
    sign_in_enrolled,
    small_survey_document,
    template_document,
)


def post(client, path, data=None, **kwargs):
    """POST a form with a fresh CSRF token (from the page itself, or the staff home)."""
    data = {"csrf_token": csrf(client, "/staff/password"), **(data or {})}
    return client.post(path, data=data, **kwargs)


def doc_of(slug):
    db.session.expire_all()
    return definition_of(find_survey(slug)).to_dict()


def actions():
    db.session.expire_all()
    return [(e.action, e.target) for e in db.session.scalars(select(AuditEntry))]


def draft(slug="small", **changes):
    return import_definition(parse_definition(small_survey_document(slug=slug, **changes)))


# --- making surveys -----------------------------------------------------------------------


def test_create_blank_survey(staff):
    page = staff.get("/staff/surveys/new")
    assert page.status_code == 200
    made = post(staff, "/staff/surveys/new", {"title": "Safety by design", "slug": "sbd"})
    assert made.status_code == 302 and made.location.endswith("/staff/surveys/sbd/edit")
    doc = doc_of("sbd")
    assert doc["title"] == "Safety by design" and len(doc["sections"]) == 1
    assert ("survey.create", "sbd") in actions()
    assert staff.get("/staff/surveys").status_code == 200
    # One section is "1 section", never "1 sections".
    overview = page_text(staff.get("/staff/surveys/sbd"))
    assert "1 section," in overview and "1 sections" not in overview
    assert "Safety by design" in page_text(staff.get("/staff/surveys"))


@pytest.mark.parametrize(
    "form, message",
    [
        ({"title": "", "slug": "ok-slug"}, "Give the survey a title"),
        ({"title": "T", "slug": "Bad Slug!"}, "lower-case letters"),
        ({"title": "T", "slug": "new"}, "reserved"),
        ({"title": "T"}, "lower-case letters"),
    ],
)
def test_create_blank_survey_refuses_bad_input(staff, form, message):
    refused = post(staff, "/staff/surveys/new", form)
    assert refused.status_code == 422 and message in page_text(refused)
    assert db.session.scalar(select(func.count()).select_from(Survey)) == 0


def test_create_from_template(staff):
    made = post(staff, "/staff/surveys/new/template", {"template_slug": "pr-2027"})
    assert made.status_code == 302
    doc = doc_of("pr-2027")
    assert doc["languages"] == ["en", "es", "ar"]
    assert [s["id"] for s in doc["sections"]] == [s["id"] for s in template_document()["sections"]]
    again = post(staff, "/staff/surveys/new/template", {"template_slug": "pr-2027"})
    assert again.status_code == 422 and "already a survey" in page_text(again)


def test_import_good_file_and_pasted_yaml(staff):
    document = small_survey_document(slug="imported")
    upload = (io.BytesIO(json.dumps(document).encode()), "survey.json")
    done = post(staff, "/staff/surveys/new/import", {"file": upload})
    assert done.status_code == 302 and doc_of("imported")["sections"][0]["id"] == "you"
    # Pasted YAML into the existing draft replaces its definition.
    changed = small_survey_document(slug="imported", title="Changed title")
    again = post(staff, "/staff/surveys/new/import", {"text": yaml.safe_dump(changed)})
    assert again.status_code == 302 and doc_of("imported")["title"] == "Changed title"
    assert ("survey.import", "imported") in actions()


def test_import_bad_file_lists_every_problem_and_saves_nothing(staff):
    bad = small_survey_document(slug="bad-one")
    bad["sections"][0]["questions"][0]["options"][1]["value"] = "under_18"
    bad["sections"][1]["questions"][0]["scale"]["max"] = 100
    upload = (io.BytesIO(json.dumps(bad).encode()), "bad.json")
    refused = post(staff, "/staff/surveys/new/import", {"file": upload})
    text = page_text(refused)
    assert refused.status_code == 422
    assert 'sections[0].questions[0].options[1].value: duplicate value "under_18"' in text
    assert "sections[1].questions[0].scale: max − min must be between 2 and 10" in text
    assert find_survey("bad-one") is None
    broken = post(staff, "/staff/surveys/new/import", {"text": "{not json"})
    assert broken.status_code == 422 and "not valid JSON" in page_text(broken)
    empty = post(staff, "/staff/surveys/new/import", {})
    assert empty.status_code == 422
    binary = post(
        staff, "/staff/surveys/new/import", {"file": (io.BytesIO(b"\xff\xfe\x00"), "x.json")}
    )
    assert binary.status_code == 422 and "UTF-8" in page_text(binary)


def test_import_into_a_draft_keeps_its_slug(staff):
    draft("small")
    other = small_survey_document(slug="whatever", title="Replaced")
    done = post(staff, "/staff/surveys/small/import", {"text": json.dumps(other)})
    assert done.status_code == 302 and doc_of("small")["title"] == "Replaced"
    assert find_survey("whatever") is None


# --- editing ------------------------------------------------------------------------------


def settings_form(**changes):
    form = {
        "title.en": "Messaging safety",
        "title.es": "Seguridad",
        "languages": "en es",
        "intro.en": "Why we ask",
        "intro.es": "Por qué preguntamos",
        "estimated_minutes": "12",
        "min_report_n": "25",
        "suppression_k": "10",
        "support[0].name.en": "Helpline",
        "support[0].phone": "0800 000 000",
        "support[0].hours.en": "24/7",
        "support[1].name.en": "Web chat",
        "support[1].name.es": "Chat web",
        "support[1].url": "https://chat.example.org",
        "support[2].name.en": "",
    }
    form.update(changes)
    return form


def test_edit_settings_with_translations_and_support(staff):
    draft()
    assert staff.get("/staff/surveys/small/settings").status_code == 200
    saved = post(staff, "/staff/surveys/small/settings", settings_form(invite_only="1"))
    assert saved.status_code == 302
    doc = doc_of("small")
    assert doc["title"] == {"en": "Messaging safety", "es": "Seguridad"}
    assert doc["intro"] == {"en": "Why we ask", "es": "Por qué preguntamos"}
    assert doc["estimated_minutes"] == 12 and doc["min_report_n"] == 25 and doc["invite_only"]
    assert doc["support"] == [
        {"name": "Helpline", "phone": "0800 000 000", "hours": "24/7"},
        {"name": {"en": "Web chat", "es": "Chat web"}, "url": "https://chat.example.org"},
    ]
    assert ("survey.edit", "small") in actions()
    # Remove a support row.
    removed = post(
        staff, "/staff/surveys/small/settings", settings_form(**{"support[0].remove": "1"})
    )
    assert removed.status_code == 302 and len(doc_of("small")["support"]) == 1


def test_invalid_settings_keep_what_was_typed_and_show_problems_beside_fields(staff):
    draft()
    before = doc_of("small")
    form = settings_form(
        **{
            "title.en": "",
            "title.es": "Solo en español",
            "suppression_k": "3",
            "min_report_n": "9" * 400,
            "support[1].url": "not a web address",
        }
    )
    refused = post(staff, "/staff/surveys/small/settings", form)
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert 'value="Solo en español"' in html
    assert 'value="not a web address"' in html
    # Each problem beside its field, and the summary links to the field.
    assert 'id="f-title-en-error"' in html and 'href="#f-title-en"' in html
    assert 'missing the "en" text' in page_text(refused)
    assert 'id="f-suppression_k-error"' in html and "must be between 5" in html
    assert 'id="f-min_report_n-error"' in html
    assert 'id="f-support-1--url-error"' in html
    assert doc_of("small") == before


def test_adding_a_language_copies_texts_to_translate(staff):
    post(staff, "/staff/surveys/new", {"title": "Plain", "slug": "plain"})
    form = {"title.en": "Plain", "languages": "en fr", "min_report_n": "20", "suppression_k": "10"}
    assert post(staff, "/staff/surveys/plain/settings", form).status_code == 302
    doc = doc_of("plain")
    assert doc["languages"] == ["en", "fr"] and doc["title"] == "Plain"
    page = page_text(staff.get("/staff/surveys/plain/settings"))
    assert "Title (fr)" in page
    # The editing page says how many texts are still to translate.
    assert "texts are only in English" in page_text(staff.get("/staff/surveys/plain/edit"))
    bad = post(staff, "/staff/surveys/plain/settings", {**form, "languages": "en en"})
    assert bad.status_code == 422 and "duplicate language" in page_text(bad)


def test_add_edit_move_delete_sections(staff):
    draft()
    assert staff.get("/staff/surveys/small/sections/add").status_code == 200
    added = post(
        staff,
        "/staff/surveys/small/sections/add",
        {
            "id": "extra",
            "title.en": "Extra",
            "title.es": "Más",
            "content_warning.en": "Mentions abuse",
            "content_warning.es": "Menciona abusos",
            "show_if.question": "age_band",
            "show_if.in": "age_band:adult",
            "first.id": "extra_q",
            "first.type": "info",
            "first.text.en": "Thanks",
        },
    )
    assert added.status_code == 302
    section = doc_of("small")["sections"][-1]
    assert section["id"] == "extra" and section["show_if"] == {
        "question": "age_band",
        "in": ["adult"],
    }
    assert section["questions"] == [{"id": "extra_q", "type": "info", "text": "Thanks"}]
    # Edit it.
    edited = post(
        staff,
        "/staff/surveys/small/sections/extra",
        {"id": "extra2", "title.en": "Extra two", "title.es": "Más dos"},
    )
    assert edited.status_code == 302
    ids = [s["id"] for s in doc_of("small")["sections"]]
    assert ids == ["you", "e2ee", "minors", "extra2"]
    # Move up, then down.
    assert (
        post(staff, "/staff/surveys/small/sections/extra2/move", {"direction": "up"}).status_code
        == 302
    )
    assert [s["id"] for s in doc_of("small")["sections"]] == ["you", "e2ee", "extra2", "minors"]
    # Moving the first section down would put "minors"' condition... still fine; moving
    # "you" below "minors" is refused: minors' condition looks at a question in "you".
    moved = post(staff, "/staff/surveys/small/sections/you/move", {"direction": "down"})
    assert moved.status_code == 302
    refused = post(staff, "/staff/surveys/small/sections/you/move", {"direction": "down"})
    assert refused.status_code == 302  # e2ee you extra2 minors -> e2ee extra2 you minors
    blocked = post(staff, "/staff/surveys/small/sections/you/move", {"direction": "down"})
    assert blocked.status_code == 422 and "is not a question that comes" in page_text(blocked)
    # Delete, with a confirmation page first.
    assert staff.get("/staff/surveys/small/sections/extra2/delete").status_code == 200
    assert post(staff, "/staff/surveys/small/sections/extra2/delete").status_code == 302
    assert "extra2" not in [s["id"] for s in doc_of("small")["sections"]]
    # Unknown sections lead back to the editing page.
    assert staff.get("/staff/surveys/small/sections/nope").status_code == 302
    assert (
        post(staff, "/staff/surveys/small/sections/nope/move", {"direction": "up"}).status_code
        == 302
    )


QUESTION_FORMS = {
    "single_choice": {
        "options[0].value": "yes",
        "options[0].label.en": "Yes",
        "options[0].label.es": "Sí",
        "options[1].value": "no",
        "options[1].label.en": "No",
        "options[1].label.es": "No",
        "options[2].value": "",
        "other": "1",
        "group_by": "1",
        "prefer_not_to_say": "1",
    },
    "multi_choice": {
        "options[0].value": "a",
        "options[0].label.en": "A",
        "options[1].value": "b",
        "options[1].label.en": "B",
        "options[2].value": "c",
        "options[2].label.en": "C",
        "max_choices": "2",
    },
    "scale": {
        "scale.min": "1",
        "scale.max": "5",
        "scale.min_label.en": "Low",
        "scale.min_label.es": "Bajo",
        "scale.max_label.en": "High",
        "scale.max_label.es": "Alto",
        "prefer_not_to_say": "1",
    },
    "number": {"min": "0", "max": "99.5", "prefer_not_to_say": "1"},
    "short_text": {"max_length": "80", "prefer_not_to_say": "1", "theme_hint": "reporting"},
    "long_text": {"quote_consent": "1", "prefer_not_to_say": "1"},
    "info": {},
}


@pytest.mark.parametrize("qtype", list(QUESTION_FORMS))
def test_add_a_question_of_every_type(staff, qtype):
    draft()
    assert (
        staff.get(f"/staff/surveys/small/sections/you/questions/add?type={qtype}").status_code
        == 200
    )
    form = {
        "type": qtype,
        "id": f"new_{qtype}",
        "text.en": "The question",
        "text.es": "La pregunta",
        "help.en": "Please leave out names.",
        **QUESTION_FORMS[qtype],
    }
    added = post(staff, "/staff/surveys/small/sections/you/questions/add", form)
    assert added.status_code == 302, page_text(added)
    question = doc_of("small")["sections"][0]["questions"][-1]
    assert question["id"] == f"new_{qtype}" and question["type"] == qtype
    assert question["text"] == {"en": "The question", "es": "La pregunta"}
    assert question["help"] == "Please leave out names."
    expected = {
        "single_choice": lambda q: (
            q["options"][0] == {"value": "yes", "label": {"en": "Yes", "es": "Sí"}}
            and len(q["options"]) == 2
            and q["other"]
            and q["group_by"]
        ),
        "multi_choice": lambda q: q["max_choices"] == 2 and q["prefer_not_to_say"] is False,
        "scale": lambda q: q["scale"]["max"] == 5 and q["scale"]["min_label"]["es"] == "Bajo",
        "number": lambda q: q["min"] == 0 and q["max"] == 99.5,
        "short_text": lambda q: q["max_length"] == 80 and q["theme_hint"] == "reporting",
        "long_text": lambda q: q["quote_consent"] is True,
        "info": lambda q: "prefer_not_to_say" not in q,
    }[qtype]
    assert expected(question), question
    # The edit page shows it again as saved.
    page = staff.get(f"/staff/surveys/small/questions/new_{qtype}")
    assert page.status_code == 200 and "La pregunta" in page_text(page)


def test_edit_question_options_branching_and_renames_follow(staff):
    draft()
    form = {
        "type": "single_choice",
        "id": "age",  # renamed: the conditions that look at it follow
        "text.en": "How old are you?",
        "text.es": "¿Cuántos años tienes?",
        "options[0].value": "under_18",
        "options[0].was": "under_18",
        "options[0].label.en": "Under 18",
        "options[0].label.es": "Menos de 18",
        "options[1].value": "grown_up",  # renamed value
        "options[1].was": "adult",
        "options[1].label.en": "18 or older",
        "options[1].label.es": "18 o más",
        "options[2].value": "rather_not",
        "options[2].label.en": "Rather not",
        "options[2].label.es": "Prefiero no",
        "options[2].remove": "1",
        "prefer_not_to_say": "1",
        "group_by": "1",
    }
    saved = post(staff, "/staff/surveys/small/questions/age_band", form)
    assert saved.status_code == 302, page_text(saved)
    doc = doc_of("small")
    q = doc["sections"][0]["questions"][0]
    assert q["id"] == "age" and [o["value"] for o in q["options"]] == ["under_18", "grown_up"]
    assert doc["sections"][0]["questions"][1]["show_if"] == {"question": "age", "in": ["grown_up"]}
    assert doc["sections"][2]["show_if"] == {"question": "age", "in": ["under_18"]}
    # Branching on a question: set it on "apps" through the form.
    apps = {
        "type": "number",
        "id": "apps",
        "text.en": "How many apps?",
        "text.es": "¿Cuántas apps?",
        "min": "0",
        "max": "30",
        "prefer_not_to_say": "1",
        "show_if.question": "age",
        "show_if.in": ["age:under_18", "age:grown_up"],
    }
    assert post(staff, "/staff/surveys/small/questions/apps", apps).status_code == 302
    assert doc_of("small")["sections"][0]["questions"][2]["show_if"] == {
        "question": "age",
        "in": ["under_18", "grown_up"],
    }
    # The "add another answer" button shows one more row and saves nothing.
    more = post(staff, "/staff/surveys/small/questions/age", {**form, "action": "add_row"})
    assert more.status_code == 200 and 'name="options[3].value"' in more.get_data(as_text=True)


def test_invalid_question_keeps_what_was_typed_with_problems_beside_fields(staff):
    draft()
    before = doc_of("small")
    form = {
        "type": "single_choice",
        "id": "age_band",
        "text.en": "",
        "text.es": "¿Qué edad?",
        "options[0].value": "",
        "options[0].label.en": "",
        "options[1].value": "same",
        "options[1].label.en": "One",
        "options[1].label.es": "Uno",
        "options[2].value": "same",
        "options[2].label.en": "Two",
        "options[2].label.es": "Dos",
        "options[3].value": "Bad Value",
        "options[3].label.en": "Three",
        "options[3].label.es": "Tres",
    }
    refused = post(staff, "/staff/surveys/small/questions/age_band", form)
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    # The problem about the third submitted row (second in the document) is on row 3.
    assert 'id="f-options-2--value-error"' in html
    assert 'duplicate value "same"' in page_text(refused)
    assert 'id="f-options-3--value-error"' in html
    assert 'id="f-text-en-error"' in html and 'missing the "en" text' in page_text(refused)
    assert 'value="Bad Value"' in html and "¿Qué edad?</textarea>" in page_text(refused)
    # Conditions elsewhere that no longer hold go in the summary, by path.
    assert 'sections 1 › questions 2 › show if › in 1: "adult" is not an option' in page_text(
        refused
    )
    assert doc_of("small") == before


@pytest.mark.parametrize(
    "changes",
    [
        {"type": "scale", "scale.min": "1", "scale.max": "99999999999999999999999"},
        {"type": "number", "min": "1e999", "max": "nan"},
        {"type": "short_text", "max_length": "-5"},
        {"type": "nonsense"},
        {"id": "", "type": ""},
        {"show_if.question": "apps", "show_if.in": ["age_band:adult"]},
        {"show_if.in": "x:y"},
    ],
)
def test_no_input_crashes_the_question_form(staff, changes):
    draft()
    form = {"id": "story", "text.en": "T", "text.es": "T", **changes}
    refused = post(staff, "/staff/surveys/small/questions/story", form)
    assert refused.status_code == 422, page_text(refused)


def test_question_type_change_shows_the_new_fields(staff):
    """A form without the kind it showed (an older page) still can't save a choice
    question with no answers: the save fails and shows the answer rows."""
    draft()
    form = {"type": "single_choice", "id": "apps", "text.en": "Apps?", "text.es": "¿Apps?"}
    refused = post(staff, "/staff/surveys/small/questions/apps", form)
    assert refused.status_code == 422
    assert 'name="options[0].value"' in refused.get_data(as_text=True)
    assert "at least 2 options" in page_text(refused)


@pytest.mark.parametrize("action", ["save", "change_type"])
def test_changing_the_kind_shows_its_fields_in_the_same_step_without_a_failed_save(staff, action):
    """Choosing a choice kind for a number question shows the answer rows at once, with
    what was typed kept; nothing is saved and nothing fails."""
    draft()
    before = doc_of("small")
    page = staff.get("/staff/surveys/small/questions/apps").get_data(as_text=True)
    assert 'name="shown_type" value="number"' in page
    assert "Show the fields for this kind" in page
    # With JavaScript the select shows them at once: they are on the page, hidden.
    assert "question-kind.js" in page and "data-kind-select" in page
    assert '<div data-kinds="single_choice multi_choice" hidden>' in page
    assert 'name="options[2].label.en"' in page
    form = {
        "type": "single_choice",
        "shown_type": "number",
        "id": "apps",
        "text.en": "Apps you use?",
        "text.es": "¿Apps?",
        "action": action,
    }
    shown = post(staff, "/staff/surveys/small/questions/apps", form)
    html = shown.get_data(as_text=True)
    assert shown.status_code == 200
    assert "There is a problem" not in html and "at least 2 options" not in html
    assert 'name="options[0].label.en"' in html and 'name="options[2].value"' in html
    assert "add at least two answers to choose from below" in page_text(shown)
    assert "Nothing is saved yet" in page_text(shown)
    assert 'value="Apps you use?"' in html or ">Apps you use?</textarea>" in html
    assert 'name="shown_type" value="single_choice"' in html
    assert doc_of("small") == before
    # Then the answers are filled in and saved, in the next step.
    form |= {
        "shown_type": "single_choice",
        "action": "save",
        "options[0].label.en": "Many",
        "options[0].label.es": "Muchas",
        "options[1].label.en": "Few",
        "options[1].label.es": "Pocas",
    }
    saved = post(staff, "/staff/surveys/small/questions/apps", form)
    assert saved.status_code == 302, page_text(saved)
    apps = doc_of("small")["sections"][0]["questions"][2]
    assert apps["type"] == "single_choice"
    assert [o["value"] for o in apps["options"]] == ["many", "few"]


def test_a_kind_without_required_fields_saves_at_once(staff):
    draft()
    page = staff.get("/staff/surveys/small/questions/story").get_data(as_text=True)
    kind = re.search(r'name="shown_type" value="(\w+)"', page)[1]
    assert kind == "long_text"
    form = {
        "type": "short_text",
        "shown_type": kind,
        "id": "story",
        "text.en": "T",
        "text.es": "T",
        "prefer_not_to_say": "1",
    }
    assert post(staff, "/staff/surveys/small/questions/story", form).status_code == 302
    story = next(
        q
        for section in doc_of("small")["sections"]
        for q in section["questions"]
        if q["id"] == "story"
    )
    assert story["type"] == "short_text"


def test_option_codes_are_made_from_the_labels_when_left_empty(staff):
    """Every answer needs a code for exports: left empty it is made from the label
    (accents dropped, unique in the question; opt_3 where the label has no Latin
    letters), and a typed one is kept."""
    draft()
    page = staff.get("/staff/surveys/small/questions/age_band").get_data(as_text=True)
    assert "Code (used in exports)" in page and "made from the label" in page
    form = {
        "type": "multi_choice",
        "id": "feelings",
        "text.en": "How did it feel?",
        "text.es": "¿Cómo te sentiste?",
        "options[0].label.en": "Safe, mostly",
        "options[0].label.es": "Segura, casi siempre",
        "options[1].label.en": "Safe mostly",
        "options[1].label.es": "Segura",
        "options[2].label.en": "¿?",
        "options[2].label.es": "¿?",
        "options[3].value": "my_code",
        "options[3].label.en": "Typed",
        "options[3].label.es": "Escrita",
        "prefer_not_to_say": "1",
    }
    added = post(staff, "/staff/surveys/small/sections/you/questions/add", form)
    assert added.status_code == 302, page_text(added)
    question = next(q for q in doc_of("small")["sections"][0]["questions"] if q["id"] == "feelings")
    assert [o["value"] for o in question["options"]] == [
        "safe_mostly",
        "safe_mostly_2",
        "opt_3",
        "my_code",
    ]


def test_codes_come_from_the_default_language_then_the_others():
    from admin.builder.forms import code_from_label, derive_codes

    assert code_from_label("Sí, a menudo") == "si_a_menudo"
    assert code_from_label("18 or older") == "opt_18_or_older"
    assert code_from_label("نعم") == ""
    options = [{"label": {"ar": "نعم", "en": "Yes"}}, {"label": {"ar": "لا"}}]
    derive_codes(options, ["ar", "en"])
    assert [o["value"] for o in options] == ["yes", "opt_2"]


def test_reorder_and_delete_questions(staff):
    draft()
    # "adult_only" depends on "age_band": moving it above is refused, with the reason.
    refused = post(staff, "/staff/surveys/small/questions/adult_only/move", {"direction": "up"})
    assert refused.status_code == 422 and "earlier in the survey" in page_text(refused)
    assert (
        post(staff, "/staff/surveys/small/questions/apps/move", {"direction": "up"}).status_code
        == 302
    )
    assert [q["id"] for q in doc_of("small")["sections"][0]["questions"]] == [
        "age_band",
        "apps",
        "adult_only",
    ]
    # Past the end of a section: into the next one.
    assert (
        post(
            staff, "/staff/surveys/small/questions/adult_only/move", {"direction": "down"}
        ).status_code
        == 302
    )
    assert doc_of("small")["sections"][1]["questions"][0]["id"] == "adult_only"
    assert staff.get("/staff/surveys/small/questions/apps/delete").status_code == 200
    assert post(staff, "/staff/surveys/small/questions/apps/delete").status_code == 302
    assert "apps" not in [q["id"] for q in doc_of("small")["sections"][0]["questions"]]
    # Deleting a question others depend on is refused with the reason.
    blocked = post(staff, "/staff/surveys/small/questions/age_band/delete")
    assert blocked.status_code == 422 and "age_band" in page_text(blocked)
    # The last question of a section can't go: the section needs one.
    last = post(staff, "/staff/surveys/small/questions/felt_safe/delete")
    assert last.status_code == 422 and "at least one question" in page_text(last)
    assert staff.get("/staff/surveys/small/questions/nope").status_code == 302


def test_edit_refused_for_open_surveys_and_surveys_with_responses(staff, make_open_survey, client):
    make_open_survey(small_survey_document(slug="live"))
    page = staff.get("/staff/surveys/live/edit")
    assert page.status_code == 200 and "Copy into a new version" in page_text(page)
    refused = post(staff, "/staff/surveys/live/settings", settings_form())
    assert refused.status_code == 409 and "can't change" in page_text(refused)
    assert post(staff, "/staff/surveys/live/questions/apps/delete").status_code == 409
    # A draft with responses (reopened as draft in the database: the rule is on responses).
    respondent = Respondent(client, "live")
    respondent.start()
    respondent.submit()
    db.session.expire_all()
    live = find_survey("live")
    live.status = "draft"
    db.session.commit()
    blocked = staff.get("/staff/surveys/live/settings")
    assert "has responses" in page_text(blocked)
    assert post(staff, "/staff/surveys/live/sections/add", {"id": "x"}).status_code == 409


# --- preview ------------------------------------------------------------------------------


def row_counts():
    db.session.expire_all()
    return {
        table.name: db.session.scalar(select(func.count()).select_from(table))
        for table in db.metadata.sorted_tables
    }


def test_preview_stores_nothing(staff):
    draft()
    staff.get("/staff/surveys/small")  # the staff session's own cookie is settled first
    before = row_counts()
    pages = [
        staff.get("/staff/surveys/small/preview"),
        staff.get("/staff/surveys/small/preview?lang=es"),
        staff.get("/staff/surveys/small/preview/you"),
        staff.get("/staff/surveys/small/preview/e2ee?lang=es"),
        staff.get("/staff/surveys/small/preview/minors"),
    ]
    for page in pages:
        assert page.status_code == 200
        assert "Set-Cookie" not in page.headers
        assert "Preview." in page_text(page)
        assert "<script>" not in page.get_data(as_text=True)
        assert " style=" not in page.get_data(as_text=True)
    assert row_counts() == before
    with staff.session_transaction() as session:
        assert "r" not in session
    section = page_text(pages[3])
    assert "Menciona abusos." in section and "¿Cuánto daño?" in section  # Spanish, warning shown
    assert (
        "<form"
        not in pages[2].get_data(as_text=True).split("preview-questions")[1].split("</main>")[0]
    )
    assert "Shown only when" in page_text(pages[2])  # branching noted
    assert staff.get("/staff/surveys/small/preview/nope").status_code == 302


# --- export, copy -------------------------------------------------------------------------


def test_export_json_and_yaml_round_trip(staff):
    draft()
    original = definition_of(find_survey("small"))
    as_json = staff.get("/staff/surveys/small/export.json")
    assert as_json.status_code == 200 and "attachment" in as_json.headers["Content-Disposition"]
    as_yaml = staff.get("/staff/surveys/small/export.yaml")
    assert "Seguridad en la mensajería" in as_yaml.get_data(as_text=True)  # unicode kept
    assert load_definition_text(as_json.get_data(as_text=True), "x.json") == original
    assert load_definition_text(as_yaml.get_data(as_text=True), "x.yaml") == original
    # Re-importing the export gives the identical survey.
    post(staff, "/staff/surveys/small/import", {"file": (io.BytesIO(as_yaml.data), "s.yaml")})
    assert doc_of("small") == original.to_dict()
    assert ("survey.export", "small") in actions()


def test_copy_into_a_new_version(staff, make_open_survey):
    survey, _ = make_open_survey(small_survey_document(slug="live"))
    page = staff.get("/staff/surveys/live/copy")
    assert 'value="live-v2"' in page.get_data(as_text=True)
    copied = post(staff, "/staff/surveys/live/copy", {"new_slug": "live-v2"})
    assert copied.status_code == 302
    db.session.expire_all()
    new = find_survey("live-v2")
    assert new.status == "draft" and new.previous_version_id == survey.id
    assert new.title == survey.title and doc_of("live-v2")["sections"] == doc_of("live")["sections"]
    assert ("survey.copy", "live-v2") in actions()
    taken = post(staff, "/staff/surveys/live/copy", {"new_slug": "live-v2"})
    assert taken.status_code == 422 and "already a survey" in page_text(taken)
    assert 'value="live-v3"' in staff.get("/staff/surveys/live/copy").get_data(as_text=True)


# --- lifecycle, retention, invites --------------------------------------------------------


def test_close_reopen_archive_with_confirmation(staff, make_open_survey):
    make_open_survey(small_survey_document(slug="live"))
    confirm = staff.get("/staff/surveys/live/close")
    assert confirm.status_code == 200 and "nobody can start" in page_text(confirm)
    assert post(staff, "/staff/surveys/live/close").status_code == 302
    assert find_survey("live").status == "closed"
    again = post(staff, "/staff/surveys/live/close")
    assert again.status_code == 409 and "not open" in page_text(again)
    assert post(staff, "/staff/surveys/live/reopen").status_code == 302
    db.session.expire_all()
    assert find_survey("live").status == "open"
    refused = post(staff, "/staff/surveys/live/archive")
    assert refused.status_code == 409 and "close it before archiving" in page_text(refused)
    post(staff, "/staff/surveys/live/close")
    assert post(staff, "/staff/surveys/live/archive").status_code == 302
    db.session.expire_all()
    assert find_survey("live").status == "archived"
    assert post(staff, "/staff/surveys/live/reopen").status_code == 409
    recorded = actions()
    for action in ("survey.close", "survey.reopen", "survey.archive"):
        assert (action, "live") in recorded


def test_retention_date(staff):
    draft()
    today = datetime.now(UTC).date()
    past = post(
        staff,
        "/staff/surveys/small/retention",
        {"retain_until": (today - timedelta(days=1)).isoformat()},
    )
    assert past.status_code == 422 and "has passed" in page_text(past)
    nonsense = post(staff, "/staff/surveys/small/retention", {"retain_until": "31/02/2027"})
    assert nonsense.status_code == 422 and "year-month-day" in page_text(nonsense)
    assert post(staff, "/staff/surveys/small/retention", {}).status_code == 422
    later = (today + timedelta(days=400)).isoformat()
    assert post(staff, "/staff/surveys/small/retention", {"retain_until": later}).status_code == 302
    db.session.expire_all()
    assert find_survey("small").retain_until.isoformat() == later
    assert later in page_text(staff.get("/staff/surveys/small"))
    cleared = post(staff, "/staff/surveys/small/retention", {"action": "clear"})
    assert cleared.status_code == 302
    db.session.expire_all()
    assert find_survey("small").retain_until is None
    assert ("survey.retention", "small") in actions()


def test_invite_codes_csv_printable_and_counts(staff):
    draft(invite_only=True)
    page = staff.get("/staff/surveys/small/invites")
    assert page.status_code == 200 and "0 issued" in re.sub(r"<[^>]+>", "", page_text(page))
    as_csv = post(staff, "/staff/surveys/small/invites", {"count": "3", "action": "csv"})
    assert as_csv.status_code == 200 and as_csv.mimetype == "text/csv"
    assert "attachment" in as_csv.headers["Content-Disposition"]
    lines = as_csv.get_data(as_text=True).splitlines()
    assert lines[0] == "invite_code" and len(lines) == 4
    printable = post(staff, "/staff/surveys/small/invites", {"count": "2", "action": "print"})
    cards = re.findall(
        r'invite-card__code" translate="no" dir="ltr">([^<]+)<', printable.get_data(as_text=True)
    )
    assert len(cards) == 2 and "shown only now" in page_text(printable)
    # Only lookups are stored, never the codes.
    stored = " ".join(i.lookup for i in db.session.scalars(select(InviteCode)))
    assert all(code not in stored for code in [*lines[1:], *cards])
    assert "5 issued" in re.sub(
        r"<[^>]+>", "", page_text(staff.get("/staff/surveys/small/invites"))
    )
    for bad in ("0", "1001", "many", "", "9" * 50):
        refused = post(staff, "/staff/surveys/small/invites", {"count": bad, "action": "csv"})
        assert refused.status_code == 422
    recorded = [e for e in db.session.scalars(select(AuditEntry)) if e.action == "invites.create"]
    assert len(recorded) == 2


def test_invite_codes_are_refused_for_a_survey_that_does_not_use_them(staff):
    """Codes for a survey anyone can answer would change nothing: the page says so and
    links to the setting instead of offering the form, and a POST makes none."""
    draft()
    page = staff.get("/staff/surveys/small/invites")
    text = page_text(page)
    assert "This survey does not use invite codes" in text
    assert "/staff/surveys/small/settings#f-invite_only" in page.get_data(as_text=True)
    assert "How many codes" not in text
    refused = post(staff, "/staff/surveys/small/invites", {"count": "3", "action": "csv"})
    assert refused.status_code == 409
    assert "Turn on “Invite only” in its settings first" in page_text(refused)
    assert 'href="#not-invite-only"' in refused.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(InviteCode)) == 0


def test_invite_cards_speak_the_chosen_language_and_leave_the_title_off_unless_asked(staff):
    draft(invite_only=True)
    page = page_text(staff.get("/staff/surveys/small/invites"))
    assert "Print the survey's title on the cards" in page and "Language of the cards" in page
    english = post(staff, "/staff/surveys/small/invites", {"count": "1", "action": "print"})
    html = english.get_data(as_text=True)
    assert '<ul class="invite-cards" lang="en" dir="ltr">' in html
    assert "Type this invite code:" in html
    assert "invite-card__title" not in html  # off unless ticked
    # A code reads left to right on a card in any language (Arabic's too).
    assert '<p class="invite-card__code" translate="no" dir="ltr">' in html
    spanish = post(
        staff,
        "/staff/surveys/small/invites",
        {"count": "2", "action": "print", "language": "es", "show_title": "1"},
    )
    html = spanish.get_data(as_text=True)
    assert '<ul class="invite-cards" lang="es" dir="ltr">' in html
    assert "Type this invite code:" not in html and "Go to this web address:" not in html
    title = localized_title("small", "es")
    assert html.count(f'<p class="invite-card__title">{title}</p>') == 2
    assert "2 invite codes for" in page_text(spanish)
    # A language the survey doesn't have falls back to its own.
    other = post(
        staff, "/staff/surveys/small/invites", {"count": "1", "action": "print", "language": "fr"}
    )
    assert 'lang="en"' in other.get_data(as_text=True) and "1 invite code for" in page_text(other)


def localized_title(slug, language):
    from survey.definition import localize

    definition = definition_of(find_survey(slug))
    return localize(definition.title, language, definition.default_language)


# --- who may do what ----------------------------------------------------------------------


def test_analysts_see_list_and_overview_but_cannot_edit(app):
    draft()
    make_user("an@example.org", roles=(Role.ANALYST,))
    client = app.test_client()
    sign_in_enrolled(client, "an@example.org")
    assert client.get("/staff/surveys").status_code == 200
    overview = client.get("/staff/surveys/small")
    assert overview.status_code == 200 and "/staff/surveys/small/keys" in overview.get_data(
        as_text=True
    )
    assert "/edit" not in overview.get_data(as_text=True)
    for path in (
        "/staff/surveys/small/edit",
        "/staff/surveys/small/settings",
        "/staff/surveys/small/preview",
    ):
        assert client.get(path).status_code == 403
    assert post(client, "/staff/surveys/small/close").status_code == 403


def test_company_readers_are_refused_everywhere(app):
    draft()
    make_user("reader@co.example", roles=(Role.COMPANY,), org="Co")
    client = app.test_client()
    sign_in(client, "reader@co.example")
    for path in (
        "/staff/surveys",
        "/staff/surveys/small",
        "/staff/surveys/small/edit",
        "/staff/surveys/small/invites",
    ):
        assert client.get(path).status_code == 403
    assert post(client, "/staff/surveys/small/invites", {"count": "1"}).status_code == 403


def test_unknown_survey_is_404(staff):
    assert staff.get("/staff/surveys/nope").status_code == 404
    assert staff.get("/staff/surveys/nope/edit").status_code == 404
    assert staff.get("/staff/surveys/NUL%00").status_code == 404
    assert post(staff, "/staff/surveys/nope/close").status_code == 404


def test_every_builder_action_is_audited_and_the_chain_holds(staff, app):
    draft()
    post(staff, "/staff/surveys/small/settings", settings_form())
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "survey.edit"))
    assert entry.actor == "fac@example.org" and entry.target == "small"


JUNK_FORMS = [
    {},
    {"id": "\x00", "type": "single_choice", "options[99999].value": "x", "languages": "\x00"},
    {"title.en": "x" * 30_000, "languages": "en " * 200, "estimated_minutes": "9" * 5000},
    {"support[5].url": "javascript:alert(1)", "support[0].remove": "1", "show_if.in": ":"},
    {"scale.min": "-" * 20, "min": "1e400", "max": "-0", "max_choices": "1.5", "count": "-1"},
    {"direction": "sideways", "action": "add_row", "retain_until": "9999-99-99", "new_slug": "x"},
    {"first.id": "Q", "first.type": "multi_choice", "text": "flat", "template_slug": ""},
]


def test_no_form_makes_a_server_error(staff):
    draft()
    paths = [
        "/staff/surveys/new",
        "/staff/surveys/new/template",
        "/staff/surveys/new/import",
        "/staff/surveys/small/settings",
        "/staff/surveys/small/sections/add",
        "/staff/surveys/small/sections/you",
        "/staff/surveys/small/sections/you/move",
        "/staff/surveys/small/sections/you/questions/add",
        "/staff/surveys/small/questions/wanted",
        "/staff/surveys/small/questions/apps/move",
        "/staff/surveys/small/retention",
        "/staff/surveys/small/invites",
        "/staff/surveys/small/copy",
        "/staff/surveys/small/import",
    ]
    for path in paths:
        for form in JUNK_FORMS:
            response = post(staff, path, form)
            assert response.status_code < 500, (path, form, response.status_code)
