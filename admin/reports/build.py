"""Impact reports: from an unlocked survey's answers to a `chorus-report/1` document.

`build_report` turns the analysis frame and the analyst's draft (findings, their
narrative, limitations) into the document of docs/report-format.md. Every number
in it comes from the protected tables of admin/analysis/published.py.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import nh3
import pandas as pd

from admin.analysis import sdc
from admin.analysis.published import PublishedTables, default_text, disclosure_for
from admin.analysis.tables import (
    weekly_counts,
)
from admin.reports.draft import DraftReport, FindingDraft, ReportError
from survey.definition import SurveyDefinition
from survey.models import (
    Survey,
)
from survey.report_format import FORMAT
from survey.surveys import definition_of

DEFAULT_LIMITATIONS = (
    "People chose to take part, so the answers describe the people who answered, not "
    "every survivor. Some questions were shown only to some respondents, and anyone "
    "could skip any question."
)


@dataclass(frozen=True)
class Published:
    """Who a version goes to and where it sits among the survey's versions."""

    version: int
    published_week: str
    addressed_to: Sequence[str]
    previous_version: int | None = None
    previous_respondents: Sequence[int] = ()
    previous_id: int | None = None  # the row of the version before, if any


def report_problem(
    definition: SurveyDefinition, draft: DraftReport, respondents: int, published: Published
) -> str | None:
    """Why this report can't be published now, or None."""
    return sdc.report_too_small(respondents, definition.min_report_n) or sdc.differencing_problem(
        published.previous_respondents, respondents, disclosure_for(definition, draft.rounding)
    )


def build_report(
    survey: Survey, frame: pd.DataFrame, draft: DraftReport, published: Published
) -> dict[str, Any]:
    """The `chorus-report/1` document for these answers and this draft.

    Raises ReportError when the survey has too few respondents or the version
    would differ from an earlier one by fewer than k respondents.
    """
    definition = definition_of(survey)
    language = definition.default_language
    disclosure = disclosure_for(definition, draft.rounding)
    respondents = len(frame)
    problem = report_problem(definition, draft, respondents, published)
    if problem:
        raise ReportError(problem)
    tables = PublishedTables(definition, frame, disclosure, language)
    findings = [finding_entry(tables, f) for f in draft.findings]
    weeks = [week for week, _ in weekly_counts(frame)]
    return {
        "format": FORMAT,
        "survey": {
            "slug": survey.slug,
            "title": default_text(definition.title, definition),
            "language": language,
        },
        "version": published.version,
        "previous_version": published.previous_version,
        "published": published.published_week,
        "addressed_to": list(published.addressed_to),
        "respondents": sdc.rounded(respondents, disclosure),
        "collection_weeks": [weeks[0], weeks[-1]] if weeks else [],
        "disclosure": {
            "k": disclosure.k,
            "rounding": disclosure.rounding,
            "method": sdc.method_text(disclosure),
        },
        "method": method_text(definition, respondents, weeks, disclosure, draft.method_notes),
        "limitations": clean_markdown(draft.limitations.strip() or DEFAULT_LIMITATIONS),
        "support": [support_entry(resource, definition) for resource in definition.support],
        "questions": [tables.question_entry(q) for q in tables.questions_in_report()],
        "breakdowns": tables.breakdown_entries,
        "themes": [],
        "findings": findings,
    }


def method_text(
    definition: SurveyDefinition,
    respondents: int,
    weeks: list[str],
    disclosure: sdc.Disclosure,
    notes: str,
) -> str:
    """The method section, from the data: who, when, how counted, what is hidden."""
    period = f"between {weeks[0]} and {weeks[-1]}" if len(weeks) > 1 else f"in {weeks[0]}"
    people = sdc.rounded(respondents, disclosure)
    parts = [
        f"{people} people answered an anonymous questionnaire {period}"
        + (
            f", run by {default_text(definition.organiser, definition)}."
            if definition.organiser
            else "."
        ),
        "Every question could be skipped or answered “prefer not to say”; percentages are "
        "of the people who answered each question, and each result gives the question's "
        "exact wording.",
        "Answers were encrypted the moment they arrived and read only by the report's "
        "analysts. " + sdc.method_text(disclosure),
    ]
    if notes.strip():
        parts.append(clean_markdown(notes.strip()))
    return " ".join(parts) if weeks else parts[-1]


def clean_markdown(text: str) -> str:
    """Markdown without raw HTML: companies load the document into their own tools,
    which may render it. Tags are dropped, their text kept."""
    stripped = html.unescape(nh3.clean(text, tags=set(), strip_comments=True))
    return re.sub(r"<(?=[A-Za-z/!?])", "&lt;", stripped)


def support_entry(resource: Any, definition: SurveyDefinition) -> dict[str, str]:
    entry = {"name": default_text(resource.name, definition)}
    if resource.url:
        entry["url"] = resource.url
    if resource.phone:
        entry["phone"] = resource.phone
    if resource.hours:
        entry["hours"] = default_text(resource.hours, definition)
    return entry


def finding_entry(tables: PublishedTables, finding: FindingDraft) -> dict[str, Any]:
    """A finding as the report publishes it, its numbers from the protected tables."""
    severity = None
    target = finding.severity_question or next(iter(finding.evidence_questions), None)
    if finding.severity_question:
        entry = tables.question_entry(tables.counted[finding.severity_question])
        severity = {
            "question": entry["id"],
            "labels": entry["labels"],
            "counts": entry["counts"],
            "display": entry["display"],
            "percent": entry["percent"],
        }
    breakdowns = []
    if target:
        for group in finding.affected_by:
            index = tables.breakdown(tables.counted[target], tables.counted[group])
            if index is not None:
                breakdowns.append(index)
    questions = list(
        dict.fromkeys(
            ([finding.severity_question] if finding.severity_question else [])
            + finding.mitigation_questions
            + finding.evidence_questions
        )
    )
    return {
        "id": finding.id,
        "title": finding.title.strip(),
        "feature": finding.feature.strip(),
        "affected": clean_markdown(finding.affected.strip()),
        "severity": severity,
        "mitigations": clean_markdown(finding.mitigations.strip())
        or mitigations_from(tables, finding.mitigation_questions),
        "narrative": clean_markdown(finding.narrative.strip()),
        "evidence": {"questions": questions, "breakdowns": breakdowns, "themes": []},
    }


def mitigations_from(tables: PublishedTables, question_ids: list[str]) -> str:
    """ "Label (x%); …" for the options respondents asked for, most chosen first."""
    parts = []
    for qid in question_ids:
        entry = tables.question_entry(tables.counted[qid])
        shown = [
            (p, label)
            for label, p in zip(entry["labels"], entry["percent"], strict=True)
            if p  # neither hidden nor nobody
        ]
        parts += [f"{label} ({p}%)" for p, label in sorted(shown, key=lambda x: -x[0])]
    return "; ".join(parts) + ("." if parts else "")
