"""The `chorus-survey/1` survey definition: parse, validate, model, export.

The contract is docs/survey-format.md. Validation collects every problem
with the path where it is (`sections[1].questions[0].options[2].value: duplicate
value "often"`) so a facilitator can fix a file in one go. A valid definition
becomes frozen dataclasses that the respondent pages and the CLI read, and
`to_dict` gives back the canonical JSON, so import → export → import is identical.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import math
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeGuard

import yaml

from survey.i18n import language_label

FORMAT = "chorus-survey/1"
QUESTION_TYPES = (
    "single_choice",
    "multi_choice",
    "scale",
    "number",
    "short_text",
    "long_text",
    "info",
)
CHOICE_TYPES = ("single_choice", "multi_choice")
TEXT_TYPES = ("short_text", "long_text")
DEFAULT_MAX_LENGTH = {"short_text": 500, "long_text": 5000}

# How long a survey takes when its definition doesn't say (`estimated_minutes`):
# seconds to read and answer each kind of question, counting every question (those
# that branching may hide too, so the estimate errs long), a few seconds for each
# section's page and content warning, and a minute for the landing page, the
# review and saving the receipt code. docs/survey-format.md "How long it takes".
SECONDS_TO_ANSWER = {
    "info": 15,
    "single_choice": 15,
    "multi_choice": 20,
    "scale": 10,
    "number": 10,
    "short_text": 30,
    "long_text": 90,
}
SECONDS_PER_SECTION = 10
SECONDS_PER_CONTENT_WARNING = 10
SECONDS_AROUND_THE_QUESTIONS = 60

SLUG_RE = re.compile(r"[a-z0-9][a-z0-9-]{1,62}")
# Addresses under /s/ that aren't surveys (/s/exit is the quick exit).
RESPONDENT_ROUTE_SLUGS = frozenset({"exit"})
ID_RE = re.compile(r"[a-z][a-z0-9_]{0,62}")
LANGUAGE_RE = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})*")
URL_RE = re.compile(r"https?://[^\s<>\"']+")

MAX_DEFINITION_BYTES = 1_000_000
MAX_TEXT_CHARS = 20_000
MAX_SECTIONS = 100
MAX_QUESTIONS = 500
MAX_OPTIONS = 100
MAX_TEXT_ANSWER = 20_000
# The most characters all of one person's text answers may hold together: every
# text box of a survey (short and long texts, "Other" boxes) at its cap. A draft
# and an inbox entry are padded to the largest answers the survey allows
# (README.md "What is stored, and what is not"), so this keeps them bounded. A
# survey whose caps add up to more gets one lower cap for its longest boxes
# (`survey_text_cap`); MAX_QUESTIONS boxes of 100 characters always fit.
MAX_TEXT_CHARS_PER_SURVEY = 50_000

Text = str | dict[str, str]

SURVEY_KEYS = {
    "format": True,
    "slug": True,
    "title": True,
    "languages": False,
    "intro": False,
    "organiser": False,
    "privacy_notice": False,
    "support": False,
    "closing_message": False,
    "estimated_minutes": False,
    "invite_only": False,
    "min_report_n": False,
    "suppression_k": False,
    "sections": True,
}
SECTION_KEYS = {
    "id": True,
    "title": True,
    "intro": False,
    "content_warning": False,
    "show_if": False,
    "questions": True,
}
QUESTION_KEYS = {
    "id": True,
    "type": True,
    "text": True,
    "help": False,
    "options": False,
    "other": False,
    "max_choices": False,
    "scale": False,
    "min": False,
    "max": False,
    "integer": False,
    "max_length": False,
    "show_if": False,
    "prefer_not_to_say": False,
    "group_by": False,
    "quote_consent": False,
    "theme_hint": False,
}
SUPPORT_KEYS = {"name": True, "url": False, "phone": False, "hours": False}
OPTION_KEYS = {"value": True, "label": True}
SCALE_KEYS = {"min": True, "max": True, "min_label": True, "max_label": True}
CONDITION_KEYS = {"question": True, "in": True}


class DefinitionError(ValueError):
    """A definition that can't be used; `problems` lists every reason with its path."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


# --- the model ----------------------------------------------------------------------


@dataclass(frozen=True)
class Option:
    value: str
    label: Text


@dataclass(frozen=True)
class Condition:
    question: str
    values: tuple[str, ...]

    def holds(self, visible_answers: Mapping[str, Any]) -> bool:
        """True when the (shown, answered) question has one of the values."""
        return bool(chosen_values(visible_answers.get(self.question)) & set(self.values))


