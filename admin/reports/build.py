"""Impact reports: from an unlocked survey's answers to a `chorus-report/1` document.

`build_report` turns the analysis frame and the analyst's draft (findings, their
narrative, limitations) into the document of docs/report-format.md. Every number
in it comes from the protected tables of admin/analysis/published.py.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import nh3
import pandas as pd

from admin.analysis import differencing, sdc
from admin.analysis.differencing import EarlierVersions
from admin.analysis.published import (
    PublishedTables,
    breakdown_too_large,
    default_text,
    disclosure_for,
)
from admin.analysis.tables import (
    weekly_counts,
)
from admin.reports.coding import (
    REPORT_CODING,
    Coding,
    FreeText,
    codebook,
    free_texts_of,
    load_coding,
    respondents_by_theme,
)
from admin.reports.draft import DraftReport, FindingDraft, ReportError
from admin.reports.quotes import approved_quotes, load_decisions
from admin.reports.render import format_number, format_percent
from admin.reports.themes import Theme, parse_answer_key
from survey.definition import Question, SurveyDefinition
from survey.i18n import N_, translate_to
from survey.models import (
    Survey,
)
from survey.report_format import FORMAT, NO_ANSWER
from survey.sealed_answers import columns_of
from survey.surveys import definition_of
from survey.weeks import week_span_label

# At most this many quotes under a theme, and beside a finding.
THEME_QUOTES = 5
FINDING_QUOTES = 3

DEFAULT_LIMITATIONS = N_(
    "People chose to take part, so the answers describe the people who answered, not "
    "every survivor. Some questions were shown only to some respondents, and anyone "
    "could skip any question."
)
"""Written into the document, in the report's language, when the analyst writes none."""


@dataclass(frozen=True)
class Published:
    """Who a version goes to and where it sits among the survey's versions."""

    version: int
    published_week: str
    addressed_to: Sequence[str]
    previous_version: int | None = None
    earlier: Sequence[Mapping[str, Any]] = ()
    """Every earlier version's document, oldest first, whoever it was addressed to: a
    reader holds all those addressed to them, and the public will hold the public ones,
    so the new version is protected against each of them."""
    previous_id: int | None = None  # the row of the version before, if any


def report_problem(
    definition: SurveyDefinition, draft: DraftReport, respondents: int, published: Published
) -> str | None:
    """Why this report can't be published now, as far as the number of respondents
    tells, or None (building it checks every other published number too)."""
    disclosure = disclosure_for(definition, draft.rounding)
    return sdc.report_too_small(respondents, definition.min_report_n) or sdc.differencing_problem(
        [document["respondents"] for document in published.earlier],
        sdc.rounded(respondents, disclosure),
        disclosure,
    )


@dataclass(frozen=True)
class ThemeEvidence:
    """What the themes of a report are made of: the codebook, the report's coding,
    the free texts it points at, and the approved quotes (answer key -> text)."""

    book: Sequence[Theme]
    coding: Coding
    texts: Sequence[FreeText]
    quotes: Mapping[str, str]


def theme_evidence(survey: Survey, frame: pd.DataFrame, private_key: bytes) -> ThemeEvidence:
    """Read the codebook, and open the report's coding and the quote decisions."""
    texts = free_texts_of(frame, definition_of(survey))
    return ThemeEvidence(
        book=codebook(survey),
        coding=load_coding(survey, private_key, REPORT_CODING),
        texts=texts,
        quotes=approved_quotes(texts, load_decisions(survey, private_key)),
    )


