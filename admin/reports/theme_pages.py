"""The analyst's theme pages: the codebook, coding answers, agreement between
coders, and the quotes approved for publication.

Views only translate between HTTP and admin/reports/ (coding, quotes, draft). Like
the report pages, only the survey's custodians reach them, and only while the
survey is unlocked: every page reads answers or the sealed codes.

What a coder works on never leaves through a side door: answer keys travel in
POST bodies only (a page's address holds a position, `?at=3`, never a key), and
the audit log hears coarse counts (`themes.code`, `quotes.decide`), never which
answer or what text.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from flask import (
    Blueprint,
    Flask,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.datastructures import MultiDict

from admin.access import allow, attachment, staff_member
from admin.analysis.frame import analysis_frame
from admin.custody.unlock import unlocked
from admin.reports import coding, masking, quotes, themes
from admin.reports.coding import REPORT_CODING, CodingError, FreeText
from admin.reports.draft import (
    ReportError,
    draft_for,
    finding_from_theme,
    retheme_findings,
    save_draft,
)
from admin.reports.pages import ANALYSTS, custodians_survey
from admin.reports.sealed_state import ConcurrentChange
from admin.reports.themes import CodebookError, Theme
from survey.definition import SurveyDefinition, localize
from survey.events import announce
from survey.models import Survey
from survey.surveys import definition_of

bp = Blueprint("themes", __name__, url_prefix="/staff/surveys")

THEME_FIELDS = ("id", "label", "description", "feature", "harm", "keywords")
# Keys that toggle a theme on the coding page, in codebook order: n, p and s are
# "save and next", "previous" and "save".
THEME_KEYS = "123456789abcdefghijklmoqrtuvwxyz"
CODING_PAGE = 20  # answers per page of the list view
QUOTES_PAGE = 20
DISAGREEMENTS_PAGE = 20
TOPIC_EXAMPLES = 3
MAX_FIELD = 6000  # more than any field of a theme may hold, so the message says so
MAX_CSV = 2_000_000


@dataclass(frozen=True)
class Work:
    """An unlocked survey as the theme pages need it: the key, the free texts of
    its answers (kept for this unlock), and the unlock's scratch memory."""

    survey: Survey
    definition: SurveyDefinition
    key: bytes
    texts: list[FreeText]
    scratch: dict[str, Any]

    def tx(self, text: Any) -> str:
        language = self.definition.default_language
        return localize(text, language, language)

    @property
    def book(self) -> list[Theme]:
        return coding.codebook(self.survey)


def _work(slug: str) -> Work | None:
    """The survey for one of its custodians (403 for anyone else), or None when
    this session hasn't unlocked it."""
    survey = custodians_survey(slug)
    me = staff_member()
    frame = analysis_frame(survey, me)
    held = unlocked(survey, me)
    if frame is None or held is None:
        return None
    definition = definition_of(survey)
    cached = held.scratch.get("free_texts")
    if cached is None or cached[0] is not frame:
        cached = held.scratch["free_texts"] = (frame, coding.free_texts_of(frame, definition))
    return Work(survey, definition, held.key, cached[1], held.scratch)


def _locked(slug: str):
    return redirect(url_for("keys.custody", slug=slug))


def _page_count(total: int, size: int) -> int:
    return max(1, math.ceil(total / size))


def _number(value: str | None, default: int = 1) -> int:
    """A positive whole number from a query or form, or `default`."""
    value = (value or "").strip()
    return int(value) if value.isdigit() and len(value) < 7 and int(value) > 0 else default


def _me() -> str:
    return staff_member().email


# --- the codebook ---------------------------------------------------------------------------


def _masked_texts(work: Work) -> list[str] | None:
    """The free texts masked as quotes are (names, places, contact details
    replaced), worked out once per unlock; None when a language of the survey has no
    masker. Topics are suggested from these: their words become keywords and labels
    in the codebook, which is stored unencrypted."""
    if quotes.masker_problem(work.definition):
        return None
    cached = work.scratch.get("masked_texts")
    if cached is None or cached[0] is not work.texts:
        languages = work.definition.languages
        masked = [masking.mask_quote(t.text, languages).text for t in work.texts]
        cached = work.scratch["masked_texts"] = (work.texts, masked)
    return cached[1]


