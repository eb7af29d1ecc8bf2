"""The company portal: published reports addressed to an organisation, and its
answers to each finding.

A company reader sees only published versions addressed to their own
organisation; anything else (another company's report, a version not addressed
to them, an id that names nothing) is a 404, so the portal never hints that a
report exists. Answers are append-only rows: the newest per finding is the
current answer, the older ones are its history ("status over time"; README.md
"Analysis and reports").
Staff (facilitators, analysts, admins) see every organisation's answers.

The operations are plain functions that take models; the views below only
translate HTTP. Announcements name the finding and the status, never the text a
company wrote.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from babel import Locale
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from admin.portal.dates import DateError, parse_date
from survey.events import announce
from survey.models import (
    FindingAnswer,
    FindingStatus,
    Organisation,
    ReportAddressee,
    ReportVersion,
    Role,
    db,
)
from survey.spreadsheet import safe_cell

MAX_ANSWER_TEXT = 5000
MAX_ROW_ID = 2**31 - 1  # PostgreSQL's INTEGER: larger ids would be an error there, not a miss
# Control characters a browser never sends from a textarea; PostgreSQL refuses NUL outright.
CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
STAFF = (Role.FACILITATOR, Role.ANALYST, Role.ADMIN)

STATUS_LABELS = {
    FindingStatus.ACCEPTED: "Accepted",
    FindingStatus.PLANNED: "Planned",
    FindingStatus.DECLINED: "Declined",
    FindingStatus.NEEDS_INFORMATION: "Needs more information",
}
STATUS_HINTS = {
    FindingStatus.ACCEPTED: "You agree and are acting on it.",
    FindingStatus.PLANNED: "You will act on it by a date: give the date below.",
    FindingStatus.DECLINED: "You won't act on it: give your reasons below.",
    FindingStatus.NEEDS_INFORMATION: "You need more information before you can answer.",
}


class AnswerError(ValueError):
    """An answer that can't be saved; the message says why in plain words and
    `field` names the form field it is about (status, planned_for, text, finding)."""

    def __init__(self, message: str, field: str):
        super().__init__(message)
        self.field = field


# --- reading reports -------------------------------------------------------------------


def versions_for(organisation: Organisation | None) -> list[ReportVersion]:
    """Published versions addressed to the organisation, newest first."""
    if organisation is None:
        return []
    return list(
        db.session.scalars(
            select(ReportVersion)
            .join(ReportAddressee, ReportAddressee.version_id == ReportVersion.id)
            .where(ReportAddressee.organisation_id == organisation.id)
            .options(selectinload(ReportVersion.survey))
            .order_by(ReportVersion.published_at.desc(), ReportVersion.id.desc())
        )
    )


def is_addressed_to(version: ReportVersion, organisation: Organisation | None) -> bool:
    if organisation is None:
        return False
    return (
        db.session.get(
            ReportAddressee, {"version_id": version.id, "organisation_id": organisation.id}
        )
        is not None
    )


def snapshot(version: ReportVersion) -> dict[str, Any]:
    """The version's frozen `chorus-report/1` document."""
    document = json.loads(version.snapshot_json)
    return document if isinstance(document, dict) else {}


def findings_of(version: ReportVersion) -> list[dict[str, Any]]:
    """The snapshot's findings that have an id (all of them, in a valid document)."""
    findings = snapshot(version).get("findings") or []
    return [f for f in findings if isinstance(f, dict) and isinstance(f.get("id"), str)]


def report_title(version: ReportVersion) -> str:
    """The title the report was published under (the survey's may change later)."""
    title = (snapshot(version).get("survey") or {}).get("title")
    return title if isinstance(title, str) and title else version.survey.title


def report_name(version: ReportVersion) -> str:
    """How the audit log and file names refer to a version: `slug v2`."""
    return f"{version.survey.slug} v{version.version}"


# --- answering -------------------------------------------------------------------------


def _clean_text(text: str) -> str:
    return CONTROL_RE.sub("", text.replace("\r\n", "\n").replace("\r", "\n")).strip()


def answer_finding(
    version: ReportVersion,
    finding_id: str,
    organisation: Organisation,
    status: str,
    planned_for: date | str | None,
    text: str,
    author: str,
    locale: Locale | None = None,
) -> FindingAnswer:
    """Record an organisation's answer to one finding of a version it was sent.

    Planned needs a date (typed as `locale`'s readers write dates: admin/portal/dates.py),
    declined needs reasons; the text is the company's own
    words and goes nowhere but this row (the audit entry says only what status
    was given to which finding).
    """
    if not is_addressed_to(version, organisation):
        raise AnswerError("This report isn't addressed to your organisation.", "finding")
    finding = next((f for f in findings_of(version) if f["id"] == finding_id), None)
    if finding is None:
        raise AnswerError("Choose a finding of this report to answer.", "finding")
    try:
        chosen = FindingStatus(status)
    except ValueError:
        raise AnswerError("Choose what you will do about this finding.", "status") from None
    text = _clean_text(text or "")
    if len(text) > MAX_ANSWER_TEXT:
        raise AnswerError(
            f"Use at most {MAX_ANSWER_TEXT:,} characters (you used {len(text):,}).", "text"
        )
    day: date | None = None
    if chosen is FindingStatus.PLANNED:
        if isinstance(planned_for, date):
            day = planned_for
        elif not planned_for or not planned_for.strip():
            raise AnswerError("Enter the date by which you plan to act.", "planned_for")
        else:
            try:
                day = parse_date(planned_for, locale or Locale.parse("en"))
            except DateError as exc:
                raise AnswerError(str(exc), "planned_for") from None
    if chosen is FindingStatus.DECLINED and not text:
        raise AnswerError("Give your reasons for declining.", "text")
    answer = FindingAnswer(
        version_id=version.id,
        finding_id=finding_id,
        organisation_id=organisation.id,
        status=chosen.value,
        planned_for=day,
        text=text,
        author=author,
    )
    db.session.add(answer)
    db.session.commit()
    announce(
        "report.answer",
        author,
        report_name(version),
        finding=finding_id,
        status=chosen.value,
        organisation=organisation.name,
    )
    return answer


