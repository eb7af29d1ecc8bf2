"""Support services in the builder: a starting list the facilitator ticks, and no
opening without one (survey/support_services.py, survey/surveys.py)."""

from __future__ import annotations

import html as htmllib
import json
import re

from survey.definition import missing_translations, parse_definition
from survey.support_services import SUGGESTED_SERVICES, suggestions_for
from survey.surveys import bundled_template_text, definition_of, find_survey, import_definition
from tests.admin.builder.test_builder import doc_of, post
from tests.factories import CSRF_RE, page_text, small_survey_document


def lonely(slug="lonely", **changes):
    """A draft without support services."""
    document = small_survey_document(slug=slug, **changes)
    del document["support"]
    return import_definition(parse_definition(document))


def settings_form(client, slug):
    """The settings form as the page fills it (text fields; no box ticked)."""
    html = client.get(f"/staff/surveys/{slug}/settings").get_data(as_text=True)
    inputs = re.findall(
        r'<input class="input[^"]*" type="[a-z]+"[^>]* name="([^"]+)" value="([^"]*)"', html
    )
    form = {name: htmllib.unescape(value) for name, value in inputs}
    for name, value in re.findall(r'<textarea[^>]* name="([^"]+)"[^>]*>([^<]*)</textarea>', html):
        form[name] = htmllib.unescape(value)
    form["csrf_token"] = CSRF_RE.search(html).group(1)
    return form


def test_every_suggestion_is_word_for_word_a_service_the_template_names():
    """The starting list holds only services whose details the bundled template
    already gives: nothing invented."""
    template = json.loads(bundled_template_text())["support"]
    for service in SUGGESTED_SERVICES:
        assert service.as_support(["en", "es", "ar"]) in template, service.key


def test_suggestions_follow_the_survey_languages():
    def keys(languages):
        return [s.key for s in suggestions_for(languages)]

    assert keys(["en"]) == ["child-helpline-international", "childline-uk", "napac-uk"]
    assert keys(["es-419"]) == ["child-helpline-international", "anar-spain"]
    assert keys(["fr"]) == ["child-helpline-international"]
    # A language the list has no words in gets one text (English here), never copied
    # under the other languages' names: the entry is valid, and the survey lists it as
    # untranslated, so it can't open until the facilitator translates it.
    entry = SUGGESTED_SERVICES[0].as_support(["fr", "en"])
    assert entry["name"] == SUGGESTED_SERVICES[0].name["en"]
    document = small_survey_document(languages=["fr", "en"], title="T", support=[entry])
    document["sections"] = [
        {"id": "s", "title": "S", "questions": [{"id": "q", "type": "info", "text": "i"}]}
    ]
    definition = parse_definition(document)
    assert definition.support[0].url == SUGGESTED_SERVICES[0].url
    assert "support[0].name" in {item.path for item in missing_translations(definition)}
    # Every language the list speaks gets its own words: Arabic too.
    arabic = SUGGESTED_SERVICES[1].as_support(["en", "ar"])
    assert set(arabic["name"]) == set(arabic["hours"]) == {"en", "ar"}
    assert arabic["hours"]["ar"] != arabic["hours"]["en"]


def test_the_open_page_says_what_is_missing_and_where_to_add_it(staff):
    lonely()
    page = staff.get("/staff/surveys/lonely/open")
    text = page_text(page)
    assert page.status_code == 200
    assert "Add support services first" in text and "has no support services" in text
    assert 'href="/staff/surveys/lonely/settings#f-support"' in page.get_data(as_text=True)
    assert "Make the keys" not in text
    # The browser way first: the command line is a secondary note after the link.
    html = page.get_data(as_text=True)
    assert "tick some from the starting list" in text
    assert html.index("settings#f-support") < html.index("chorus survey import")
    assert (
        "chorus survey import" not in html[: html.index('id="no-support"') + 800].split("</div>")[0]
    )
    refused = post(staff, "/staff/surveys/lonely/open", {"understood": "yes"})
    assert refused.status_code == 409 and "has no support services" in page_text(refused)
    assert find_survey("lonely").public_key is None


def test_ticked_suggestions_are_added_and_nothing_else(staff):
    lonely()
    page = page_text(staff.get("/staff/surveys/lonely/settings"))
    assert "This survey has no support services yet" in page
    assert "Child Helpline International" in page and "Fundación ANAR" in page

    # Saving, with either button, adds nothing that isn't ticked.
    form = settings_form(staff, "lonely")
    for action in ({}, {"action": "add_suggested"}):
        saved = staff.post("/staff/surveys/lonely/settings", data={**form, **action})
        assert saved.status_code == 302 and saved.location.endswith("/staff/surveys/lonely/edit")
        assert "support" not in doc_of("lonely")

    form = settings_form(staff, "lonely")
    added = staff.post(
        "/staff/surveys/lonely/settings",
        data={
            **form,
            "suggested": ["child-helpline-international", "anar-spain", "no-such-service"],
            "action": "add_suggested",
        },
    )
    assert added.status_code == 302
    assert added.location.endswith("/staff/surveys/lonely/settings#f-support")
    support = doc_of("lonely")["support"]
    assert [s["url"] for s in support] == [
        "https://childhelplineinternational.org/helplines/",
        "https://www.anar.org",
    ]
    assert support[1]["name"]["es"] == "Fundación ANAR (España, para niños, niñas y adolescentes)"
    again = page_text(staff.get("/staff/surveys/lonely/settings"))
    assert "Support services added: Child Helpline International" in again
    assert "This survey has no support services yet" not in again
    # What is listed already is not offered again; ticking it twice adds it once.
    assert 'value="anar-spain"' not in staff.get("/staff/surveys/lonely/settings").get_data(
        as_text=True
    )
    form = settings_form(staff, "lonely")
    staff.post("/staff/surveys/lonely/settings", data={**form, "suggested": "anar-spain"})
    assert len(doc_of("lonely")["support"]) == 2

    # Now it can open.
    assert "Make the keys" in page_text(staff.get("/staff/surveys/lonely/open"))


def test_the_estimate_shows_in_settings_and_on_the_landing_page(staff, make_open_survey, client):
    survey = lonely(slug="timed")
    minutes = definition_of(survey).estimated_minutes_from_questions()
    page = page_text(staff.get("/staff/surveys/timed/settings"))
    assert f"about {minutes} minutes now" in page and "90 for a long text" in page