def _topics(work: Work) -> list[themes.Topic]:
    """Topic suggestions over the masked free texts, worked out once per unlock (a
    few seconds on a large survey) and again when the answers change; none when the
    texts can't be masked."""
    masked = _masked_texts(work)
    if masked is None:
        return []
    cached = work.scratch.get("topics")
    if cached is None or cached[0] is not masked:
        found = themes.topic_suggestions(masked)
        cached = work.scratch["topics"] = (masked, found)
    return cached[1]


def _identifying(work: Work, theme: Theme) -> list[tuple[str, str]]:
    """Warnings (field, message) for what in a theme looks like a name, a place or a
    contact detail, unless the analyst saw them and chose to save it anyway."""
    if request.form.get("identifying_confirmed") == "1":
        return []
    found = themes.identifying_warnings(theme, masking.LANGUAGES)
    return _placed(found, THEME_FIELDS)


def _theme_form(form: Mapping[str, str]) -> dict[str, str]:
    return {name: form.get(name, "")[:MAX_FIELD] for name in THEME_FIELDS}


def _theme_of(values: Mapping[str, str], theme_id: str | None = None) -> Theme:
    return Theme(
        id=theme_id if theme_id is not None else values["id"],
        label=values["label"],
        description=values["description"],
        feature=values["feature"],
        harm=values["harm"],
        keywords=tuple(values["keywords"].split(themes.KEYWORD_SEPARATOR)),
    )


def _form_of(theme: Theme) -> dict[str, str]:
    return {
        "id": theme.id,
        "label": theme.label,
        "description": theme.description,
        "feature": theme.feature,
        "harm": theme.harm,
        "keywords": "; ".join(theme.keywords),
    }


def _placed(problems: Sequence[str], fields: Sequence[str]) -> list[tuple[str, str]]:
    """Each problem with the form field it is about (named at its start, as
    "label: required"), or the first field."""
    placed = []
    for problem in problems:
        field = next((f for f in fields if problem.startswith(f + ":")), None)
        if field is None:
            field = "id" if "the id" in problem and "id" in fields else fields[0]
        placed.append((field, problem))
    return placed


def _topic_form(work: Work, index: str | None) -> dict[str, str] | None:
    """The add form prefilled from a topic suggestion: its terms as keywords."""
    if index is None:
        return None
    if not (index.isdigit() and len(index) < 4):
        return None
    topic = next((t for t in _topics(work) if t.index == int(index)), None)
    if topic is None:
        return None
    first = topic.terms[0] if topic.terms else ""
    return {
        "id": first if themes.THEME_ID_RE.fullmatch(first) else "",
        "label": ", ".join(topic.terms[:3]).capitalize(),
        "description": "",
        "feature": "",
        "harm": "",
        "keywords": "; ".join(topic.terms),
    }


def _codebook_page(
    work: Work,
    new: Mapping[str, str] | None = None,
    problems: Sequence[tuple[str, str]] = (),
    merge: Mapping[str, Any] | None = None,
    merge_problem: str | None = None,
    finding_problem: str | None = None,
    warnings: Sequence[tuple[str, str]] = (),
    status: int = 200,
):
    book = work.book
    report = coding.load_coding(work.survey, work.key, REPORT_CODING)
    page = render_template(
        "admin/themes/codebook.html",
        survey=work.survey,
        book=book,
        counts=coding.answers_by_theme(report, work.texts),
        progress=coding.coding_progress(report, work.texts),
        new=new or dict.fromkeys(THEME_FIELDS, ""),
        problems=problems,
        merge=merge or {"keep": "", "merged": []},
        merge_problem=merge_problem,
        finding_problem=finding_problem,
        warnings=warnings,
        has_errors=bool(problems or merge_problem or finding_problem or warnings),
        breakdown_by=draft_for(work.survey).theme_breakdown_by,
    )
    return page, status


