"""The bundled "Product-risk consultation" read as a survey methodologist reads it.

A report built on this template is sent to companies who are asked to answer it,
so its questions have to survive their challenge: no result or opinion shown
before the question it could lead, support and opposition offered in equal
measure, an honest "not sure" where people may not know, the questions about
who someone is after the topics, and none of the app's own hints said twice.
docs/bundled-template.md gives the reasons for each choice and the sources of
every fact the template states.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Iterator

import pytest

from survey.definition import Question, SurveyDefinition, load_definition_text
from survey.surveys import TEMPLATE_NAME, bundled_template_text
from survey.synthetic import NONE_VALUES, UNSURE_VALUES, synthetic_state
from tests.factories import Respondent, template_document
from tests.plain_words import prose_blocks


@pytest.fixture(scope="module")
def template() -> SurveyDefinition:
    return load_definition_text(bundled_template_text(), TEMPLATE_NAME)


def texts(text) -> list[str]:
    """Every language's version of a text field (a string or {lang: text})."""
    if text is None:
        return []
    return list(text.values()) if isinstance(text, dict) else [text]


def answerable(template: SurveyDefinition) -> Iterator[Question]:
    for section in template.sections:
        yield from (q for q in section.questions if q.takes_answer)


def texts_read_before_the_last_question(template: SurveyDefinition) -> Iterator[tuple[str, str]]:
    """(where, text) for everything a respondent can read before they answer the
    last question: the landing page, section intros, content warnings, questions,
    hints and answers. The closing message comes after, so it is not among them."""
    for key in ("title", "organiser", "intro", "privacy_notice"):
        for text in texts(getattr(template, key)):
            yield key, text
    for section in template.sections:
        for key in ("title", "intro", "content_warning"):
            for text in texts(getattr(section, key)):
                yield f"{section.id}.{key}", text
        for q in section.questions:
            for text in texts(q.text) + texts(q.help):
                yield q.id, text
            for option in q.options or []:
                for text in texts(option.label):
                    yield f"{q.id}.{option.value}", text


RESULT = re.compile(r"\d\s*[%٪]|\bpoll\b|\bencuesta\b|\byougov\b|استطلاع", re.IGNORECASE)


def test_no_result_or_poll_is_shown_before_a_question(template):
    """A result read just before the same question primes the answer (the NSPCC/YouGov
    "92% backed detection" stood right above the detection questions)."""
    shown = [f"{where}: {text}" for where, text in texts_read_before_the_last_question(template)]
    assert [line for line in shown if RESULT.search(line)] == []


def test_support_and_opposition_are_offered_in_equal_measure(template):
    """Every support/oppose question: as many ways to oppose as to support, a
    neutral middle, and "not sure" apart from it."""
    unbalanced = []
    asked = 0
    for q in answerable(template):
        if q.type != "single_choice":
            continue
        values = q.option_values()
        supports = [v for v in values if "support" in v.split("_")]
        opposes = [v for v in values if "oppose" in v.split("_")]
        if not supports:
            continue
        asked += 1
        if len(supports) != len(opposes) or "neither" not in values or "unsure" not in values:
            unbalanced.append((q.id, values))
    assert asked >= 3 and unbalanced == []


def test_opinions_and_memories_can_be_answered_not_sure(template):
    """Every single-choice question apart from the breakdowns (who someone is) has a
    "not sure" or "don't remember" answer, distinct from "Prefer not to say"."""
    missing = [
        q.id
        for q in answerable(template)
        if q.type == "single_choice"
        and not q.group_by
        and not set(q.option_values()) & UNSURE_VALUES
    ]
    assert missing == []


def test_questions_about_who_someone_is_come_after_the_topics(template):
    """The breakdown questions (including "I am a survivor") come after every section
    with a content warning, and the survey opens with a section that needs none."""
    sections = template.sections
    warned = [i for i, s in enumerate(sections) if s.content_warning]
    about_you = [i for i, s in enumerate(sections) if any(q.group_by for q in s.questions)]
    assert warned and about_you
    assert min(about_you) > max(warned)
    assert not sections[0].content_warning


def test_suggestion_experience_is_asked_after_the_opinions_and_one_thing_at_a_time(template):
    section = next(s for s in template.sections if s.id == "suggestions")
    ids = [q.id for q in section.questions]
    reveals = {"suggestions_experience", "suggestions_remove_easy"}
    assert ids[-2:] == ["suggestions_experience", "suggestions_remove_easy"]
    assert all(q not in reveals for q in ids[:-2])
    experience = template.question("suggestions_experience")
    # Whose experience is part of the answer, not folded into one "yes".
    assert "yes" not in experience.option_values()


