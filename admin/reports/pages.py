"""The analyst's report pages: write findings, choose limitations and rounding,
preview the report with its disclosure control applied, and publish it.

Views only translate between HTTP and admin/reports/ (draft, build, publish). Only the survey's
custodians (analysts holding a grant of its key) reach any of them.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from flask import Blueprint, Flask, abort, redirect, render_template, request, url_for
from flask_login import current_user

from admin.access import allow, staff_member, survey_or_404
from admin.analysis.frame import analysis_frame, forget_frame
from admin.analysis.tables import breakdown_groups, counted_questions
from admin.custody.unlock import unlocked, unlocked_key
from admin.reports.build import ThemeEvidence, build_report, report_problem, theme_evidence
from admin.reports.charts import PREVIEW_CACHE, chart_response, chart_urls
from admin.reports.coding import codebook
from admin.reports.draft import (
    MAX_TEXT,
    DraftReport,
    FindingDraft,
    ReportError,
    draft_for,
    draft_problems,
    save_draft,
    store_draft,
)
from admin.reports.publish import AnswersChanged, next_version, publish, versions_of
from survey.definition import SurveyDefinition, localize
from survey.events import announce
from survey.models import Organisation, ReportVersion, Role, Survey, SurveyStatus, db
from survey.responses import withdrawal_state
from survey.surveys import custodian_wrap, definition_of

bp = Blueprint("reports", __name__, url_prefix="/staff/surveys")
ANALYSTS = (Role.ANALYST,)


def custodians_survey(slug: str) -> Survey:
    """The survey a report URL names, for one of its custodians only (403 for
    anyone else): a report draft is the custodians' work on answers they read."""
    survey = survey_or_404(slug)
    if custodian_wrap(survey, staff_member()) is None:
        abort(403)
    return survey


def _tx(definition: SurveyDefinition):
    language = definition.default_language
    return lambda text: localize(text, language, language)


@bp.get("/<slug>/report")
@allow(*ANALYSTS)
def report(slug: str):
    """The draft's findings and settings, and the versions already published."""
    survey = custodians_survey(slug)
    definition = definition_of(survey)
    draft = draft_for(survey)
    return render_template(
        "admin/reports/index.html",
        survey=survey,
        draft=draft,
        versions=versions_of(survey)[::-1],  # newest first
        tx=_tx(definition),
        problems=draft_problems(definition, draft),
    )


@bp.route("/<slug>/report/settings", methods=["GET", "POST"])
@allow(*ANALYSTS)
def settings(slug: str):
    survey = custodians_survey(slug)
    draft = draft_for(survey)
    error = None
    if request.method == "POST":
        draft.limitations = request.form.get("limitations", "")[: MAX_TEXT + 1]
        draft.method_notes = request.form.get("method_notes", "")[: MAX_TEXT + 1]
        draft.rounding = request.form.get("rounding") == "yes"
        draft.theme_breakdown_by = request.form.get("theme_breakdown_by", "")[:64] or None
        try:
            save_draft(survey, draft)
        except ReportError as exc:
            error = str(exc)
        else:
            announce("report.draft_edit", current_user.email, slug, what="settings")
            return redirect(url_for("reports.report", slug=slug))
    definition = definition_of(survey)
    page = render_template(
        "admin/reports/settings.html",
        survey=survey,
        draft=draft,
        error=error,
        # The one setting checked against the survey; the others only for length.
        error_field="theme_breakdown_by" if error and "broken down" in error else "limitations",
        groups=breakdown_groups(definition),
        tx=_tx(definition),
    )
    return page, 422 if error else 200


def _finding_from_form(form: Any, finding_id: str) -> FindingDraft:
    def text(name: str, limit: int = 500) -> str:
        return form.get(name, "")[: limit + 1]

    severity = form.get("severity_question", "")
    return FindingDraft(
        id=finding_id,
        title=text("title"),
        feature=text("feature"),
        affected=text("affected"),
        affected_by=[v[:64] for v in form.getlist("affected_by")][:20],
        severity_question=severity[:64] or None,
        mitigation_questions=[v[:64] for v in form.getlist("mitigation_questions")][:50],
        mitigations=text("mitigations"),
        narrative=text("narrative", MAX_TEXT),
        evidence_questions=[v[:64] for v in form.getlist("evidence_questions")][:50],
        themes=[v[:64] for v in form.getlist("themes")][:200],
    )