@bp.get("/<slug>/themes")
@allow(*ANALYSTS)
def codebook(slug: str):
    """The codebook: every theme with how many answers the report's coding gives
    it, and the forms to add, merge, import and export themes."""
    work = _work(slug)
    if work is None:
        return _locked(slug)
    return _codebook_page(work, new=_topic_form(work, request.args.get("topic")))


@bp.post("/<slug>/themes/new")
@allow(*ANALYSTS)
def add_theme(slug: str):
    work = _work(slug)
    if work is None:
        return _locked(slug)
    values = _theme_form(request.form)
    warnings = _identifying(work, _theme_of(values))
    try:
        # Its problems first; then, if it could be added, what it may give away.
        theme = coding.add_theme(work.survey, _theme_of(values), _me(), check_only=bool(warnings))
    except CodingError as exc:
        problems = _placed(exc.problems, THEME_FIELDS)
        return _codebook_page(work, new=values, problems=problems, status=422)
    if warnings:
        return _codebook_page(work, new=values, warnings=warnings, status=422)
    flash(f"The theme “{theme.label}” was added.")
    return redirect(url_for("themes.codebook", slug=slug))


def _theme_or_404(work: Work, theme_id: str) -> Theme:
    theme = coding.find_theme(work.survey, theme_id)
    if theme is None:
        abort(404)
    return theme


@bp.route("/<slug>/themes/<theme_id>/edit", methods=["GET", "POST"])
@allow(*ANALYSTS)
def edit_theme(slug: str, theme_id: str):
    work = _work(slug)
    if work is None:
        return _locked(slug)
    theme = _theme_or_404(work, theme_id)
    values, problems, warnings = _form_of(theme), [], []
    if request.method == "POST":
        values = {**_theme_form(request.form), "id": theme.id}
        changed = _theme_of(values, theme.id)
        warnings = _identifying(work, changed)
        try:
            edited = coding.edit_theme(
                work.survey, theme.id, changed, _me(), check_only=bool(warnings)
            )
        except CodingError as exc:
            problems, warnings = _placed(exc.problems, THEME_FIELDS[1:]), []
        else:
            if not warnings:
                flash(f"The theme “{edited.label}” was saved.")
                return redirect(url_for("themes.codebook", slug=slug))
    page = render_template(
        "admin/themes/edit.html",
        survey=work.survey,
        theme=theme,
        values=values,
        problems=problems,
        warnings=warnings,
        has_errors=bool(problems or warnings),
    )
    return page, 422 if problems or warnings else 200


@bp.route("/<slug>/themes/<theme_id>/delete", methods=["GET", "POST"])
@allow(*ANALYSTS)
def delete_theme(slug: str, theme_id: str):
    """Ask first: deleting a theme takes it off every answer in every coding."""
    work = _work(slug)
    if work is None:
        return _locked(slug)
    theme = _theme_or_404(work, theme_id)
    if request.method == "POST":
        coding.delete_theme(work.survey, theme.id, work.key, _me())
        retheme_findings(work.survey, {theme.id: None})
        flash(f"The theme “{theme.label}” was deleted.")
        return redirect(url_for("themes.codebook", slug=slug))
    report = coding.load_coding(work.survey, work.key, REPORT_CODING)
    return render_template(
        "admin/themes/delete.html",
        survey=work.survey,
        theme=theme,
        answers=coding.answers_by_theme(report, work.texts).get(theme.id, 0),
        findings=[f for f in draft_for(work.survey).findings if theme.id in f.themes],
    )


@bp.post("/<slug>/themes/<theme_id>/move")
@allow(*ANALYSTS)
def move_theme(slug: str, theme_id: str):
    work = _work(slug)
    if work is None:
        return _locked(slug)
    theme = _theme_or_404(work, theme_id)
    coding.move_theme(work.survey, theme.id, -1 if request.form.get("direction") == "up" else 1)
    return redirect(url_for("themes.codebook", slug=slug, _anchor=f"theme-{theme.id}"))


