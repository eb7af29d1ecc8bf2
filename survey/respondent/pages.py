"""What every respondent page shares: finding the survey, the language, rendering
in it, where to go next, and the calm pages for what isn't a normal step."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from flask import current_app, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from survey import privacy
from survey.answers import other_field
from survey.definition import (
    PREFER_NOT_TO_SAY,
    TEXT_TYPES,
    Question,
    Section,
    SurveyDefinition,
    localize,
)
from survey.i18n import gettext, language_name, shipped_languages, use_language
from survey.models import Survey, SurveyStatus
from survey.respondent import fragments
from survey.respondent.session import LEFT_QUIET_MINUTES, find_survey_here
from survey.responses import DraftState, visible_sections, withdrawal_state
from survey.surveys import definition_of


class Unavailable(Exception):
    """The survey can't be answered now; rendered as a calm page, never an error."""

    def __init__(self, kind: str, survey: Survey | None = None, status: int = 200):
        self.kind, self.survey, self.status = kind, survey, status


class CrossSite(Exception):
    """A request another website made the browser send: refused, nothing changed."""


def answerable_survey(
    slug: str,
    *,
    allow: tuple[str, ...] = (SurveyStatus.OPEN.value,),
    with_draft: bool = True,
    autocommit: bool = False,
) -> Survey:
    """The survey a respondent's page is about, read with this session's draft of
    it (see `find_survey_here`, and there `autocommit`); a calm page instead when
    it can't be answered."""
    survey = find_survey_here(slug, with_draft=with_draft, autocommit=autocommit)
    if survey is None or survey.status == SurveyStatus.DRAFT.value:
        # A draft is indistinguishable from a survey that doesn't exist.
        raise Unavailable("unknown" if survey is None else "draft", None, status=404)
    if survey.status not in allow:
        raise Unavailable("closed", survey)
    return survey


def refuse_cross_site() -> None:
    """For routes without a form token that change the session or the data."""
    if privacy.is_cross_site_request():
        raise CrossSite()


def language_of(definition: SurveyDefinition) -> str:
    """The language this respondent reads the survey in; the app's words follow it."""
    language = chosen_language(definition)
    use_language(language)
    return language


def chosen_language(definition: SurveyDefinition) -> str:
    asked = request.values.get("lang")
    state = session.get("r") or session.get("done")
    if asked in definition.languages:
        if state is not None and state.get("lang") != asked:
            state["lang"] = asked
            session.modified = True
        return asked
    if state and state.get("lang") in definition.languages:
        chosen: str = state["lang"]
        return chosen
    return definition.default_language


def render(
    template: str,
    survey: Survey | None,
    status: int = 200,
    *,
    spoken: PageLanguage | None = None,
    **context: Any,
) -> tuple[str, int]:
    """The page, in the survey's language; `spoken` is `page_language(survey)` when
    the caller has it already."""
    definition, language, tx = spoken or page_language(survey)
    support = None
    if survey is not None and definition is not None and definition.support:
        support = fragments.support_list(survey, definition, language, tx)
    html = render_template(
        template,
        survey=survey,
        definition=definition,
        lang=language,
        languages=[
            (tag, language_name(tag)) for tag in (definition.languages if definition else ())
        ],
        tx=tx,
        support=support,
        # What the page may promise about withdrawing (templates/respond/_withdrawal.html).
        withdrawal=withdrawal_state(survey).value if survey is not None else None,
        left_quiet_minutes=LEFT_QUIET_MINUTES,
        **context,
    )
    return html, status


class PageLanguage(NamedTuple):
    """The survey's definition, the language a page speaks (now in use), and `tx`,
    which gives a text of the definition in it."""

    definition: SurveyDefinition | None
    language: str
    tx: Callable[[Any], str]


def page_language(survey: Survey | None) -> PageLanguage:
    """What `render` speaks for a page about `survey` (or about none)."""
    definition = definition_of(survey) if survey else None
    language = language_of(definition) if definition else fallback_language()
    use_language(language)

    def tx(text: Any) -> str:
        if definition is None:
            return text if isinstance(text, str) else ""
        return localize(text, language, definition.default_language)

    return PageLanguage(definition, language, tx)


def fallback_language() -> str:
    state = session.get("r") or session.get("done") or {}
    return state.get("lang") or "en"


def section_url(survey: Survey, section: Section) -> str:
    return url_for("respond.section", slug=survey.slug, section_id=section.id)


