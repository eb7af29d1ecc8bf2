"""The respondent's pages at /s/<slug>: landing, sections, review, codes.

Views only translate between HTTP and the functions in `survey.responses`.
The session cookie (the only cookie a respondent gets, and only once they
start; encrypted, see survey.session_cookie) holds `r`: the draft id and key, a
pre-drawn receipt code, the language and the minute of last activity.
Submitting replaces it with `done` (the receipt to show once, for a few
minutes), and confirming the receipt or the quick exit forgets it. Only these
two keys are the respondent's: a staff sign-in and the form token in the same
browser are never cleared from here.
"""

from __future__ import annotations

import time
from typing import Any, NamedTuple

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_wtf.csrf import CSRFError

from survey import crypto, privacy
from survey.answers import AnswerError, form_values, other_field, parse_answer, raw_form_values
from survey.definition import (
    PREFER_NOT_TO_SAY,
    TEXT_TYPES,
    Question,
    Section,
    SurveyDefinition,
    localize,
)
from survey.i18n import language_name, translate
from survey.models import Survey, SurveyStatus
from survey.responses import (
    CodeNotFound,
    DraftGone,
    DraftHandle,
    DraftState,
    InviteUsed,
    find_receipt,
    invite_lookup_if_valid,
    issue_resume_code,
    load_draft,
    questions_to_show,
    receipt_exists,
    resume_draft,
    save_draft,
    start_draft,
    submit,
    visible_sections,
    withdraw,
    withdrawal_open,
)
from survey.surveys import definition_of, find_survey

bp = Blueprint("respond", __name__, url_prefix="/s")

# The session's keys that belong to the respondent (nothing else is cleared here).
RESPONDENT_KEYS = ("r", "done")
# Keys that alone are no reason to keep a cookie (the form token, Flask-Login's
# marks for an anonymous visitor); a staff sign-in has more.
NOTHING_TO_KEEP = frozenset({"csrf_token", "_fresh", "_id"})
# How long the receipt stays on screen after submitting.
RECEIPT_SHOWN_MINUTES = 10

CODE_ATTEMPT_LIMIT = "10 per minute;100 per day"
# Limits on POSTs, per client address (keyed-hashed, see survey.privacy).
RATE_LIMITS = {
    "respond.start": "30 per minute",
    "respond.submit_answers": "30 per minute",
    "respond.resume": CODE_ATTEMPT_LIMIT,
    "respond.withdraw_answers": CODE_ATTEMPT_LIMIT,
}


class Unavailable(Exception):
    """The survey can't be answered now; rendered as a calm page, never an error."""

    def __init__(self, kind: str, survey: Survey | None = None, status: int = 200):
        self.kind, self.survey, self.status = kind, survey, status


class CrossSite(Exception):
    """A request another website made the browser send: refused, nothing changed."""


class SessionEnded(Exception):
    """The respondent's session is gone or idle too long: explain how to resume."""

    def __init__(self, survey: Survey):
        self.survey = survey


# --- helpers --------------------------------------------------------------------------


def _survey(slug: str, *, allow: tuple[str, ...] = (SurveyStatus.OPEN.value,)) -> Survey:
    survey = find_survey(slug)
    if survey is None or survey.status == SurveyStatus.DRAFT.value:
        # A draft is indistinguishable from a survey that doesn't exist.
        raise Unavailable("unknown" if survey is None else "draft", None, status=404)
    if survey.status not in allow:
        raise Unavailable("closed", survey)
    return survey


def _refuse_cross_site() -> None:
    """For routes without a form token that change the session or the data."""
    if privacy.is_cross_site_request():
        raise CrossSite()


def _language(definition: SurveyDefinition) -> str:
    asked = request.values.get("lang")
    state = session.get("r") or session.get("done")
    if asked in definition.languages:
        if state is not None and state.get("lang") != asked:
            state["lang"] = asked
            session.modified = True
        return asked
    if state and state.get("lang") in definition.languages:
        return state["lang"]
    return definition.default_language