def build_report(
    survey: Survey,
    frame: pd.DataFrame,
    draft: DraftReport,
    published: Published,
    evidence: ThemeEvidence | None = None,
    held_back: list[str] | None = None,
) -> dict[str, Any]:
    """The `chorus-report/1` document for these answers and this draft, with themes
    when `evidence` brings a codebook, protected against every earlier version
    (admin/analysis/differencing.py): a count that moved by 1 to k−1 is hidden, and a
    table the attacker could still narrow across versions is hidden whole.

    Raises ReportError when the survey has too few respondents, when a published base
    (respondents, a question's answered, skipped, …) moved by 1 to k−1 since an
    earlier version, or when hiding whole tables isn't enough. `held_back`, when
    given, receives what was hidden because of earlier versions, for the analysts'
    preview (never for the document).
    """
    definition = definition_of(survey)
    disclosure = disclosure_for(definition, draft.rounding)
    problem = report_problem(definition, draft, len(frame), published)
    if problem:
        raise ReportError(problem)
    earlier = EarlierVersions(published.earlier, disclosure)
    while True:
        earlier.moved.clear()
        document = _document(survey, frame, draft, published, evidence, earlier)
        if held_back is not None:
            held_back[:] = earlier.held_back()
        if not published.earlier:
            return document
        changes = differencing.margin_changes(published.earlier, document, disclosure.k)
        if changes:
            raise ReportError(differencing.margin_message(changes, disclosure.k))
        failing = set(differencing.shown_changes(published.earlier, document, disclosure.k))
        try:
            failing |= set(differencing.pinned_tables(published.earlier, document, disclosure))
        except differencing.HistoryError as exc:
            raise ReportError(str(exc)) from None
        if not failing:
            return document
        if failing <= earlier.withhold:
            raise ReportError(differencing.pinned_message(sorted(failing)))
        earlier.withhold |= failing


def _document(
    survey: Survey,
    frame: pd.DataFrame,
    draft: DraftReport,
    published: Published,
    evidence: ThemeEvidence | None,
    earlier: EarlierVersions,
) -> dict[str, Any]:
    definition = definition_of(survey)
    language = definition.default_language
    disclosure = earlier.disclosure
    respondents = len(frame)
    tables = PublishedTables(definition, frame, disclosure, language, earlier)
    themes = theme_entries(tables, evidence, draft) if evidence else []
    findings = [finding_entry(tables, f, themes) for f in draft.findings]
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
            "method": sdc.method_text(disclosure, language),
        },
        "method": method_text(definition, respondents, weeks, disclosure, draft.method_notes),
        "limitations": clean_markdown(
            draft.limitations.strip() or translate_to(language, DEFAULT_LIMITATIONS)
        ),
        "support": [support_entry(resource, definition) for resource in definition.support],
        "questions": [tables.question_entry(q) for q in tables.questions_in_report()],
        "breakdowns": tables.breakdown_entries,
        "themes": themes,
        "findings": findings,
    }


