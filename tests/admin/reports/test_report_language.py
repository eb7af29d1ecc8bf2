"""A report is written in its survey's language (issue 13, "Languages"): its headings,
table headers, chart words and method text, with dates and numbers as that language
writes them, in the HTML, the PDF and the company portal; the English pages around
it stay English, and the document's machine values don't change."""

from __future__ import annotations

import copy
import re
import shutil
import subprocess

import pytest

from admin.reports import render
from admin.reports.build import Published, build_report
from admin.reports.draft import DraftReport, FindingDraft, draft_for, save_draft
from admin.reports.publish import publish
from survey.models import Organisation, Role, db
from survey.report_format import SUPPRESSED
from survey.weeks import week_label
from tests.admin.conftest import PEOPLE
from tests.factories import (
    CUSTODIAN_EMAIL,
    answered_small_survey,
    make_user,
    sign_in,
    unlocked_analyst,
)

ACME = "Example Messaging Ltd"
# 2026-W49 starts on Monday 30 November 2026.
PUBLISHED = Published(version=1, published_week="2026-W49", addressed_to=[ACME])
FINDING = FindingDraft(
    id="harm",
    title="El cifrado sin salvaguardas perjudica a la infancia",
    feature="cifrado de extremo a extremo",
    affected="Menores captados en mensajes privados.",
    affected_by=["age_band"],
    severity_question="harm_scale",
    mitigation_questions=["wanted"],
    evidence_questions=["age_band"],
)
# The report's own English words, none of which a Spanish report may carry.
ENGLISH_WORDS = (
    "Impact report",
    "Contents",
    "Findings",
    "Results by question",
    "Breakdowns",
    "Method and limitations",
    "Limitations",
    "Numbers hidden to protect people",
    "Support",
    "Published",
    "Respondents",
    "Page",
    "Collection period",
    "Week of",
    "week of",
    "Answered:",
    "Prefer not to say:",
    "Skipped:",
    "Answer",
    "Count",
    "Percent",
    "How severe",
    "Evidence",
    "Product feature",
    "hidden",
    "No answer",
    "people answered",
)
SPANISH_WORDS = (
    "Índice",
    "Conclusiones",
    "Resultados por pregunta",
    "Desgloses",
    "Método y limitaciones",
    "Cifras ocultas para proteger a las personas",
    "Apoyo",
    "Publicado",
    "Personas que respondieron",
    "Respondieron: 60",
    "Recuento",
    "Porcentaje",
    "Gravedad",
    "Función del producto",
    "oculto",
    "60 personas respondieron a un cuestionario anónimo",
    "No se muestran los recuentos inferiores a 10",
)


def spanish_survey():
    """tests/admin/conftest.py's 60 people, answering the small survey in Spanish."""
    support = [
        {
            "name": {"es": "Línea de ayuda", "en": "Helpline"},
            "phone": "0800 000 000",
            "hours": {"es": "24 horas", "en": "24/7"},
        }
    ]
    return answered_small_survey(PEOPLE, languages=["es", "en"], support=support)


