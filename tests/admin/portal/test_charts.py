"""Report charts as files of their own: who may fetch one (exactly who may read its
report), what it holds (only what disclosure control let through), and how a
browser may keep it."""

from __future__ import annotations

import html
import json
import re

import pytest
from sqlalchemy import select

from admin.reports import render
from admin.reports.draft import DraftReport, FindingDraft, save_draft
from admin.reports.publish import publish
from survey.models import Organisation, ReportVersion, Role, db
from survey.privacy import CONTENT_SECURITY_POLICY
from tests.factories import (
    CUSTODIAN_EMAIL,
    csrf,
    make_user,
    page_text,
    sign_in,
    sign_in_enrolled,
    unlocked_analyst,
)

ACME = "Example Messaging Ltd"
OTHER = "Elsewhere Ltd"
SVG = "image/svg+xml"


def reader(app, email="reader@acme.example", organisation=ACME):
    make_user(email, roles=(Role.COMPANY,), org=organisation)
    client = app.test_client()
    sign_in(client, email)
    return client


def chart_path(version, key="question-detect_images"):
    return f"/portal/reports/{version.id}/charts/{key}.svg"


def drawn_texts(svg: bytes) -> list[str]:
    """The texts a chart draws: its <text> elements (admin/reports/bar_chart.py)."""
    return [html.unescape(text) for text in re.findall(r"<text[^>]*>(.*?)</text>", svg.decode())]


def chart_sources(html: str) -> list[str]:
    return re.findall(r'<img class="report-chart__image" src="([^"]+)"', html)


# --- who may fetch a chart ---------------------------------------------------------------