@bp.post("/<slug>/themes/merge")
@allow(*ANALYSTS)
def merge_themes(slug: str):
    """Fold the chosen themes into one: their answers and keywords go with it."""
    work = _work(slug)
    if work is None:
        return _locked(slug)
    keep = request.form.get("keep", "")[:64]
    merged = [m[:64] for m in request.form.getlist("merged")][:500]
    choice = {"keep": keep, "merged": merged}
    if not keep:
        problem = "Choose the theme to keep."
        return _codebook_page(work, merge=choice, merge_problem=problem, status=422)
    try:
        kept = coding.merge_into(work.survey, keep, merged, work.key, _me())
    except CodingError as exc:
        return _codebook_page(work, merge=choice, merge_problem=str(exc), status=422)
    folded = [m for m in dict.fromkeys(merged) if m != keep]
    retheme_findings(work.survey, dict.fromkeys(folded, keep))
    flash(f"{len(folded)} theme{'s' if len(folded) != 1 else ''} merged into “{kept.label}”.")
    return redirect(url_for("themes.codebook", slug=slug))


@bp.route("/<slug>/themes/import", methods=["GET", "POST"])
@allow(*ANALYSTS)
def import_codebook(slug: str):
    """Add and update themes from a codebook CSV, uploaded or pasted."""
    work = _work(slug)
    if work is None:
        return _locked(slug)
    problems: list[str] = []
    typed = ""
    if request.method == "POST":
        typed = request.form.get("text", "")[:MAX_CSV]
        text, problem = _uploaded_csv()
        if problem:
            problems = [problem]
        elif not text.strip():
            problems = ["Choose a file, or paste the codebook."]
        else:
            try:
                result = coding.import_codebook(work.survey, text, _me())
            except CodebookError as exc:
                problems = exc.problems
            else:
                flash(
                    f"Imported: {len(result.added)} theme{'s' if len(result.added) != 1 else ''}"
                    f" added, {len(result.updated)} updated."
                )
                changed = {*result.added, *result.updated}
                warnings = [
                    f"{theme.id}, {warning}"
                    for theme in work.book
                    if theme.id in changed
                    for warning in themes.identifying_warnings(theme, masking.LANGUAGES)
                ]
                if warnings:
                    flash(
                        "Check these, the codebook is stored unencrypted and they look "
                        "like they could identify someone: " + "; ".join(warnings) + "."
                    )
                return redirect(url_for("themes.codebook", slug=slug))
    page = render_template(
        "admin/themes/import.html",
        survey=work.survey,
        problems=problems,
        typed=typed,
        columns=themes.CSV_COLUMNS,
        has_errors=bool(problems),
    )
    return page, 422 if problems else 200


def _uploaded_csv() -> tuple[str, str | None]:
    """The uploaded file's text, else the pasted text; and a problem, if any."""
    upload = request.files.get("file")
    if upload and upload.filename:
        raw = upload.read(MAX_CSV + 1)
        try:
            return raw.decode("utf-8-sig"), None
        except UnicodeDecodeError:
            return "", "The file isn't UTF-8 text: save it from the spreadsheet as “CSV UTF-8”."
    return request.form.get("text", "")[:MAX_CSV], None


@bp.get("/<slug>/themes/codebook.csv")
@allow(*ANALYSTS)
def export_codebook(slug: str):
    work = _work(slug)
    if work is None:
        return _locked(slug)
    return attachment(coding.export_codebook(work.survey), "text/csv", f"{slug}-codebook.csv")


@bp.get("/<slug>/themes/topics")
@allow(*ANALYSTS)
def topics(slug: str):
    """Groups of answers that use the same words, as ideas for themes."""
    work = _work(slug)
    if work is None:
        return _locked(slug)
    return render_template(
        "admin/themes/topics.html",
        survey=work.survey,
        topics=_topics(work),
        texts=_masked_texts(work) or [],
        unmaskable=quotes.masker_problem(work.definition),
        examples=TOPIC_EXAMPLES,
    )


@bp.post("/<slug>/themes/<theme_id>/finding")
@allow(*ANALYSTS)
def build_finding(slug: str, theme_id: str):
    """A new finding resting on this theme, to be written up on its edit page."""
    work = _work(slug)
    if work is None:
        return _locked(slug)
    theme = _theme_or_404(work, theme_id)
    draft = draft_for(work.survey)
    finding = finding_from_theme(draft, theme)
    draft.findings.append(finding)
    try:
        save_draft(work.survey, draft)
    except ReportError as exc:
        return _codebook_page(work, finding_problem=str(exc), status=422)
    announce("report.draft_edit", _me(), slug, finding=finding.id)
    return redirect(url_for("reports.edit_finding", slug=slug, finding_id=finding.id))