@dataclass(frozen=True)
class ScaleSpec:
    min: int
    max: int
    min_label: Text
    max_label: Text


@dataclass(frozen=True)
class Question:
    id: str
    type: str
    text: Text
    help: Text | None = None
    options: tuple[Option, ...] = ()
    other: bool = False
    max_choices: int | None = None
    scale: ScaleSpec | None = None
    min: int | float | None = None
    max: int | float | None = None
    # A number question that takes whole numbers only (3, not 2.5).
    integer: bool = False
    max_length: int | None = None
    show_if: Condition | None = None
    prefer_not_to_say: bool = True
    group_by: bool = False
    quote_consent: bool = False
    theme_hint: str | None = None
    # Derived, never in the document: the survey's cap on any one text box when
    # its boxes' own caps add up to more than MAX_TEXT_CHARS_PER_SURVEY.
    survey_text_cap: int | None = field(default=None, compare=False, repr=False)

    @property
    def is_choice(self) -> bool:
        return self.type in CHOICE_TYPES

    @property
    def takes_answer(self) -> bool:
        return self.type != "info"

    @property
    def has_text_box(self) -> bool:
        """Whether a person can type into this question (its answer or "Other")."""
        return self.type in TEXT_TYPES or (self.is_choice and self.other)

    @property
    def declared_text_limit(self) -> int:
        """The cap the definition sets (or the default for the question's type)."""
        if self.type in TEXT_TYPES:
            return self.max_length or DEFAULT_MAX_LENGTH[self.type]
        return DEFAULT_MAX_LENGTH["short_text"]

    @property
    def text_limit(self) -> int:
        """Most characters a text answer may have (also used for "other" text):
        the declared cap, lowered to the survey's cap where it has one."""
        if self.survey_text_cap is not None:
            return min(self.declared_text_limit, self.survey_text_cap)
        return self.declared_text_limit

    def option_values(self) -> tuple[str, ...]:
        return tuple(option.value for option in self.options)


@dataclass(frozen=True)
class Section:
    id: str
    title: Text
    questions: tuple[Question, ...]
    intro: Text | None = None
    content_warning: Text | None = None
    show_if: Condition | None = None


@dataclass(frozen=True)
class SupportResource:
    name: Text
    url: str | None = None
    phone: str | None = None
    hours: Text | None = None


@dataclass(frozen=True)
class SurveyDefinition:
    slug: str
    title: Text
    sections: tuple[Section, ...]
    languages: tuple[str, ...] = ("en",)
    intro: Text | None = None
    organiser: Text | None = None
    privacy_notice: Text | None = None
    support: tuple[SupportResource, ...] = ()
    closing_message: Text | None = None
    estimated_minutes: int | None = None
    invite_only: bool = False
    min_report_n: int = 20
    suppression_k: int = 10
    _questions: dict[str, Question] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        index = {q.id: q for s in self.sections for q in s.questions}
        object.__setattr__(self, "_questions", index)

    @property
    def default_language(self) -> str:
        return self.languages[0]

    def questions(self) -> Iterator[Question]:
        """Every question in order, info items included."""
        for section in self.sections:
            yield from section.questions

    def answerable_questions(self) -> Iterator[Question]:
        return (q for q in self.questions() if q.takes_answer)

    def question(self, question_id: str) -> Question | None:
        return self._questions.get(question_id)

    @property
    def minutes_to_answer(self) -> int:
        """The time the landing page gives: the definition's own, or the estimate."""
        return self.estimated_minutes or self.estimated_minutes_from_questions()

    def estimated_minutes_from_questions(self) -> int:
        """Whole minutes, rounded up, by the rule beside SECONDS_TO_ANSWER."""
        seconds = SECONDS_AROUND_THE_QUESTIONS
        for section in self.sections:
            seconds += SECONDS_PER_SECTION
            if section.content_warning:
                seconds += SECONDS_PER_CONTENT_WARNING
            seconds += sum(SECONDS_TO_ANSWER[q.type] for q in section.questions)
        return max(1, math.ceil(seconds / 60))

    def section(self, section_id: str) -> Section | None:
        return next((s for s in self.sections if s.id == section_id), None)

    def with_slug(self, slug: str) -> SurveyDefinition:
        """The same survey under another slug (validated like any slug)."""
        data = self.to_dict()
        data["slug"] = slug
        return parse_definition(data)

    def to_dict(self) -> dict[str, Any]:
        """The canonical `chorus-survey/1` document for this definition."""
        out: dict[str, Any] = {"format": FORMAT, "slug": self.slug, "title": self.title}
        out["languages"] = list(self.languages)
        _put(out, "intro", self.intro)
        _put(out, "organiser", self.organiser)
        _put(out, "privacy_notice", self.privacy_notice)
        if self.support:
            out["support"] = [_support_dict(s) for s in self.support]
        _put(out, "closing_message", self.closing_message)
        _put(out, "estimated_minutes", self.estimated_minutes)
        out["invite_only"] = self.invite_only
        out["min_report_n"] = self.min_report_n
        out["suppression_k"] = self.suppression_k
        out["sections"] = [_section_dict(s) for s in self.sections]
        # Texts are dicts shared with this frozen definition: hand out copies.
        return copy.deepcopy(out)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2) + "\n"


