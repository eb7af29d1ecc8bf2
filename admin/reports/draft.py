"""The analyst's draft of a survey's report: findings, their narrative, limitations,
method notes and whether counts are rounded. The analyst's own words are stored in
the clear (`ReportDraft`); they are not respondent data."""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from dataclasses import asdict, dataclass, field

from admin.analysis.tables import (
    breakdown_groups,
    counted_questions,
)
from admin.reports.coding import codebook
from survey.definition import SurveyDefinition
from survey.models import (
    ReportDraft,
    Survey,
    db,
    utcnow,
)
from survey.surveys import definition_of

ID_RE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
MAX_TEXT = 20_000
MAX_FINDINGS = 50


class ReportError(ValueError):
    """A report that can't be built or published; the message says why, for a person."""


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
    themes: list[str] = field(default_factory=list)  # codebook ids; quotes come with them


@dataclass
class DraftReport:
    findings: list[FindingDraft] = field(default_factory=list)
    limitations: str = ""
    method_notes: str = ""
    rounding: bool = False
    # The group_by question the themes are broken down by, if any.
    theme_breakdown_by: str | None = None

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
    theme_ids = {t.id for t in codebook(survey)}
    problems = draft_problems(definition_of(survey), draft, theme_ids)
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


def draft_problems(
    definition: SurveyDefinition, draft: DraftReport, theme_ids: Collection[str] | None = None
) -> list[str]:
    """What is wrong with a draft, each as a sentence naming the finding and field
    (with `theme_ids`, the codebook's, also a finding's themes that aren't in it)."""
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
        if theme_ids is not None:
            for tid in finding.themes:
                if tid not in theme_ids:
                    problems.append(f"{name}: there is no theme {tid!r} in the codebook.")
        for qid in finding.affected_by:
            if qid not in groups:
                problems.append(f"{name}: {qid!r} can't be a breakdown (not a group_by question).")
    if draft.theme_breakdown_by and draft.theme_breakdown_by not in groups:
        problems.append(
            f"Themes can't be broken down by {draft.theme_breakdown_by!r} "
            "(not a group_by question)."
        )
    for text in (draft.limitations, draft.method_notes):
        if len(text) > MAX_TEXT:
            problems.append(f"Keep the method notes and limitations under {MAX_TEXT} characters.")
    return problems
