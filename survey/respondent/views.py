"""The respondent's pages at /s/<slug>: landing, sections, review, submit, codes,
withdrawal and the quick exit.

Views only translate between HTTP and the functions in survey/responses.py; the
session they keep is survey/respondent/session.py, and what pages share is
survey/respondent/pages.py.
"""

from __future__ import annotations

import dataclasses
from typing import Any, NamedTuple

from flask import Blueprint, abort, current_app, make_response, redirect, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError

from survey import crypto
from survey.answers import AnswerError, form_values, parse_answer, raw_form_values
from survey.definition import Question, Section, SurveyDefinition
from survey.i18n import N_
from survey.models import Survey, SurveyStatus
from survey.respondent.fragments import question_blocks
from survey.respondent.pages import (
    CrossSite,
    Unavailable,
    answerable_survey,
    describe_answer,
    expired_page,
    language_of,
    left_page,
    page_language,
    redirect_after,
    redirect_to_continue,
    refuse_cross_site,
    render,
    section_url,
    url_of_step_before,
    url_to_continue,
)
from survey.respondent.session import (
    RECEIPT_SHOWN_MINUTES,
    SessionEnded,
    answering_here,
    begin_session,
    current_draft,
    draft_as_read,
    draft_handle,
    finish_session,
    forget_respondent,
    leave,
    left_page_language,
    receipt_lapsed,
    receipt_minutes_left,
    receipt_to_show,
    rekey_session,
    set_left_cookie,
)
from survey.responses import (
    AlreadyCounted,
    CodeNotFound,
    DraftGone,
    DraftHandle,
    DraftState,
    InviteUsed,
    find_receipt,
    invite_lookup_if_valid,
    issue_resume_code,
    questions_on_page,
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

# Every page but submit and withdrawal reads, or writes one row: it runs each
# statement as a transaction of its own (`autocommit=True`, see
# survey/models.py autocommit_statements). Submitting and withdrawing change
# several rows at once, in one transaction.
bp = Blueprint("respond", __name__, url_prefix="/s")

# Sent for each follow-up question the page's script showed (no question id can
# start with "_"), so the page isn't shown again to reveal it.
REVEALED_FIELD = "_revealed"
# A section form's button (`action`) besides next, back and save: save the page and
# go straight to the review.
FINISH = "finish"

CODE_ATTEMPT_LIMIT = "10 per minute;100 per day"
# Limits on POSTs, per client address (keyed-hashed, see survey/privacy.py).
RATE_LIMITS = {
    "respond.start": "30 per minute",
    "respond.submit_answers": "30 per minute",
    "respond.resume": CODE_ATTEMPT_LIMIT,
    "respond.withdraw_answers": CODE_ATTEMPT_LIMIT,
}

# Said when a typed code (invite, resume, receipt) can't be a code at all (a msgid:
# the code form's template translates it).
CODE_MALFORMED = N_(
    "That doesn't look like a code: codes have 16 letters and numbers, like ABCD-EFGH-JKMN-PQRS"
)


# Pages anyone may open without a session (the survey's link, the code forms, the
# thanks page): after a quick exit they show the neutral page only for a while.
OPEN_ENDPOINTS = frozenset(
    {
        "respond.landing",
        "respond.start",
        "respond.resume",
        "respond.withdraw_answers",
        "respond.thanks",
    }
)


@bp.before_request
def after_leaving() -> ResponseReturnValue | None:
    """Back after the quick exit: a neutral page that names no survey, no topic and
    no helpline, instead of anything that would show what the person was doing."""
    if request.endpoint == "respond.quick_exit":
        return None
    language = left_page_language(needs_session=request.endpoint not in OPEN_ENDPOINTS)
    return None if language is None else left_page(language)


@bp.get("/<slug>")
def landing(slug: str) -> ResponseReturnValue:
    survey = answerable_survey(slug, allow=(SurveyStatus.OPEN.value,), autocommit=True)
    started = answering_here(survey) is not None
    return render("respond/landing.html", survey, invite_error=None, started=started)


@bp.post("/<slug>/start")
def start(slug: str) -> ResponseReturnValue:
    refuse_cross_site()
    survey = answerable_survey(slug, autocommit=True)
    definition = definition_of(survey)
    language = language_of(definition)
    answering = answering_here(survey)
    if answering is not None:
        # Back from the first page leads here: starting again would drop their answers.
        return redirect_to_continue(survey, definition, answering[1])
    invite_lookup = None
    if definition.invite_only:
        typed = request.form.get("invite_code", "")
        error = None
        if not typed.strip():
            error = N_("Enter the invite code you were given")
        else:
            try:
                invite_lookup = invite_lookup_if_valid(survey, typed)
            except CodeNotFound:
                error = (
                    CODE_MALFORMED
                    if not crypto.is_well_formed_code(typed)
                    else N_("We couldn't find that invite code. Check it and try again")
                )
        if error:
            return render(
                "respond/landing.html",
                survey,
                422,
                invite_error=error,
                invite_typed=typed[:64],
                started=False,
            )
    first = definition.sections[0]
    handle = start_draft(survey, invite_lookup)
    begin_session(survey, handle, language)
    return redirect(section_url(survey, first))


# --- sections ---------------------------------------------------------------------------


class AtSection(NamedTuple):
    """A respondent's session at one section, as every section view needs it."""

    survey: Survey
    definition: SurveyDefinition
    handle: DraftHandle
    state: DraftState
    sections: list[Section]  # the sections shown now
    current: Section | None  # the section asked for, None if branching hides it


def at_section(slug: str, section_id: str) -> AtSection:
    survey = answerable_survey(slug, autocommit=True)
    definition = definition_of(survey)
    if definition.section(section_id) is None:
        abort(404)
    handle, state = current_draft(survey)
    sections = visible_sections(definition, state)
    current = next((s for s in sections if s.id == section_id), None)
    return AtSection(survey, definition, handle, state, sections, current)


def render_section(
    survey: Survey,
    definition: SurveyDefinition,
    state: DraftState,
    section: Section,
    sections: list[Section],
    values: dict[str, dict[str, Any]] | None = None,
    errors: dict[str, AnswerError] | None = None,
    new_questions: bool = False,
    status: int = 200,
) -> tuple[str, int]:
    """The section's page, its questions shown as `state`'s answers decide."""
    on_page = questions_on_page(definition, state, section)
    if values is None:
        values = {q.id: form_values(q, state.answers.get(q.id)) for q, _ in on_page}
    step = [s.id for s in sections].index(section.id) + 1
    spoken = page_language(survey)
    errors = errors or {}
    revealed_here = follow_ups(on_page)
    blocks = question_blocks(
        survey, spoken.language, spoken.tx, on_page, values, errors, revealed_here
    )
    return render(
        "respond/section.html",
        survey,
        status,
        spoken=spoken,
        section=section,
        question_blocks=blocks,
        follow_ups=revealed_here,
        other_boxes=any(q.other for q, _ in on_page),
        questions=[q for q, shown in on_page if shown],
        errors=errors,
        step=step,
        total=len(sections),
        is_last=step == len(sections),
        new_questions=new_questions,
        has_resume_code=state.has_resume_code,
    )


def follow_ups(on_page: list[tuple[Question, bool]]) -> set[str]:
    """Questions on a page that an answer on the same page reveals."""
    ids = {q.id for q, _ in on_page}
    return {q.id for q, _ in on_page if q.show_if is not None and q.show_if.question in ids}


@bp.get("/<slug>/section/<section_id>")
def section(slug: str, section_id: str) -> ResponseReturnValue:
    survey, definition, _, state, sections, current = at_section(slug, section_id)
    if current is None:
        return redirect_after(survey, definition, state, section_id)
    if current.content_warning and current.id not in state.warnings_seen:
        step = [s.id for s in sections].index(current.id) + 1
        return render(
            "respond/warning.html",
            survey,
            section=current,
            step=step,
            total=len(sections),
            back_url=url_of_step_before(survey, sections, current),
        )
    return render_section(survey, definition, state, current, sections)


@bp.post("/<slug>/section/<section_id>/warning")
def section_warning(slug: str, section_id: str) -> ResponseReturnValue:
    survey, definition, handle, state, _, current = at_section(slug, section_id)
    if current is None:
        return redirect_after(survey, definition, state, section_id)
    if request.form.get("action") == FINISH:
        # Nothing of this section was seen: its questions are sent as skipped.
        return redirect(url_for("respond.review", slug=survey.slug))
    if request.form.get("action") == "skip":
        if current.id not in state.skipped_sections:
            state.skipped_sections.append(current.id)
        save_draft(survey, handle, state)
        return redirect_after(survey, definition, state, current.id)
    if current.id not in state.warnings_seen:
        state.warnings_seen.append(current.id)
    if current.id in state.skipped_sections:
        state.skipped_sections.remove(current.id)
    save_draft(survey, handle, state)
    return redirect(section_url(survey, current))


@bp.post("/<slug>/section/<section_id>")
def save_section(slug: str, section_id: str) -> ResponseReturnValue:
    survey, definition, handle, state, sections, current = at_section(slug, section_id)
    if current is None:
        return redirect_after(survey, definition, state, section_id)
    action = request.form.get("action", "next")
    # A language button of the page's header (`language_switch` in section.html)
    # sends `lang`, which `language_of` has put in use already: the page's answers
    # are kept, and the page is shown again in that language.
    switching = request.form.get("lang") in definition.languages
    if switching:
        language_of(definition)
    # What the page showed without its script; with it, follow-ups an answer here
    # revealed were shown too. The answers sent decide what counts (the server's
    # walk of the branching, never the script's).
    shown = {q.id for q in questions_to_show(definition, state, current)}
    on_page = [q for q, _ in questions_on_page(definition, state, current) if q.takes_answer]
    # The page's script sends `_revealed` for each follow-up it showed.
    revealed = set(request.form.getlist(REVEALED_FIELD)) - shown
    seen = [q for q in on_page if q.id in shown or q.id in revealed]
    parsed = {q.id: parse_answer(q, request.form) for q in seen}
    answered = answered_here(
        state, current, {qid: e for qid, (e, err) in parsed.items() if not err}
    )
    shown_now = {q.id for q in questions_to_show(definition, answered, current)}
    errors = {qid: err for qid, (_, err) in parsed.items() if err and qid in shown_now}
    if errors and not switching:
        values = {q.id: raw_form_values(q, request.form) for q in on_page}
        return render_section(
            survey, definition, answered, current, sections, values, errors, status=422
        )
    for question_id, (entry, error) in parsed.items():
        # Only what the person could see: shown when the page was drawn, or shown by
        # its script and still shown by the answers sent. An answer that can't be
        # stored (only when switching language) keeps the one stored before.
        if error or (question_id not in shown and question_id not in shown_now):
            continue
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

    if switching:
        if errors:
            # What was typed, as typed, in the new language; the problems are for
            # the next save to point out, not a reason to refuse changing language.
            values = {q.id: raw_form_values(q, request.form) for q in on_page}
            sections = visible_sections(definition, state)
            return render_section(survey, definition, state, current, sections, values)
        return redirect(section_url(survey, current))
    if action == "save":
        code, new_handle = issue_resume_code(survey, handle, state)
        rekey_session(new_handle, code)
        return redirect(url_for("respond.resume_code", slug=survey.slug))
    if action == "back":
        return redirect(url_of_step_before(survey, visible_sections(definition, state), current))
    # Answers on this page may have revealed more questions on this same page: shown
    # again with them, unless the page's script showed them already (it enables a
    # `_revealed` field for each follow-up it shows). Finishing now goes on to the
    # review all the same: what is still to answer there counts as skipped.
    if (shown_now & {q.id for q in on_page}) - shown - revealed and action != FINISH:
        sections = visible_sections(definition, state)
        return render_section(survey, definition, state, current, sections, new_questions=True)
    if action == FINISH:
        return redirect(url_for("respond.review", slug=survey.slug))
    return redirect_after(survey, definition, state, current.id)


def answered_here(
    state: DraftState, section: Section, entries: dict[str, dict[str, Any] | None]
) -> DraftState:
    """A copy of `state` with a section's answers as just sent (not saved): what
    the branching sees once the page is saved."""
    answers = {k: v for k, v in state.answers.items() if k not in entries}
    answers.update({k: v for k, v in entries.items() if v is not None})
    skipped = [s for s in state.skipped_sections if s != section.id]
    return dataclasses.replace(state, answers=answers, skipped_sections=skipped)


# --- review and submit ------------------------------------------------------------------


@bp.get("/<slug>/review")
def review(slug: str) -> ResponseReturnValue:
    survey = answerable_survey(slug, autocommit=True)
    definition = definition_of(survey)
    _, state = current_draft(survey)
    language = language_of(definition)
    return render(
        "respond/review.html",
        survey,
        rows=review_rows(survey, definition, state, language),
    )


class ReviewedQuestion(NamedTuple):
    question: Question
    answer: str | None  # None: not answered (it is sent as skipped)
    change_url: str  # its section's page, at the question


class ReviewedSection(NamedTuple):
    section: Section
    skipped: bool  # after its content warning
    answered: list[ReviewedQuestion]
    unanswered: list[ReviewedQuestion]
    url: str


def review_rows(
    survey: Survey, definition: SurveyDefinition, state: DraftState, language: str
) -> list[ReviewedSection]:
    """What the review page lists: each section shown now, and in it the questions
    shown now, answered or not. A section never reached (the person finished early)
    has no answers: all its questions are sent as skipped, as the page says."""
    rows = []
    for section_ in visible_sections(definition, state):
        url = section_url(survey, section_)
        skipped = section_.id in state.skipped_sections
        answered: list[ReviewedQuestion] = []
        unanswered: list[ReviewedQuestion] = []
        for q in questions_to_show(definition, state, section_) if not skipped else []:
            if not q.takes_answer:
                continue
            entry = state.answers.get(q.id)
            answer = (
                describe_answer(q, entry, language, definition.default_language) if entry else None
            )
            item = ReviewedQuestion(q, answer, f"{url}#q-{q.id}")
            (answered if entry else unanswered).append(item)
        rows.append(ReviewedSection(section_, skipped, answered, unanswered, url))
    return rows


@bp.post("/<slug>/submit")
def submit_answers(slug: str) -> ResponseReturnValue:
    # Read with its draft; the submit is then one statement on PostgreSQL.
    survey = answerable_survey(slug, allow=tuple(s.value for s in SurveyStatus), autocommit=True)
    # A double click carries the answering session; a refresh after success, `done`.
    answering = session.get("r") if (session.get("r") or {}).get("slug") == slug else None
    done = receipt_to_show(slug)
    if survey.status != SurveyStatus.OPEN.value:
        if answering:
            return render("respond/unavailable.html", survey, kind="closed_before_submit")
        raise Unavailable("closed", survey)
    receipt = (answering or done or {}).get("receipt")
    try:
        handle = draft_handle(survey)
        if receipt is None:
            raise SessionEnded(survey)
        submit(survey, handle, receipt, draft_as_read(survey, handle))
    except (SessionEnded, DraftGone):
        # A double click or a refresh: the first request stored it already.
        if receipt and receipt_exists(survey, receipt):
            finish_session(survey, receipt)
            return redirect(url_for("respond.receipt", slug=survey.slug))
        raise SessionEnded(survey) from None
    except InviteUsed:
        # Rendered before the session ends, so it speaks the respondent's language.
        page = render("respond/unavailable.html", survey, 409, kind="invite_used")
        forget_respondent()
        return page
    finish_session(survey, receipt)
    return redirect(url_for("respond.receipt", slug=survey.slug))


@bp.route("/<slug>/receipt", methods=["GET", "POST"])
def receipt(slug: str) -> ResponseReturnValue:
    survey = answerable_survey(slug, allow=tuple(s.value for s in SurveyStatus), autocommit=True)
    done = session.get("done")
    if not done or done.get("slug") != survey.slug:
        return redirect(url_for("respond.thanks", slug=survey.slug))
    if receipt_lapsed(done):
        page = render("respond/receipt.html", survey, lapsed=True, minutes=RECEIPT_SHOWN_MINUTES)
        forget_respondent()
        return page
    if request.method == "POST":
        if request.form.get("saved"):
            forget_respondent()
            return redirect(url_for("respond.thanks", slug=survey.slug, lang=done.get("lang")))
        return render(
            "respond/receipt.html",
            survey,
            422,
            code=done["receipt"],
            error=N_("Tick the box to confirm you have saved your code"),
            lapsed=False,
            minutes=receipt_minutes_left(done),
        )
    return render(
        "respond/receipt.html",
        survey,
        code=done["receipt"],
        error=None,
        lapsed=False,
        minutes=receipt_minutes_left(done),
    )


@bp.get("/<slug>/thanks")
def thanks(slug: str) -> ResponseReturnValue:
    survey = answerable_survey(slug, allow=tuple(s.value for s in SurveyStatus), autocommit=True)
    return render("respond/thanks.html", survey)


# --- resume codes -------------------------------------------------------------------------


@bp.get("/<slug>/receipt/print")
def receipt_print(slug: str) -> ResponseReturnValue:
    """The receipt code on a plain page to print (without JavaScript), for as long
    as the receipt itself is shown."""
    survey = answerable_survey(slug, allow=tuple(s.value for s in SurveyStatus), autocommit=True)
    done = receipt_to_show(survey.slug)
    if done is None:
        return redirect(url_for("respond.receipt", slug=survey.slug))
    return render(
        "respond/code_print.html",
        survey,
        title=N_("Your receipt code"),
        code_label=N_("Receipt code"),
        code=done["receipt"],
        code_address=url_for("respond.withdraw_answers", slug=survey.slug, _external=True),
        back_url=url_for("respond.receipt", slug=survey.slug),
    )


@bp.get("/<slug>/code/print")
def resume_code_print(slug: str) -> ResponseReturnValue:
    """The resume code on a plain page to print, while the page that shows it does."""
    survey = answerable_survey(slug, autocommit=True)
    current_draft(survey)  # the session must still hold the draft
    code = session["r"].get("code")
    if not code:
        return redirect(url_for("respond.resume_code", slug=survey.slug))
    return render(
        "respond/code_print.html",
        survey,
        title=N_("Your resume code"),
        code_label=N_("Resume code"),
        code=code,
        code_address=url_for("respond.resume", slug=survey.slug, _external=True),
        back_url=url_for("respond.resume_code", slug=survey.slug),
    )


@bp.route("/<slug>/code", methods=["GET", "POST"])
def resume_code(slug: str) -> ResponseReturnValue:
    survey = answerable_survey(slug, autocommit=True)
    definition = definition_of(survey)
    _, draft = current_draft(survey)
    continue_url = url_to_continue(survey, definition, draft)
    code = session["r"].get("code")
    if not code:
        return redirect(continue_url)
    error = None
    if request.method == "POST":
        if request.form.get("saved"):
            session["r"].pop("code", None)
            session.modified = True
            return redirect(continue_url)
        error = N_("Tick the box to confirm you have saved your code")
    return render(
        "respond/resume_code.html",
        survey,
        422 if error else 200,
        code=code,
        weeks=current_app.config["CHORUS_DRAFT_WEEKS"],
        error=error,
        continue_url=continue_url,
    )


@bp.route("/<slug>/resume", methods=["GET", "POST"])
def resume(slug: str) -> ResponseReturnValue:
    survey = answerable_survey(slug, autocommit=True)
    definition = definition_of(survey)
    weeks = current_app.config["CHORUS_DRAFT_WEEKS"]
    if request.method == "GET":
        return render("respond/resume.html", survey, error=None, typed="", weeks=weeks)
    typed = request.form.get("code", "")
    language = language_of(definition)
    if not crypto.is_well_formed_code(typed):
        return render(
            "respond/resume.html",
            survey,
            422,
            error=CODE_MALFORMED,
            typed=typed[:64],
            weeks=weeks,
        )
    try:
        handle, state = resume_draft(survey, typed)
    except CodeNotFound:
        return render(
            "respond/resume.html",
            survey,
            422,
            error=N_(
                "We couldn't find saved answers with that code. Check it and try again."
                " Codes stop working when answers are sent or after %(weeks)s weeks"
            ),
            typed=typed[:64],
            weeks=weeks,
        )
    begin_session(survey, handle, language)
    return redirect_to_continue(survey, definition, state)


# --- withdrawal -----------------------------------------------------------------------------


@bp.route("/<slug>/withdraw", methods=["GET", "POST"])
def withdraw_answers(slug: str) -> ResponseReturnValue:
    if request.method == "POST":
        refuse_cross_site()
    allowed = (SurveyStatus.OPEN.value, SurveyStatus.CLOSED.value, SurveyStatus.ARCHIVED.value)
    survey = answerable_survey(slug, allow=allowed)
    k = definition_of(survey).suppression_k
    if not withdrawal_open(survey):
        return render("respond/withdraw.html", survey, step="closed", k=k, error=None, typed="")
    if request.method == "GET":
        return render("respond/withdraw.html", survey, step="find", error=None, typed="")
    typed = request.form.get("code", "")
    if not crypto.is_well_formed_code(typed):
        return render(
            "respond/withdraw.html",
            survey,
            422,
            step="find",
            error=CODE_MALFORMED,
            typed=typed[:64],
        )
    try:
        if request.form.get("step") == "confirm":
            withdraw(survey, typed)
            return render("respond/withdraw.html", survey, step="done", error=None, typed="")
        find_receipt(survey, typed)
    except AlreadyCounted:
        return render("respond/withdraw.html", survey, step="counted", k=k, error=None, typed="")
    except CodeNotFound:
        return render(
            "respond/withdraw.html",
            survey,
            422,
            step="find",
            error=N_(
                "We couldn't find answers with that receipt code. Check it and try "
                "again. If you already withdrew, there is nothing more to do"
            ),
            typed=typed[:64],
        )
    return render(
        "respond/withdraw.html",
        survey,
        step="confirm",
        error=None,
        typed=crypto.normalise_code(typed),
    )


# --- quick exit ------------------------------------------------------------------------------


@bp.get("/exit")
def quick_exit() -> ResponseReturnValue:
    """Leave at once: end the draft's binding on the server (a copy of the cookie
    opens nothing after), forget this browser's answers and receipt, then go to
    the neutral site. A plain link works without JavaScript; the page's script
    goes here with location.replace. Pages are no-store, so Back fetches them again
    and, through the cookie set here, finds a neutral page (`after_leaving`). A
    staff sign-in in the same browser stays.

    A GET that changes what the server holds, on purpose: leaving must be one
    click that needs no form. Another site can't make a browser do it (the cookie
    is SameSite=Strict, and a cross-site request is refused), and if one could, all
    it would do is end that person's session as their own click would."""
    refuse_cross_site()
    language = leave()
    response = make_response(redirect(current_app.config["CHORUS_QUICK_EXIT_URL"], 303))
    # Back then finds the neutral page (session.left_page_language), in their language.
    set_left_cookie(response, language or "en")
    return response


# --- calm pages for everything that isn't a normal step ---------------------------------


@bp.errorhandler(CrossSite)
def cross_site(exc: CrossSite) -> tuple[str, int]:
    return render("respond/unavailable.html", None, 403, kind="cross_site")


@bp.errorhandler(Unavailable)
def unavailable(exc: Unavailable) -> tuple[str, int]:
    return render("respond/unavailable.html", exc.survey, exc.status, kind=exc.kind)


@bp.errorhandler(SessionEnded)
def session_ended(exc: SessionEnded) -> tuple[str, int]:
    return expired_page(exc.survey)


def csrf_failed(exc: CSRFError) -> tuple[str, int] | None:
    """A form from an ended session: explain, and lose nothing that was typed.

    Returns None when the request isn't about a survey a respondent can see,
    so the app's generic handler answers instead.
    """
    language = left_page_language(needs_session=True) if request.blueprint == bp.name else None
    if language is not None:
        # A form from before the quick exit: the neutral page, as for any page after it.
        return left_page(language)
    slug = (request.view_args or {}).get("slug")
    survey = find_survey(slug) if slug else None
    if survey is None or survey.status == SurveyStatus.DRAFT.value:
        return None
    return expired_page(survey, status=400)
