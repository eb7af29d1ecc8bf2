"""Turn a posted section into answers, and answers back into form values.

An answer entry is `{"value": ...}` or `{"state": "prefer_not_to_say"}`; a
question left blank has no entry (it becomes "skipped" at submit). A long text
with `quote_consent` also records `"quote_consent": true/false` in its entry. Values follow
docs/survey-format.md: a choice value, a list of values, a number, a string, with
`{"other": "text"}` for the "Other" box.

Nothing here is an error for a person who skips: only impossible values (too
long, out of range, not an option, tampered) produce an `AnswerError`, and the
raw input always comes back so the page can show it again and lose nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol, overload

from survey.crypto import canonical_json
from survey.definition import ANSWER_STATES, PREFER_NOT_TO_SAY, Question, SurveyDefinition
from survey.i18n import N_

# Field values the browser sends that can never be option values (those start
# with a letter), so a crafted option can't impersonate them.
PNTS_VALUE = "_prefer_not_to_say"
OTHER_VALUE = "_other"
MAX_NUMBER_CHARS = 32
# Numbers stay below 10**15 in size, like the bounds a definition may set; the
# check looks at the exponent of the leading digit, so "1e1000000" costs nothing.
MAX_NUMBER_DIGITS = 15
# C0 and C1 controls (but tab and newline) and bidirectional overrides, which
# could make a quoted answer display as something else.
_CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


class FormData(Protocol):
    """What the parsers read of a posted form: werkzeug's MultiDict (request.form) has it."""

    @overload
    def get(self, key: str) -> str | None: ...
    @overload
    def get(self, key: str, default: str) -> str: ...
    def getlist(self, key: str) -> list[str]: ...


# What each AnswerError's code says to the respondent: gettext msgids, translated when
# a page shows them (templates/respond/_macros.html), with the error's params filled in.
ERROR_MESSAGES: dict[str, str] = {
    "choose_one": N_("Choose only one answer"),
    "not_an_option": N_("Choose one of the answers shown"),
    "too_many_choices": N_("Choose at most %(limit)s answers"),
    "options_and_pnts": N_('Choose answers or "Prefer not to say", not both'),
    "answer_and_pnts": N_('Either answer or tick "Prefer not to say", not both'),
    "not_a_number": N_("Enter a number, like 3"),
    "not_whole": N_("Enter a whole number, like 3"),
    "out_of_range": N_("Enter a number between %(min)s and %(max)s"),
    "too_big": N_("Enter a smaller number"),
    "too_long": N_("This answer is too long: please shorten it to %(limit)s characters or fewer"),
}


@dataclass(frozen=True)
class AnswerError:
    """Why a value can't be stored: `message` is a code (a key of ERROR_MESSAGES)."""

    message: str
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        """The English msgid of the message (templates translate it)."""
        return ERROR_MESSAGES[self.message]


# An answer entry (None when left blank) and the error that stops it being stored.
Parsed = tuple[dict[str, Any] | None, AnswerError | None]


# Extra fields of a question are named with a hyphen, which ids can't contain,
# so no question's field can ever be read as another's.
def other_field(question: Question) -> str:
    return f"{question.id}-other"


def pnts_field(question: Question) -> str:
    return f"{question.id}-pnts"


def quote_field(question: Question) -> str:
    return f"{question.id}-quote"


def clean_text(raw: str) -> str:
    """Browsers send CRLF; control characters are never part of an answer."""
    return _CONTROL_CHARS.sub("", raw.replace("\r\n", "\n").replace("\r", "\n")).strip()


def parse_answer(question: Question, form: FormData) -> Parsed:
    """The answer entry a section form gives for one question (None = left blank)."""
    parser = _PARSERS[question.type]
    return parser(question, form)


def _other_text(question: Question, form: FormData, chosen: list[str]) -> str:
    """What the "Other" box holds, when it counts: only with "Other" chosen, or with
    nothing chosen at all (typing there is then choosing "Other"). Beside another
    answer it is ignored, as the page says ("If you chose Other…"): the page's
    script hides the box then, so what is left in it is not an answer."""
    if not question.other:
        return ""
    text = clean_text(form.get(other_field(question), "") or "")
    return text if OTHER_VALUE in chosen or not chosen else ""


