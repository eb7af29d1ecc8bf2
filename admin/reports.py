"""Impact reports: from an unlocked survey's answers to a `chorus-report/1` document.

`build_report` turns the analysis frame and the analyst's draft (findings, their
narrative, limitations) into the document of docs/report-format.md. Every
number in it has been through admin/sdc.py, and every table is protected
together with the tables it is linked to:

- a question's counts with its `answered` total;
- its non-answers (prefer not to say, skipped, not shown) with the number of
  respondents, since those four add up to it;
- a breakdown as the full table over every respondent, with a "no answer" row and
  column, so that its margins are exactly the one-way counts published elsewhere
  (or hidden where those are hidden), and an attacker's linear program over the
  whole report can't narrow any hidden count.

The analyst's own words (titles, narrative, limitations) are stored in the clear
in `ReportDraft`; they are not respondent data.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import click
import nh3
import numpy as np
import pandas as pd
from flask import Flask
from flask.cli import with_appcontext
from sqlalchemy.exc import IntegrityError

from admin import render, sdc
from admin.frame import answers_frame
from admin.tables import categories, counted_questions, question_counts, weekly_counts
from survey.cli import survey_key_from_stdin
from survey.definition import Question, SurveyDefinition, localize
from survey.events import announce, cli_actor
from survey.models import (
    Organisation,
    ReportDraft,
    ReportVersion,
    Survey,
    db,
    iso_week,
    utcnow,
)
from survey.sealed_answers import columns_of
from survey.surveys import definition_of, find_survey

FORMAT = "chorus-report/1"
NO_ANSWER = "no_answer"
NO_ANSWER_LABEL = "No answer"
ID_RE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
MAX_TEXT = 20_000
MAX_FINDINGS = 50
DEFAULT_LIMITATIONS = (
    "People chose to take part, so the answers describe the people who answered, not "
    "every survivor. Some questions were shown only to some respondents, and anyone "
    "could skip any question."
)


class ReportError(ValueError):
    """A report that can't be built or published; the message says why, for a person."""


# --- the analyst's draft ------------------------------------------------------------------


@dataclass
class FindingDraft:
    id: str
    title: str
    feature: str = ""
    affected: str = ""
    affected_by: list[str] = field(default_factory=list)
    severity_question: str | None = None
    mitigation_questions: list[str] = field(default_factory=list)
    mitigations: str = ""
    narrative: str = ""
    evidence_questions: list[str] = field(default_factory=list)


@dataclass
class DraftReport:
    findings: list[FindingDraft] = field(default_factory=list)
    limitations: str = ""
    method_notes: str = ""
    rounding: bool = False

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> DraftReport:
        data = json.loads(text or "{}")
        findings = [FindingDraft(**f) for f in data.pop("findings", [])]
        return cls(findings=findings, **data)

    def finding(self, finding_id: str) -> FindingDraft | None:
        return next((f for f in self.findings if f.id == finding_id), None)


def draft_for(survey: Survey) -> DraftReport:
    row = db.session.scalar(db.select(ReportDraft).where(ReportDraft.survey_id == survey.id))
    return DraftReport.from_json(row.config_json) if row else DraftReport()


def save_draft(survey: Survey, draft: DraftReport) -> None:
    """Check the draft against the survey, then store it (commits)."""
    problems = draft_problems(definition_of(survey), draft)
    if problems:
        raise ReportError(" ".join(problems))
    store_draft(survey, draft)


def store_draft(survey: Survey, draft: DraftReport) -> None:
    """Store a draft as it is (removing or reordering findings can't add problems)."""
    row = db.session.scalar(db.select(ReportDraft).where(ReportDraft.survey_id == survey.id))
    if row is None:
        row = ReportDraft(survey_id=survey.id)
        db.session.add(row)
    row.config_json = draft.to_json()
    row.updated_at = utcnow()
    db.session.commit()


