"""The company portal: published reports for their readers, answers to findings, exports;
and the staff's view of every organisation's answers."""

from __future__ import annotations

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
from flask_login import current_user

from admin.access import allow, attachment
from admin.portal.answers import (
    MAX_ANSWER_TEXT,
    MAX_ROW_ID,
    STAFF,
    STATUS_HINTS,
    STATUS_LABELS,
    AnswerError,
    answer_board,
    answer_finding,
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
from survey.models import (
    FindingStatus,
    Organisation,
    ReportVersion,
    Role,
    User,
    db,
)

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


def _report_page(
    version: ReportVersion,
    problem: AnswerError | None = None,
    typed: dict[str, str] | None = None,
    status: int = 200,
):
    organisation = _my_organisation()
    assert organisation is not None  # _my_version let us here
    findings = findings_of(version)
    histories = histories_by_finding(organisation_answers(version, organisation))
    forms: dict[str, dict[str, str]] = {}
    for finding in findings:
        history = histories.get(finding["id"])
        current = history[0] if history else None
        forms[finding["id"]] = {
            "status": current.status if current else "",
            "planned_for": current.planned_for.isoformat()
            if current and current.planned_for
            else "",
            "text": current.text if current else "",
        }
    error_finding = None
    if typed is not None:
        if typed["finding_id"] in forms:
            error_finding = typed["finding_id"]
            forms[error_finding] = typed  # what was typed comes back, to be corrected
        elif findings:
            # No such finding (only a hand-made request): point at the first one's
            # choices, leaving its form as it was.
            error_finding = findings[0]["id"]
    error_field = None
    if problem is not None and error_finding is not None:
        field_name = "status" if problem.field == "finding" else problem.field
        error_field = f"{field_name}-{error_finding}"
        if field_name == "status":
            error_field += f"-{FindingStatus.ACCEPTED.value}"
    page = render_template(
        "admin/portal/report.html",
        version=version,
        title=report_title(version),
        report=snapshot(version),
        findings=findings,
        histories=histories,
        forms=forms,
        organisation=organisation,
        statuses=list(FindingStatus),
        status_labels=STATUS_LABELS,
        status_hints=STATUS_HINTS,
        max_text=MAX_ANSWER_TEXT,
        when=when,
        error=str(problem) if problem else None,
        error_field=error_field,
        error_finding=error_finding if problem else None,
        error_kind=(
            ("status" if problem.field == "finding" else problem.field) if problem else None
        ),
        has_errors=problem is not None,
        notices=get_flashed_messages(with_categories=True),
    )
    return page, status


@bp.get("/portal/reports/<int:version_id>")
@allow(Role.COMPANY)
def report(version_id: int):
    return _report_page(_my_version(version_id))


@bp.post("/portal/reports/<int:version_id>")
@allow(Role.COMPANY)
def answer(version_id: int):
    version = _my_version(version_id)
    organisation = _my_organisation()
    assert organisation is not None
    typed = {
        "finding_id": request.form.get("finding_id", "")[:64],
        "status": request.form.get("status", "")[:32],
        "planned_for": request.form.get("planned_for", "")[:40],
        # Kept whole (up to the request limit) so a too-long answer comes back to be cut.
        "text": request.form.get("text", ""),
    }
    try:
        answer_finding(
            version,
            typed["finding_id"],
            organisation,
            typed["status"],
            typed["planned_for"],
            typed["text"],
            current_user.email,
        )
    except AnswerError as problem:
        db.session.rollback()
        return _report_page(version, problem, typed, 422)
    title = next(f.get("title", "") for f in findings_of(version) if f["id"] == typed["finding_id"])
    # Shown beside the finding the redirect lands on, where the reader is looking.
    flash(
        f"Your answer to “{title}” is saved: {STATUS_LABELS[FindingStatus(typed['status'])]}.",
        f"answer:{typed['finding_id']}",
    )
    return redirect(
        url_for("portal.report", version_id=version.id, _anchor=f"answer-{typed['finding_id']}"),
        303,
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