# --- coding ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CodingView:
    """What the coder is looking at: which coding, which answers, and where."""

    coding: str = "report"  # or "mine": the coder's own independent coding
    question: str = ""
    theme: str = ""
    uncoded: bool = False
    view: str = "one"  # or "list"
    at: int = 1  # the answer's position among those selected (one at a time)
    page: int = 1  # the list view's page

    def query(self, **changes: Any) -> dict[str, Any]:
        """The view as URL arguments, defaults left out."""
        view = replace(self, **changes)
        query: dict[str, Any] = {
            "coding": view.coding if view.coding != "report" else None,
            "question": view.question or None,
            "theme": view.theme or None,
            "uncoded": "yes" if view.uncoded else None,
            "view": view.view if view.view != "one" else None,
        }
        if view.view == "list":
            query["page"] = view.page if view.page > 1 else None
        else:
            query["at"] = view.at if view.at > 1 else None
        return {k: v for k, v in query.items() if v is not None}


def _coding_view(values: Mapping[str, str], work: Work) -> CodingView:
    """The view asked for; anything unknown falls back to showing everything."""
    questions = {q.id for q in coding.codable_questions(work.definition)}
    theme_ids = {t.id for t in work.book}
    return CodingView(
        coding="mine" if values.get("coding") == "mine" else "report",
        question=values.get("question", "") if values.get("question") in questions else "",
        theme=values.get("theme", "") if values.get("theme") in theme_ids else "",
        uncoded=values.get("uncoded") == "yes",
        view="list" if values.get("view") == "list" else "one",
        at=_number(values.get("at")),
        page=_number(values.get("page")),
    )


def _coding_name(view: CodingView) -> str:
    if view.coding == "mine":
        return coding.independent_coding(staff_member())
    return REPORT_CODING


def _selected(work: Work, view: CodingView, current: coding.Coding) -> list[FreeText]:
    return coding.select_texts(
        work.texts, current, view.question or None, view.theme or None, view.uncoded
    )


def _code_page(
    work: Work,
    view: CodingView,
    ticked: Mapping[str, set[str]] | None = None,
    was: Mapping[str, set[str]] | None = None,
    error: str | None = None,
    status: int = 200,
):
    name = _coding_name(view)
    current = coding.load_coding(work.survey, work.key, name)
    book = work.book
    selected = _selected(work, view, current)
    total = len(selected)
    if view.view == "list":
        pages = _page_count(total, CODING_PAGE)
        view = replace(view, page=min(view.page, pages))
        start = (view.page - 1) * CODING_PAGE
        shown = selected[start : start + CODING_PAGE]
    else:
        pages = 1
        view = replace(view, at=min(view.at, max(total, 1)))
        start = view.at - 1
        shown = selected[start : start + 1]
    in_scope = [t for t in work.texts if not view.question or t.question_id == view.question]
    suggestions = coding.rule_suggestions(in_scope, book, current)
    questions = coding.codable_questions(work.definition)
    page = render_template(
        "admin/themes/code.html",
        survey=work.survey,
        view=view,
        coding_label=coding.coding_label(name),
        book=book,
        labels={t.id: t.label for t in book},
        keys=dict(zip((t.id for t in book), THEME_KEYS, strict=False)),
        questions=questions,
        question_text={q.id: work.tx(q.text) for q in questions},
        shown=[(start + i, text) for i, text in enumerate(shown)],
        total=total,
        pages=pages,
        page_size=CODING_PAGE,
        chosen={t.key: (ticked or {}).get(t.key, current.themes_of(t.key)) for t in shown},
        # Shown again with the reader's ticks kept, it still says what they started from.
        was={t.key: (was or {}).get(t.key, current.themes_of(t.key)) for t in shown},
        suggestions=suggestions,
        open_counts=coding.suggestion_counts(suggestions),
        progress=coding.coding_progress(current, work.texts),
        error=error,
        has_errors=error is not None,
    )
    return page, status