def _parse_single(question: Question, form: FormData) -> Parsed:
    chosen = [v for v in form.getlist(question.id) if v]
    other_text = _other_text(question, form, chosen)
    if len(chosen) > 1:
        return None, AnswerError("choose_one")
    value = chosen[0] if chosen else None
    if value is None and other_text:
        value = OTHER_VALUE
    if value is None:
        return None, None
    if value == PNTS_VALUE and question.prefer_not_to_say:
        return {"state": PREFER_NOT_TO_SAY}, None
    if value == OTHER_VALUE and question.other:
        if len(other_text) > question.text_limit:
            return None, AnswerError("too_long", {"limit": question.text_limit})
        return {"value": {"other": other_text}}, None
    if value not in question.option_values():
        return None, AnswerError("not_an_option")
    return {"value": value}, None


def _parse_multi(question: Question, form: FormData) -> Parsed:
    chosen = [v for v in form.getlist(question.id) if v]
    other_text = _other_text(question, form, chosen)
    if other_text and not chosen:
        chosen.append(OTHER_VALUE)  # writing in the box alone is choosing "Other"
    if not chosen:
        return None, None
    if PNTS_VALUE in chosen and question.prefer_not_to_say:
        if len(chosen) > 1:
            return None, AnswerError("options_and_pnts")
        return {"state": PREFER_NOT_TO_SAY}, None
    allowed = set(question.option_values()) | ({OTHER_VALUE} if question.other else set())
    if any(v not in allowed for v in chosen) or len(set(chosen)) != len(chosen):
        return None, AnswerError("not_an_option")
    if question.max_choices and len(chosen) > question.max_choices:
        return None, AnswerError("too_many_choices", {"limit": question.max_choices})
    if len(other_text) > question.text_limit:
        return None, AnswerError("too_long", {"limit": question.text_limit})
    # Keep the survey's order, whatever order the browser sent.
    values: list[Any] = [v for v in question.option_values() if v in chosen]
    if OTHER_VALUE in chosen:
        values.append({"other": other_text})
    return {"value": values}, None


def _parse_scale(question: Question, form: FormData) -> Parsed:
    assert question.scale is not None
    chosen = [v for v in form.getlist(question.id) if v]
    if not chosen:
        return None, None
    if len(chosen) > 1:
        return None, AnswerError("choose_one")
    if chosen[0] == PNTS_VALUE and question.prefer_not_to_say:
        return {"state": PREFER_NOT_TO_SAY}, None
    try:
        number = int(chosen[0])
    except ValueError:
        return None, AnswerError("not_an_option")
    if not question.scale.min <= number <= question.scale.max:
        return None, AnswerError("not_an_option")
    return {"value": number}, None


def _typed(question: Question, form: FormData) -> tuple[str, Parsed | None]:
    """What was typed in a number or text box, and the result already decided
    by the "Prefer not to say" tick or an empty box (None when the text decides)."""
    raw = clean_text(form.get(question.id, "") or "")
    pnts = question.prefer_not_to_say and bool(form.get(pnts_field(question)))
    if pnts and raw:
        return raw, (None, AnswerError("answer_and_pnts"))
    if pnts:
        return raw, ({"state": PREFER_NOT_TO_SAY}, None)
    if not raw:
        return raw, (None, None)
    return raw, None


def _parse_number(question: Question, form: FormData) -> Parsed:
    raw, decided = _typed(question, form)
    if decided:
        return decided
    low, high = question.min, question.max
    out_of_range = AnswerError("out_of_range", {"min": _fmt(low), "max": _fmt(high)})
    value = _decimal(raw)
    if value is None:
        return None, AnswerError("not_a_number")
    if value.adjusted() >= MAX_NUMBER_DIGITS:
        bounded = low is not None and high is not None
        return None, out_of_range if bounded else AnswerError("too_big")
    number = _from_decimal(value)
    if question.integer and not isinstance(number, int):
        return None, AnswerError("not_whole")
    if (low is not None and number < low) or (high is not None and number > high):
        return None, out_of_range
    return {"value": number}, None


def parse_number(raw: str) -> int | float | None:
    """A number as people type it ("12", "3.5", "3,5"), or None if it isn't one
    or is too big to be an answer."""
    value = _decimal(raw)
    if value is None or value.adjusted() >= MAX_NUMBER_DIGITS:
        return None
    return _from_decimal(value)


def _decimal(raw: str) -> Decimal | None:
    if len(raw) > MAX_NUMBER_CHARS:
        return None
    try:
        value = Decimal(raw.replace(" ", "").replace(",", "."))
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _from_decimal(value: Decimal) -> int | float:
    """An int when whole, else a float (only called below 10**15,
    so the conversion is cheap and exact enough)."""
    if value == value.to_integral_value():
        return int(value)
    return float(value)


