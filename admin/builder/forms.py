"""The survey builder's forms: a piece of a `chorus-survey/1` document ⇄ form fields.

Every builder form edits one piece of the document (the survey's settings, one
section, one question). Field names are the piece's own paths (`title.es`,
`options[2].value`, `show_if.question`), so a problem the validator reports for
the whole document (`sections[1].questions[0].options[2].value: ...`) finds its
field by dropping the piece's prefix. The views rebuild the whole candidate
document from what was typed and validate it with `parse_definition`, the same
check `chorus survey import` makes: nothing here decides what is valid.
"""

from __future__ import annotations

import copy
import math
import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from werkzeug.datastructures import MultiDict

from survey.definition import CHOICE_TYPES, QUESTION_TYPES, TEXT_TYPES

# Text fields of each kind of object in a document.
SURVEY_TEXTS = ("title", "intro", "organiser", "privacy_notice", "closing_message")
SUPPORT_TEXTS = ("name", "hours")
SECTION_TEXTS = ("title", "intro", "content_warning")
QUESTION_TEXTS = ("text", "help")
SCALE_TEXTS = ("min_label", "max_label")

# Most rows (options, support resources) a form may carry; the validator's own
# limit (100 options) is below this, so a form can't make the server loop for long.
MAX_ROWS = 120
# Whole numbers longer than this are not parsed (Python refuses very long ones);
# they go to the validator as text, which says "must be a whole number".
MAX_DIGITS = 15

_INT_RE = re.compile(r"[-+]?\d{1,15}")
_NUMBER_RE = re.compile(r"[-+]?(\d{1,15}(\.\d{1,15})?|\.\d{1,15})")
_INDEX_RE = re.compile(r"\[(\d+)\]")
_MISSING_LANG_RE = re.compile(r'missing the "([^"]+)" text')


def field_id(name: str) -> str:
    """An HTML id for a field name (names hold dots and brackets)."""
    return "f-" + re.sub(r"[^A-Za-z0-9_-]", "-", name)


# --- reading what was typed ------------------------------------------------------------


def clean(value: str | None, limit: int = 25_000) -> str:
    """Typed text without surrounding space, cut to a length no field needs more than."""
    return (value or "").strip()[:limit]


def read_text(form: Mapping[str, Any], name: str, languages: list[str]) -> Any:
    """A text field's value for the document: None (empty), a string, or {lang: text}.

    Only the default language typed: a plain string (the respondent pages show it
    in every language). Anything else: an object, which the validator then
    checks has every language.
    """
    typed = {lang: clean(form.get(f"{name}.{lang}")) for lang in languages}
    filled = {lang: text for lang, text in typed.items() if text}
    if not filled:
        return None
    if len(languages) == 1 or list(filled) == [languages[0]]:
        return filled.get(languages[0], next(iter(filled.values())))
    return filled


def read_int(form: Mapping[str, Any], name: str) -> Any:
    """A whole number, None when empty, or the typed text (the validator refuses it)."""
    typed = clean(form.get(name), 100)
    if not typed:
        return None
    return int(typed) if _INT_RE.fullmatch(typed) else typed


def read_number(form: Mapping[str, Any], name: str) -> Any:
    """An int or float, None when empty, or the typed text (the validator refuses it)."""
    typed = clean(form.get(name), 100)
    if not typed:
        return None
    if _INT_RE.fullmatch(typed):
        return int(typed)
    if _NUMBER_RE.fullmatch(typed):
        number = float(typed)
        return number if math.isfinite(number) else typed
    return typed


def read_bool(form: Mapping[str, Any], name: str) -> bool:
    return form.get(name) in ("1", "on", "true", "yes")


def row_count(form: Mapping[str, Any], prefix: str) -> int:
    """How many `prefix[i]...` rows a submitted form holds (capped)."""
    pattern = re.compile(re.escape(prefix) + r"\[(\d{1,4})\]")
    highest = -1
    for key in form:
        match = pattern.match(key)
        if match:
            highest = max(highest, int(match.group(1)))
    return min(highest + 1, MAX_ROWS)


def _put(out: dict[str, Any], key: str, value: Any) -> None:
    if value is not None and value != "":
        out[key] = value


# --- text values into a form -------------------------------------------------------------


def put_text(form: MultiDict, name: str, value: Any, languages: list[str]) -> None:
    if value is None:
        return
    if isinstance(value, str):
        form[f"{name}.{languages[0]}"] = value
        return
    for lang in languages:
        if isinstance(value, dict) and lang in value:
            form[f"{name}.{lang}"] = value[lang]


