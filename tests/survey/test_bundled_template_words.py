"""The bundled template's respondent pages read plainly (issue 21, point 10).

Every page a respondent reads with the template's own words on it: the landing
page, every content note and every section page, in English and in Spanish,
measured as tests/plain_words.py measures a page (its prose in <main>). The bars
are the issue's: Flesch-Kincaid grade at most 6 in English, Fernández-Huerta
reading ease at least 80 in Spanish. Follow-up questions are in a section's page
(hidden until an answer reveals them), so they are measured too.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from tests.factories import Respondent, template_document
from tests.plain_words import english_grade, prose_blocks, spanish_ease

ENGLISH_GRADE_AT_MOST = 6.0
SPANISH_EASE_AT_LEAST = 80.0


def template_pages(app: Flask, slug: str, document: dict, language: str) -> Iterator[tuple]:
    """(page name, html) for the landing page, each content note and each section
    page, walked by one new respondent in `language`."""
    r = Respondent(app.test_client(), slug)
    yield "landing", r.get(f"/s/{slug}?lang={language}").get_data(as_text=True)
    r.start(lang=language)
    for section in document["sections"]:
        page = r.section(section["id"])
        if section.get("content_warning"):
            assert 'value="skip"' in r.last_html, f"no content note before {section['id']}"
            yield f"{section['id']} (content note)", page.get_data(as_text=True)
            r.pass_warning(section["id"])
            page = r.section(section["id"])
        yield section["id"], page.get_data(as_text=True)


@pytest.fixture
def template_slug(make_open_survey) -> str:
    survey, _ = make_open_survey(template_document())
    return survey.slug


def measured(app, slug, language, measure) -> dict[str, float]:
    pages = dict(template_pages(app, slug, template_document(), language))
    # Every page has prose to measure (an empty page would measure as easy).
    assert all(prose_blocks(html) for html in pages.values()), list(pages)
    return {name: measure(html) for name, html in pages.items()}


def test_every_english_page_of_the_template_reads_at_grade_6_or_below(app, template_slug):
    grades = measured(app, template_slug, "en", english_grade)
    assert len(grades) == 1 + len(template_document()["sections"]) + sum(
        1 for s in template_document()["sections"] if s.get("content_warning")
    )
    assert {name: g for name, g in grades.items() if g > ENGLISH_GRADE_AT_MOST} == {}


def test_every_spanish_page_of_the_template_reads_at_ease_80_or_above(app, template_slug):
    eases = measured(app, template_slug, "es", spanish_ease)
    assert {name: e for name, e in eases.items() if e < SPANISH_EASE_AT_LEAST} == {}
