"""Building a report from known answers: the expected percentages, and no count
between 1 and k-1 anywhere in the document."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from admin.reports.build import Published, build_report, clean_markdown
from admin.reports.draft import (
    DraftReport,
    FindingDraft,
    ReportError,
    draft_for,
    draft_problems,
    save_draft,
)
from survey.surveys import definition_of

K = 10


FIRST = Published(version=1, published_week="2026-W48", addressed_to=["Example Messaging Ltd"])


def test_known_answers_give_the_expected_percentages_and_hide_small_cells(answered_survey):
    survey, frame = answered_survey
    draft = DraftReport(
        findings=[
            FindingDraft(
                id="harm",
                title="Encryption without safeguards harms children",
                feature="end-to-end encryption",
                affected="Children groomed in private messages.",
                affected_by=["age_band"],
                severity_question="harm_scale",
                mitigation_questions=["wanted"],
                narrative="**Keep detection.** <script>alert(1)</script>",
            )
        ]
    )
    report = build_report(survey, frame, draft, FIRST)
    assert report["format"] == "chorus-report/1" and report["respondents"] == 60
    questions = {q["id"]: q for q in report["questions"]}

    harm = questions["harm_scale"]
    assert harm["answered"] == 60 and harm["categories"] == ["1", "2", "3", "4", "5"]
    assert harm["counts"] == [0, 12, 15, 13, 20]
    assert harm["percent"] == [0.0, 20.0, 25.0, 21.7, 33.3]

    # 8 under-18s are fewer than k; 50 adults would give them away (58 answered).
    age = questions["age_band"]
    assert age["counts"] == [None, None] and age["percent"] == [None, None]
    assert age["display"] == ["suppressed", "suppressed"]
    assert age["answered"] == 58

    # Multi-choice: 45 chose detection, so 5 who answered didn't — also too few.
    wanted = questions["wanted"]
    assert wanted["answered"] == 50
    assert wanted["counts"] == [None, 35, None, 0]
    assert wanted["percent"][1] == 70.0

    # Non-answers are bases, published as they are (as the contract's example does).
    assert (age["prefer_not_to_say"], age["skipped"], age["not_shown"]) == (2, 0, 0)

    [finding] = report["findings"]
    assert finding["severity"]["counts"] == harm["counts"]
    assert finding["mitigations"] == "Reporting (70.0%)."
    assert "<script>" not in finding["narrative"] and "**Keep detection.**" in finding["narrative"]
    [index] = finding["evidence"]["breakdowns"]
    breakdown = report["breakdowns"][index]
    assert breakdown["question"] == "harm_scale" and breakdown["by"] == "age_band"
    assert breakdown["rows"] == ["under_18", "adult", "no_answer"]
    assert breakdown["columns"][-1] == "no_answer"

    every_count = _every_count(report)
    assert every_count, "the report has counts"
    small = [c for c in every_count if c is not None and 0 < c < K]
    assert small == [], small
    assert "<script" not in json.dumps(report)


def _every_count(report):
    counts = []
    for q in report["questions"]:
        counts += q["counts"]
    for b in report["breakdowns"]:
        for row in b["counts"]:
            counts += row
    return counts


def test_too_few_respondents_and_differencing_are_refused(answered_survey):
    survey, frame = answered_survey
    with pytest.raises(ReportError, match="need at least 20"):
        build_report(survey, frame.iloc[:15], DraftReport(), FIRST)
    first = build_report(survey, frame.iloc[:57], DraftReport(), FIRST)
    later = Published(
        version=2,
        published_week="2026-W49",
        addressed_to=[],
        previous_version=1,
        earlier=[first],
    )
    with pytest.raises(ReportError, match="differ from version 1 by 3"):
        build_report(survey, frame, DraftReport(), later)
    # Rounding is no way round it: 57 and 60 are published as 55 and 60.
    rounded_first = build_report(survey, frame.iloc[:57], DraftReport(rounding=True), FIRST)
    with pytest.raises(ReportError, match="differ from version 1 by 5"):
        build_report(
            survey, frame, DraftReport(rounding=True), replace(later, earlier=[rounded_first])
        )
    rounded = build_report(survey, frame, DraftReport(rounding=True), FIRST)
    assert all(c is None or c % 5 == 0 for c in _every_count(rounded))


def test_drafts_are_checked_and_stored(answered_survey):
    survey, _ = answered_survey
    bad = DraftReport(findings=[FindingDraft(id="Bad Id", title="", severity_question="wanted")])
    with pytest.raises(ReportError) as problem:
        save_draft(survey, bad)
    message = str(problem.value)
    assert "its id must be" in message and "give it a title" in message
    assert "severity must come from a scale question" in message
    good = DraftReport(findings=[FindingDraft(id="f1", title="A finding")], limitations="Few.")
    save_draft(survey, good)
    assert draft_for(survey) == good


def test_markdown_keeps_its_text_and_loses_its_tags():
    assert clean_markdown("**bold** <b>x</b> <script>bad()</script> a < b") == "**bold** x  a < b"
    assert "<img" not in clean_markdown("&lt;img src=x onerror=alert(1)&gt;")


def test_the_analysis_page_shows_true_counts_and_marks_what_reports_hide(app, answered_survey):
    from tests.factories import CUSTODIAN_PASSWORD, csrf, page_text, sign_in_enrolled

    client = app.test_client()
    sign_in_enrolled(client, "custodian@example.org", CUSTODIAN_PASSWORD)
    locked = client.get("/staff/surveys/small/analysis")
    assert locked.status_code == 302 and locked.location.endswith("/staff/surveys/small/keys")
    client.post(
        "/staff/surveys/small/keys/unlock",
        data={
            "csrf_token": csrf(client, "/staff/surveys/small/keys"),
            "password": CUSTODIAN_PASSWORD,
        },
    )
    page = page_text(client.get("/staff/surveys/small/analysis"))
    assert "60</strong> responses" in page
    # The 8 under-18s are shown to the analyst, marked as hidden in reports.
    assert '<th scope="row">Under 18</th><td class="num">8</td>' in page
    assert page.count("hidden in reports") >= 3
    broken = page_text(client.get("/staff/surveys/small/analysis?q=harm_scale&by=age_band"))
    assert "How much harm? — by How old are you?" in broken
    for junk in ("?q=nope&by=age_band", "?q=harm_scale&by=harm_scale", "?by=%00"):
        assert client.get("/staff/surveys/small/analysis" + junk).status_code == 200


def test_the_breakdown_form_starts_with_two_different_questions(app, answered_survey):
    """Before anything is chosen, "Break a question down" offers the first breakdown
    group and the first other question, never one question by itself."""
    import re

    from tests.factories import page_text, unlocked_analyst

    client = unlocked_analyst(app)
    page = page_text(client.get("/staff/surveys/small/analysis"))
    form = page[page.index('id="breakdown"') : page.index("Every question")]

    def selected(box: str) -> list[str]:
        select = re.search(rf'<select class="input" id="{box}".*?</select>', form, re.S)
        assert select is not None
        return re.findall(r'<option value="(\w+)" selected', select.group(0))

    assert selected("by") == ["age_band"]
    assert len(selected("q")) == 1 and selected("q") != ["age_band"]
    # Once chosen, the form keeps the choice.
    chosen = page_text(client.get("/staff/surveys/small/analysis?q=wanted&by=age_band"))
    form = chosen[chosen.index('id="breakdown"') : chosen.index("Every question")]
    assert selected("q") == ["wanted"] and selected("by") == ["age_band"]


def test_the_analysis_page_names_weeks_by_their_monday(app, answered_survey):
    from survey.models import iso_week
    from survey.weeks import week_label
    from tests.factories import page_text, unlocked_analyst

    page = page_text(unlocked_analyst(app).get("/staff/surveys/small/analysis"))
    weeks = page[page.index("Responses per week") : page.index('id="breakdown"')]
    assert f'<th scope="row">{week_label(iso_week(), capitalised=True)}</th>' in weeks
    assert iso_week() not in weeks


def wide_questions() -> list[dict]:
    """Two single-choice questions of 100 answers each, one of them a breakdown group:
    broken down by each other they make 101 × 101 cells, too many to check."""
    return [
        {
            "id": name,
            "type": "single_choice",
            "group_by": name == "region",
            "text": {"en": text, "es": text},
            "options": [
                {"value": f"{name}_{n}", "label": {"en": f"{text} {n}", "es": f"{text} {n}"}}
                for n in range(100)
            ],
        }
        for name, text in (("region", "Region"), ("town", "Town"))
    ]


def test_a_breakdown_too_large_to_check_is_refused_with_a_message(app):
    from tests.factories import (
        answered_small_survey,
        page_text,
        small_survey_document,
        unlocked_analyst,
    )

    sections = small_survey_document()["sections"]
    sections[0]["questions"].extend(wide_questions())
    people = [
        {"region": {"value": f"region_{n % 7}"}, "town": {"value": f"town_{n % 11}"}}
        for n in range(40)
    ]
    survey, frame = answered_small_survey(people, sections=sections)
    client = unlocked_analyst(app)
    wide = client.get("/staff/surveys/small/analysis?q=town&by=region")
    assert wide.status_code == 200
    page = page_text(wide)
    assert "too large to check" in page and "101 × 101" in page
    # A report's draft says so before it is saved, and building refuses it the same way.
    finding = FindingDraft(
        id="towns", title="Towns", affected_by=["region"], evidence_questions=["town"]
    )
    draft = DraftReport(findings=[finding])
    [problem] = draft_problems(definition_of(survey), draft)
    assert problem.startswith("Finding 'towns': broken down by 'region'")
    with pytest.raises(ReportError, match="101 × 101 cells, too large to check"):
        build_report(survey, frame, draft, FIRST)
    # A smaller breakdown in the same survey is still published.
    fine = FindingDraft(
        id="ages", title="Ages", affected_by=["age_band"], evidence_questions=["town"]
    )
    assert not draft_problems(definition_of(survey), DraftReport(findings=[fine]))