def _newest_first(query):
    return query.order_by(FindingAnswer.created_at.desc(), FindingAnswer.id.desc())


def answer_history(
    version: ReportVersion, finding_id: str, organisation: Organisation
) -> list[FindingAnswer]:
    """Every answer the organisation gave to the finding, newest (current) first."""
    return list(
        db.session.scalars(
            _newest_first(
                select(FindingAnswer).where(
                    FindingAnswer.version_id == version.id,
                    FindingAnswer.finding_id == finding_id,
                    FindingAnswer.organisation_id == organisation.id,
                )
            )
        )
    )


def organisation_answers(version: ReportVersion, organisation: Organisation) -> list[FindingAnswer]:
    return list(
        db.session.scalars(
            _newest_first(
                select(FindingAnswer).where(
                    FindingAnswer.version_id == version.id,
                    FindingAnswer.organisation_id == organisation.id,
                )
            )
        )
    )


def histories_by_finding(answers: Iterable[FindingAnswer]) -> dict[str, list[FindingAnswer]]:
    """Answers (newest first) grouped by finding, keeping that order."""
    grouped: dict[str, list[FindingAnswer]] = {}
    for answer in answers:
        grouped.setdefault(answer.finding_id, []).append(answer)
    return grouped


def current_answers(version: ReportVersion, organisation: Organisation) -> dict[str, FindingAnswer]:
    """The organisation's current (newest) answer to each finding it has answered."""
    return {
        fid: rows[0]
        for fid, rows in histories_by_finding(organisation_answers(version, organisation)).items()
    }


def all_answers(version: ReportVersion) -> list[FindingAnswer]:
    """Every organisation's answers to the version, newest first (for staff)."""
    return list(
        db.session.scalars(
            _newest_first(
                select(FindingAnswer)
                .where(FindingAnswer.version_id == version.id)
                .options(selectinload(FindingAnswer.organisation))
            )
        )
    )


@dataclass
class OrganisationAnswers:
    """One organisation's answers to one finding: newest first, maybe none yet."""

    organisation: Organisation
    history: list[FindingAnswer] = field(default_factory=list)

    @property
    def current(self) -> FindingAnswer | None:
        return self.history[0] if self.history else None


def answer_board(version: ReportVersion) -> dict[str, list[OrganisationAnswers]]:
    """For each finding, every addressed organisation (and any other that answered)
    with its history, organisations by name."""
    answers = all_answers(version)
    organisations = {org.id: org for org in version.addressees}
    for answer in answers:
        organisations.setdefault(answer.organisation_id, answer.organisation)
    ordered = sorted(organisations.values(), key=lambda org: org.name.lower())
    board: dict[str, list[OrganisationAnswers]] = {}
    for finding in findings_of(version):
        board[finding["id"]] = [
            OrganisationAnswers(
                org,
                [
                    a
                    for a in answers
                    if a.finding_id == finding["id"] and a.organisation_id == org.id
                ],
            )
            for org in ordered
        ]
    return board


# --- exports ---------------------------------------------------------------------------


def _cell(value: Any) -> str:
    """A CSV cell that a spreadsheet won't run as a formula (companies type the text)."""
    return safe_cell("" if value is None else str(value))


def when(moment: datetime) -> str:
    """A moment in UTC to the minute (SQLite hands back naive UTC datetimes)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def answers_csv(version: ReportVersion, organisation: Organisation | None = None) -> str:
    """One row per answer (history included), by finding, newest first; with the
    organisation as the first column when it covers them all (for staff)."""
    titles = {f["id"]: str(f.get("title", "")) for f in findings_of(version)}
    order = {fid: n for n, fid in enumerate(titles)}
    answers = organisation_answers(version, organisation) if organisation else all_answers(version)
    answers.sort(
        key=lambda a: (
            "" if organisation else a.organisation.name.lower(),
            order.get(a.finding_id, len(order)),
        )
    )  # stable: newest first within each finding
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    header = ["finding_id", "finding_title", "status", "planned_for", "text", "answered_at", "by"]
    writer.writerow(header if organisation else ["organisation", *header])
    for a in answers:
        row = [
            _cell(a.finding_id),
            _cell(titles.get(a.finding_id, "")),
            a.status,
            a.planned_for.isoformat() if a.planned_for else "",
            _cell(a.text),
            when(a.created_at),
            _cell(a.author),
        ]
        writer.writerow(row if organisation else [_cell(a.organisation.name), *row])
    return out.getvalue()