def _put_value(form: MultiDict, name: str, value: Any) -> None:
    if value is None:
        return
    if isinstance(value, bool):
        if value:
            form[name] = "1"
    else:
        form[name] = str(value)


# --- survey settings ------------------------------------------------------------------------


def settings_form(doc: Mapping[str, Any]) -> MultiDict:
    languages = list(doc.get("languages", ["en"]))
    form: MultiDict[str, Any] = MultiDict()
    for key in SURVEY_TEXTS:
        put_text(form, key, doc.get(key), languages)
    form["languages"] = " ".join(languages)
    for key in ("estimated_minutes", "min_report_n", "suppression_k", "invite_only"):
        _put_value(form, key, doc.get(key))
    for i, resource in enumerate(doc.get("support", [])):
        put_text(form, f"support[{i}].name", resource.get("name"), languages)
        put_text(form, f"support[{i}].hours", resource.get("hours"), languages)
        _put_value(form, f"support[{i}].url", resource.get("url"))
        _put_value(form, f"support[{i}].phone", resource.get("phone"))
    return form


def support_urls(form: Mapping[str, Any]) -> set[str]:
    """The web addresses of the support services a settings form lists now."""
    rows = range(row_count(form, "support"))
    return {clean(form.get(f"support[{i}].url")) for i in rows} - {""}


def with_support_rows(
    form: Mapping[str, Any], entries: list[dict[str, Any]], languages: list[str]
) -> MultiDict:
    """The settings form with `support` entries (in the format) as rows after its own."""
    out: MultiDict[str, Any] = MultiDict(form)
    start = row_count(form, "support")
    for offset, entry in enumerate(entries):
        name = f"support[{start + offset}]"
        put_text(out, f"{name}.name", entry.get("name"), languages)
        put_text(out, f"{name}.hours", entry.get("hours"), languages)
        _put_value(out, f"{name}.url", entry.get("url"))
        _put_value(out, f"{name}.phone", entry.get("phone"))
    return out


def parse_languages(typed: str) -> list[str]:
    return [tag for tag in re.split(r"[\s,;]+", typed.strip()) if tag][:50]


@dataclass
class Built:
    """A piece of a document built from a form, and which form row each list item came from."""

    part: dict[str, Any]
    rows: dict[str, list[int]] = field(default_factory=dict)
    # Problems found before validation (e.g. values of the wrong question), by field name.
    problems: list[str] = field(default_factory=list)


def settings_from_form(form: Mapping[str, Any], doc: Mapping[str, Any]) -> Built:
    """The survey's settings as typed, on top of its sections (texts in the old languages)."""
    languages = list(doc.get("languages", ["en"]))
    out: dict[str, Any] = {"format": doc["format"], "slug": doc["slug"]}
    for key in SURVEY_TEXTS:
        _put(out, key, read_text(form, key, languages))
    out["languages"] = languages
    for key in ("estimated_minutes", "min_report_n", "suppression_k"):
        _put(out, key, read_int(form, key))
    out["invite_only"] = read_bool(form, "invite_only")
    support, rows = [], []
    for i in range(row_count(form, "support")):
        name = f"support[{i}]"
        if read_bool(form, f"{name}.remove"):
            continue
        resource: dict[str, Any] = {}
        _put(resource, "name", read_text(form, f"{name}.name", languages))
        _put(resource, "url", clean(form.get(f"{name}.url"), 2000))
        _put(resource, "phone", clean(form.get(f"{name}.phone"), 200))
        _put(resource, "hours", read_text(form, f"{name}.hours", languages))
        if resource:
            support.append(resource)
            rows.append(i)
    if support:
        out["support"] = support
    out["sections"] = copy.deepcopy(doc["sections"])
    return Built(out, {"support": rows})


def settings_fields(form: Mapping[str, Any], languages: list[str], rows: int) -> set[str]:
    names = {"languages", "estimated_minutes", "min_report_n", "suppression_k", "invite_only"}
    names |= {f"{key}.{lang}" for key in SURVEY_TEXTS for lang in languages}
    for i in range(rows):
        names |= {f"support[{i}].url", f"support[{i}].phone", f"support[{i}]"}
        names |= {f"support[{i}].{key}.{lang}" for key in SUPPORT_TEXTS for lang in languages}
    return names | {"support"}


# --- languages --------------------------------------------------------------------------------