def _render(template: str, survey: Survey | None, status: int = 200, **context: Any):
    definition = definition_of(survey) if survey else None
    language = _language(definition) if definition else _fallback_language()

    def t(key: str, **params: Any) -> str:
        return translate(key, language, **params)

    def tx(text: Any) -> str:
        if definition is None:
            return text if isinstance(text, str) else ""
        return localize(text, language, definition.default_language)

    html = render_template(
        template,
        survey=survey,
        definition=definition,
        lang=language,
        languages=[
            (tag, language_name(tag)) for tag in (definition.languages if definition else ())
        ],
        t=t,
        tx=tx,
        **context,
    )
    return html, status


def _fallback_language() -> str:
    state = session.get("r") or session.get("done") or {}
    return state.get("lang") or "en"


def _now_minute() -> int:
    return int(time.time() // 60)


def _forget_respondent() -> None:
    """Drop the respondent's part of the session, and nothing else.

    The session is touched only when it holds respondent state, so a request
    without it never rewrites the cookie. When nothing else (a staff sign-in)
    is left beside the form token and Flask-Login's anonymous marks, the cookie
    goes altogether.
    """
    if not any(key in session for key in RESPONDENT_KEYS):
        return
    for key in RESPONDENT_KEYS:
        session.pop(key, None)
    if set(session) <= NOTHING_TO_KEEP:
        session.clear()


def _begin_session(survey: Survey, handle: DraftHandle, language: str) -> None:
    _forget_respondent()
    session["r"] = {
        "slug": survey.slug,
        "draft": handle.draft_id,
        "key": crypto.b64(handle.key),
        "receipt": crypto.generate_code(),
        "lang": language,
        "seen": _now_minute(),
    }


def _current(survey: Survey) -> tuple[DraftHandle, DraftState]:
    """The draft this session is answering, or SessionEnded."""
    state = session.get("r")
    if not state or state.get("slug") != survey.slug:
        raise SessionEnded(survey)
    idle_limit = int(current_app.config["CHORUS_RESPONDENT_IDLE_MINUTES"])
    if _now_minute() - int(state.get("seen", 0)) > idle_limit:
        _forget_respondent()
        raise SessionEnded(survey)
    handle = DraftHandle(state["draft"], crypto.unb64(state["key"]))
    try:
        draft = load_draft(survey, handle)
    except DraftGone:
        raise SessionEnded(survey) from None
    state["seen"] = _now_minute()
    session.modified = True
    return handle, draft


def _section_url(survey: Survey, section: Section) -> str:
    return url_for("respond.section", slug=survey.slug, section_id=section.id)


def _neighbour(sections: list[Section], section_id: str, step: int) -> Section | None:
    ids = [s.id for s in sections]
    if section_id not in ids:
        return None
    index = ids.index(section_id) + step
    return sections[index] if 0 <= index < len(sections) else None


def _after(survey: Survey, definition: SurveyDefinition, state: DraftState, section_id: str):
    """Redirect to the section after `section_id`, or to the review page."""
    sections = visible_sections(definition, state)
    following = _neighbour(sections, section_id, +1)
    if following is None and section_id not in [s.id for s in sections]:
        # The section vanished through branching: continue after its position.
        order = [s.id for s in definition.sections]
        position = order.index(section_id)
        following = next((s for s in sections if order.index(s.id) > position), None)
    if following is None:
        return redirect(url_for("respond.review", slug=survey.slug))
    return redirect(_section_url(survey, following))


# --- landing and start ---------------------------------------------------------------


def _answering_here(survey: Survey) -> tuple[DraftHandle, DraftState] | None:
    """This browser's draft for the survey, if it has one that still opens."""
    if (session.get("r") or {}).get("slug") != survey.slug:
        return None
    try:
        return _current(survey)
    except SessionEnded:
        return None


def _continue_url(survey: Survey, definition: SurveyDefinition, state: DraftState) -> str:
    """Where the person last saved (or the first section)."""
    sections = visible_sections(definition, state)
    target = next((s for s in sections if s.id == state.at), sections[0])
    return _section_url(survey, target)


def _continue(survey: Survey, definition: SurveyDefinition, state: DraftState):
    return redirect(_continue_url(survey, definition, state))


@bp.get("/<slug>")
def landing(slug: str):
    survey = _survey(slug, allow=(SurveyStatus.OPEN.value,))
    started = _answering_here(survey) is not None
    return _render("respond/landing.html", survey, invite_error=None, started=started)


@bp.post("/<slug>/start")
def start(slug: str):
    _refuse_cross_site()
    survey = _survey(slug)
    definition = definition_of(survey)
    language = _language(definition)
    answering = _answering_here(survey)
    if answering is not None:
        # Back from the first page leads here: starting again would drop their answers.
        return _continue(survey, definition, answering[1])
    invite_lookup = None
    if definition.invite_only:
        typed = request.form.get("invite_code", "")
        error = None
        if not typed.strip():
            error = "invite_required"
        else:
            try:
                invite_lookup = invite_lookup_if_valid(survey, typed)
            except CodeNotFound:
                error = (
                    "code_malformed"
                    if not crypto.is_well_formed_code(typed)
                    else "invite_not_found"
                )
        if error:
            return _render(
                "respond/landing.html",
                survey,
                422,
                invite_error=error,
                invite_typed=typed[:64],
                started=False,
            )
    first = definition.sections[0]
    handle = start_draft(survey, invite_lookup)
    _begin_session(survey, handle, language)
    return redirect(_section_url(survey, first))


# --- sections ---------------------------------------------------------------------------


class AtSection(NamedTuple):
    """A respondent's session at one section, as every section view needs it."""

    survey: Survey
    definition: SurveyDefinition
    handle: DraftHandle
    state: DraftState
    sections: list[Section]  # the sections shown now
    current: Section | None  # the section asked for, None if branching hides it


def _at_section(slug: str, section_id: str) -> AtSection:
    survey = _survey(slug)
    definition = definition_of(survey)
    if definition.section(section_id) is None:
        abort(404)
    handle, state = _current(survey)
    sections = visible_sections(definition, state)
    current = next((s for s in sections if s.id == section_id), None)
    return AtSection(survey, definition, handle, state, sections, current)


def _render_section(
    survey: Survey,
    definition: SurveyDefinition,
    state: DraftState,
    section: Section,
    sections: list[Section],
    values: dict[str, dict[str, Any]] | None = None,
    errors: dict[str, AnswerError] | None = None,
    new_questions: bool = False,
    status: int = 200,
):
    questions = questions_to_show(definition, state, section)
    if values is None:
        values = {q.id: form_values(q, state.answers.get(q.id)) for q in questions}
    step = [s.id for s in sections].index(section.id) + 1
    return _render(
        "respond/section.html",
        survey,
        status,
        section=section,
        questions=questions,
        values=values,
        errors=errors or {},
        step=step,
        total=len(sections),
        is_last=step == len(sections),
        new_questions=new_questions,
        has_resume_code=state.has_resume_code,
    )


@bp.get("/<slug>/section/<section_id>")
def section(slug: str, section_id: str):
    survey, definition, _, state, sections, current = _at_section(slug, section_id)
    if current is None:
        return _after(survey, definition, state, section_id)
    if current.content_warning and current.id not in state.warnings_seen:
        step = [s.id for s in sections].index(current.id) + 1
        return _render(
            "respond/warning.html", survey, section=current, step=step, total=len(sections)
        )
    return _render_section(survey, definition, state, current, sections)


@bp.post("/<slug>/section/<section_id>/warning")
def section_warning(slug: str, section_id: str):
    survey, definition, handle, state, _, current = _at_section(slug, section_id)
    if current is None:
        return _after(survey, definition, state, section_id)
    if request.form.get("action") == "skip":
        if current.id not in state.skipped_sections:
            state.skipped_sections.append(current.id)
        save_draft(survey, handle, state)
        return _after(survey, definition, state, current.id)
    if current.id not in state.warnings_seen:
        state.warnings_seen.append(current.id)
    if current.id in state.skipped_sections:
        state.skipped_sections.remove(current.id)
    save_draft(survey, handle, state)
    return redirect(_section_url(survey, current))


@bp.post("/<slug>/section/<section_id>")
def save_section(slug: str, section_id: str):
    survey, definition, handle, state, sections, current = _at_section(slug, section_id)
    if current is None:
        return _after(survey, definition, state, section_id)
    shown = questions_to_show(definition, state, current)
    errors: dict[str, AnswerError] = {}
    entries: dict[str, dict[str, Any] | None] = {}
    for question in shown:
        if not question.takes_answer:
            continue
        entry, error = parse_answer(question, request.form)
        if error:
            errors[question.id] = error
        entries[question.id] = entry
    if errors:
        values = {q.id: raw_form_values(q, request.form) for q in shown}
        return _render_section(
            survey, definition, state, current, sections, values, errors, status=422
        )
    for question_id, entry in entries.items():
        if entry is None:
            state.answers.pop(question_id, None)
        else:
            state.answers[question_id] = entry
    if current.id in state.skipped_sections:
        state.skipped_sections.remove(current.id)
    if current.content_warning and current.id not in state.warnings_seen:
        state.warnings_seen.append(current.id)
    state.at = current.id
    save_draft(survey, handle, state)

    action = request.form.get("action", "next")
    if action == "save":
        code, new_handle = issue_resume_code(survey, handle, state)
        session["r"]["key"] = crypto.b64(new_handle.key)
        session["r"]["code"] = code
        return redirect(url_for("respond.resume_code", slug=survey.slug))
    if action == "back":
        sections = visible_sections(definition, state)
        previous = _neighbour(sections, current.id, -1)
        if previous is None:
            return redirect(url_for("respond.landing", slug=survey.slug))
        return redirect(_section_url(survey, previous))
    # Answers on this page may have revealed more questions on this same page.
    now_shown = {q.id for q in questions_to_show(definition, state, current) if q.takes_answer}
    if now_shown - {q.id for q in shown}:
        sections = visible_sections(definition, state)
        return _render_section(survey, definition, state, current, sections, new_questions=True)
    return _after(survey, definition, state, current.id)


# --- review and submit ------------------------------------------------------------------


def describe_answer(question: Question, entry: dict[str, Any] | None, language: str, default: str):
    """How an answer reads on the review page."""
    if entry is None:
        return translate("not_answered", language)
    if entry.get("state") == PREFER_NOT_TO_SAY:
        return translate("prefer_not_to_say", language)
    value = entry["value"]
    if "quote_consent" in entry:
        consent = "review_quote_yes" if entry["quote_consent"] else "review_quote_no"
        return f"{value}\n\n{translate(consent, language)}"
    labels = {o.value: localize(o.label, language, default) for o in question.options}
    items = value if isinstance(value, list) else [value]
    words = []
    for item in items:
        if isinstance(item, dict):
            other = item.get("other", "")
            words.append(
                f"{translate('other', language)}: {other}"
                if other
                else translate("other", language)
            )
        elif question.type == "scale":
            words.append(str(item))
        else:
            words.append(labels.get(item, str(item)))
    return "; ".join(words)


@bp.get("/<slug>/review")
def review(slug: str):
    survey = _survey(slug)
    definition = definition_of(survey)
    _, state = _current(survey)
    language = _language(definition)
    rows = []
    for section_ in visible_sections(definition, state):
        skipped = section_.id in state.skipped_sections
        items = []
        if not skipped:
            for q in questions_to_show(definition, state, section_):
                if q.takes_answer:
                    answer = describe_answer(
                        q, state.answers.get(q.id), language, definition.default_language
                    )
                    items.append((q, answer))
        rows.append((section_, skipped, items))
    return _render("respond/review.html", survey, rows=rows)


@bp.post("/<slug>/submit")
def submit_answers(slug: str):
    survey = _survey(slug, allow=tuple(s.value for s in SurveyStatus))
    # A double click carries the answering session; a refresh after success, `done`.
    answering = session.get("r") if (session.get("r") or {}).get("slug") == slug else None
    done = _receipt_to_show(slug)
    if survey.status != SurveyStatus.OPEN.value:
        if answering:
            return _render("respond/unavailable.html", survey, kind="closed_before_submit")
        raise Unavailable("closed", survey)
    receipt = (answering or done or {}).get("receipt")
    try:
        handle, state = _current(survey)
        if receipt is None:
            raise SessionEnded(survey)
        submit(survey, handle, state, receipt)
    except (SessionEnded, DraftGone):
        # A double click or a refresh: the first request stored it already.
        if receipt and receipt_exists(survey, receipt):
            _finish_session(survey, receipt)
            return redirect(url_for("respond.receipt", slug=survey.slug))
        raise SessionEnded(survey) from None
    except InviteUsed:
        # Rendered before the session ends, so it speaks the respondent's language.
        page = _render("respond/unavailable.html", survey, 409, kind="invite_used")
        _forget_respondent()
        return page
    _finish_session(survey, receipt)
    return redirect(url_for("respond.receipt", slug=survey.slug))


def _finish_session(survey: Survey, receipt: str) -> None:
    """Forget the draft; keep only the receipt to show for a few minutes (the form
    token stays, so that a refresh of the submit page finds its way back to it)."""
    language = (session.get("r") or session.get("done") or {}).get("lang")
    earlier = session.get("done") or {}
    # A refresh of the submit page doesn't make the receipt last longer.
    shown_since = earlier.get("at") if earlier.get("receipt") == receipt else None
    session.pop("r", None)
    session["done"] = {
        "slug": survey.slug,
        "receipt": receipt,
        "lang": language,
        "at": _now_minute() if shown_since is None else shown_since,
    }


def _receipt_lapsed(done: dict[str, Any]) -> bool:
    return _now_minute() - int(done.get("at", 0)) > RECEIPT_SHOWN_MINUTES


def _receipt_to_show(slug: str) -> dict[str, Any] | None:
    """The receipt this browser may still see for the survey, if it hasn't lapsed."""
    done = session.get("done")
    if not done or done.get("slug") != slug or _receipt_lapsed(done):
        return None
    return done


@bp.route("/<slug>/receipt", methods=["GET", "POST"])
def receipt(slug: str):
    survey = _survey(slug, allow=tuple(s.value for s in SurveyStatus))
    done = session.get("done")
    if not done or done.get("slug") != survey.slug:
        return redirect(url_for("respond.thanks", slug=survey.slug))
    if _receipt_lapsed(done):
        page = _render("respond/receipt.html", survey, lapsed=True, minutes=RECEIPT_SHOWN_MINUTES)
        _forget_respondent()
        return page
    if request.method == "POST":
        if request.form.get("saved"):
            _forget_respondent()
            return redirect(url_for("respond.thanks", slug=survey.slug, lang=done.get("lang")))
        return _render(
            "respond/receipt.html",
            survey,
            422,
            code=done["receipt"],
            error="confirm_saved_required",
            lapsed=False,
        )
    return _render("respond/receipt.html", survey, code=done["receipt"], error=None, lapsed=False)


@bp.get("/<slug>/thanks")
def thanks(slug: str):
    survey = _survey(slug, allow=tuple(s.value for s in SurveyStatus))
    return _render("respond/thanks.html", survey)


# --- resume codes -------------------------------------------------------------------------


@bp.route("/<slug>/code", methods=["GET", "POST"])
def resume_code(slug: str):
    survey = _survey(slug)
    definition = definition_of(survey)
    _, draft = _current(survey)
    continue_url = _continue_url(survey, definition, draft)
    code = session["r"].get("code")
    if not code:
        return redirect(continue_url)
    error = None
    if request.method == "POST":
        if request.form.get("saved"):
            session["r"].pop("code", None)
            session.modified = True
            return redirect(continue_url)
        error = "confirm_saved_required"
    return _render(
        "respond/resume_code.html",
        survey,
        422 if error else 200,
        code=code,
        weeks=current_app.config["CHORUS_DRAFT_WEEKS"],
        error=error,
        continue_url=continue_url,
    )


@bp.route("/<slug>/resume", methods=["GET", "POST"])
def resume(slug: str):
    survey = _survey(slug)
    definition = definition_of(survey)
    weeks = current_app.config["CHORUS_DRAFT_WEEKS"]
    if request.method == "GET":
        return _render("respond/resume.html", survey, error=None, typed="", weeks=weeks)
    typed = request.form.get("code", "")
    language = _language(definition)
    if not crypto.is_well_formed_code(typed):
        return _render(
            "respond/resume.html",
            survey,
            422,
            error="code_malformed",
            typed=typed[:64],
            weeks=weeks,
        )
    try:
        handle, state = resume_draft(survey, typed)
    except CodeNotFound:
        return _render(
            "respond/resume.html",
            survey,
            422,
            error="resume_not_found",
            typed=typed[:64],
            weeks=weeks,
        )
    _begin_session(survey, handle, language)
    return _continue(survey, definition, state)


# --- withdrawal -----------------------------------------------------------------------------


@bp.route("/<slug>/withdraw", methods=["GET", "POST"])
def withdraw_answers(slug: str):
    if request.method == "POST":
        _refuse_cross_site()
    allowed = (SurveyStatus.OPEN.value, SurveyStatus.CLOSED.value, SurveyStatus.ARCHIVED.value)
    survey = _survey(slug, allow=allowed)
    k = definition_of(survey).suppression_k
    if not withdrawal_open(survey):
        return _render("respond/withdraw.html", survey, step="closed", k=k, error=None, typed="")
    if request.method == "GET":
        return _render("respond/withdraw.html", survey, step="find", error=None, typed="")
    typed = request.form.get("code", "")
    if not crypto.is_well_formed_code(typed):
        return _render(
            "respond/withdraw.html",
            survey,
            422,
            step="find",
            error="code_malformed",
            typed=typed[:64],
        )
    try:
        if request.form.get("step") == "confirm":
            withdraw(survey, typed)
            return _render("respond/withdraw.html", survey, step="done", error=None, typed="")
        find_receipt(survey, typed)
    except CodeNotFound:
        return _render(
            "respond/withdraw.html",
            survey,
            422,
            step="find",
            error="withdraw_not_found",
            typed=typed[:64],
        )
    return _render(
        "respond/withdraw.html",
        survey,
        step="confirm",
        error=None,
        typed=crypto.normalise_code(typed),
    )


# --- quick exit ------------------------------------------------------------------------------


@bp.get("/exit")
def quick_exit():
    """Leave at once: forget this browser's answers and receipt, then go to the
    neutral site. A plain link works without JavaScript; the page's script goes
    here with location.replace. Pages are no-store, so Back fetches them again and
    finds the session ended. A staff sign-in in the same browser stays."""
    _refuse_cross_site()
    _forget_respondent()
    return redirect(current_app.config["CHORUS_QUICK_EXIT_URL"], 303)


# --- calm pages for everything that isn't a normal step ---------------------------------


@bp.errorhandler(CrossSite)
def cross_site(exc: CrossSite):
    return _render("respond/unavailable.html", None, 403, kind="cross_site")


@bp.errorhandler(Unavailable)
def unavailable(exc: Unavailable):
    return _render("respond/unavailable.html", exc.survey, exc.status, kind=exc.kind)


@bp.errorhandler(SessionEnded)
def session_ended(exc: SessionEnded):
    return _expired_page(exc.survey)


def _expired_page(survey: Survey, status: int = 200):
    """Explain how to resume, and show back any text they had just typed."""
    texts = []
    if request.method == "POST":
        for question in definition_of(survey).answerable_questions():
            fields = [question.id] if question.type in TEXT_TYPES else []
            if question.other:
                fields.append(other_field(question))
            texts += [request.form[f].strip() for f in fields if request.form.get(f, "").strip()]
    minutes = current_app.config["CHORUS_RESPONDENT_IDLE_MINUTES"]
    return _render(
        "respond/unavailable.html", survey, status, kind="expired", minutes=minutes, texts=texts
    )


def csrf_failed(exc: CSRFError):
    """A form from an ended session: explain, and lose nothing that was typed.

    Returns None when the request isn't about a survey a respondent can see,
    so the app's generic handler answers instead.
    """
    slug = (request.view_args or {}).get("slug")
    survey = find_survey(slug) if slug else None
    if survey is None or survey.status == SurveyStatus.DRAFT.value:
        return None
    return _expired_page(survey, status=400)
