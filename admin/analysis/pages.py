"""Analysis: an unlocked survey's answers, decrypted in memory for the analyst.

Nothing decrypted is ever written to the server's disk: the frame lives in the
unlock's scratch memory (dropped at lock or when the unlock lapses), and the
CSV is built in memory and sent straight to the analyst.
"""

from __future__ import annotations

from flask import Blueprint, Flask, redirect, render_template, request, url_for

from admin.access import allow, attachment, staff_member, survey_or_404
from admin.analysis.frame import analysis_frame
from admin.analysis.published import PublishedTables, breakdown_too_large, disclosure_for
from admin.analysis.tables import breakdown as tables_breakdown
from admin.analysis.tables import (
    breakdown_groups,
    counted_questions,
    question_counts,
    weekly_counts,
)
from admin.custody.unlock import unlocked_key
from admin.reports.draft import draft_for
from survey.definition import localize
from survey.events import announce
from survey.models import Role
from survey.sealed_answers import responses_csv
from survey.stored import counts_note
from survey.surveys import definition_of

bp = Blueprint("analysis", __name__, url_prefix="/staff/surveys")


@bp.get("/<slug>/analysis")
@allow(Role.ANALYST)
def analysis(slug: str):
    """Responses per week, each question's counts, and a chosen breakdown, with what
    the published version would hide marked (true counts: the analyst holds the key)."""
    survey = survey_or_404(slug)
    me = staff_member()
    frame = analysis_frame(survey, me)
    if frame is None:
        return redirect(url_for("keys.custody", slug=slug))
    definition = definition_of(survey)
    language = definition.default_language
    draft = draft_for(survey)
    tables = PublishedTables(
        definition, frame, disclosure_for(definition, draft.rounding), language
    )
    questions = []
    for question in counted_questions(definition):
        true = question_counts(frame, question, language, language)
        published = tables.question_entry(question)
        questions.append((true, published))
    groups = breakdown_groups(definition)
    counted = counted_questions(definition)
    chosen = _chosen_breakdown(request.args, definition, groups)
    preselected = chosen or default_breakdown(counted, groups)
    breakdown = None
    too_large = breakdown_too_large(*chosen) if chosen else None
    if chosen and not too_large:
        question, by = chosen
        index = tables.breakdown(question, by)
        breakdown = (
            tables_breakdown(frame, question, by, language, language),
            tables.breakdown_entries[index] if index is not None else None,
        )
    return render_template(
        "admin/analysis/index.html",
        survey=survey,
        respondents=len(frame),
        weeks=weekly_counts(frame),
        questions=questions,
        groups=groups,
        counted=counted,
        chosen=chosen,
        preselected=preselected,
        breakdown=breakdown,
        too_large=too_large,
        k=definition.suppression_k,
        min_report_n=definition.min_report_n,
        tx=lambda text: localize(text, language, language),
        counts_note=counts_note(survey),
    )


def default_breakdown(counted, groups):
    """What the breakdown form offers before anything is chosen: the first group, and
    the first question that isn't that group (a question by itself tells nothing)."""
    if not groups:
        return None
    by = groups[0]
    question = next((q for q in counted if q.id != by.id), None)
    return (question, by) if question is not None else None


def _chosen_breakdown(args, definition, groups):
    """The (question, by) pair asked for in the query string, if both are valid."""
    by = next((g for g in groups if g.id == args.get("by")), None)
    question = next((q for q in counted_questions(definition) if q.id == args.get("q")), None)
    if by is None or question is None or by.id == question.id:
        return None
    return question, by


@bp.get("/<slug>/responses.csv")
@allow(Role.ANALYST)
def export_csv(slug: str):
    """Every response as CSV (the format of `chorus responses export`), if unlocked."""
    survey = survey_or_404(slug)
    me = staff_member()
    private_key = unlocked_key(survey, me)
    if private_key is None:
        return redirect(url_for("keys.custody", slug=slug))
    text, count = responses_csv(survey, private_key)
    announce("responses.export", me.email, slug, rows=count, key="unlocked in browser")
    return attachment(text, "text/csv", f"{slug}-responses.csv")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
