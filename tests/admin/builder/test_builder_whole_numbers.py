"""The builder's "Whole numbers only" box on a number question (`integer` in the format)."""

from __future__ import annotations

from tests.admin.builder.test_builder import doc_of, draft, post

APPS = {
    "type": "number",
    "id": "apps",
    "text.en": "How many apps?",
    "text.es": "¿Cuántas apps?",
    "min": "0",
    "max": "30",
    "prefer_not_to_say": "1",
}


def apps_question() -> dict:
    return doc_of("small")["sections"][0]["questions"][2]


def test_whole_numbers_only_is_ticked_saved_shown_again_and_cleared(staff):
    draft()
    page = staff.get("/staff/surveys/small/questions/apps").get_data(as_text=True)
    assert 'name="integer"' in page and "Whole numbers only" in page
    assert (
        post(staff, "/staff/surveys/small/questions/apps", {**APPS, "integer": "1"}).status_code
        == 302
    )
    assert apps_question()["integer"] is True
    page = staff.get("/staff/surveys/small/questions/apps").get_data(as_text=True)
    assert 'name="integer" value="1" checked' in page
    assert post(staff, "/staff/surveys/small/questions/apps", APPS).status_code == 302
    assert "integer" not in apps_question()


def test_only_number_questions_offer_it(staff):
    """Every kind's fields are on the page (a new kind shows its own at once), so the
    box is there for another kind only inside the number fields, hidden."""
    draft()
    page = staff.get("/staff/surveys/small/questions/adult_only").get_data(as_text=True)
    number_fields = page.index('<div data-kinds="number" hidden>')
    next_kinds = page.index("data-kinds=", number_fields + len("<div data-kinds"))
    assert page.count('name="integer"') == 1
    assert number_fields < page.index('name="integer"') < next_kinds