def _put(out: dict[str, Any], key: str, value: Any, default: Any = None) -> None:
    if value is not None and value != default:
        out[key] = value


def _condition_dict(condition: Condition) -> dict[str, Any]:
    return {"question": condition.question, "in": list(condition.values)}


def _support_dict(resource: SupportResource) -> dict[str, Any]:
    out: dict[str, Any] = {"name": resource.name}
    _put(out, "url", resource.url)
    _put(out, "phone", resource.phone)
    _put(out, "hours", resource.hours)
    return out


def _section_dict(section: Section) -> dict[str, Any]:
    out: dict[str, Any] = {"id": section.id, "title": section.title}
    _put(out, "intro", section.intro)
    _put(out, "content_warning", section.content_warning)
    if section.show_if:
        out["show_if"] = _condition_dict(section.show_if)
    out["questions"] = [_question_dict(q) for q in section.questions]
    return out


def _question_dict(q: Question) -> dict[str, Any]:
    out: dict[str, Any] = {"id": q.id, "type": q.type, "text": q.text}
    _put(out, "help", q.help)
    if q.options:
        out["options"] = [{"value": o.value, "label": o.label} for o in q.options]
    _put(out, "other", q.other, False)
    _put(out, "max_choices", q.max_choices)
    if q.scale:
        out["scale"] = {
            "min": q.scale.min,
            "max": q.scale.max,
            "min_label": q.scale.min_label,
            "max_label": q.scale.max_label,
        }
    _put(out, "min", q.min)
    _put(out, "max", q.max)
    _put(out, "integer", q.integer, False)
    _put(out, "max_length", q.max_length)
    if q.show_if:
        out["show_if"] = _condition_dict(q.show_if)
    _put(out, "prefer_not_to_say", q.prefer_not_to_say, True)
    _put(out, "group_by", q.group_by, False)
    _put(out, "quote_consent", q.quote_consent, False)
    _put(out, "theme_hint", q.theme_hint)
    return out


# --- answers and branching ----------------------------------------------------------

NOT_SHOWN = "not_shown"
SKIPPED = "skipped"
PREFER_NOT_TO_SAY = "prefer_not_to_say"
ANSWER_STATES = (NOT_SHOWN, SKIPPED, PREFER_NOT_TO_SAY)


def chosen_values(answer: Any) -> set[str]:
    """The option values an answer chose (an "other" entry is not a value)."""
    if isinstance(answer, str):
        return {answer}
    if isinstance(answer, list):
        return {v for v in answer if isinstance(v, str)}
    return set()


def visible_sections_and_answers(
    definition: SurveyDefinition, given: Mapping[str, Any]
) -> tuple[list[Section], dict[str, Any]]:
    """Walk the survey in order and decide what is shown.

    `given` maps question ids to answer values (states excluded). Returns the
    sections that are shown and the answers of questions that are shown: a
    condition looks only at those, so an answer to a question that branching
    later hid never counts.
    """
    visible: dict[str, Any] = {}
    shown_sections: list[Section] = []
    for section in definition.sections:
        if section.show_if and not section.show_if.holds(visible):
            continue
        shown_sections.append(section)
        for question in section.questions:
            if question.show_if and not question.show_if.holds(visible):
                continue
            if question.id in given:
                visible[question.id] = given[question.id]
    return shown_sections, visible


def shown_questions(section: Section, visible_answers: Mapping[str, Any]) -> list[Question]:
    """Questions of a (shown) section whose conditions hold."""
    return [q for q in section.questions if not q.show_if or q.show_if.holds(visible_answers)]


# --- loading ------------------------------------------------------------------------


