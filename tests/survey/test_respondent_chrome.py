"""What every respondent page carries around its content (issue 21): "Get support"
beside the quick exit, leading to the support list at the foot of the page; a link
to it in every content note; and pages light enough for a phone on a slow line,
because respondent pages load only the respondent's styles."""

from __future__ import annotations

import html as html_module
import re

import pytest

from survey.config import STATIC_DIR
from tests.factories import Respondent, make_user, sign_in, template_document

SUPPORT_LINK = '<a class="quick-exit__support" href="#support">Get support</a>'
# Everything a respondent page is, as the embedded server sends it (uncompressed).
PAGE_BUDGET_BYTES = 30 * 1024


def html_text(html: str) -> str:
    return html_module.unescape(html)


def header_of(html: str) -> str:
    return html[html.index('<header class="site-header') : html.index("</header>")]


def pages_of_a_journey(r: Respondent) -> dict[str, str]:
    """Each kind of respondent page of the small survey, as HTML."""
    pages = {"landing": r.get("/s/small").get_data(as_text=True)}
    r.start()
    pages["section"] = r.section("you").get_data(as_text=True)
    r.answer("you", {"age_band": "adult"})
    pages["content note"] = r.section("e2ee").get_data(as_text=True)
    pages["review"] = r.get("/s/small/review").get_data(as_text=True)
    pages["resume"] = r.get("/s/small/resume").get_data(as_text=True)
    pages["withdraw"] = r.get("/s/small/withdraw").get_data(as_text=True)
    pages["thanks"] = r.get("/s/small/thanks").get_data(as_text=True)
    return pages


def test_every_respondent_page_has_get_support_beside_the_exit(respondent: Respondent):
    for name, html in pages_of_a_journey(respondent).items():
        header = header_of(html)
        # Next to the exit, in the part of the header that stays on screen.
        exit_at = header.index('id="quick-exit"')
        assert SUPPORT_LINK in header, name
        assert header.index(SUPPORT_LINK) > exit_at, name
        # It leads to the list at the foot of the page, which is still there.
        footer = html[html.index('<footer class="site-footer">') :]
        assert 'id="support"' in footer, name
        assert (
            footer.index('id="support"') < footer.index("Helpline") < footer.index("0800 000 000")
        ), name
        assert html.count('id="support"') == 1, name


def test_every_content_note_names_support(respondent: Respondent):
    r = respondent
    r.start()
    r.answer("you", {"age_band": "adult"})
    html = r.section("e2ee").get_data(as_text=True)
    note = html[html.index('<div class="warning-panel">') :]
    note = note[: note.index("</div>")]
    assert "This section mentions abuse." in note
    assert '<a href="#support">If this is hard, you can get support at any time.</a>' in note


def test_in_spanish_the_link_and_the_note_are_spanish(client, make_open_survey):
    make_open_survey()
    r = Respondent(client, "small")
    r.start(lang="es")
    r.answer("you", {"age_band": "adult"})
    html = r.section("e2ee").get_data(as_text=True)
    assert '<a class="quick-exit__support" href="#support">Pedir ayuda</a>' in html
    assert "Si te cuesta, puedes pedir ayuda cuando quieras." in html


def test_the_note_about_leaving_says_once_what_a_site_cant_clear(respondent: Respondent):
    for name, html in pages_of_a_journey(respondent).items():
        assert html_text(html).count("We can't clear this browser's history") == 1, name
        assert "private (incognito) window" in html, name


# --- light pages ----------------------------------------------------------------------------


def linked_files(html: str) -> list[str]:
    """The stylesheets and scripts a page links (static URLs carry ?v=<hash>)."""
    return re.findall(r'(?:href|src)="/static/([\w.-]+)\?v=[0-9a-f]+"', html)


@pytest.mark.parametrize("page", ["landing", "section", "content note"])
def test_a_respondent_page_with_its_styles_and_scripts_is_light(client, make_open_survey, page):
    """The bundled template's pages, each with every file it links, as served."""
    document = template_document()
    make_open_survey(document)
    r = Respondent(client, document["slug"])
    sections = document["sections"]
    noted = next(s["id"] for s in sections if s.get("content_warning"))
    responses = {"landing": r.get(f"/s/{r.slug}")}
    r.start()
    responses["section"] = r.section(sections[0]["id"])
    responses["content note"] = r.section(noted)
    response = responses[page]
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    if page == "content note":
        assert "warning-panel" in html
    files = linked_files(html)
    assert "chorus.css" in files and "chorus.js" in files
    assert "staff.css" not in files
    total = len(response.data) + sum(len(client.get(f"/static/{name}").data) for name in files)
    assert total <= PAGE_BUDGET_BYTES, (page, total, files)


def test_staff_pages_load_the_staff_styles_too(client):
    make_user()
    sign_in(client)
    html = client.get("/staff/").get_data(as_text=True)
    assert {"chorus.css", "staff.css"} <= set(linked_files(html))
    assert (STATIC_DIR / "staff.css").read_text().count("/* report */") == 1