def draft_problems(definition: SurveyDefinition, draft: DraftReport) -> list[str]:
    """What is wrong with a draft, each as a sentence naming the finding and field."""
    counted = {q.id: q for q in counted_questions(definition)}
    groups = {q.id for q in breakdown_groups(definition)}
    problems = []
    if len(draft.findings) > MAX_FINDINGS:
        problems.append(f"A report can have at most {MAX_FINDINGS} findings.")
    seen: set[str] = set()
    for finding in draft.findings:
        name = f"Finding {finding.id!r}"
        if not ID_RE.fullmatch(finding.id):
            problems.append(f"{name}: its id must be lower-case letters, digits and _.")
        if finding.id in seen:
            problems.append(f"{name}: another finding has the same id.")
        seen.add(finding.id)
        if not finding.title.strip():
            problems.append(f"{name}: give it a title.")
        for text in (finding.title, finding.feature, finding.affected, finding.mitigations):
            if len(text) > 500:
                problems.append(f"{name}: keep titles and short fields under 500 characters.")
                break
        if len(finding.narrative) > MAX_TEXT:
            problems.append(f"{name}: the narrative is longer than {MAX_TEXT} characters.")
        if finding.severity_question and (
            finding.severity_question not in counted
            or counted[finding.severity_question].type != "scale"
        ):
            problems.append(f"{name}: severity must come from a scale question.")
        for qid in finding.mitigation_questions + finding.evidence_questions:
            if qid not in counted:
                problems.append(f"{name}: {qid!r} is not a choice or scale question.")
        for qid in finding.affected_by:
            if qid not in groups:
                problems.append(f"{name}: {qid!r} can't be a breakdown (not a group_by question).")
    for text in (draft.limitations, draft.method_notes):
        if len(text) > MAX_TEXT:
            problems.append(f"Keep the method notes and limitations under {MAX_TEXT} characters.")
    return problems


def breakdown_groups(definition: SurveyDefinition) -> list[Question]:
    """Questions results may be broken down by: `group_by` single choices."""
    return [
        q for q in definition.answerable_questions() if q.group_by and q.type == "single_choice"
    ]


# --- building the document --------------------------------------------------------------


@dataclass(frozen=True)
class Published:
    """Who a version goes to and where it sits among the survey's versions."""

    version: int
    published_week: str
    addressed_to: Sequence[str]
    previous_version: int | None = None
    previous_respondents: Sequence[int] = ()
    previous_id: int | None = None  # the row of the version before, if any


def disclosure_for(definition: SurveyDefinition, draft: DraftReport) -> sdc.Disclosure:
    return sdc.Disclosure(k=definition.suppression_k, rounding=5 if draft.rounding else None)