# The app's own hints (templates/respond/_macros.html and the landing page): the
# template must not say them again in its own words.
APP_SAYS = {
    "multi_choice": re.compile(r"\bchoose (as many|any|all|up to)\b|\belige (todas|hasta)\b", re.I),
    "short_text": re.compile(r"leave out names|no incluyas nombres", re.I),
    "long_text": re.compile(r"leave out names|no incluyas nombres", re.I),
}
EVERY_QUESTION_OPTIONAL = re.compile(
    r"every question is optional|todas las preguntas son opcionales", re.I
)


def test_the_template_does_not_repeat_the_apps_own_hints(template):
    repeated = []
    for section in template.sections:
        for text in texts(section.intro):
            if EVERY_QUESTION_OPTIONAL.search(text):
                repeated.append(f"{section.id}.intro: {text}")
        for q in section.questions:
            pattern = APP_SAYS.get(q.type)
            for text in texts(q.help):
                if EVERY_QUESTION_OPTIONAL.search(text) or (pattern and pattern.search(text)):
                    repeated.append(f"{q.id}.help: {text}")
    assert repeated == []


def test_the_template_says_locked_not_sealed(template):
    """Respondents read "locked (encrypted)" on the app's pages; the template's own
    words use the same, never a second word for it."""
    everything = [text for _, text in texts_read_before_the_last_question(template)]
    everything += texts(template.closing_message)
    assert [t for t in everything if re.search(r"\bseal|\bsell", t, re.I)] == []