def _fmt(value: int | float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else str(value)


def _parse_text(question: Question, form: FormData) -> Parsed:
    raw, decided = _typed(question, form)
    if decided:
        return decided
    if len(raw) > question.text_limit:
        return None, AnswerError("too_long", {"limit": question.text_limit, "length": len(raw)})
    entry: dict[str, Any] = {"value": raw}
    if question.quote_consent:
        # Quoting needs a clear yes; anything else, including no choice, is no.
        entry["quote_consent"] = form.get(quote_field(question)) == "yes"
    return entry, None


def _parse_info(question: Question, form: FormData) -> Parsed:
    return None, None


_PARSERS = {
    "single_choice": _parse_single,
    "multi_choice": _parse_multi,
    "scale": _parse_scale,
    "number": _parse_number,
    "short_text": _parse_text,
    "long_text": _parse_text,
    "info": _parse_info,
}


def raw_form_values(question: Question, form: FormData) -> dict[str, Any]:
    """What the person sent for one question, to show again beside an error."""
    return {
        "chosen": [v for v in form.getlist(question.id) if v],
        "text": form.get(question.id, "") or "",
        "other": form.get(other_field(question), "") or "",
        "pnts": bool(form.get(pnts_field(question))),
        "quote": form.get(quote_field(question), "") or "",
    }


def form_values(question: Question, entry: Mapping[str, Any] | None) -> dict[str, Any]:
    """Form values that show a stored answer entry again."""
    values: dict[str, Any] = {"chosen": [], "text": "", "other": "", "pnts": False, "quote": ""}
    if not entry:
        return values
    if "quote_consent" in entry:
        values["quote"] = "yes" if entry["quote_consent"] else "no"
    if entry.get("state") == PREFER_NOT_TO_SAY:
        values["pnts"] = True
        values["chosen"] = [PNTS_VALUE]
        return values
    value = entry.get("value")
    if question.type in ("short_text", "long_text"):
        values["text"] = value
    elif question.type == "number":
        values["text"] = _fmt(value)
    elif question.type == "scale":
        values["chosen"] = [str(value)]
    else:
        items = value if isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, dict):
                values["chosen"].append(OTHER_VALUE)
                values["other"] = item.get("other", "")
            else:
                values["chosen"].append(item)
    return values


# --- the largest answers a survey allows ------------------------------------------------------
# Everything that holds one person's answers before the weekly flush (a draft, an
# inbox entry) is padded to one size per survey: the size of the largest answers
# its definition allows, built here. A character takes at most 4 bytes in the
# canonical JSON (UTF-8, not escaped: `clean_text` leaves no control character but
# tab and newline, which take 2), so a text at its cap is written in 4-byte ones.
WIDEST_CHARACTER = "\U00010000"


def largest_entry(question: Question) -> dict[str, Any]:
    """The answer entry of `question` whose canonical JSON is longest."""
    box = WIDEST_CHARACTER * question.text_limit
    candidates: list[dict[str, Any]] = [{"state": state} for state in ANSWER_STATES]
    if question.type in ("short_text", "long_text"):
        text: dict[str, Any] = {"value": box}
        if question.quote_consent:
            text["quote_consent"] = False
        candidates.append(text)
    elif question.type == "number":
        # No number an answer can hold (below 10**15, from MAX_NUMBER_CHARS typed)
        # is written longer than a string of MAX_NUMBER_CHARS.
        candidates.append({"value": "9" * MAX_NUMBER_CHARS})
    elif question.type == "scale" and question.scale is not None:
        candidates += [{"value": question.scale.min}, {"value": question.scale.max}]
    elif question.type == "single_choice":
        candidates += [{"value": value} for value in question.option_values()]
        if question.other:
            candidates.append({"value": {"other": box}})
    elif question.type == "multi_choice":
        every: list[Any] = list(question.option_values())
        if question.other:
            every.append({"other": box})
        candidates.append({"value": every})
    return max(candidates, key=lambda entry: len(canonical_json(entry)))


def largest_answers(definition: SurveyDefinition) -> dict[str, dict[str, Any]]:
    """Every answerable question at its largest entry: no person's answers to this
    survey (a draft's or final ones) are written longer, key for key."""
    return {q.id: largest_entry(q) for q in definition.answerable_questions()}
