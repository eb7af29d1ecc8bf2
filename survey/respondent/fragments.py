"""Parts of a respondent's page that are the same for everyone who sees them, kept
rendered in the process: a question as it looks before anyone has answered it,
and the list of support services.

Such a part depends only on the survey's version (the digest of its definition,
read with the survey's row), the language and the app's own words, so those are
its key: a changed definition, here or in another process, has another key. A
question that shows an answer or an error message is rendered afresh every time
and never kept, so nothing a person typed or chose stays in the process after
their request. Up to `FRAGMENTS_KEPT` parts are kept per app; the most recently
used stay.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flask import current_app
from markupsafe import Markup

from survey.answers import AnswerError, form_values
from survey.definition import Question, SurveyDefinition
from survey.lru import LruCache
from survey.models import Survey

FRAGMENTS_KEPT = 4096
MACROS = "respond/_macros.html"
_EXTENSION = "chorus.fragments"

Translate = Callable[[Any], str]
FragmentKey = tuple[Any, ...]


def kept_fragments() -> LruCache[FragmentKey, Markup]:
    """This app's kept parts."""
    cache: LruCache[FragmentKey, Markup] = current_app.extensions.setdefault(
        _EXTENSION, LruCache(FRAGMENTS_KEPT)
    )
    return cache


def macros(language: str, tx: Translate) -> Any:
    """respond/_macros.html's macros, callable from Python, in `language`."""
    template = current_app.jinja_env.get_template(MACROS)
    return template.make_module({"lang": language, "tx": tx})


def question_blocks(
    survey: Survey,
    language: str,
    tx: Translate,
    on_page: list[tuple[Question, bool]],
    values: Mapping[str, dict[str, Any]],
    errors: Mapping[str, AnswerError],
    follow_ups: set[str],
) -> list[Markup]:
    """The HTML of each question on a section page, in order (`question` in
    respond/_macros.html). One nobody has answered and without an error is kept."""
    kept = kept_fragments()
    module = None
    blocks = []
    for q, shown in on_page:
        unanswered = form_values(q, None)
        value = values.get(q.id) or unanswered
        error = errors.get(q.id)
        follow_up = q.id in follow_ups
        key = None
        if error is None and value == unanswered:
            key = (survey.id, survey.definition_sha256, language, q.id, follow_up, shown)
            found = kept.get(key)
            if found is not None:
                blocks.append(found)
                continue
        if module is None:
            module = macros(language, tx)
        html = module.question(q, value, error, follow_up=follow_up, shown=shown)
        assert isinstance(html, Markup)  # a macro of an autoescaped template
        if key is not None:
            kept.put(key, html)
        blocks.append(html)
    return blocks


def support_list(
    survey: Survey, definition: SurveyDefinition, language: str, tx: Translate
) -> Markup:
    """The survey's support services (`support_list` in respond/_macros.html)."""
    kept = kept_fragments()
    key = (survey.id, survey.definition_sha256, language, "support")
    found = kept.get(key)
    if found is None:
        found = macros(language, tx).support_list(definition.support)
        assert isinstance(found, Markup)
        kept.put(key, found)
    return found
