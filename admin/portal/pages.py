"""The company portal: published reports for their readers, answers to findings, exports;
and the staff's view of every organisation's answers."""

from __future__ import annotations

from typing import Any

from babel import Locale
from flask import (
    Blueprint,
    Flask,
    abort,
    flash,
    get_flashed_messages,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_login import current_user

from admin.access import allow, attachment
from admin.portal import dates
from admin.portal.answers import (
    MAX_ANSWER_TEXT,
    MAX_ROW_ID,
    STAFF,
    STATUS_HINTS,
    STATUS_LABELS,
    AnswerError,
    answer_board,
    answer_finding,
    answer_history,
    answers_csv,
    current_answers,
    findings_of,
    histories_by_finding,
    is_addressed_to,
    organisation_answers,
    report_title,
    snapshot,
    versions_for,
    when,
)
from admin.reports import render
from admin.reports.charts import PUBLISHED_CACHE, chart_response, chart_urls
from survey.models import (
    FindingStatus,
    Organisation,
    ReportVersion,
    Role,
    User,
    db,
)
from survey.privacy import privately_cacheable

bp = Blueprint("portal", __name__)

# --- views -----------------------------------------------------------------------------


def _my_organisation() -> Organisation | None:
    user: User = current_user  # type: ignore[assignment]
    return user.organisation


def _version(version_id: int) -> ReportVersion:
    """Any published version (staff), or 404."""
    version = db.session.get(ReportVersion, version_id) if 0 < version_id <= MAX_ROW_ID else None
    return version or abort(404)


def _my_version(version_id: int) -> ReportVersion:
    """A version addressed to the reader's organisation; anything else is 404, the
    same as an id that names nothing, so nobody learns what exists."""
    version = _version(version_id)
    if not is_addressed_to(version, _my_organisation()):
        abort(404)
    return version


def _readable_version(version_id: int) -> ReportVersion:
    """Staff read any published version; a company reader only those addressed to
    their organisation (anything else is 404)."""
    user: User = current_user  # type: ignore[assignment]
    return _version(version_id) if user.has_role(*STAFF) else _my_version(version_id)


def _file_stem(version: ReportVersion) -> str:
    return f"{version.survey.slug}-v{version.version}"


@bp.get("/portal/")
@allow(Role.COMPANY)
def index():
    organisation = _my_organisation()
    versions = versions_for(organisation)
    answered = {
        v.id: (len(current_answers(v, organisation)), len(findings_of(v)))  # type: ignore[arg-type]
        for v in versions
    }
    return render_template(
        "admin/portal/index.html",
        organisation=organisation,
        versions=versions,
        answered=answered,
        titles={v.id: report_title(v) for v in versions},
    )


@bp.get("/portal/reports/<int:version_id>")
@allow(Role.COMPANY)
def report(version_id: int):
    """The report, findings first, each with the organisation's current answer and a
    link to the finding's own page to answer it; results by question folded."""
    version = _my_version(version_id)
    organisation = _my_organisation()
    assert organisation is not None  # _my_version let us here
    document = snapshot(version)
    return render_template(
        "admin/portal/report.html",
        version=version,
        title=report_title(version),
        report=document,
        findings=findings_of(version),
        histories=histories_by_finding(organisation_answers(version, organisation)),
        organisation=organisation,
        status_labels=STATUS_LABELS,
        when=when,
        chart_url=chart_urls("portal.chart", document, version_id=version.id),
        notices=get_flashed_messages(with_categories=True),
    )


@bp.get("/portal/reports/<int:version_id>/charts/<key>.svg")
@allow(Role.COMPANY, *STAFF)
@privately_cacheable
def chart(version_id: int, key: str):
    """One chart of a published version, for whoever may read the version (404 for
    anyone else, as for the report itself)."""
    version = _readable_version(version_id)
    return chart_response(snapshot(version), key, PUBLISHED_CACHE)


def _finding(version: ReportVersion, finding_id: str) -> tuple[int, dict[str, Any]]:
    """The finding the URL names, with its number in the report; 404 if none."""
    for number, finding in enumerate(findings_of(version), start=1):
        if finding["id"] == finding_id:
            return number, finding
    abort(404)


def reader_locale() -> Locale:
    """The portal reader's locale, which decides how a typed date is read and shown
    in the hint (admin/portal/dates.py); English when none is known."""
    return get_locale() or Locale.parse("en")


def _finding_page(
    version: ReportVersion,
    finding_id: str,
    problem: AnswerError | None = None,
    typed: dict[str, str] | None = None,
):
    organisation = _my_organisation()
    assert organisation is not None  # _my_version let us here
    number, finding = _finding(version, finding_id)
    history = answer_history(version, finding_id, organisation)
    current = history[0] if history else None
    form = typed or {
        "status": current.status if current else "",
        "planned_for": current.planned_for.isoformat() if current and current.planned_for else "",
        "text": current.text if current else "",
    }
    error_field = None
    if problem is not None:
        error_field = problem.field
        if problem.field in ("status", "finding"):
            error_field = f"status-{FindingStatus.ACCEPTED.value}"
    document = snapshot(version)
    page = render_template(
        "admin/portal/finding.html",
        version=version,
        title=report_title(version),
        report=document,
        finding=finding,
        number=number,
        history=history,
        form=form,
        organisation=organisation,
        statuses=list(FindingStatus),
        status_labels=STATUS_LABELS,
        status_hints=STATUS_HINTS,
        max_text=MAX_ANSWER_TEXT,
        when=when,
        chart_url=chart_urls("portal.chart", document, version_id=version.id),
        error=str(problem) if problem else None,
        date_order=dates.order_words(reader_locale()),
        date_example=dates.example(reader_locale()),
        error_field=error_field,
        error_kind=("status" if problem.field == "finding" else problem.field) if problem else None,
        has_errors=problem is not None,
    )
    return page, 422 if problem else 200


@bp.get("/portal/reports/<int:version_id>/findings/<finding_id>")
@allow(Role.COMPANY)
def finding(version_id: int, finding_id: str):
    """One finding and the organisation's answers to it, with the form to answer."""
    return _finding_page(_my_version(version_id), finding_id)


@bp.post("/portal/reports/<int:version_id>/findings/<finding_id>")
@allow(Role.COMPANY)
def answer(version_id: int, finding_id: str):
    """Save an answer, then back to the report at that finding; a refused answer
    comes back on this page with what was typed and what to change."""
    version = _my_version(version_id)
    organisation = _my_organisation()
    assert organisation is not None
    _, found = _finding(version, finding_id)
    typed = {
        "status": request.form.get("status", "")[:32],
        "planned_for": request.form.get("planned_for", "")[:40],
        # Kept whole (up to the request limit) so a too-long answer comes back to be cut.
        "text": request.form.get("text", ""),
    }
    try:
        answer_finding(
            version,
            finding_id,
            organisation,
            typed["status"],
            typed["planned_for"],
            typed["text"],
            current_user.email,
            reader_locale(),
        )
    except AnswerError as problem:
        db.session.rollback()
        return _finding_page(version, finding_id, problem, typed)
    # Shown beside the finding the redirect lands on, where the reader is looking.
    flash(
        f"Your answer to “{found.get('title', '')}” is saved: "
        f"{STATUS_LABELS[FindingStatus(typed['status'])]}.",
        f"answer:{finding_id}",
    )
    return redirect(
        url_for("portal.report", version_id=version.id, _anchor=f"answer-{finding_id}"), 303
    )


@bp.get("/portal/reports/<int:version_id>/report.pdf")
@allow(Role.COMPANY, *STAFF)
def report_pdf(version_id: int):
    version = _readable_version(version_id)
    return attachment(version.pdf, "application/pdf", f"{_file_stem(version)}-report.pdf")


@bp.get("/portal/reports/<int:version_id>/report.html")
@allow(Role.COMPANY, *STAFF)
def report_html(version_id: int):
    version = _readable_version(version_id)
    return attachment(version.html, "text/html", f"{_file_stem(version)}-report.html")


@bp.get("/portal/reports/<int:version_id>/tables.csv")
@allow(Role.COMPANY, *STAFF)
def tables_csv(version_id: int):
    """The published tables only, as CSV (suppressed cells say so)."""
    version = _readable_version(version_id)
    body = render.tables_csv(snapshot(version))
    return attachment(body, "text/csv", f"{_file_stem(version)}-tables.csv")


@bp.get("/portal/reports/<int:version_id>/tables.xlsx")
@allow(Role.COMPANY, *STAFF)
def tables_xlsx(version_id: int):
    version = _readable_version(version_id)
    return attachment(
        render.tables_xlsx(snapshot(version)),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        f"{_file_stem(version)}-tables.xlsx",
    )


@bp.get("/portal/reports/<int:version_id>/answers.csv")
@allow(Role.COMPANY)
def answers_csv_download(version_id: int):
    version = _my_version(version_id)
    return attachment(
        answers_csv(version, _my_organisation()),
        "text/csv",
        f"{_file_stem(version)}-answers.csv",
    )


@bp.get("/staff/reports/<int:version_id>/answers")
@allow(*STAFF)
def staff_answers(version_id: int):
    version = _version(version_id)
    return render_template(
        "admin/portal/staff_answers.html",
        version=version,
        title=report_title(version),
        report=snapshot(version),
        findings=findings_of(version),
        board=answer_board(version),
        status_labels=STATUS_LABELS,
        when=when,
    )


@bp.get("/staff/reports/<int:version_id>/answers.csv")
@allow(*STAFF)
def staff_answers_csv(version_id: int):
    version = _version(version_id)
    return attachment(answers_csv(version), "text/csv", f"{_file_stem(version)}-all-answers.csv")


def init_app(app: Flask) -> None:
    """The company portal and the staff's view of companies' answers."""
    if "portal" not in app.blueprints:
        app.register_blueprint(bp)