@bp.get("/<slug>/themes/code")
@allow(*ANALYSTS)
def code(slug: str):
    """Answers to code, one at a time (`?at=N`) or a page at a time."""
    work = _work(slug)
    if work is None:
        return _locked(slug)
    return _code_page(work, _coding_view(request.args, work))


def _posted_answers(form: MultiDict[str, str]) -> list[tuple[int, str, set[str], set[str] | None]]:
    """(row, answer key, ticked themes, themes the page was drawn with) of each answer
    the form showed; the last is None from a form that didn't say (older pages)."""
    found = []
    for row in range(CODING_PAGE):
        key = form.get(f"answer-{row}")
        if key is None:
            continue
        ticked = {t[:64] for t in form.getlist(f"theme-{row}")[:100]}
        drawn = form.getlist(f"was-{row}")[:101]
        was = {t[:64] for t in drawn if t} if drawn else None
        found.append((row, key[:300], ticked, was))
    return found


def _action(value: str) -> tuple[str, int | None, str | None]:
    """("save" | "next" | "accept" | "reject", row, theme) from a button's value:
    "accept:0:evidence" accepts the keyword suggestion "evidence" for row 0."""
    kind, _, rest = value.partition(":")
    if kind in ("accept", "reject"):
        row, _, theme_id = rest.partition(":")
        if row.isdigit() and len(row) < 4 and theme_id:
            return kind, int(row), theme_id[:64]
    return ("next" if kind == "next" else "save"), None, None


@bp.post("/<slug>/themes/code")
@allow(*ANALYSTS)
def save_codes(slug: str):
    """Save the themes ticked for the answers shown (and a suggestion accepted or
    turned down); then back to the same answer, or on to the next."""
    work = _work(slug)
    if work is None:
        return _locked(slug)
    view = _coding_view(request.form, work)
    name = _coding_name(view)
    posted = _posted_answers(request.form)
    if not posted:
        return redirect(url_for("themes.code", slug=slug, **view.query()))
    kind, action_row, action_theme = _action(request.form.get("action", ""))
    chosen = {key: ticked for _, key, ticked, _ in posted}
    was = {key: drawn for _, key, _, drawn in posted if drawn is not None}
    turned_down: dict[str, set[str]] = {}
    for row, key, ticked, _ in posted:
        if row == action_row and action_theme:
            if kind == "accept":
                ticked.add(action_theme)
            else:
                turned_down[key] = {action_theme}
    before = [t.key for t in _selected(work, view, coding.load_coding(work.survey, work.key, name))]
    try:
        coding.code_answers(work.survey, work.key, name, work.texts, chosen, turned_down, was)
    except (CodingError, ConcurrentChange) as exc:
        status = 409 if isinstance(exc, ConcurrentChange) else 422
        return _code_page(work, view, ticked=chosen, was=was, error=str(exc), status=status)
    kind_of_coding = "independent" if view.coding == "mine" else "report"
    announce("themes.code", _me(), slug, coding=kind_of_coding)
    if view.view == "list":
        return redirect(url_for("themes.code", slug=slug, **view.query()))
    after = [t.key for t in _selected(work, view, coding.load_coding(work.survey, work.key, name))]
    at = position_after(before, after, posted[0][1], forward=kind == "next")
    return redirect(url_for("themes.code", slug=slug, **view.query(at=at)))


def position_after(before: Sequence[str], after: Sequence[str], key: str, forward: bool) -> int:
    """Where (1-based) to go after saving answer `key`, given the selected answers
    before and after saving: to the answer that followed it when going `forward`
    (the last one when none did), else back to it. Saving can take an answer out of
    the selection (filtered on "not coded yet"); then the one after it takes its place."""
    index = before.index(key) if key in before else 0
    last = max(len(after), 1)
    if forward:
        target = next((k for k in before[index + 1 :] if k in after), None)
        return after.index(target) + 1 if target is not None else last
    if key in after:
        return after.index(key) + 1
    return min(index + 1, last)