def load_definition_text(text: str, filename: str = "") -> SurveyDefinition:
    """Parse JSON (or YAML, by extension or when it isn't JSON) and validate it."""
    if len(text.encode()) > MAX_DEFINITION_BYTES:
        raise DefinitionError([f"(file): larger than {MAX_DEFINITION_BYTES // 1_000_000} MB"])
    is_yaml = filename.lower().endswith((".yaml", ".yml"))
    if not is_yaml:
        try:
            data = json.loads(text, object_pairs_hook=_no_duplicate_keys)
        except _DuplicateKey as exc:
            raise DefinitionError([f"(file): duplicate key {exc.key!r}"]) from None
        except json.JSONDecodeError as exc:
            if filename.lower().endswith(".json") or text.lstrip().startswith(("{", "[")):
                raise DefinitionError(
                    [f"(file): not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"]
                ) from None
            is_yaml = True
    if is_yaml:
        try:
            data = yaml.load(text, Loader=_StrictYamlLoader)  # noqa: S506 - a SafeLoader subclass
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            problem = getattr(exc, "problem", None) or str(exc)
            raise DefinitionError([f"(file): not valid YAML: {problem}{where}"]) from None
    return parse_definition(data)


def parse_definition(data: Any) -> SurveyDefinition:
    """Validate a decoded document and build the model, or raise DefinitionError."""
    problems = _Validator().validate(data)
    if problems:
        raise DefinitionError(problems)
    return _build(data)


class _DuplicateKey(ValueError):
    def __init__(self, key: str):
        self.key = key


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