def text_of(html: str) -> str:
    """What a reader reads: no style element, no tags, spaces (and Babel's no-break
    spaces) squeezed."""
    html = re.sub(r"<style.*?</style>", " ", html, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", html).replace("\u00a0", " ").replace("\u202f", " ")
    return re.sub(r"\s+", " ", text)


def assert_spanish(text: str) -> None:
    """Spanish words, numbers and no English word of the report's own, whatever the
    case (the PDF's stylesheet capitalises some headings)."""
    for words in SPANISH_WORDS:
        assert words.lower() in text.lower(), words
    for words in ENGLISH_WORDS:
        assert not re.search(rf"\b{re.escape(words)}\b", text, re.IGNORECASE), words
    # Babel's Spanish percentages: a decimal comma and a space before the sign.
    assert "20,0 %" in text and "33,3 %" in text
    assert "20.0%" not in text


@pytest.fixture
def spanish_report(app):
    survey, frame = spanish_survey()
    return build_report(survey, frame, DraftReport(findings=[FINDING]), PUBLISHED)


def test_the_document_is_written_in_the_survey_language_and_keeps_its_machine_values(
    spanish_report,
):
    report = spanish_report
    assert report["survey"]["language"] == "es"
    assert report["survey"]["title"] == "Seguridad en la mensajería"
    assert report["method"].startswith("60 personas respondieron a un cuestionario anónimo")
    assert "semana" in report["method"] and "week" not in report["method"]
    assert report["disclosure"]["method"] == (
        "No se muestran los recuentos inferiores a 10 ni los que permitirían deducirlos."
    )
    assert report["limitations"].startswith("La participación fue voluntaria")
    # What readers' tools read stays as the contract says.
    age = next(q for q in report["questions"] if q["id"] == "age_band")
    assert age["display"] == [SUPPRESSED, SUPPRESSED] and age["counts"] == [None, None]
    [breakdown] = report["breakdowns"]
    assert breakdown["rows"][-1] == "no_answer" and breakdown["row_labels"][-1] == "Sin respuesta"
    assert report["findings"][0]["mitigations"] == "Denuncias (70,0\u00a0%)."
    assert report["published"] == "2026-W49"


def test_the_html_is_in_spanish_with_spanish_dates_and_numbers(spanish_report):
    html = render.standalone_html(spanish_report)
    assert '<html lang="es" dir="ltr">' in html
    text = text_of(html)
    assert_spanish(text)
    assert "Semana del 30 de noviembre de 2026" in text and "Informe de impacto" in text
    assert "Seguridad en la mensajería: informe de impacto, versión 1" in text
    # Chart texts (alt) too.
    assert "Gráfico de barras de respuestas a «¿Cuánto daño?»" in html


def test_numbers_are_grouped_as_the_language_groups_them(spanish_report):
    """The renderer writes the document's numbers; a bigger survey's totals are
    grouped in Spanish with a point, in English with a comma."""
    big = copy.deepcopy(spanish_report)
    big["respondents"] = 1234
    assert "Personas que respondieron 1.234" in text_of(render.standalone_html(big))
    big["survey"]["language"] = "en"
    english = text_of(render.standalone_html(big))
    assert "Respondents 1,234" in english and "Week of 30 November 2026" in english


needs_pdftotext = pytest.mark.skipif(
    not shutil.which("pdftotext"), reason="poppler-utils (pdftotext) is not installed"
)


def pdf_text(pdf: bytes, folder) -> str:
    path = folder / "report.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(
        ["pdftotext", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout
    return re.sub(r"\s+", " ", text.replace("\u00a0", " ").replace("\u202f", " "))


@needs_pdftotext
def test_the_pdf_is_in_spanish(spanish_report, tmp_path):
    text = pdf_text(render.report_pdf(spanish_report), tmp_path)
    assert "Semana del 30 de noviembre de 2026" in text and "Página 1 de" in text
    assert_spanish(text)


def test_a_chart_draws_spanish_words_and_numbers(spanish_report):
    age = next(q for q in spanish_report["questions"] if q["id"] == "age_band")
    svg = render.chart_svg(age["labels"], age["percent"], "es").decode()
    drawn = re.findall(r"<text[^>]*>(.*?)</text>", svg)
    assert drawn.count("oculto") == 2 and "hidden" not in drawn
    assert "25\u00a0%" in drawn and "25%" not in drawn
    english = render.chart_version(age["labels"], age["percent"], "en")
    assert render.chart_version(age["labels"], age["percent"], "es") != english


@needs_pdftotext
def test_the_portal_shows_the_report_in_spanish_inside_english_pages(app, tmp_path):
    survey, frame = spanish_survey()
    save_draft(survey, DraftReport(findings=[FINDING]))
    org = Organisation(name=ACME)
    db.session.add(org)
    db.session.commit()
    version = publish(survey, frame, draft_for(survey), [org], CUSTODIAN_EMAIL)
    make_user("reader@acme.example", roles=(Role.COMPANY,), org=ACME)
    client = app.test_client()
    sign_in(client, "reader@acme.example")

    page = client.get(f"/portal/reports/{version.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    article = html[html.index('<article class="report"') : html.index("</article>")]
    # Under each finding, the portal's own box for the organisation's answer, in English.
    assert article.count('<div class="portal-answer"') == 1 and "Answer this finding" in article
    body = text_of(re.sub(r'<div class="portal-answer".*?</div>', "", article, flags=re.S))
    assert_spanish(body)
    assert week_label(version.published_week, capitalised=True, language="es") in body
    assert body.count("Semana del ") >= 1
    # The page around the report is the portal's, in English.
    around = text_of(html[: html.index('<article class="report"')])
    assert "Report (PDF)" in around and "Published in the week of" in around

    finding = client.get(f"/portal/reports/{version.id}/findings/harm")
    assert finding.status_code == 200
    html = finding.get_data(as_text=True)
    assert '<h1 class="portal-finding__title" lang="es">' in html
    text = text_of(html)
    for words in ("Función del producto", "A quién perjudica", "Gravedad", "Recuento"):
        assert words in text, words
    assert "Save answer" in text  # the form is the portal's, in English
    assert "Product feature" not in text and "How severe" not in text

    # The PDF the portal hands out, made when the version was published.
    pdf = client.get(f"/portal/reports/{version.id}/report.pdf")
    assert pdf.status_code == 200
    assert_spanish(pdf_text(pdf.data, tmp_path))


def test_the_staff_preview_shows_the_report_in_spanish_inside_an_english_page(app):
    survey, _ = spanish_survey()
    save_draft(survey, DraftReport(findings=[FINDING]))
    client = unlocked_analyst(app)
    page = client.get("/staff/surveys/small/report/preview")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    article = html[html.index('<article class="report"') : html.index("</article>")]
    assert_spanish(text_of(article))
    assert "Preview of the next version" in text_of(html[: html.index('<article class="report"')])