@bp.post("/<slug>/themes/code/accept")
@allow(*ANALYSTS)
def accept_matches(slug: str):
    """Accept every open keyword suggestion of one theme (in the answers of the
    chosen question, or all)."""
    work = _work(slug)
    if work is None:
        return _locked(slug)
    view = _coding_view(request.form, work)
    theme = coding.find_theme(work.survey, request.form.get("accept_theme", "")[:64])
    if theme is None:
        gone = "That theme is no longer in the codebook (it may just have been merged or deleted)."
        return _code_page(work, view, error=gone, status=422)
    in_scope = [t for t in work.texts if not view.question or t.question_id == view.question]
    added = coding.accept_rule_matches(
        work.survey, work.key, in_scope, theme.id, _coding_name(view)
    )
    count = added.get(theme.id, 0)
    # No count in the audit log: admins read it without the key, and a count of
    # answers is respondent data that no disclosure control has seen.
    announce("themes.accept_rules", _me(), slug, theme=theme.id)
    flash(f"“{theme.label}” was added to {count} answer{'s' if count != 1 else ''}.")
    return redirect(url_for("themes.code", slug=slug, **view.query()))


# --- agreement ---------------------------------------------------------------------------------


def _agreement_choice(work: Work, values: Mapping[str, str]) -> tuple[list[str], str, str]:
    """The codings that exist and the two chosen (the report's and the first other
    one unless others are asked for)."""
    names = coding.coding_names(work.survey)
    asked_a, asked_b = values.get("a", ""), values.get("b", "")
    a = asked_a if asked_a in names else REPORT_CODING
    default_b = next((n for n in names if n != a), a)
    b = asked_b if asked_b in names else default_b
    return names, a, b


@bp.get("/<slug>/themes/agreement")
@allow(*ANALYSTS)
def agreement(slug: str):
    """How far two codings agree, theme by theme, and where they differ."""
    work = _work(slug)
    if work is None:
        return _locked(slug)
    return _agreement_page(work, request.args)


def _agreement_page(work: Work, values: Mapping[str, str], error: str | None = None):
    names, a, b = _agreement_choice(work, values)
    book = work.book
    keys = [t.key for t in work.texts]
    same = a == b and len(names) > 1
    rows: list[themes.ThemeAgreement] = []
    differ: list[tuple[FreeText, frozenset[str], frozenset[str]]] = []
    page, pages, total_differ = 1, 1, 0
    if not same and len(names) > 1:
        coding_a = coding.load_coding(work.survey, work.key, a)
        coding_b = coding.load_coding(work.survey, work.key, b)
        rows = themes.agreement_by_theme(coding_a.codes, coding_b.codes, [t.id for t in book], keys)
        found = themes.disagreements(coding_a.codes, coding_b.codes, keys)
        pages = _page_count(len(found), DISAGREEMENTS_PAGE)
        page = min(_number(values.get("page")), pages)
        start = (page - 1) * DISAGREEMENTS_PAGE
        by_key = {t.key: t for t in work.texts}
        differ = [
            (by_key[k], coding_a.themes_of(k), coding_b.themes_of(k))
            for k, _, _ in found[start : start + DISAGREEMENTS_PAGE]
        ]
        total_differ = len(found)
    questions = coding.codable_questions(work.definition)
    html = render_template(
        "admin/themes/agreement.html",
        survey=work.survey,
        names=names,
        label=coding.coding_label,
        a=a,
        b=b,
        same=same,
        rows=rows,
        labels={t.id: t.label for t in book},
        differ=differ,
        total_differ=total_differ,
        page=page,
        pages=pages,
        per_page=DISAGREEMENTS_PAGE,
        report=REPORT_CODING,
        question_text={q.id: work.tx(q.text) for q in questions},
        error=error,
        has_errors=same or error is not None,
    )
    return html, 422 if same or error else 200