class _StrictYamlLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys, as the JSON loader does."""


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if not isinstance(key, str | int | float | bool):
            raise yaml.constructor.ConstructorError(
                None, None, "keys must be plain words", key_node.start_mark
            )
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node)


_StrictYamlLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping
)
# YAML 1.1 would read dates as date objects, `no`, `on` and `off` as booleans
# (so a language tag "no" became false) and 9:00 as the number 540. Keep what
# YAML 1.2 keeps: true/false, plain integers and floats; everything else is text.
_YAML_DROPPED_TAGS = {
    "tag:yaml.org,2002:timestamp",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:int",
}
_StrictYamlLoader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag not in _YAML_DROPPED_TAGS]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_StrictYamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_StrictYamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^[-+]?[0-9]+$"), list("-+0123456789")
)


# --- validation ---------------------------------------------------------------------


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> TypeGuard[int | float]:
    return (_is_int(value) or isinstance(value, float)) and value == value and abs(value) < 1e15


class _Validator:
    """Walks a decoded document and records every problem with its path."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.languages: list[str] = ["en"]
        # question id → (question dict, section index, question index), in order
        self.seen_questions: dict[str, dict[str, Any]] = {}

    def add(self, path: str, message: str) -> None:
        self.problems.append(f"{path}: {message}")

    def validate(self, data: Any) -> list[str]:
        if not isinstance(data, dict):
            self.add("(document)", "must be an object with the survey's keys")
            return self.problems
        self.keys("(document)", data, SURVEY_KEYS, top=True)
        if "format" in data and data["format"] != FORMAT:
            self.add("format", f'must be "{FORMAT}", not {json.dumps(data["format"])}')
        if "slug" in data and not (
            isinstance(data["slug"], str) and SLUG_RE.fullmatch(data["slug"])
        ):
            self.add(
                "slug",
                "must be 2-63 lower-case letters, digits or hyphens, starting with a letter or "
                "digit",
            )
        elif data.get("slug") in RESPONDENT_ROUTE_SLUGS:
            self.add("slug", f'"{data["slug"]}" is reserved; choose another')
        self.check_languages(data.get("languages", ["en"]))
        self.text("title", data.get("title"), required="title" in data)
        for key in ("intro", "organiser", "privacy_notice", "closing_message"):
            if key in data:
                self.text(key, data[key], present=True)
        if "estimated_minutes" in data:
            self.integer("estimated_minutes", data["estimated_minutes"], 1, 600)
        if "invite_only" in data:
            self.boolean("invite_only", data["invite_only"])
        if "min_report_n" in data:
            self.integer("min_report_n", data["min_report_n"], 1, 1_000_000)
        if "suppression_k" in data:
            self.integer("suppression_k", data["suppression_k"], 5, 1_000_000)
        if "support" in data:
            self.check_support(data["support"])
        if "sections" in data:
            self.check_sections(data["sections"])
        return self.problems

    def keys(
        self, path: str, obj: dict[str, Any], allowed: dict[str, bool], top: bool = False
    ) -> None:
        prefix = "" if top else f"{path}."
        for key in obj:
            if key not in allowed:
                self.add(f"{prefix}{key}", "unknown key")
        for key, required in allowed.items():
            if required and key not in obj:
                self.add(f"{prefix}{key}" if not top else key, "is required")

    def check_languages(self, languages: Any) -> None:
        if not isinstance(languages, list) or not languages:
            self.add("languages", 'must be a non-empty list of language tags such as "en"')
            return
        valid: list[str] = []
        for i, tag in enumerate(languages):
            if not isinstance(tag, str) or not LANGUAGE_RE.fullmatch(tag):
                self.add(f"languages[{i}]", f'{json.dumps(tag)} is not a language tag like "en"')
            elif tag in valid:
                self.add(f"languages[{i}]", f'duplicate language "{tag}"')
            else:
                valid.append(tag)
        if len(languages) > 20:
            self.add("languages", "at most 20 languages")
        if valid:
            self.languages = valid

    def text(self, path: str, value: Any, required: bool = True, present: bool = False) -> None:
        if value is None:
            if present:
                self.add(path, "must be text, not null (leave the key out instead)")
            elif required:
                self.add(path, "is required")
            return
        if isinstance(value, str):
            if not value.strip():
                self.add(path, "must not be empty")
            elif len(value) > MAX_TEXT_CHARS:
                self.add(path, f"longer than {MAX_TEXT_CHARS} characters")
            return
        if isinstance(value, dict):
            for lang, item in value.items():
                if lang not in self.languages:
                    self.add(f"{path}.{lang}", "is not one of the survey's languages")
                elif not isinstance(item, str) or not item.strip():
                    self.add(f"{path}.{lang}", "must be non-empty text")
                elif len(item) > MAX_TEXT_CHARS:
                    self.add(f"{path}.{lang}", f"longer than {MAX_TEXT_CHARS} characters")
            for lang in self.languages:
                if lang not in value:
                    self.add(path, f'missing the "{lang}" text')
            return
        self.add(path, 'must be text: a string or an object like {"en": "..."}')

    def boolean(self, path: str, value: Any) -> None:
        if not isinstance(value, bool):
            self.add(path, "must be true or false")

    def integer(self, path: str, value: Any, low: int, high: int) -> None:
        if not _is_int(value):
            self.add(path, "must be a whole number")
        elif not low <= value <= high:
            self.add(path, f"must be between {low} and {high}")

    def check_support(self, support: Any) -> None:
        if not isinstance(support, list):
            self.add("support", "must be a list")
            return
        for i, item in enumerate(support):
            path = f"support[{i}]"
            if not isinstance(item, dict):
                self.add(path, "must be an object with a name")
                continue
            self.keys(path, item, SUPPORT_KEYS)
            self.text(f"{path}.name", item.get("name"), required="name" in item)
            if "url" in item and not (
                isinstance(item["url"], str) and URL_RE.fullmatch(item["url"])
            ):
                self.add(f"{path}.url", "must be a web address starting with https:// or http://")
            if "phone" in item and not (
                isinstance(item["phone"], str) and 0 < len(item["phone"].strip()) <= 40
            ):
                self.add(f"{path}.phone", "must be a phone number of at most 40 characters")
            if "hours" in item:
                self.text(f"{path}.hours", item["hours"], present=True)

    def check_sections(self, sections: Any) -> None:
        if not isinstance(sections, list) or not sections:
            self.add("sections", "must be a list of at least one section")
            return
        if len(sections) > MAX_SECTIONS:
            self.add("sections", f"at most {MAX_SECTIONS} sections")
        section_ids: set[str] = set()
        total_questions = 0
        for si, section in enumerate(sections):
            path = f"sections[{si}]"
            if not isinstance(section, dict):
                self.add(path, "must be an object")
                continue
            self.keys(path, section, SECTION_KEYS)
            self.identifier(f"{path}.id", section.get("id"), section_ids, "section id")
            self.text(f"{path}.title", section.get("title"), required="title" in section)
            for key in ("intro", "content_warning"):
                if key in section:
                    self.text(f"{path}.{key}", section[key], present=True)
            if "show_if" in section:
                # A section's condition can only look at questions before the section.
                self.condition(f"{path}.show_if", section["show_if"], in_section=True)
            questions = section.get("questions")
            if "questions" not in section:
                continue
            if not isinstance(questions, list) or not questions:
                self.add(f"{path}.questions", "must be a list of at least one question")
                continue
            total_questions += len(questions)
            for qi, question in enumerate(questions):
                self.check_question(f"{path}.questions[{qi}]", question)
        if total_questions > MAX_QUESTIONS:
            self.add("sections", f"at most {MAX_QUESTIONS} questions in all")

    def identifier(self, path: str, value: Any, seen: set[str], what: str) -> None:
        if not isinstance(value, str) or not ID_RE.fullmatch(value):
            if value is not None:
                self.add(
                    path,
                    f"{json.dumps(value)} is not a valid {what}: use lower-case letters, digits "
                    "and _, starting with a letter",
                )
            return
        if value in seen:
            self.add(path, f'duplicate {what} "{value}"')
        seen.add(value)

    def check_question(self, path: str, q: Any) -> None:
        if not isinstance(q, dict):
            self.add(path, "must be an object")
            return
        self.keys(path, q, QUESTION_KEYS)
        qtype = q.get("type")
        if "type" in q and qtype not in QUESTION_TYPES:
            self.add(f"{path}.type", f"must be one of {', '.join(QUESTION_TYPES)}")
            qtype = None
        question_ids = set(self.seen_questions)
        self.identifier(f"{path}.id", q.get("id"), question_ids, "question id")
        self.text(f"{path}.text", q.get("text"), required="text" in q)
        if "help" in q:
            self.text(f"{path}.help", q["help"], present=True)
        # The condition may only look at questions before this one.
        if "show_if" in q:
            self.condition(f"{path}.show_if", q["show_if"])
        if qtype:
            self.type_specific(path, q, qtype)
        for flag in ("other", "prefer_not_to_say", "group_by", "quote_consent", "integer"):
            if flag in q:
                self.boolean(f"{path}.{flag}", q[flag])
        if "theme_hint" in q and not (
            isinstance(q["theme_hint"], str) and 0 < len(q["theme_hint"].strip()) <= 200
        ):
            self.add(f"{path}.theme_hint", "must be a short piece of text (at most 200 characters)")
        if (
            isinstance(q.get("id"), str)
            and ID_RE.fullmatch(q["id"])
            and q["id"] not in self.seen_questions
        ):
            self.seen_questions[q["id"]] = q

    def type_specific(self, path: str, q: dict[str, Any], qtype: str) -> None:
        is_choice = qtype in CHOICE_TYPES
        misplaced = {
            "options": is_choice,
            "other": is_choice,
            "group_by": is_choice,
            "max_choices": qtype == "multi_choice",
            "scale": qtype == "scale",
            "min": qtype == "number",
            "max": qtype == "number",
            "integer": qtype == "number",
            "max_length": qtype in TEXT_TYPES,
            "quote_consent": qtype == "long_text",
            "prefer_not_to_say": qtype != "info",
        }
        for key, allowed in misplaced.items():
            if key in q and not allowed:
                article = "an" if qtype[0] in "aeiou" else "a"
                self.add(f"{path}.{key}", f"is not allowed on {article} {qtype} question")
        if is_choice:
            self.options(f"{path}.options", q.get("options"))
        if qtype == "multi_choice" and "max_choices" in q:
            count = len(q["options"]) if isinstance(q.get("options"), list) else MAX_OPTIONS
            count += 1 if q.get("other") is True else 0
            if _is_int(q["max_choices"]) and not 1 <= q["max_choices"] <= max(count, 1):
                self.add(
                    f"{path}.max_choices",
                    f"must be between 1 and {count}, the number of answers to choose from",
                )
            else:
                self.integer(f"{path}.max_choices", q["max_choices"], 1, max(count, 1))
        if qtype == "scale":
            self.scale(f"{path}.scale", q.get("scale"))
        if qtype == "number":
            low, high = q.get("min"), q.get("max")
            for key, value in (("min", low), ("max", high)):
                if key in q and not _is_number(value):
                    self.add(f"{path}.{key}", "must be a number")
            if _is_number(low) and _is_number(high) and low >= high:
                self.add(f"{path}.max", "must be greater than min")
            elif (
                q.get("integer") is True
                and _is_number(low)
                and _is_number(high)
                and math.floor(high) < math.ceil(low)
            ):
                self.add(f"{path}.integer", "no whole number lies between min and max")
        if qtype in TEXT_TYPES and "max_length" in q:
            self.integer(f"{path}.max_length", q["max_length"], 1, MAX_TEXT_ANSWER)

    def options(self, path: str, options: Any) -> None:
        if not isinstance(options, list) or len(options) < 2:
            self.add(path, "a choice question needs a list of at least 2 options")
            return
        if len(options) > MAX_OPTIONS:
            self.add(path, f"at most {MAX_OPTIONS} options")
        values: set[str] = set()
        for i, option in enumerate(options):
            opath = f"{path}[{i}]"
            if not isinstance(option, dict):
                self.add(opath, "must be an object with a value and a label")
                continue
            self.keys(opath, option, OPTION_KEYS)
            self.identifier(f"{opath}.value", option.get("value"), values, "value")
            self.text(f"{opath}.label", option.get("label"), required="label" in option)

    def scale(self, path: str, scale: Any) -> None:
        if not isinstance(scale, dict):
            self.add(path, "a scale question needs {min, max, min_label, max_label}")
            return
        self.keys(path, scale, SCALE_KEYS)
        low, high = scale.get("min"), scale.get("max")
        for key, value in (("min", low), ("max", high)):
            if key in scale and not _is_int(value):
                self.add(f"{path}.{key}", "must be a whole number")
        if _is_int(low) and _is_int(high) and not 2 <= high - low <= 10:
            self.add(path, "max − min must be between 2 and 10")
        for key in ("min_label", "max_label"):
            if key in scale:
                self.text(f"{path}.{key}", scale[key])

    def condition(self, path: str, condition: Any, in_section: bool = False) -> None:
        if not isinstance(condition, dict):
            self.add(path, 'must be {"question": "<earlier question id>", "in": [values]}')
            return
        self.keys(path, condition, CONDITION_KEYS)
        target_id = condition.get("question")
        values = condition.get("in")
        target = self.seen_questions.get(target_id) if isinstance(target_id, str) else None
        if "question" in condition:
            if target is None:
                where = "in an earlier section" if in_section else "earlier in the survey"
                self.add(
                    f"{path}.question",
                    f"{json.dumps(target_id)} is not a question that comes {where}",
                )
            elif target.get("type") not in CHOICE_TYPES:
                self.add(f"{path}.question", f'"{target_id}" is not a choice question')
        if "in" not in condition:
            return
        if not isinstance(values, list) or not values:
            self.add(f"{path}.in", "must be a non-empty list of option values")
            return
        known: set[str] = set()
        if target is not None and isinstance(target.get("options"), list):
            known = {
                o["value"]
                for o in target["options"]
                if isinstance(o, dict) and isinstance(o.get("value"), str)
            }
        seen: set[str] = set()
        for i, value in enumerate(values):
            if not isinstance(value, str):
                self.add(f"{path}.in[{i}]", "must be an option value")
            elif value in seen:
                self.add(f"{path}.in[{i}]", f'duplicate value "{value}"')
            elif target is not None and target.get("type") in CHOICE_TYPES and value not in known:
                self.add(f"{path}.in[{i}]", f'"{value}" is not an option of "{target_id}"')
            if isinstance(value, str):
                seen.add(value)