def _finding_page(survey: Survey, finding: FindingDraft, new: bool, error: str | None):
    definition = definition_of(survey)
    counted = counted_questions(definition)
    page = render_template(
        "admin/reports/finding.html",
        survey=survey,
        finding=finding,
        new=new,
        error=error,
        groups=breakdown_groups(definition),
        scales=[q for q in counted if q.type == "scale"],
        choices=[q for q in counted if q.type != "scale"],
        counted=counted,
        book=codebook(survey),
        tx=_tx(definition),
    )
    return page, 422 if error else 200


@bp.route("/<slug>/report/findings/new", methods=["GET", "POST"])
@allow(*ANALYSTS)
def new_finding(slug: str):
    survey = custodians_survey(slug)
    draft = draft_for(survey)
    if request.method == "GET":
        suggested = f"f{len(draft.findings) + 1}"
        return _finding_page(survey, FindingDraft(id=suggested, title=""), True, None)
    finding = _finding_from_form(request.form, request.form.get("id", "").strip()[:64])
    if draft.finding(finding.id):
        return _finding_page(survey, finding, True, f"A finding with the id {finding.id!r} exists.")
    draft.findings.append(finding)
    return _save_finding(survey, draft, finding, new=True)


@bp.route("/<slug>/report/findings/<finding_id>", methods=["GET", "POST"])
@allow(*ANALYSTS)
def edit_finding(slug: str, finding_id: str):
    survey = custodians_survey(slug)
    draft = draft_for(survey)
    existing = draft.finding(finding_id)
    if existing is None:
        return redirect(url_for("reports.report", slug=slug))
    if request.method == "GET":
        return _finding_page(survey, existing, False, None)
    finding = _finding_from_form(request.form, finding_id)
    draft.findings[draft.findings.index(existing)] = finding
    return _save_finding(survey, draft, finding, new=False)


def _save_finding(survey: Survey, draft: DraftReport, finding: FindingDraft, new: bool):
    try:
        save_draft(survey, draft)
    except ReportError as exc:
        return _finding_page(survey, finding, new, str(exc))
    announce("report.draft_edit", current_user.email, survey.slug, finding=finding.id)
    return redirect(url_for("reports.report", slug=survey.slug))


@bp.post("/<slug>/report/findings/<finding_id>/delete")
@allow(*ANALYSTS)
def delete_finding(slug: str, finding_id: str):
    survey = custodians_survey(slug)
    draft = draft_for(survey)
    existing = draft.finding(finding_id)
    if existing is not None:
        draft.findings.remove(existing)
        store_draft(survey, draft)
        announce("report.draft_edit", current_user.email, slug, deleted=finding_id)
    return redirect(url_for("reports.report", slug=slug))


@bp.post("/<slug>/report/findings/<finding_id>/move")
@allow(*ANALYSTS)
def move_finding(slug: str, finding_id: str):
    survey = custodians_survey(slug)
    draft = draft_for(survey)
    existing = draft.finding(finding_id)
    if existing is not None:
        index = draft.findings.index(existing)
        target = index - 1 if request.form.get("direction") == "up" else index + 1
        if 0 <= target < len(draft.findings):
            draft.findings[index], draft.findings[target] = draft.findings[target], existing
            store_draft(survey, draft)
    return redirect(url_for("reports.report", slug=slug))


def _unlocked_evidence(survey: Survey) -> tuple[pd.DataFrame | None, ThemeEvidence | None]:
    """The frame and the themes' evidence of an unlocked survey; (None, None) if locked."""
    me = staff_member()
    frame = analysis_frame(survey, me)
    key = unlocked_key(survey, me)
    if frame is None or key is None:
        return None, None
    return frame, theme_evidence(survey, frame, key)


def _preview_document(
    survey: Survey,
) -> tuple[dict[str, Any] | None, str | None, bool, list[str]]:
    """The next version's document as the preview shows it, or the problem that stops
    it being built; whether the survey is unlocked at all; and what the version hides
    because of earlier ones (for the analysts' eyes). Kept in the unlock's
    scratch memory, so that the preview's charts, fetched just after the page, are
    drawn from the very document the page shows (and a lock drops it)."""
    me = staff_member()
    held = unlocked(survey, me)
    frame, evidence = _unlocked_evidence(survey)
    if held is None or frame is None:
        return None, None, False, []
    problem, document = None, None
    held_back: list[str] = []
    try:
        draft = draft_for(survey)
        document = build_report(survey, frame, draft, next_version(survey, []), evidence, held_back)
    except ReportError as exc:
        problem = str(exc)
    held.scratch["preview"] = document
    return document, problem, True, held_back


