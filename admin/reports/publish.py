"""Publishing: freezing a version of a report (document, HTML, PDF) for the
organisations it is addressed to. Published versions never change."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pandas as pd
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from admin.reports import render
from admin.reports.build import Published, ThemeEvidence, build_report
from admin.reports.draft import DraftReport, ReportError, draft_problems
from survey.events import announce
from survey.models import (
    InboxEntry,
    Organisation,
    ReportVersion,
    Response,
    Survey,
    SurveyStatus,
    db,
    iso_week,
    rows_changed,
)
from survey.surveys import definition_of


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
        earlier=[json.loads(v.snapshot_json) for v in earlier],
        previous_id=earlier[-1].id if earlier else None,
    )


class AnswersChanged(ReportError):
    """A response the tables count was withdrawn while they were being worked on."""


# Ids marked in one UPDATE: well under any database's limit on bound parameters.
_MARK_BATCH = 1000


def _mark_counted(survey: Survey, response_ids: Sequence[str]) -> None:
    """Mark the responses a version counts, or AnswersChanged if one is gone (it was
    withdrawn after the frame was built: the version would count it)."""
    marked = 0
    for start in range(0, len(response_ids), _MARK_BATCH):
        batch = response_ids[start : start + _MARK_BATCH]
        marked += rows_changed(
            db.session.execute(
                update(Response)
                .where(Response.survey_id == survey.id, Response.id.in_(batch))
                .values(counted=True)
            )
        )
    if marked != len(response_ids):
        raise AnswersChanged(
            "Someone withdrew their answers while you were working, so the tables "
            "were out of date. They have been made again without those answers: "
            "check the preview, then publish again."
        )


def _all_counted(survey: Survey) -> bool:
    """Whether every answer of the survey, stored or waiting, is counted."""
    uncounted = db.session.scalar(
        select(func.count())
        .select_from(Response)
        .where(Response.survey_id == survey.id, Response.counted.is_(False))
    )
    waiting = db.session.scalar(
        select(func.count())
        .select_from(InboxEntry)
        .where(InboxEntry.survey_id == survey.id, InboxEntry.receipt_tag.is_not(None))
    )
    return not uncounted and not waiting


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
    evidence: ThemeEvidence | None = None,
) -> ReportVersion:
    """Freeze a new version: its document, HTML and PDF, addressed to `organisations`.

    Published versions never change; a new one links to the one before. Every
    response the version counts (the frame's) is marked counted in the same
    transaction and can't be withdrawn from then on; answers stored or sent later
    can be, until the next version (README.md "Analysis and reports"). A version
    published while the survey is closed or archived counts every answer: it ends
    withdrawal for the survey.
    """
    if not organisations:
        raise ReportError("Choose at least one organisation to address the report to.")
    theme_ids = {t.id for t in evidence.book} if evidence else set()
    problems = draft_problems(definition_of(survey), draft, theme_ids)
    if problems:
        raise ReportError(" ".join(problems))
    published = next_version(survey, sorted(o.name for o in organisations))
    document = build_report(survey, frame, draft, published, evidence)
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
        _mark_counted(survey, [str(r) for r in frame.index])
        if survey.status in (SurveyStatus.CLOSED.value, SurveyStatus.ARCHIVED.value):
            survey.withdrawal_ended = _all_counted(survey)
        db.session.commit()
    except AnswersChanged:
        db.session.rollback()
        raise
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