def method_text(
    definition: SurveyDefinition,
    respondents: int,
    weeks: list[str],
    disclosure: sdc.Disclosure,
    notes: str,
) -> str:
    """The method section, from the data: who, when, how counted, what is hidden,
    written in the survey's default language (the report's): it is free text in the
    document, so it is written in that language when the report is built."""
    language = definition.default_language
    # Weeks as readers say them; the document keeps the ISO weeks in collection_weeks.
    period = week_span_label(weeks[0], weeks[-1], language=language) if weeks else ""
    people = format_number(sdc.rounded(respondents, disclosure), language)
    if definition.organiser:
        who = translate_to(
            language,
            N_(
                "%(people)s people answered an anonymous questionnaire in the %(period)s, "
                "run by %(organiser)s."
            ),
            people=people,
            period=period,
            organiser=default_text(definition.organiser, definition),
        )
    else:
        who = translate_to(
            language,
            N_("%(people)s people answered an anonymous questionnaire in the %(period)s."),
            people=people,
            period=period,
        )
    parts = [
        who,
        translate_to(
            language,
            N_(
                "Every question could be skipped or answered “prefer not to say”; percentages "
                "are of the people who answered each question, and each result gives the "
                "question's exact wording."
            ),
        ),
        translate_to(
            language,
            N_(
                "Answers were encrypted the moment they arrived and read only by the report's "
                "analysts."
            ),
        )
        + " "
        + sdc.method_text(disclosure, language),
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


def finding_entry(
    tables: PublishedTables, finding: FindingDraft, themes: Sequence[Mapping[str, Any]] = ()
) -> dict[str, Any]:
    """A finding as the report publishes it, its numbers from the protected tables."""
    severity = None
    target = finding.broken_down
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
            too_large = breakdown_too_large(tables.counted[target], tables.counted[group])
            if too_large:  # a draft saved before the check (draft_problems) said so
                raise ReportError(f"Finding {finding.id!r}: {too_large}")
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
    published_themes = {t["id"]: t for t in themes}
    carried = [published_themes[t] for t in finding.themes if t in published_themes]
    theme_ids = [t["id"] for t in carried]
    return {
        "id": finding.id,
        "title": finding.title.strip(),
        "feature": finding.feature.strip(),
        "affected": clean_markdown(finding.affected.strip()),
        "severity": severity,
        "mitigations": clean_markdown(finding.mitigations.strip())
        or mitigations_from(tables, finding.mitigation_questions),
        "narrative": clean_markdown(finding.narrative.strip()),
        "evidence": {"questions": questions, "breakdowns": breakdowns, "themes": theme_ids},
        "quotes": list(dict.fromkeys(q for t in carried for q in t["quotes"]))[:FINDING_QUOTES],
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
        parts += [
            f"{label} ({format_percent(p, tables.language)})"
            for p, label in sorted(shown, key=lambda x: -x[0])
        ]
    return "; ".join(parts) + ("." if parts else "")


# --- themes -------------------------------------------------------------------------------------


def theme_entries(
    tables: PublishedTables, evidence: ThemeEvidence, draft: DraftReport
) -> list[dict[str, Any]]:
    """Each theme of the codebook as the report publishes it (docs/report-format.md
    "Themes"): how many respondents' answers carry it, protected like a multi-choice
    question whose `answered` is everyone who wrote a free-text answer; broken down
    by the draft's group where disclosure control allows; and its approved quotes,
    where they can't single their author out."""
    if not evidence.book:
        return []
    carried = respondents_by_theme(evidence.coding, evidence.texts)
    wrote = {parse_answer_key(t.key)[0] for t in evidence.texts}
    question = tables.add_themes([(t.id, t.label) for t in evidence.book], carried, wrote)
    entry = tables.question_entry(question)
    by = tables.counted.get(draft.theme_breakdown_by or "")
    breakdown = None
    if by is not None:
        # Published within each theme's entry, not among the breakdowns of questions.
        breakdown = tables.breakdown_table(question, by)
    k = tables.disclosure.k
    entries = []
    for i, theme in enumerate(evidence.book):
        count = entry["counts"][i]
        theme_breakdown = _theme_breakdown(breakdown, i) if breakdown else None
        quotes = []
        if count is not None and count >= k:
            quotes = _quotes_for(theme.id, evidence, tables, by, theme_breakdown)
        entries.append(
            {
                "id": theme.id,
                "label": theme.label,
                "description": theme.description,
                "feature": theme.feature,
                "harm": theme.harm,
                "count": count,
                "display": entry["display"][i],
                "percent": entry["percent"][i],
                "answered": entry["answered"],
                "breakdown": theme_breakdown,
                "quotes": quotes,
            }
        )
    return entries


def _theme_breakdown(breakdown: Mapping[str, Any], column: int) -> dict[str, Any]:
    """One theme's column of the protected themes-by-group table."""
    return {
        "by": breakdown["by"],
        "rows": breakdown["rows"],
        "row_labels": breakdown["row_labels"],
        "counts": [row[column] for row in breakdown["counts"]],
        "display": [row[column] for row in breakdown["display"]],
        "percent": [row[column] for row in breakdown["percent"]],
        "withheld": breakdown["withheld"],
    }


def _quotes_for(
    theme_id: str,
    evidence: ThemeEvidence,
    tables: PublishedTables,
    by: Question | None,
    breakdown: Mapping[str, Any] | None,
) -> list[str]:
    """The approved quotes of answers that carry the theme, leaving out any whose
    author's group is hidden in the theme's breakdown (the quote would tell readers
    who sits in a cell the table hides)."""
    hidden_rows: set[str] = set()
    if breakdown is not None:
        hidden_rows = {
            row
            for row, count in zip(breakdown["rows"], breakdown["counts"], strict=True)
            if count is None or breakdown["withheld"]
        }
    quotes = []
    for key, text in evidence.quotes.items():
        if theme_id not in evidence.coding.themes_of(key):
            continue
        if by is not None and _group_of(tables, by, key) in hidden_rows:
            continue
        quotes.append(text)
        if len(quotes) == THEME_QUOTES:
            break
    return quotes


def _group_of(tables: PublishedTables, by: Question, key: str) -> str:
    """The author's row in a breakdown by `by`: their answer, or "no_answer"."""
    response_id = parse_answer_key(key)[0]
    names = columns_of(by)
    if tables.frame.at[response_id, names.state] != "answered":
        return NO_ANSWER
    value: Any = tables.frame.at[response_id, names.value]
    return NO_ANSWER if value is None or pd.isna(value) else str(value)
