"""Synthetic responses for the demo and benchmarks: plausible, never real.

Answers walk the survey as a person would (branching included, some sections
skipped after a content warning, some questions left blank or "prefer not to
say") and are sealed and stored by the same code as real submissions.

Earlier options are likelier than later ones, unless LEANINGS says how the
demo's people lean on one of the bundled template's questions. Two kinds of
answer are known by their values: "not sure" answers (UNSURE_VALUES) are chosen
by about one person in eight, and "none of these" answers (NONE_VALUES) are
ticked alone, never beside another.
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


# Answers for people who don't know or don't remember; the bundled template uses these.
UNSURE_VALUES = frozenset({"unsure", "not_sure", "dont_know", "dont_remember"})
UNSURE_SHARE = 0.12
# Answers that exclude every other one in a multi-choice question.
NONE_VALUES = frozenset({"nothing", "none_of_these"})
NONE_SHARE = 0.06


# How the demo's people lean on some of the bundled template's questions: invented,
# so that the demo report reads like a consultation and not like a list sorted by
# option order; never a finding. Used only when every option of the question (apart
# from "not sure" answers) has a weight here, so another survey's question of the
# same id falls back to the order of its options.
LEANINGS: dict[str, dict[Any, float]] = {
    "reporting_tried": {
        "yes": 45,
        "no_could_not_find": 15,
        "no_chose_not_to": 15,
        "no_not_needed": 25,
    },
    "reporting_how_well": {1: 30, 2: 30, 3: 20, 4: 12, 5: 8},
    "reporting_heard_back": {"no": 45, "yes_not_helpful": 30, "yes_helpful": 15},
    "blocking_confidence": {1: 15, 2: 25, 3: 30, 4: 20, 5: 10},
    "suggestions_stop_minors": {"yes": 75, "no": 10},
    "suggestions_experience": {"no": 45, "yes_me": 20, "yes_child": 15, "yes_both": 4},
    "suggestions_remove_easy": {"yes": 30, "partly": 35, "no": 30},
    "disappearing_default_children": {
        "not_available": 35,
        "off_by_default": 45,
        "same_as_adults": 15,
    },
    "disappearing_save_to_report": {"yes": 70, "no": 15},
    "detection_images": {
        "strongly_support": 50,
        "tend_to_support": 22,
        "neither": 8,
        "tend_to_oppose": 6,
        "strongly_oppose": 4,
    },
    "detection_adult_images": {
        "strongly_support": 55,
        "tend_to_support": 20,
        "neither": 7,
        "tend_to_oppose": 5,
        "strongly_oppose": 3,
    },
    "e2ee_keep_detection": {
        "strongly_support": 35,
        "tend_to_support": 22,
        "neither": 12,
        "tend_to_oppose": 10,
        "strongly_oppose": 8,
    },
    "e2ee_under_18": {"yes_same_as_adults": 15, "only_with_safeguards": 45, "no": 25},
    "publish_impact_assessments": {
        "yes_every_change": 45,
        "yes_major_changes": 30,
        "regulator_only": 12,
        "no": 5,
    },
    "ever_consulted": {"yes": 8, "no": 70},
    "connection": {
        "survivor": 40,
        "parent_carer": 20,
        "supporter_professional": 20,
        "other_connection": 8,
        "no_connection": 8,
    },
}


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


def _leaning(question: Question, values: list[Any]) -> list[float] | None:
    weights = LEANINGS.get(question.id)
    if weights is None or any(v not in weights for v in values):
        return None
    return [weights[v] for v in values]


def _value(question: Question, rng: random.Random) -> Any:
    values = list(question.option_values())
    unsure = [v for v in values if v in UNSURE_VALUES]
    if question.type == "single_choice":
        if question.other and rng.random() < 0.04:
            return {"other": rng.choice(SHORT_TEXT)}
        if unsure:
            if rng.random() < UNSURE_SHARE:
                return rng.choice(unsure)
            values = [v for v in values if v not in UNSURE_VALUES]
        ratio = 0.75 if question.group_by else 0.35
        weights = _leaning(question, values) or _weights(len(values), ratio)
        return rng.choices(values, weights=weights)[0]
    if question.type == "multi_choice":
        alone = [v for v in values if v in NONE_VALUES or v in UNSURE_VALUES]
        if alone:
            if rng.random() < NONE_SHARE + (UNSURE_SHARE if unsure else 0):
                return [rng.choice(alone)]
            values = [v for v in values if v not in alone]
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
        weights = _leaning(question, points) or [1 + i * i for i in range(len(points))]
        return rng.choices(points, weights=weights)[0]
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
