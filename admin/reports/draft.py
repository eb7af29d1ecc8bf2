"""The analyst's draft of a survey's report: findings, their narrative, limitations,
method notes and whether counts are rounded. The analyst's own words are stored in
the clear (`ReportDraft`); they are not respondent data."""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping
from dataclasses import asdict, dataclass, field

from admin.analysis.published import breakdown_too_large
from admin.analysis.tables import (
    breakdown_groups,
    counted_questions,
)
from admin.reports.coding import codebook
from admin.reports.themes import Theme
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

    @property
    def broken_down(self) -> str | None:
        """The question its `affected_by` groups break down: the severity question,
        else the first evidence question."""
        return self.severity_question or next(iter(self.evidence_questions), None)


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


def finding_from_theme(draft: DraftReport, theme: Theme) -> FindingDraft:
    """A new finding resting on one theme: titled with its label, about its feature
    and the people its harm affects, broken down as the draft breaks themes down.
    Its id is the theme's, with a number added when a finding already has it."""
    base = theme.id[:56]  # room for "_" and a number within ID_RE's 63 characters
    taken = {f.id for f in draft.findings}
    finding_id, number = base, 2
    while finding_id in taken:
        finding_id, number = f"{base}_{number}", number + 1
    return FindingDraft(
        id=finding_id,
        title=theme.label,
        feature=theme.feature,
        affected=theme.harm,
        affected_by=[draft.theme_breakdown_by] if draft.theme_breakdown_by else [],
        themes=[theme.id],
    )


def retheme_findings(survey: Survey, replaced: Mapping[str, str | None]) -> int:
    """Keep the findings pointing at the codebook as it now is: each theme of
    `replaced` becomes the theme it was merged into, or leaves the findings when it
    was deleted (None). Stores the draft if a finding changed; returns how many did."""
    draft = draft_for(survey)
    changed = 0
    for finding in draft.findings:
        themes = [replaced.get(t, t) for t in finding.themes]
        kept = list(dict.fromkeys(t for t in themes if t is not None))
        if kept != finding.themes:
            finding.themes = kept
            changed += 1
    if changed:
        store_draft(survey, draft)
    return changed


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
        target = finding.broken_down
        for qid in finding.affected_by:
            if qid not in groups:
                problems.append(f"{name}: {qid!r} can't be a breakdown (not a group_by question).")
            elif target in counted:
                too_large = breakdown_too_large(counted[target], counted[qid])
                if too_large:
                    problems.append(f"{name}: {too_large}")
    if draft.theme_breakdown_by and draft.theme_breakdown_by not in groups:
        problems.append(
            f"Themes can't be broken down by {draft.theme_breakdown_by!r} "
            "(not a group_by question)."
        )
    for text in (draft.limitations, draft.method_notes):
        if len(text) > MAX_TEXT:
            problems.append(f"Keep the method notes and limitations under {MAX_TEXT} characters.")
    return problems