def text_slots(doc: dict[str, Any]) -> Iterator[tuple[dict[str, Any], str]]:
    """Every (object, key) of a document that holds a human-readable text."""
    yield from ((doc, key) for key in SURVEY_TEXTS if key in doc)
    for resource in doc.get("support", []):
        yield from ((resource, key) for key in SUPPORT_TEXTS if key in resource)
    for section in doc.get("sections", []):
        yield from ((section, key) for key in SECTION_TEXTS if key in section)
        for question in section.get("questions", []):
            yield from ((question, key) for key in QUESTION_TEXTS if key in question)
            for option in question.get("options", []):
                if "label" in option:
                    yield option, "label"
            scale = question.get("scale")
            if isinstance(scale, dict):
                yield from ((scale, key) for key in SCALE_TEXTS if key in scale)


def untranslated(doc: dict[str, Any]) -> int:
    """How many texts lack a translation: plain strings in a survey of several languages."""
    if len(doc.get("languages", ["en"])) < 2:
        return 0
    return sum(isinstance(holder[key], str) for holder, key in text_slots(doc))


def relanguage(doc: dict[str, Any], old: list[str], new: list[str]) -> bool:
    """Move every text of a document from the `old` languages to the `new` ones.

    Texts of a language no longer listed are dropped; a language added starts as
    a copy of the text respondents would have seen anyway (the old default), for
    the facilitator to translate. Returns whether any copy was made.
    """
    copied = False
    for holder, key in text_slots(doc):
        value = holder[key]
        texts = {old[0]: value} if isinstance(value, str) else dict(value)
        fallback = texts.get(old[0]) or next(iter(texts.values()), "")
        result = {}
        for lang in new:
            if lang in texts:
                result[lang] = texts[lang]
            else:
                result[lang] = fallback
                copied = copied or len(new) > 1
        if len(set(result.values())) == 1:
            holder[key] = result[new[0]]
        else:
            holder[key] = result
    doc["languages"] = new
    return copied


# --- sections ---------------------------------------------------------------------------------


def condition_form(form: MultiDict, condition: Mapping[str, Any] | None) -> None:
    if condition:
        form["show_if.question"] = condition.get("question", "")
        for value in condition.get("in", []):
            form.add("show_if.in", f"{condition.get('question')}:{value}")


def read_condition(form: Mapping[str, Any], problems: list[str]) -> dict[str, Any] | None:
    """show_if from a question select and checkboxes named `question:value`."""
    target = clean(form.get("show_if.question"), 100)
    getlist = getattr(form, "getlist", lambda key: [form.get(key)] if form.get(key) else [])
    chosen = [clean(v, 200) for v in getlist("show_if.in")][:MAX_ROWS]
    if not target:
        if chosen:
            problems.append("show_if.question: choose the question whose answers show this")
        return None
    values, elsewhere = [], False
    for item in chosen:
        question, _, value = item.partition(":")
        if question == target:
            values.append(value)
        else:
            elsewhere = True
    if elsewhere:
        problems.append(f'show_if.in: tick only answers of "{target}", the question chosen above')
    return {"question": target, "in": values}


def section_form(section: Mapping[str, Any], languages: list[str]) -> MultiDict:
    form: MultiDict[str, Any] = MultiDict()
    form["id"] = section.get("id", "")
    for key in SECTION_TEXTS:
        put_text(form, key, section.get(key), languages)
    condition_form(form, section.get("show_if"))
    return form


def section_from_form(
    form: Mapping[str, Any], languages: list[str], questions: list[dict[str, Any]]
) -> Built:
    out: dict[str, Any] = {"id": clean(form.get("id"), 100)}
    problems: list[str] = []
    for key in SECTION_TEXTS:
        _put(out, key, read_text(form, key, languages))
    if not out.get("id"):
        problems.append("id: give the section an id (lower-case letters, digits and _)")
    condition = read_condition(form, problems)
    if condition:
        out["show_if"] = condition
    out["questions"] = questions
    return Built(out, problems=problems)


def section_fields(languages: list[str]) -> set[str]:
    names = {"id", "show_if.question", "show_if.in", "show_if"}
    return names | {f"{key}.{lang}" for key in SECTION_TEXTS for lang in languages}


# --- questions --------------------------------------------------------------------------------


def question_form(question: Mapping[str, Any], languages: list[str]) -> MultiDict:
    form: MultiDict[str, Any] = MultiDict()
    form["id"] = question.get("id", "")
    form["type"] = question.get("type", "short_text")
    for key in QUESTION_TEXTS:
        put_text(form, key, question.get(key), languages)
    for i, option in enumerate(question.get("options", [])):
        form[f"options[{i}].value"] = option.get("value", "")
        form[f"options[{i}].was"] = option.get("value", "")
        put_text(form, f"options[{i}].label", option.get("label"), languages)
    scale = question.get("scale") or {}
    for key in ("min", "max"):
        _put_value(form, f"scale.{key}", scale.get(key))
    for key in SCALE_TEXTS:
        put_text(form, f"scale.{key}", scale.get(key), languages)
    for key in ("max_choices", "min", "max", "max_length", "theme_hint"):
        _put_value(form, key, question.get(key))
    for key in ("other", "group_by", "quote_consent", "integer"):
        _put_value(form, key, question.get(key, False))
    _put_value(form, "prefer_not_to_say", question.get("prefer_not_to_say", True))
    condition_form(form, question.get("show_if"))
    return form