def report_problem(
    definition: SurveyDefinition, draft: DraftReport, respondents: int, published: Published
) -> str | None:
    """Why this report can't be published now, or None."""
    return sdc.report_too_small(respondents, definition.min_report_n) or sdc.differencing_problem(
        published.previous_respondents, respondents, disclosure_for(definition, draft)
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
    disclosure = disclosure_for(definition, draft)
    respondents = len(frame)
    problem = report_problem(definition, draft, respondents, published)
    if problem:
        raise ReportError(problem)
    builder = ReportTables(definition, frame, disclosure, language)
    findings = [builder.finding(f) for f in draft.findings]
    weeks = [week for week, _ in weekly_counts(frame)]
    return {
        "format": FORMAT,
        "survey": {
            "slug": survey.slug,
            "title": _text(definition.title, definition),
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
        "support": [_support(resource, definition) for resource in definition.support],
        "questions": [builder.question_entry(q) for q in builder.questions_in_report()],
        "breakdowns": builder.breakdown_entries,
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
        + (f", run by {_text(definition.organiser, definition)}." if definition.organiser else "."),
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


def _text(value: Any, definition: SurveyDefinition) -> str:
    language = definition.default_language
    return localize(value, language, language)


def _support(resource: Any, definition: SurveyDefinition) -> dict[str, str]:
    entry = {"name": _text(resource.name, definition)}
    if resource.url:
        entry["url"] = resource.url
    if resource.phone:
        entry["phone"] = resource.phone
    if resource.hours:
        entry["hours"] = _text(resource.hours, definition)
    return entry


class ReportTables:
    """Computes each published table once, protected with the tables it is linked to."""

    def __init__(
        self,
        definition: SurveyDefinition,
        frame: pd.DataFrame,
        disclosure: sdc.Disclosure,
        language: str,
    ):
        self.definition = definition
        self.frame = frame
        self.disclosure = disclosure
        self.language = language
        self.respondents = len(frame)
        self.counted = {q.id: q for q in counted_questions(definition)}
        self.sections = {
            q.id: _text(section.title, definition)
            for section in definition.sections
            for q in section.questions
        }
        self._entries: dict[str, dict[str, Any]] = {}
        self.breakdown_entries: list[dict[str, Any]] = []
        self._breakdown_index: dict[tuple[str, str], int] = {}

    def questions_in_report(self) -> list[Question]:
        """Every counted question, in survey order (findings point into them)."""
        return list(self.counted.values())

    # one-way tables

    def question_entry(self, question: Question) -> dict[str, Any]:
        if question.id in self._entries:
            return self._entries[question.id]
        counts = question_counts(self.frame, question, self.language, self.language)
        # How many answered, declined, skipped or never saw the question are bases,
        # not answers: published as they are (see docs/report-format.md "Disclosure
        # control"), and known exactly to the attacker of every linked table below.
        base = [counts.answered, counts.prefer_not_to_say, counts.skipped, counts.not_shown]
        answered, pnts, skipped, not_shown = (sdc.rounded(n, self.disclosure) for n in base)
        if question.type == "multi_choice":
            # A person may choose several, so each option is its own two-cell table:
            # chose it, or answered without choosing it.
            per_option = [
                sdc.protect_counts([n, counts.answered - n], self.disclosure) for n in counts.counts
            ]
            shown = [p.counts[0] for p in per_option]
            percent = [p.percent[0] for p in per_option]
        else:
            protected = sdc.protect_counts(list(counts.counts), self.disclosure)
            shown = protected.counts
            percent = protected.percent
        entry = {
            "id": question.id,
            "type": question.type,
            "section": self.sections.get(question.id, ""),
            "text": _text(question.text, self.definition),
            "answered": answered,
            "prefer_not_to_say": pnts,
            "skipped": skipped,
            "not_shown": not_shown,
            "categories": list(counts.categories),
            "labels": list(counts.labels),
            "counts": shown,
            "display": [sdc.SUPPRESSED if c is None else str(c) for c in shown],
            "percent": percent,
        }
        self._entries[question.id] = entry
        return entry

    # breakdowns

    def breakdown(self, question: Question, by: Question) -> int | None:
        """The index of `question` broken down by `by` in the document (built once)."""
        if question.id == by.id:
            return None
        key = (question.id, by.id)
        if key not in self._breakdown_index:
            self.breakdown_entries.append(self._breakdown_entry(question, by))
            self._breakdown_index[key] = len(self.breakdown_entries) - 1
        return self._breakdown_index[key]

    def _membership_columns(self, question: Question) -> list[np.ndarray]:
        """A boolean per respondent for each category, then one for "no answer"."""
        frame = self.frame
        names = columns_of(question)
        columns = []
        for value, _ in categories(question, self.language, self.language):
            if question.type == "multi_choice":
                columns.append(frame[names.choice(value)].to_numpy(dtype=bool))
            elif question.type == "scale":
                columns.append((frame[names.value] == float(value)).to_numpy())
            else:
                columns.append((frame[names.value] == value).to_numpy(dtype=bool))
        columns.append((frame[names.state] != "answered").to_numpy(dtype=bool))
        return columns

    def _margins(self, question: Question) -> list[int | None]:
        """What the report publishes of each category and of "no answer", exactly."""
        entry = self.question_entry(question)
        no_answer = entry["prefer_not_to_say"] + entry["skipped"] + entry["not_shown"]
        return [*entry["counts"], no_answer]

    def _breakdown_entry(self, question: Question, by: Question) -> dict[str, Any]:
        rows = self._membership_columns(by)
        row_totals = self._margins(by)
        if self.disclosure.rounding:
            row_totals = [None] * len(row_totals)  # only rounded figures are published
        row_values = [v for v, _ in categories(by, self.language, self.language)] + [NO_ANSWER]
        row_labels = [label for _, label in categories(by, self.language, self.language)]
        row_labels.append(NO_ANSWER_LABEL)
        pairs = categories(question, self.language, self.language)
        columns = self._membership_columns(question)
        if question.type == "multi_choice":
            counts, display, percent, withheld = self._multi_breakdown(
                rows, row_totals, columns[:-1]
            )
            column_values = [v for v, _ in pairs]
            column_labels = [label for _, label in pairs]
        else:
            table = [[int((r & c).sum()) for c in columns] for r in rows]
            column_totals = self._margins(question)
            if self.disclosure.rounding:
                column_totals = [None] * len(column_totals)
            protected = sdc.protect_table(
                table, self.disclosure, row_totals, column_totals, self.respondents
            )
            counts, display = protected.counts, protected.display
            percent, withheld = protected.percent, protected.withheld
            column_values = [v for v, _ in pairs] + [NO_ANSWER]
            column_labels = [label for _, label in pairs] + [NO_ANSWER_LABEL]
        return {
            "question": question.id,
            "by": by.id,
            "rows": row_values,
            "columns": column_values,
            "row_labels": row_labels,
            "column_labels": column_labels,
            "counts": counts,
            "display": display,
            "percent": percent,
            "withheld": withheld,
        }

    def _multi_breakdown(self, rows, row_totals, options):
        """A multi-choice question by a group: for each option, the table of (group ×
        chose it / didn't) over every respondent, protected with its margins; only
        the "chose it" column is published."""
        entry_counts = []
        for option in options:
            table = [[int((r & option).sum()), int((r & ~option).sum())] for r in rows]
            chose = int(option.sum())
            column_totals = [chose, self.respondents - chose]
            protected = sdc.protect_table(
                table, self.disclosure, row_totals, column_totals, self.respondents
            )
            entry_counts.append(protected)
        counts = [[p.counts[i][0] for p in entry_counts] for i in range(len(rows))]
        display = [[p.display[i][0] for p in entry_counts] for i in range(len(rows))]
        percent = [[p.percent[i][0] for p in entry_counts] for i in range(len(rows))]
        return counts, display, percent, any(p.withheld for p in entry_counts)

    # findings

    def finding(self, finding: FindingDraft) -> dict[str, Any]:
        severity = None
        target = finding.severity_question or next(iter(finding.evidence_questions), None)
        if finding.severity_question:
            entry = self.question_entry(self.counted[finding.severity_question])
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
                index = self.breakdown(self.counted[target], self.counted[group])
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
            or self._mitigations_from(finding.mitigation_questions),
            "narrative": clean_markdown(finding.narrative.strip()),
            "evidence": {"questions": questions, "breakdowns": breakdowns, "themes": []},
        }

    def _mitigations_from(self, question_ids: list[str]) -> str:
        """ "Label (x%); …" for the options respondents asked for, most chosen first."""
        parts = []
        for qid in question_ids:
            entry = self.question_entry(self.counted[qid])
            shown = [
                (p, label)
                for label, p in zip(entry["labels"], entry["percent"], strict=True)
                if p  # neither hidden nor nobody
            ]
            parts += [f"{label} ({p}%)" for p, label in sorted(shown, key=lambda x: -x[0])]
        return "; ".join(parts) + ("." if parts else "")


# --- publishing ---------------------------------------------------------------------------


def versions_of(survey: Survey) -> list[ReportVersion]:
    """The survey's published versions, oldest first."""
    return list(
        db.session.scalars(
            db.select(ReportVersion)
            .where(ReportVersion.survey_id == survey.id)
            .order_by(ReportVersion.version)
        )
    )


def next_version(survey: Survey, addressed_to: Sequence[str]) -> Published:
    """Where a new version would sit: its number, the one before, and every earlier
    version's respondents (for the differencing guard)."""
    earlier = versions_of(survey)
    return Published(
        version=(earlier[-1].version + 1) if earlier else 1,
        published_week=iso_week(),
        addressed_to=list(addressed_to),
        previous_version=earlier[-1].version if earlier else None,
        previous_respondents=[v.respondents for v in earlier],
        previous_id=earlier[-1].id if earlier else None,
    )


def report_pdf(document: dict[str, Any]) -> bytes:
    """The report's PDF; a render that fails is a ReportError, shown like any other."""
    try:
        return render.report_pdf(document)
    except render.RenderError as exc:
        raise ReportError(str(exc)) from None


def publish(
    survey: Survey,
    frame: pd.DataFrame,
    draft: DraftReport,
    organisations: Sequence[Organisation],
    actor: str,
) -> ReportVersion:
    """Freeze a new version: its document, HTML and PDF, addressed to `organisations`.

    Published versions never change; a new one links to the one before. The first
    publication ends withdrawal for the survey's respondents (README.md "Analysis and
    reports").
    """
    if not organisations:
        raise ReportError("Choose at least one organisation to address the report to.")
    problems = draft_problems(definition_of(survey), draft)
    if problems:
        raise ReportError(" ".join(problems))
    published = next_version(survey, sorted(o.name for o in organisations))
    document = build_report(survey, frame, draft, published)
    pdf = report_pdf(document)
    version = ReportVersion(
        survey_id=survey.id,
        version=published.version,
        previous_id=published.previous_id,
        published_week=published.published_week,
        published_by=actor,
        respondents=len(frame),
        snapshot_json=json.dumps(document, ensure_ascii=False),
        html=render.standalone_html(document),
        pdf=pdf,
        addressees=list(organisations),
    )
    db.session.add(version)
    if survey.report_published_week is None:
        survey.report_published_week = published.published_week
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise ReportError(
            "Someone else published a version of this report just now. Look at it, "
            "then publish again if yours is still needed."
        ) from None
    announce(
        "report.publish",
        actor,
        survey.slug,
        version=version.version,
        organisations=[o.name for o in organisations],
        # As printed in the report (rounded when it rounds): admins without the key
        # read the audit log, and it must not undo the report's disclosure control.
        respondents=document["respondents"],
    )
    return version


# --- command line -------------------------------------------------------------------------


def register_cli(app: Flask) -> None:
    @click.group("report")
    def report_group() -> None:
        """Impact reports."""

    @report_group.command("build")
    @click.argument("slug")
    @click.option(
        "--out",
        required=True,
        type=click.Path(file_okay=False, path_type=Path),
        help="Folder to write report.json, report.html and report.pdf into.",
    )
    @click.option(
        "--custodian",
        help="Email of a key custodian: read their password instead of the recovery code.",
    )
    @with_appcontext
    def build_command(slug: str, out: Path, custodian: str | None) -> None:
        """Build the next version of SLUG's report from its draft, without publishing
        it. Reads the recovery code (or, with --custodian, that custodian's password)
        from standard input."""
        survey = find_survey(slug)
        if survey is None:
            raise click.ClickException(f'There is no survey "{slug}".')
        key, who = survey_key_from_stdin(survey, custodian)
        frame = answers_frame(survey, key)
        try:
            document = build_report(survey, frame, draft_for(survey), next_version(survey, []))
            pdf = report_pdf(document)
        except ReportError as exc:
            raise click.ClickException(str(exc)) from None
        out.mkdir(parents=True, exist_ok=True)
        (out / "report.json").write_text(
            json.dumps(document, ensure_ascii=False, indent=2), "utf-8"
        )
        (out / "report.html").write_text(render.standalone_html(document), "utf-8")
        (out / "report.pdf").write_bytes(pdf)
        announce("report.build", cli_actor(), slug, respondents=document["respondents"], key=who)
        click.echo(
            f"Wrote report.json, report.html and report.pdf to {out} "
            f"({len(frame)} responses, {len(document['findings'])} findings; not published)."
        )

    app.cli.add_command(report_group)
