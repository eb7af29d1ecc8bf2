"""Synthetic responses for the demo and benchmarks: plausible, never real.

Answers walk the survey as a person would (branching included, some sections
skipped after a content warning, some questions left blank or "prefer not to
say") and are sealed and stored by the same code as real submissions.
"""

from __future__ import annotations

import random
from typing import Any

from survey.definition import Question, SurveyDefinition
from survey.models import Survey, db
from survey.responses import DraftState, final_answers, store_response
from survey.surveys import definition_of

# Written for the demo. A few name people and places, as real free text would,
# so that quote redaction has something to find.
FREE_TEXT = [
    "Keep the tools that find abuse images working when messages are encrypted.",
    "Children should not be suggested as friends to adults they don't know.",
    "Messages that delete themselves make it impossible to show anyone what happened.",
    "Reporting took weeks and nobody told me what happened next.",
    "Ask survivors before launching features, not after the harm is done.",
    "There should be a simple button to save evidence before a chat disappears.",
    "Under-18 accounts should have the safest settings on by default.",
    "Publish what you found when you assessed the risks, and what you changed.",
    "I want privacy too, but not at the cost of children being groomed in private.",
    "When I was fourteen someone moved our chat to an encrypted app within a day.",
    "My friend Jamie reported an account in Leeds three times before anything happened.",
    "Block should really block: the same person came back with a new account.",
    "Detection should be checked by independent experts so people can trust it.",
    "Please make it easy for a parent to get help without going through ten screens.",
    "You can reach me at survivor.voice@example.org if you want to know more.",
]
SHORT_TEXT = [
    "Disappearing messages",
    "Friend suggestions",
    "Encrypted chats with strangers",
    "Reporting that goes nowhere",
    "Group chats adults can add children to",
]


def synthetic_state(definition: SurveyDefinition, rng: random.Random) -> DraftState:
    """One plausible path through the survey."""
    state = DraftState()
    visible: dict[str, Any] = {}
    for section in definition.sections:
        if section.show_if and not section.show_if.holds(visible):
            continue
        if section.content_warning and rng.random() < 0.05:
            state.skipped_sections.append(section.id)
            continue
        for question in section.questions:
            if not question.takes_answer:
                continue
            if question.show_if and not question.show_if.holds(visible):
                continue
            roll = rng.random()
            if roll < 0.06:
                continue  # left blank
            if roll < 0.10 and question.prefer_not_to_say:
                state.answers[question.id] = {"state": "prefer_not_to_say"}
                continue
            value = _value(question, rng)
            state.answers[question.id] = {"value": value}
            if question.quote_consent:
                state.answers[question.id]["quote_consent"] = rng.random() < 0.6
            visible[question.id] = value
    return state


def _weights(count: int, ratio: float) -> list[float]:
    return [ratio**i for i in range(count)]


def _value(question: Question, rng: random.Random) -> Any:
    values = list(question.option_values())
    if question.type == "single_choice":
        if question.other and rng.random() < 0.04:
            return {"other": rng.choice(SHORT_TEXT)}
        ratio = 0.75 if question.group_by else 0.35
        return rng.choices(values, weights=_weights(len(values), ratio))[0]
    if question.type == "multi_choice":
        chosen: list[Any] = [v for i, v in enumerate(values) if rng.random() < 0.65 * 0.8**i]
        if not chosen:
            chosen = [rng.choice(values)]
        if question.max_choices:
            chosen = chosen[: question.max_choices]
        if (
            question.other
            and rng.random() < 0.08
            and (not question.max_choices or len(chosen) < question.max_choices)
        ):
            chosen.append({"other": rng.choice(SHORT_TEXT)})
        return chosen
    if question.type == "scale":
        assert question.scale is not None
        points = list(range(question.scale.min, question.scale.max + 1))
        return rng.choices(points, weights=[1 + i * i for i in range(len(points))])[0]
    if question.type == "number":
        low = int(question.min if question.min is not None else 0)
        high = int(question.max if question.max is not None else low + 20)
        return low + round(rng.betavariate(2, 5) * (high - low))
    if question.type == "short_text":
        return rng.choice(SHORT_TEXT)[: question.text_limit]
    text = " ".join(rng.sample(FREE_TEXT, rng.randint(1, 3)))
    return text[: question.text_limit]


def add_synthetic_responses(survey: Survey, count: int, seed: int = 0, batch: int = 200) -> None:
    """Seal and store `count` synthetic responses."""
    definition = definition_of(survey)
    rng = random.Random(seed)
    for done in range(count):
        store_response(survey, final_answers(definition, synthetic_state(definition, rng)))
        if (done + 1) % batch == 0:
            db.session.commit()
    db.session.commit()