def question_type(form: Mapping[str, Any]) -> str:
    typed = form.get("type")
    return typed if typed in QUESTION_TYPES else "short_text"


def question_from_form(form: Mapping[str, Any], languages: list[str]) -> Built:
    """A question as typed. Only the fields its type uses are read, so that changing
    the type never trips over what was typed for the old one."""
    qtype = form.get("type")
    out: dict[str, Any] = {"id": clean(form.get("id"), 100)}
    problems: list[str] = []
    if not out["id"]:
        problems.append("id: give the question an id (lower-case letters, digits and _)")
    if qtype not in QUESTION_TYPES:
        problems.append(f"type: choose one of {', '.join(QUESTION_TYPES)}")
        qtype = "short_text"
    out["type"] = qtype
    for key in QUESTION_TEXTS:
        _put(out, key, read_text(form, key, languages))
    rows: list[int] = []
    if qtype in CHOICE_TYPES:
        options = []
        for i in range(row_count(form, "options")):
            name = f"options[{i}]"
            if read_bool(form, f"{name}.remove"):
                continue
            option: dict[str, Any] = {}
            _put(option, "value", clean(form.get(f"{name}.value"), 100))
            _put(option, "label", read_text(form, f"{name}.label", languages))
            if option:
                options.append(option)
                rows.append(i)
        derive_codes(options, languages)
        out["options"] = options
        if read_bool(form, "other"):
            out["other"] = True
        if qtype == "multi_choice":
            _put(out, "max_choices", read_int(form, "max_choices"))
        if read_bool(form, "group_by"):
            out["group_by"] = True
    if qtype == "scale":
        scale: dict[str, Any] = {}
        for key in ("min", "max"):
            _put(scale, key, read_int(form, f"scale.{key}"))
        for key in SCALE_TEXTS:
            _put(scale, key, read_text(form, f"scale.{key}", languages))
        out["scale"] = scale
    if qtype == "number":
        _put(out, "min", read_number(form, "min"))
        _put(out, "max", read_number(form, "max"))
        if read_bool(form, "integer"):
            out["integer"] = True
    if qtype in TEXT_TYPES:
        _put(out, "max_length", read_int(form, "max_length"))
    if qtype == "long_text" and read_bool(form, "quote_consent"):
        out["quote_consent"] = True
    condition = read_condition(form, problems)
    if condition:
        out["show_if"] = condition
    if qtype != "info" and not read_bool(form, "prefer_not_to_say"):
        out["prefer_not_to_say"] = False
    _put(out, "theme_hint", clean(form.get("theme_hint"), 1000))
    return Built(out, {"options": rows}, problems)


CODE_LENGTH = 40


def code_from_label(label: str) -> str:
    """A label as an option code: lower-case ASCII letters, digits and _ ("Safe
    defaults" → safe_defaults, "Sí, a menudo" → si_a_menudo). Accents are dropped;
    a script with no Latin letters (Arabic) leaves nothing, and "" comes back."""
    ascii_text = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode()
    code = re.sub(r"[^a-z0-9]+", "_", ascii_text.lower()).strip("_")[:CODE_LENGTH].strip("_")
    if code and not code[0].isalpha():
        code = f"opt_{code}"[:CODE_LENGTH].strip("_")
    return code


def _label_code(label: Any, languages: list[str]) -> str:
    """The code of the first of the label's languages (the survey's default first)
    that gives one."""
    texts = label if isinstance(label, dict) else {languages[0] if languages else "": label}
    ordered = [texts[lang] for lang in languages if lang in texts]
    ordered += [text for lang, text in texts.items() if lang not in languages]
    return next((code for text in ordered if (code := code_from_label(str(text or "")))), "")


def derive_codes(options: list[dict[str, Any]], languages: list[str]) -> None:
    """Give every option typed without a code one made from its label, unique among
    the question's options (safe_defaults_2 after safe_defaults); where the label
    gives none (an Arabic label), opt_1, opt_2… by the option's place. Typed codes
    are kept as they are: the validator says what is wrong with them."""
    taken = {o["value"] for o in options if o.get("value")}
    for number, option in enumerate(options, start=1):
        if option.get("value") or "label" not in option:
            continue
        base = _label_code(option["label"], languages) or f"opt_{number}"
        code, n = base, 2
        while code in taken:
            code = f"{base[: CODE_LENGTH - len(str(n)) - 1]}_{n}"
            n += 1
        option["value"] = code
        taken.add(code)