# --- building the model from a valid document --------------------------------------


def _condition(data: dict[str, Any] | None) -> Condition | None:
    if not data:
        return None
    return Condition(question=data["question"], values=tuple(data["in"]))


def _build(data: dict[str, Any]) -> SurveyDefinition:
    sections = []
    for s in data["sections"]:
        questions = []
        for q in s["questions"]:
            scale = q.get("scale")
            questions.append(
                Question(
                    id=q["id"],
                    type=q["type"],
                    text=q["text"],
                    help=q.get("help"),
                    options=tuple(Option(o["value"], o["label"]) for o in q.get("options", [])),
                    other=q.get("other", False),
                    max_choices=q.get("max_choices"),
                    scale=ScaleSpec(**scale) if scale else None,
                    min=q.get("min"),
                    max=q.get("max"),
                    integer=q.get("integer", False),
                    max_length=q.get("max_length"),
                    show_if=_condition(q.get("show_if")),
                    prefer_not_to_say=q.get("prefer_not_to_say", True),
                    group_by=q.get("group_by", False),
                    quote_consent=q.get("quote_consent", False),
                    theme_hint=q.get("theme_hint"),
                )
            )
        sections.append(
            Section(
                id=s["id"],
                title=s["title"],
                questions=tuple(questions),
                intro=s.get("intro"),
                content_warning=s.get("content_warning"),
                show_if=_condition(s.get("show_if")),
            )
        )
    cap = survey_text_cap(
        q.declared_text_limit for s in sections for q in s.questions if q.has_text_box
    )
    if cap is not None:
        sections = [
            dataclasses.replace(
                s, questions=tuple(dataclasses.replace(q, survey_text_cap=cap) for q in s.questions)
            )
            for s in sections
        ]
    support = tuple(
        SupportResource(
            name=r["name"], url=r.get("url"), phone=r.get("phone"), hours=r.get("hours")
        )
        for r in data.get("support", [])
    )
    return SurveyDefinition(
        slug=data["slug"],
        title=data["title"],
        sections=tuple(sections),
        languages=tuple(data.get("languages", ["en"])),
        intro=data.get("intro"),
        organiser=data.get("organiser"),
        privacy_notice=data.get("privacy_notice"),
        support=support,
        closing_message=data.get("closing_message"),
        estimated_minutes=data.get("estimated_minutes"),
        invite_only=data.get("invite_only", False),
        min_report_n=data.get("min_report_n", 20),
        suppression_k=data.get("suppression_k", 10),
    )