def test_the_addressed_company_gets_the_chart_as_a_cacheable_svg(app, make_published_report):
    version = make_published_report([ACME])
    client = reader(app)
    response = client.get(chart_path(version))
    assert response.status_code == 200
    assert response.mimetype == SVG
    assert response.data.startswith(b"<?xml") and b"<svg" in response.data
    # Only the reader's own browser may keep it, for a day; the ETag says which chart.
    assert response.headers["Cache-Control"] == "private, max-age=86400"
    assert "Pragma" not in response.headers
    etag = response.headers["ETag"]
    assert etag.strip('"') and not etag.startswith("W/")
    # The same strict headers as any page, and nothing to sniff.
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    again = client.get(chart_path(version), headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["Cache-Control"] == "private, max-age=86400"
    other = client.get(chart_path(version, "severity-f1"), headers={"If-None-Match": etag})
    assert other.status_code == 200 and other.headers["ETag"] != etag


def test_the_etag_is_the_fingerprint_in_the_pages_url(app, make_published_report):
    version = make_published_report([ACME])
    client = reader(app)
    page = page_text(client.get(f"/portal/reports/{version.id}"))
    sources = chart_sources(page)
    document = json.loads(version.snapshot_json)
    assert len(sources) == len(document["questions"]) + 1  # and f1's severity
    for source in sources:
        path, fingerprint = re.fullmatch(
            r"(/portal/reports/\d+/charts/[\w-]+\.svg)\?v=(\w+)", source
        ).groups()
        response = client.get(source)
        assert response.status_code == 200, source
        assert response.headers["ETag"] == f'"{fingerprint}"'
        assert client.get(path).headers["ETag"] == f'"{fingerprint}"'  # with or without ?v=


def test_the_page_carries_no_chart_inside_itself(app, make_published_report):
    version = make_published_report([ACME])
    response = reader(app).get(f"/portal/reports/{version.id}")
    html = page_text(response)
    assert "data:image" not in html and "base64" not in html
    # Charts of folded sections are fetched only when they are opened.
    assert all('loading="lazy"' in tag for tag in re.findall(r"<img [^>]+>", html))
    assert "img-src 'self';" in response.headers["Content-Security-Policy"]


def test_anyone_else_gets_what_the_report_would_give_them(app, make_published_report):
    version = make_published_report([ACME])
    unaddressed = make_published_report([OTHER])
    # Not signed in: the sign-in page, as for every staff address.
    anonymous = app.test_client().get(chart_path(version))
    assert anonymous.status_code == 302 and "/staff/login" in anonymous.location
    # Another company: as if it didn't exist, the same as the report.
    elsewhere = reader(app, "b@else.example", OTHER)
    assert elsewhere.get(chart_path(version)).status_code == 404
    assert elsewhere.get(f"/portal/reports/{version.id}").status_code == 404
    assert elsewhere.get(chart_path(unaddressed)).status_code == 200
    mine = reader(app)
    assert mine.get(chart_path(unaddressed)).status_code == 404
    # A chart the report doesn't have, and ids that name nothing.
    for path in (
        chart_path(version, "question-nothing"),
        chart_path(version, "severity-f2"),  # f2 has no severity
        chart_path(version, "breakdown-0"),
        chart_path(version, "question-"),
        "/portal/reports/999999/charts/question-detect_images.svg",
        "/portal/reports/2147483648/charts/question-detect_images.svg",
    ):
        assert mine.get(path).status_code == 404, path


@pytest.mark.parametrize("role", [Role.FACILITATOR, Role.ANALYST, Role.ADMIN])
def test_staff_read_every_published_chart(app, make_published_report, role):
    version = make_published_report([ACME])
    make_user(f"{role.value}@example.org", roles=(role,))
    client = app.test_client()
    sign_in_enrolled(client, f"{role.value}@example.org")
    response = client.get(chart_path(version))
    assert response.status_code == 200 and response.mimetype == SVG


# --- what a chart holds ------------------------------------------------------------------


def _published(answered_survey):
    survey, frame = answered_survey
    save_draft(
        survey,
        DraftReport(
            findings=[
                FindingDraft(
                    id="harm",
                    title="Encryption without safeguards harms children",
                    severity_question="harm_scale",
                    evidence_questions=["wanted", "age_band"],
                )
            ]
        ),
    )
    org = Organisation(name=ACME)
    db.session.add(org)
    db.session.commit()
    from admin.reports.draft import draft_for

    return publish(survey, frame, draft_for(survey), [org], CUSTODIAN_EMAIL)


def test_a_chart_draws_no_hidden_number(app, answered_survey):
    """tests/admin/conftest.py's 60 people: 5 of the 50 who answered "wanted" chose
    "defaults" (10.0%), and 8 of 58 are under 18 (13.8%): both below k, so both hidden,
    as are the cells hidden to protect them."""
    version = _published(answered_survey)
    document = json.loads(version.snapshot_json)
    client = reader(app)
    for key, question_id, true_percent in (
        ("question-wanted", "wanted", "10.0%"),
        ("question-age_band", "age_band", "13.8%"),
    ):
        question = next(q for q in document["questions"] if q["id"] == question_id)
        assert None in question["counts"]
        texts = drawn_texts(client.get(chart_path(version, key)).data)
        assert true_percent not in texts
        shown = {f"{p:.1f}%" for p in question["percent"] if p is not None}
        assert {
            t for t in texts if t.endswith("%") and t not in {"0%", "25%", "50%", "75%", "100%"}
        } == shown
        # Every hidden bar says the same word, and no number.
        assert texts.count(render.HIDDEN_TEXT) == question["counts"].count(None)
    severity = drawn_texts(client.get(chart_path(version, "severity-harm")).data)
    assert "Harm" not in severity and severity  # the severity chart is the scale's


# --- the custodians' preview -------------------------------------------------------------


def test_preview_charts_need_an_unlocked_custodian_and_are_never_kept(app, answered_survey):
    client = unlocked_analyst(app)
    preview = client.get("/staff/surveys/small/report/preview")
    assert preview.status_code == 200
    sources = chart_sources(page_text(preview))
    assert sources and all(
        s.startswith("/staff/surveys/small/report/preview/charts/") for s in sources
    )
    for source in sources:
        chart = client.get(source)
        assert chart.status_code == 200 and chart.mimetype == SVG
        assert chart.headers["Cache-Control"] == "no-store"
    path = sources[0].split("?")[0]

    # An analyst who holds no key of the survey, and a company reader: refused.
    make_user("other@example.org", roles=(Role.ANALYST,))
    outsider = app.test_client()
    sign_in_enrolled(outsider, "other@example.org")
    assert outsider.get(path).status_code == 403
    assert reader(app).get(path).status_code == 403
    assert app.test_client().get(path).status_code == 302  # not signed in: sign in

    assert (
        client.get("/staff/surveys/small/report/preview/charts/question-x.svg").status_code == 404
    )

    # The custodian once the survey is locked again: sent to unlock, as the preview is.
    lock = "/staff/surveys/small/keys/lock"
    client.post(lock, data={"csrf_token": csrf(client, "/staff/surveys/small/keys")})
    refused = client.get(path)
    assert refused.status_code == 302 and refused.location.endswith("/staff/surveys/small/keys")
    assert "<svg" not in refused.get_data(as_text=True)


def test_a_preview_chart_is_drawn_even_when_the_page_was_drawn_elsewhere(app, answered_survey):
    """The page keeps its document in this process's unlock memory; a chart asked of
    another process (or after the memory was dropped) builds the document again."""
    from admin.custody import unlock

    client = unlocked_analyst(app)
    with unlock._scratch_lock:
        unlock._scratch.clear()
    chart = client.get("/staff/surveys/small/report/preview/charts/question-harm_scale.svg")
    assert chart.status_code == 200 and chart.mimetype == SVG
    assert db.session.scalar(select(ReportVersion)) is None  # a preview stores nothing