def option_renames(form: Mapping[str, Any]) -> dict[str, str]:
    """Option values changed on this form: old value → new value."""
    renames = {}
    for i in range(row_count(form, "options")):
        was = clean(form.get(f"options[{i}].was"), 100)
        now = clean(form.get(f"options[{i}].value"), 100)
        if was and now and was != now and not read_bool(form, f"options[{i}].remove"):
            renames[was] = now
    return renames


def question_fields(languages: list[str], rows: int) -> set[str]:
    names = {
        "id",
        "type",
        "other",
        "max_choices",
        "scale",
        "scale.min",
        "scale.max",
        "min",
        "max",
        "integer",
        "max_length",
        "show_if",
        "show_if.question",
        "show_if.in",
        "prefer_not_to_say",
        "group_by",
        "quote_consent",
        "theme_hint",
        "options",
    }
    texts = [*QUESTION_TEXTS, *(f"scale.{key}" for key in SCALE_TEXTS)]
    for i in range(rows):
        names |= {f"options[{i}]", f"options[{i}].value"}
        texts.append(f"options[{i}].label")
    return names | {f"{key}.{lang}" for key in texts for lang in languages}


def rename_references(doc: dict[str, Any], old_id: str, new_id: str, values: Mapping[str, str]):
    """Conditions that look at a question follow it when its id or option values change."""
    for section in doc["sections"]:
        holders = [section, *section.get("questions", [])]
        for holder in holders:
            condition = holder.get("show_if")
            if not isinstance(condition, dict) or condition.get("question") != old_id:
                continue
            condition["question"] = new_id
            if values and isinstance(condition.get("in"), list):
                condition["in"] = [values.get(v, v) for v in condition["in"]]


# --- where each problem goes --------------------------------------------------------------------


@dataclass
class Problems:
    """Validation problems placed on a form: beside a field, or only in the summary."""

    by_field: dict[str, list[str]] = field(default_factory=dict)
    # (anchor id or "", text) in the order found
    summary: list[tuple[str, str]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.summary)


def humanise(path: str) -> str:
    """`options[2].value` → `options 3 › value`: a path a person can read."""
    text = _INDEX_RE.sub(lambda m: f" {int(m.group(1)) + 1}", path)
    return text.replace(".", " › ").replace("_", " ")


def place_problems(
    problems: list[str],
    base: str,
    fields: set[str],
    languages: list[str],
    rows: Mapping[str, list[int]] | None = None,
) -> Problems:
    """Put each "path: message" beside the field of this form it is about.

    `base` is the path of the piece the form edits (`sections[1].questions[0]`);
    `rows` says which form row each list item came from, since empty and removed
    rows were left out of the document.
    """
    placed = Problems()
    for problem in problems:
        path, sep, message = problem.partition(": ")
        if not sep:
            path, message = "", problem
        relative = _relative(path, base)
        name = None
        if relative is not None:
            relative = _to_rows(relative, rows or {})
            name = _match(relative, message, fields, languages)
        if name is None:
            placed.summary.append(("", f"{humanise(path)}: {message}" if path else message))
            continue
        placed.by_field.setdefault(name, []).append(message)
        where = humanise(relative) if relative else "this page"
        placed.summary.append((field_id(name), f"{where}: {message}"))
    return placed


def _relative(path: str, base: str) -> str | None:
    if not base:
        return path
    if path == base:
        return ""
    if path.startswith(base + "."):
        return path[len(base) + 1 :]
    return None


def _to_rows(relative: str, rows: Mapping[str, list[int]]) -> str:
    for key, mapping in rows.items():
        match = re.match(re.escape(key) + r"\[(\d+)\]", relative)
        if match and int(match.group(1)) < len(mapping):
            relative = f"{key}[{mapping[int(match.group(1))]}]" + relative[match.end() :]
    return relative


def _match(relative: str, message: str, fields: set[str], languages: list[str]) -> str | None:
    missing = _MISSING_LANG_RE.search(message)
    candidate = relative
    while candidate:
        tries = [candidate]
        if missing:
            tries.insert(0, f"{candidate}.{missing.group(1)}")
        tries.append(f"{candidate}.{languages[0]}")
        for name in tries:
            if name in fields:
                return name
        shorter = re.sub(r"(\.[^.\[\]]+|\[\d+\])$", "", candidate)
        if shorter == candidate:
            break
        candidate = shorter
    return None