def survey_text_cap(declared: Iterable[int]) -> int | None:
    """The highest cap that keeps the text boxes' caps (`declared`, one per box)
    within MAX_TEXT_CHARS_PER_SURVEY once each is lowered to it; None when they
    fit as declared. Short boxes keep their caps; only the longest are cut."""
    caps = sorted(declared)
    if sum(caps) <= MAX_TEXT_CHARS_PER_SURVEY:
        return None
    low, high = 1, caps[-1]
    while low < high:
        middle = (low + high + 1) // 2
        if sum(min(c, middle) for c in caps) <= MAX_TEXT_CHARS_PER_SURVEY:
            low = middle
        else:
            high = middle - 1
    return low


def localize(text: Text | None, language: str, default_language: str) -> str:
    """The text in `language`, falling back to the default language."""
    if text is None:
        return ""
    if isinstance(text, str):
        return text
    return text.get(language) or text.get(default_language) or next(iter(text.values()), "")


# --- translations ---------------------------------------------------------------------


@dataclass(frozen=True)
class MissingText:
    """A text a survey shows that one of its languages has no words for."""

    path: str  # in the format's terms: "sections[1].questions[2].help"
    place: str  # for a person: "Section 'Friend suggestions', question 'q3' hint"
    language: str  # the tag: "ar"
    section_id: str | None = None  # where to fix it: its section and question, if any
    question_id: str | None = None

    def __str__(self) -> str:
        return f"{self.place}: no {language_label(self.language)} text"


