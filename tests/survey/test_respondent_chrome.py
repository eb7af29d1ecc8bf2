"""What every respondent page carries around its content (issue 21): "Get support"
beside the quick exit, leading to the support list at the foot of the page; a link
to it in every content note; and pages light enough for a phone on a slow line,
because respondent pages load only the respondent's styles."""

from __future__ import annotations

import html as html_module
import re

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
        # It leads to the support list: at the foot of the page, or on the thanks
        # page, where the list is part of the page, to that one (shown once).
        assert html.count('id="support"') == 1, name
        target = html[html.index('id="support"') :]
        assert target.index("Helpline") < target.index("0800 000 000"), name
        footer = html[html.index('<footer class="site-footer">') :]
        assert ('id="support"' in footer) == (name != "thanks"), name


def test_every_content_note_names_support(respondent: Respondent):
    r = respondent
    r.start()
    r.answer("you", {"age_band": "adult"})
    html = r.section("e2ee").get_data(as_text=True)
    # The note holds its words, the two choices, then where support is.
    note = html[html.index('<div class="warning-panel">') :]
    note = note[: note.index("</form>")]
    link = '<a href="#support">If this is hard, you can get support at any time.</a>'
    assert (
        note.index("This section mentions abuse.") < note.index('value="skip"') < note.index(link)
    )


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


def questions_of(html: str) -> str:
    """A section page's questions: from the first question to the form's buttons."""
    return html[html.index('<div class="question') : html.index('<div class="actions">')]


def template_pages(client) -> dict[str, object]:
    """Every kind of page of the bundled template a respondent meets, as responses:
    the landing page, each section and content note, the review of a whole survey
    answered, the resume code, the receipt, the thanks and withdraw pages."""
    document = template_document()
    slug = document["slug"]
    r = Respondent(client, slug)
    pages: dict[str, object] = {"landing": r.get(f"/s/{slug}")}
    location = r.start().location
    while not location.endswith("/review"):
        path = location.split("?")[0]
        page = r.get(path)
        section_id = path.rsplit("/", 1)[1]
        if f"/section/{section_id}/warning" in r.last_html:
            pages[f"content note {section_id}"] = page
            location = r.post(f"{path}/warning", {"action": "continue"}).location
            continue
        pages[f"section {section_id}"] = page
        if "resume code" not in pages:
            r.post(path, {"action": "save"})
            pages["resume code"] = r.get(f"/s/{slug}/code")
            r.post(f"/s/{slug}/code", {"saved": "1"})
            r.get(path)
        location = r.post(path, {"action": "next"}).location
    pages["review"] = r.get(f"/s/{slug}/review")
    r.post(f"/s/{slug}/submit")
    pages["receipt"] = r.get(f"/s/{slug}/receipt")
    r.post(f"/s/{slug}/receipt", {"saved": "1"})
    pages["thanks"] = r.get(f"/s/{slug}/thanks")
    pages["withdraw"] = r.get(f"/s/{slug}/withdraw")
    return pages


def test_every_respondent_page_with_its_styles_and_scripts_is_light(client, make_open_survey):
    """The bundled template's pages, each with every file it links, as served: no page
    carries the staff side's styles, or another page's."""
    make_open_survey(template_document())
    pages = template_pages(client)
    assert sum(name.startswith("content note") for name in pages) >= 3
    assert sum(name.startswith("section") for name in pages) >= 6
    weights = {}
    for name, response in pages.items():
        html = response.get_data(as_text=True)  # type: ignore[attr-defined]
        assert response.status_code == 200, name  # type: ignore[attr-defined]
        files = linked_files(html)
        assert "chorus.css" in files and "chorus.js" in files, name
        assert "staff.css" not in files, name
        assert ("codes.js" in files) == (name in ("receipt", "resume code")), name
        assert ("review.css" in files) == (name == "review"), name
        weight = len(response.data) + sum(  # type: ignore[attr-defined]
            len(client.get(f"/static/{file}").data) for file in files
        )
        if name.startswith("section"):
            # A section weighs what its questions weigh (up to 10 KB more for the
            # template's longest): the budget is for everything else.
            weight -= len(questions_of(html).encode())
        weights[name] = weight
    assert max(weights.values()) <= PAGE_BUDGET_BYTES, sorted(weights.items())


def test_staff_pages_load_the_staff_styles_too(client):
    make_user()
    sign_in(client)
    html = client.get("/staff/").get_data(as_text=True)
    assert {"chorus.css", "staff.css"} <= set(linked_files(html))
    assert (STATIC_DIR / "staff.css").read_text().count("/* report */") == 1