def every_text(value, path: str = "") -> Iterator[tuple[str, dict]]:
    """(path, {lang: text}) for every text object in a definition's JSON."""
    if (
        isinstance(value, dict)
        and "en" in value
        and all(isinstance(v, str) for v in value.values())
    ):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from every_text(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from every_text(item, f"{path}[{i}]")


ARABIC_LETTERS = re.compile(r"[\u0621-\u064a]")


def test_every_language_says_as_much(template):
    """Every language is complete (the format checks presence); here, that none is an
    empty or copied-over text, and that no Arabic field is left in English (an
    untranslated hint was seen on an Arabic page)."""
    assert list(template.languages) == ["en", "es", "ar"]
    same, not_arabic = [], []
    for path, text in every_text(template_document()):
        for language in ("es", "ar"):
            if text[language] == text["en"] and len(text["en"]) > 3:
                same.append((path, language, text["en"]))
        if not ARABIC_LETTERS.search(text["ar"]):
            not_arabic.append((path, text["ar"]))
    assert same == [] and not_arabic == []


def synthetic_answers(template: SurveyDefinition, n: int) -> dict[str, list]:
    rng = random.Random(13)
    chosen: dict[str, list] = {q.id: [] for q in answerable(template)}
    for _ in range(n):
        state = synthetic_state(template, rng)
        for qid, answer in state.answers.items():
            if "value" in answer:
                chosen[qid].append(answer["value"])
    return chosen


def test_synthetic_answers_use_every_answer_with_not_sure_often_enough(template):
    """The demo's answers reach every option of every question; "not sure" answers
    are a real share (at least 5%) of each question's answers; "none of these" is
    never ticked beside another answer."""
    answers = synthetic_answers(template, 1500)
    never, rare, mixed = [], [], []
    for q in answerable(template):
        given = answers[q.id]
        assert given, q.id
        if q.type not in ("single_choice", "multi_choice"):
            continue
        counts: Counter = Counter()
        for value in given:
            picked = [
                v for v in (value if isinstance(value, list) else [value]) if isinstance(v, str)
            ]
            counts.update(picked)
            if isinstance(value, list) and len(value) > 1 and set(picked) & NONE_VALUES:
                mixed.append((q.id, value))
        never += [(q.id, v) for v in q.option_values() if counts[v] == 0]
        rare += [
            (q.id, v, counts[v], len(given))
            for v in q.option_values()
            if v in UNSURE_VALUES and counts[v] < 0.05 * len(given)
        ]
    assert never == [] and rare == [] and mixed[:3] == []


# --- content notes and the landing page say plainly what follows (issue 21, point 3) ---

# The sections whose questions ask about the respondent's own experience: whether
# something happened to them (or to a child they care for), and the last time. Kept
# by hand so that a question of that kind added to another section is noticed (the
# test below finds them in the questions' words and compares).
ASKS_ABOUT_OWN_EXPERIENCE = {"suggestions"}
OWN_EXPERIENCE = re.compile(
    r"\bwhen you were\b|\blast time\b|\bhappened\b|\bhappen to you\b"
    r"|\bcuando tenías\b|\búltima vez\b|\bpas(?:ó|ado)\b"
    r"|عندما كان عمرك|المرة الأخيرة|\bحدث\b",
    re.I,
)
# What a note has to name when its section's questions say it, in each language.
NAMED_IN_THE_NOTE = [
    (re.compile(r"\bunder 18\b|\bmenos de 18\b|دون 18", re.I), "an age"),
    (re.compile(r"\blast time\b|\búltima vez\b|المرة الأخيرة", re.I), "the last time"),
]
HAPPENED_TO_YOU = re.compile(r"\bhappened to you\b|\bte pasó\b|حدث لك", re.I)
# A note's claim that the section does *not* ask something, to the end of its sentence.
DENIAL = re.compile(
    r"\b(?:does not|doesn't|do not|don't|won't|will not|never) ask\w*\b[^.]*"
    r"|\bno te (?:pide|pregunta)\w*\b[^.]*"
    r"|(?<!\w)و?لا (?:يسأل|تسأل)[^.]*",
    re.I,
)
# A note says what kind of question follows: "It asks what you think", "One asks if".
SAYS_WHAT_IS_ASKED = re.compile(
    r"(?<!not )(?<!n't )\b(?:asks|questions ask)\b"
    r"|(?<!no )(?<!no te )\bpregunta(?:n)? (?:qué|si|por)\b|\bpiden? tu opinión\b"
    r"|(?<!لا )\b(?:يسأل|تسأل)\b",
    re.I,
)
# The page around a note adds the way to support; the note itself doesn't say it twice.
SUPPORT = re.compile(
    r"\bsupport\b|\bhelpline|\bapoyo\b|\blíneas? de ayuda\b|الدعم|خطوط? (?:ال)?مساعدة", re.I
)


def in_language(text, language: str) -> str:
    return text[language] if isinstance(text, dict) else text


def section_texts(section, language: str) -> list[str]:
    """What a section's questions say (text and hint) in one language."""
    return [
        in_language(t, language)
        for q in section.questions
        for t in (q.text, q.help)
        if t is not None
    ]


def test_the_sections_that_ask_about_your_own_experience_are_the_ones_listed(template):
    found = {
        section.id
        for section in template.sections
        if section.content_warning
        and any(
            OWN_EXPERIENCE.search(text)
            for lang in template.languages
            for text in section_texts(section, lang)
        )
    }
    assert found == ASKS_ABOUT_OWN_EXPERIENCE


def test_a_content_note_says_when_its_section_asks_what_happened_to_you(template):
    """The note before "Friend and contact suggestions" said it "does not ask you to
    describe anything that happened to you", and the section then asked whether it
    happened "to you, when you were under 18", and about the last time."""
    missing = []
    for section in template.sections:
        if section.id not in ASKS_ABOUT_OWN_EXPERIENCE:
            continue
        assert section.content_warning, f"{section.id} asks about you without a note"
        for lang in template.languages:
            note = in_language(section.content_warning, lang)
            asked = " ".join(section_texts(section, lang))
            if not HAPPENED_TO_YOU.search(note):
                missing.append(f"{section.id} ({lang}): whether it happened to you")
            missing += [
                f"{section.id} ({lang}): {what}"
                for pattern, what in NAMED_IN_THE_NOTE
                if pattern.search(asked) and not pattern.search(note)
            ]
    assert missing == []


def test_no_content_note_denies_what_its_section_asks(template):
    """A note may say what a section doesn't ask ("It does not ask about anything that
    happened to you"), but never of a section that asks just that."""
    denied = []
    for section in template.sections:
        if not section.content_warning:
            continue
        for lang in template.languages:
            asks_about_you = any(OWN_EXPERIENCE.search(t) for t in section_texts(section, lang))
            for claim in DENIAL.findall(in_language(section.content_warning, lang)):
                if asks_about_you and OWN_EXPERIENCE.search(claim):
                    denied.append(f"{section.id} ({lang}): {claim}")
    assert denied == []


def test_every_content_note_says_what_kind_of_question_follows(template):
    vague, support = [], []
    for section in template.sections:
        for note in texts(section.content_warning):
            if not SAYS_WHAT_IS_ASKED.search(note):
                vague.append(f"{section.id}: {note}")
            if SUPPORT.search(note):
                support.append(f"{section.id}: {note}")
    assert vague == [] and support == []


WHO_CAN_TAKE_PART = {
    "en": re.compile(r"\bcan take part\b", re.I),
    "es": re.compile(r"\bpuede participar\b", re.I),
    "ar": re.compile(r"يمكن لأي شخص[^.]*أن يشارك"),
}
AN_AGE = {
    "en": re.compile(r"\b(\d{2}) (?:or over|or older)\b", re.I),
    "es": re.compile(r"\b(\d{2}) años o más\b", re.I),
    "ar": re.compile(r"\b(\d{2}) عامًا أو أكثر"),
}


def test_the_landing_page_says_who_can_take_part_age_included(client, make_open_survey):
    survey, _ = make_open_survey(template_document())
    for lang in ("en", "es", "ar"):
        html = Respondent(client, survey.slug).get(f"/s/{survey.slug}?lang={lang}")
        landing = " ".join(prose_blocks(html.get_data(as_text=True)))
        assert WHO_CAN_TAKE_PART[lang].search(landing), lang
        age = AN_AGE[lang].search(landing)
        assert age and age.group(1) == "18", lang