def missing_translations(definition: SurveyDefinition) -> list[MissingText]:
    """Every text respondents would read in the wrong language, in the survey's order.

    The languages of a survey are those its definition lists (`languages`, the first
    the default). A text is either an object with words for each of them (the format
    requires every listed language in it, parse_definition checks) or a plain string:
    the default language's words alone, which people who choose another language
    would see untranslated. So a plain string in a survey of several languages is
    missing in each language but the first; a survey of one language misses nothing.
    """
    others = definition.languages[1:]
    if not others:
        return []
    default = definition.default_language

    def name(text: Text) -> str:
        return localize(text, default, default)

    slots: list[tuple[str, str, Text | None, str | None, str | None]] = [
        ("title", "Survey title", definition.title, None, None),
        ("intro", "Survey introduction", definition.intro, None, None),
        ("organiser", "Who runs it", definition.organiser, None, None),
        ("privacy_notice", "Privacy notice", definition.privacy_notice, None, None),
        ("closing_message", "Closing message", definition.closing_message, None, None),
    ]
    for i, resource in enumerate(definition.support):
        where = f"Support service '{name(resource.name)}'"
        slots.append((f"support[{i}].name", f"{where} name", resource.name, None, None))
        slots.append((f"support[{i}].hours", f"{where} hours", resource.hours, None, None))
    for s, section in enumerate(definition.sections):
        base = f"sections[{s}]"
        where = f"Section '{name(section.title)}'"
        for key, what, text in (
            ("title", "title", section.title),
            ("intro", "introduction", section.intro),
            ("content_warning", "content note", section.content_warning),
        ):
            slots.append((f"{base}.{key}", f"{where} {what}", text, section.id, None))
        for n, q in enumerate(section.questions):
            qbase = f"{base}.questions[{n}]"
            qwhere = f"{where}, question '{q.id}'"
            texts: list[tuple[str, str, Text | None]] = [
                ("text", "text", q.text),
                ("help", "hint", q.help),
            ]
            texts += [
                (f"options[{o}].label", f"option '{option.value}'", option.label)
                for o, option in enumerate(q.options)
            ]
            if q.scale is not None:
                texts.append(("scale.min_label", "lowest label", q.scale.min_label))
                texts.append(("scale.max_label", "highest label", q.scale.max_label))
            for key, what, text in texts:
                slots.append((f"{qbase}.{key}", f"{qwhere} {what}", text, section.id, q.id))
    return [
        MissingText(path, place, language, section_id, question_id)
        for path, place, text, section_id, question_id in slots
        if isinstance(text, str)
        for language in others
    ]
