"""Analysis: an unlocked survey's answers, decrypted in memory for the analyst.

Nothing decrypted is ever written to the server's disk: the frame lives in the
unlock's scratch memory (dropped at lock or when the unlock lapses), and the
CSV is built in memory and sent straight to the analyst.
"""

from __future__ import annotations

import pandas as pd
from flask import Blueprint, Flask, redirect, render_template, request, url_for

from admin.access import allow, attachment, staff_member, survey_or_404
from admin.frame import answers_frame
from admin.keys import unlocked, unlocked_key
from admin.reports import ReportTables, breakdown_groups, disclosure_for, draft_for
from admin.tables import breakdown as tables_breakdown
from admin.tables import counted_questions, question_counts, weekly_counts
from survey.definition import localize
from survey.events import announce
from survey.models import Role, Survey, User
from survey.sealed_answers import responses_csv
from survey.surveys import definition_of, response_count

bp = Blueprint("analysis", __name__, url_prefix="/staff/surveys")


def analysis_frame(survey: Survey, user: User) -> pd.DataFrame | None:
    """The survey's answers as a frame, built once per unlock (again when new
    responses arrive or some are withdrawn); None when the survey is locked."""
    held = unlocked(survey, user)
    if held is None:
        return None
    count = response_count(survey)
    cached = held.scratch.get("frame")
    if cached is None or cached[0] != count:
        cached = held.scratch["frame"] = (count, answers_frame(survey, held.key))
    return cached[1]


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
    tables = ReportTables(definition, frame, disclosure_for(definition, draft), language)
    questions = []
    for question in counted_questions(definition):
        true = question_counts(frame, question, language, language)
        published = tables.question_entry(question)
        questions.append((true, published))
    groups = breakdown_groups(definition)
    chosen = _chosen_breakdown(request.args, definition, groups)
    breakdown = None
    if chosen:
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
        counted=counted_questions(definition),
        chosen=chosen,
        breakdown=breakdown,
        k=definition.suppression_k,
        min_report_n=definition.min_report_n,
        tx=lambda text: localize(text, language, language),
    )


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