@bp.get("/<slug>/report/preview")
@allow(*ANALYSTS)
def preview(slug: str):
    """The next version as companies would read it, disclosure control applied."""
    survey = custodians_survey(slug)
    document, problem, is_unlocked, held_back = _preview_document(survey)
    if not is_unlocked:
        return redirect(url_for("keys.custody", slug=slug))
    return render_template(
        "admin/reports/preview.html",
        survey=survey,
        report=document,
        problem=problem,
        held_back=held_back,
        chart_url=chart_urls("reports.preview_chart", document or {}, slug=slug),
    )


@bp.get("/<slug>/report/preview/charts/<key>.svg")
@allow(*ANALYSTS)
def preview_chart(slug: str, key: str):
    """A chart of the preview, for the survey's custodians while it is unlocked (as the
    preview itself); never kept by the browser."""
    survey = custodians_survey(slug)
    held = unlocked(survey, staff_member())
    if held is None:
        return redirect(url_for("keys.custody", slug=slug))
    document = held.scratch.get("preview")
    if document is None:
        # Another process drew the page, or the scratch was dropped: build it here.
        document, _, _, _ = _preview_document(survey)
    if document is None:
        abort(404)
    return chart_response(document, key, PREVIEW_CACHE)


@bp.route("/<slug>/report/publish", methods=["GET", "POST"])
@allow(*ANALYSTS)
def publish_report(slug: str):
    """Choose the organisations and publish a frozen version."""
    survey = custodians_survey(slug)
    frame, evidence = _unlocked_evidence(survey)
    if frame is None:
        return redirect(url_for("keys.custody", slug=slug))
    organisations = list(db.session.scalars(db.select(Organisation).order_by(Organisation.name)))
    chosen = {v for v in request.form.getlist("organisation") if v.isdigit() and len(v) < 10}
    draft = draft_for(survey)
    error, error_field = None, "organisations"
    if request.method == "POST":
        done = _already_published(survey, request.form.get("version", ""))
        if done is not None:
            # The same form sent twice (a second press while the first one worked):
            # the version it asked for exists, so show it rather than publish another.
            return render_template(
                "admin/reports/published.html", survey=survey, version=done, again=True
            )
        addressed = [o for o in organisations if str(o.id) in chosen]
        if not draft.findings and request.form.get("no_findings") != "yes":
            error = (
                "This report has no findings, so the organisations would have nothing to "
                "answer. Tick “Publish it without findings” if that is what you mean."
            )
            error_field = "no_findings"
        elif request.form.get("understood") != "yes":
            error = "Confirm that you understand a published version can't be changed."
            error_field = "understood"
        else:
            try:
                version = publish(survey, frame, draft, addressed, staff_member().email, evidence)
            except AnswersChanged as exc:
                # The frame is made again, without the withdrawn answers.
                forget_frame(survey, staff_member())
                error = str(exc)
            except ReportError as exc:
                error = str(exc)
            else:
                return render_template(
                    "admin/reports/published.html", survey=survey, version=version, again=False
                )
    definition = definition_of(survey)
    upcoming = next_version(survey, [])
    warning = report_problem(definition, draft, len(frame), upcoming)
    page = render_template(
        "admin/reports/publish.html",
        survey=survey,
        organisations=organisations,
        chosen=chosen,
        respondents=len(frame),
        warning=warning,
        withdrawal_state=withdrawal_state(survey).value,
        closed=survey.status != SurveyStatus.OPEN.value,
        error=error,
        error_field=error_field,
        version=upcoming.version,
        findings=len(draft.findings),
        no_findings_ticked=request.form.get("no_findings") == "yes",
        understood=request.form.get("understood") == "yes",
    )
    return page, 422 if error else 200


def _already_published(survey: Survey, typed: str) -> ReportVersion | None:
    """The version a publish form asked for, if it exists already: the form carries the
    number it would publish, so sending it twice publishes once."""
    if not typed.isdigit() or len(typed) > 6:
        return None
    return next((v for v in versions_of(survey) if v.version == int(typed)), None)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