def neighbour(sections: list[Section], section_id: str, step: int) -> Section | None:
    ids = [s.id for s in sections]
    if section_id not in ids:
        return None
    index = ids.index(section_id) + step
    return sections[index] if 0 <= index < len(sections) else None


def url_of_step_before(survey: Survey, sections: list[Section], section: Section) -> str:
    """Back from a section (or its content warning): the section shown before it, or
    the landing page from the first."""
    previous = neighbour(sections, section.id, -1)
    if previous is None:
        return url_for("respond.landing", slug=survey.slug)
    return section_url(survey, previous)


def redirect_after(
    survey: Survey, definition: SurveyDefinition, state: DraftState, section_id: str
) -> Response:
    """Redirect to the section after `section_id`, or to the review page."""
    sections = visible_sections(definition, state)
    following = neighbour(sections, section_id, +1)
    if following is None and section_id not in [s.id for s in sections]:
        # The section vanished through branching: continue after its position.
        order = [s.id for s in definition.sections]
        position = order.index(section_id)
        following = next((s for s in sections if order.index(s.id) > position), None)
    if following is None:
        return redirect(url_for("respond.review", slug=survey.slug))
    return redirect(section_url(survey, following))


def url_to_continue(survey: Survey, definition: SurveyDefinition, state: DraftState) -> str:
    """Where the person last saved (or the first section)."""
    sections = visible_sections(definition, state)
    target = next((s for s in sections if s.id == state.at), sections[0])
    return section_url(survey, target)


def redirect_to_continue(
    survey: Survey, definition: SurveyDefinition, state: DraftState
) -> Response:
    return redirect(url_to_continue(survey, definition, state))


def describe_answer(
    question: Question, entry: dict[str, Any] | None, language: str, default: str
) -> str:
    """How an answer reads on the review page."""
    if entry is None:
        return gettext("Not answered")
    if entry.get("state") == PREFER_NOT_TO_SAY:
        return gettext("Prefer not to say")
    value = entry["value"]
    if "quote_consent" in entry:
        consent = (
            gettext("You said these words may be quoted.")
            if entry["quote_consent"]
            else gettext("Not to be quoted.")
        )
        return f"{value}\n\n{consent}"
    labels = {o.value: localize(o.label, language, default) for o in question.options}
    items = value if isinstance(value, list) else [value]
    words = []
    for item in items:
        if isinstance(item, dict):
            other = item.get("other", "")
            words.append(f"{gettext('Other')}: {other}" if other else gettext("Other"))
        elif question.type == "scale":
            words.append(describe_point(question, item, language, default))
        else:
            words.append(labels.get(item, str(item)))
    return "; ".join(words)


def describe_point(question: Question, point: Any, language: str, default: str) -> str:
    """A point of a scale with what it means: "1 – Not at all" at an end, and in
    between the point with both ends, as the question's page shows them."""
    scale = question.scale
    assert scale is not None
    low = localize(scale.min_label, language, default)
    high = localize(scale.max_label, language, default)
    if point == scale.min:
        return f"{point} – {low}"
    if point == scale.max:
        return f"{point} – {high}"
    return gettext(
        "%(point)s (from %(min)s – %(min_label)s to %(max)s – %(max_label)s)",
        point=point,
        min=scale.min,
        min_label=low,
        max=scale.max,
        max_label=high,
    )


def left_page(language: str) -> tuple[str, int]:
    """What every respondent page shows after the quick exit (Back, or the survey's
    link opened again soon after): "not available" in the person's language, and
    nothing else — no survey, no topic, no helpline, no exit link, a plain title."""
    spoken = language if language in shipped_languages() else "en"
    use_language(spoken)
    return render_template("respond/left.html", lang=spoken), 404


def expired_page(survey: Survey, status: int = 200) -> tuple[str, int]:
    """Explain how to resume, and show back any text they had just typed."""
    texts = []
    if request.method == "POST":
        for question in definition_of(survey).answerable_questions():
            fields = [question.id] if question.type in TEXT_TYPES else []
            if question.other:
                fields.append(other_field(question))
            texts += [request.form[f].strip() for f in fields if request.form.get(f, "").strip()]
    minutes = current_app.config["CHORUS_RESPONDENT_IDLE_MINUTES"]
    return render(
        "respond/unavailable.html", survey, status, kind="expired", minutes=minutes, texts=texts
    )