@bp.post("/<slug>/themes/agreement/settle")
@allow(*ANALYSTS)
def settle(slug: str):
    """Give an answer, in the report's coding, the themes one of the two codings gave it."""
    work = _work(slug)
    if work is None:
        return _locked(slug)
    _, a, b = _agreement_choice(work, request.form)
    source = request.form.get("source", "")
    if source not in (a, b):
        return _agreement_page(work, request.form, "Choose one of the two codings.")
    try:
        coding.settle_disagreement(
            work.survey, work.key, work.texts, request.form.get("answer", "")[:300], source
        )
    except (CodingError, ConcurrentChange) as exc:
        return _agreement_page(work, request.form, str(exc))
    announce("themes.settle", _me(), slug)
    page = _number(request.form.get("page"))
    return redirect(
        url_for("themes.agreement", slug=slug, a=a, b=b, page=page if page > 1 else None)
    )


# --- quotes ------------------------------------------------------------------------------------


def _quotes_page(
    work: Work,
    values: Mapping[str, str],
    typed: Mapping[str, str] | None = None,
    problem: tuple[str, str] | None = None,
):
    book = work.book
    theme_id = values.get("theme") if values.get("theme") in {t.id for t in book} else None
    report = coding.load_coding(work.survey, work.key, REPORT_CODING)
    decisions = quotes.load_decisions(work.survey, work.key)
    # A language without a masker: no candidate at all, and the page says why.
    unmaskable = quotes.masker_problem(work.definition)
    found = [] if unmaskable else quotes.quotable(work.texts, report, theme_id)
    pages = _page_count(len(found), QUOTES_PAGE)
    page = min(_number(values.get("page")), pages)
    start = (page - 1) * QUOTES_PAGE
    shown = (
        []
        if unmaskable
        else quotes.candidates(
            found[start : start + QUOTES_PAGE], report, decisions, work.definition.languages
        )
    )
    questions = coding.codable_questions(work.definition)
    html = render_template(
        "admin/themes/quotes.html",
        survey=work.survey,
        book=book,
        labels={t.id: t.label for t in book},
        theme=theme_id or "",
        shown=list(enumerate(shown, start=start + 1)),
        typed=typed or {},
        problem=problem,
        total=len(found),
        page=page,
        pages=pages,
        counts=quotes.decision_counts(work.texts, decisions),
        question_text={q.id: work.tx(q.text) for q in questions},
        approved=quotes.APPROVED,
        rejected=quotes.REJECTED,
        max_quote=quotes.MAX_QUOTE,
        unmaskable=unmaskable,
        has_errors=problem is not None,
    )
    return html, 422 if problem else 200


@bp.get("/<slug>/quotes")
@allow(*ANALYSTS)
def quote_list(slug: str):
    """Consented answers, masked, to approve (as edited) or reject for publication."""
    work = _work(slug)
    if work is None:
        return _locked(slug)
    return _quotes_page(work, request.args)


@bp.post("/<slug>/quotes")
@allow(*ANALYSTS)
def decide_quote(slug: str):
    work = _work(slug)
    if work is None:
        return _locked(slug)
    key = request.form.get("answer", "")[:300]
    action = request.form.get("action", "")
    text = request.form.get("text", "")[: quotes.MAX_QUOTE * 2]
    decisions = {
        "approve": quotes.Decision(quotes.APPROVED, text),
        "reject": quotes.Decision(quotes.REJECTED),
        "undo": None,
    }
    if action not in decisions:
        problem = (key, "Choose to approve the text, reject the quote, or undo the decision.")
        return _quotes_page(work, request.form, typed={key: text}, problem=problem)
    decision = decisions[action]
    try:
        quotes.decide(work.survey, work.key, work.texts, {key: decision})
    except (quotes.QuoteError, ConcurrentChange) as exc:
        return _quotes_page(work, request.form, typed={key: text}, problem=(key, str(exc)))
    announce(
        "quotes.decide",
        _me(),
        slug,
        approved=int(action == "approve"),
        rejected=int(action == "reject"),
        undone=int(decision is None),
    )
    position = request.form.get("position", "")
    page = _number(request.form.get("page"))
    return redirect(
        url_for(
            "themes.quote_list",
            slug=slug,
            theme=request.form.get("theme") or None,
            page=page if page > 1 else None,
            _anchor=f"quote-{position}" if position.isdigit() else None,
        )
    )


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
