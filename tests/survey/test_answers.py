"""survey.answers: a posted section → answer entries, and entries → form values.

Forms are werkzeug MultiDicts shaped like the respondent templates post them:
choice and scale questions post `<id>` (one value per ticked box), "Other" posts
`<id>-other`, number and text questions post `<id>` and tick `<id>-pnts`, a long
text with quote consent posts `<id>-quote` = yes/no.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from werkzeug.datastructures import MultiDict

from survey.answers import (
    ERROR_MESSAGES,
    MAX_NUMBER_CHARS,
    OTHER_VALUE,
    PNTS_VALUE,
    AnswerError,
    clean_text,
    form_values,
    other_field,
    parse_answer,
    parse_number,
    pnts_field,
    quote_field,
    raw_form_values,
)
from survey.definition import PREFER_NOT_TO_SAY, Question, SurveyDefinition, parse_definition

PNTS_ENTRY = {"state": PREFER_NOT_TO_SAY}


def _options(*values: str) -> list[dict[str, str]]:
    return [{"value": v, "label": v.title()} for v in values]


DOCUMENT: dict[str, Any] = {
    "format": "chorus-survey/1",
    "slug": "answers",
    "title": "Answers",
    "sections": [
        {
            "id": "all",
            "title": "All",
            "questions": [
                {"id": "note", "type": "info", "text": "Read me"},
                {
                    "id": "one",
                    "type": "single_choice",
                    "text": "?",
                    "options": _options("a", "b", "c"),
                },
                {
                    "id": "one_other",
                    "type": "single_choice",
                    "text": "?",
                    "options": _options("a", "b"),
                    "other": True,
                },
                {
                    "id": "one_strict",
                    "type": "single_choice",
                    "text": "?",
                    "options": _options("a", "b"),
                    "prefer_not_to_say": False,
                },
                {
                    "id": "many",
                    "type": "multi_choice",
                    "text": "?",
                    "options": _options("a", "b", "c"),
                },
                {
                    "id": "many_other",
                    "type": "multi_choice",
                    "text": "?",
                    "options": _options("a", "b", "c"),
                    "other": True,
                    "max_choices": 2,
                },
                {
                    "id": "many_strict",
                    "type": "multi_choice",
                    "text": "?",
                    "options": _options("a", "b"),
                    "prefer_not_to_say": False,
                },
                {
                    "id": "rate",
                    "type": "scale",
                    "text": "?",
                    "scale": {"min": 1, "max": 5, "min_label": "Low", "max_label": "High"},
                },
                {
                    "id": "rate_neg",
                    "type": "scale",
                    "text": "?",
                    "scale": {"min": -2, "max": 2, "min_label": "Worse", "max_label": "Better"},
                    "prefer_not_to_say": False,
                },
                {"id": "count", "type": "number", "text": "?", "min": 0, "max": 100},
                {"id": "share", "type": "number", "text": "?", "min": -2.5, "max": 0.5},
                {"id": "any_number", "type": "number", "text": "?"},
                {
                    "id": "whole",
                    "type": "number",
                    "text": "?",
                    "min": 0,
                    "max": 50,
                    "integer": True,
                },
                {"id": "word", "type": "short_text", "text": "?", "max_length": 10},
                {"id": "word_default", "type": "short_text", "text": "?"},
                {"id": "essay", "type": "long_text", "text": "?", "quote_consent": True},
                {
                    "id": "essay_strict",
                    "type": "long_text",
                    "text": "?",
                    "prefer_not_to_say": False,
                },
            ],
        }
    ],
}

DEFINITION: SurveyDefinition = parse_definition(DOCUMENT)


def q(question_id: str) -> Question:
    question = DEFINITION.question(question_id)
    assert question is not None
    return question


def form(*pairs: tuple[str, str], **fields: str | list[str]) -> MultiDict:
    """A posted form. Keywords spell a question's extra fields `x__pnts`, `x__other`
    and `x__quote` (Python names can't hold the hyphen of the real `x-pnts`);
    `pairs` are posted exactly as given."""
    data = MultiDict(list(pairs))
    for key, value in fields.items():
        name = re.sub(r"__(pnts|other|quote)$", r"-\1", key)
        for item in value if isinstance(value, list) else [value]:
            data.add(name, item)
    return data


def parse(question_id: str, *pairs: tuple[str, str], **fields: Any):
    return parse_answer(q(question_id), form(*pairs, **fields))


def error(key: str, **params: Any) -> tuple[None, AnswerError]:
    return None, AnswerError(key, params)


def ok(value: Any) -> tuple[dict[str, Any], None]:
    return {"value": value}, None


ANSWERABLE = [x.id for x in DEFINITION.answerable_questions()]
WITH_PNTS = [x.id for x in DEFINITION.answerable_questions() if x.prefer_not_to_say]
CHOICE_OR_SCALE = [
    x.id for x in DEFINITION.questions() if x.type in ("single_choice", "multi_choice", "scale")
]
TEXT_TYPES = ("number", "short_text", "long_text")
NUMBER_OR_TEXT = [x.id for x in DEFINITION.questions() if x.type in TEXT_TYPES]


def browser_blank_form(question: Question) -> MultiDict:
    """What a browser posts for a question the person didn't touch."""
    data = MultiDict()
    if question.type in ("number", "short_text", "long_text"):
        data.add(question.id, "")
    if question.other:
        data.add(other_field(question), "")
    return data


# --- left blank -----------------------------------------------------------------------


@pytest.mark.parametrize("question_id", [x.id for x in DEFINITION.questions()])
def test_blank_is_never_an_error(question_id):
    question = q(question_id)
    assert parse_answer(question, MultiDict()) == (None, None)
    assert parse_answer(question, browser_blank_form(question)) == (None, None)


@pytest.mark.parametrize("question_id", ["word", "essay", "essay_strict", "count"])
def test_whitespace_and_control_characters_only_is_blank(question_id):
    assert parse(question_id, **{question_id: "  \r\n\t\x00\x1b  "}) == (None, None)


def test_info_takes_no_answer_whatever_is_posted():
    assert parse("note", note="something", note__pnts="1") == (None, None)


def test_other_box_with_only_spaces_is_blank():
    assert parse("one_other", one_other__other="   ") == (None, None)
    assert parse("many_other", many_other__other="  \n ") == (None, None)


# --- prefer not to say ------------------------------------------------------------------


@pytest.mark.parametrize("question_id", [x for x in CHOICE_OR_SCALE if x in WITH_PNTS])
def test_prefer_not_to_say_on_choice_and_scale(question_id):
    assert parse(question_id, **{question_id: PNTS_VALUE}) == (PNTS_ENTRY, None)


@pytest.mark.parametrize("question_id", [x for x in NUMBER_OR_TEXT if x in WITH_PNTS])
def test_prefer_not_to_say_on_number_and_text(question_id):
    assert parse(question_id, **{question_id: "", f"{question_id}__pnts": "1"}) == (
        PNTS_ENTRY,
        None,
    )
    assert parse(question_id, **{f"{question_id}__pnts": "1"}) == (PNTS_ENTRY, None)


@pytest.mark.parametrize("question_id", ["one_strict", "many_strict", "rate_neg"])
def test_prefer_not_to_say_value_where_it_is_not_offered(question_id):
    assert parse(question_id, **{question_id: PNTS_VALUE}) == error("not_an_option")


def test_prefer_not_to_say_box_where_it_is_not_offered_is_ignored():
    assert parse("essay_strict", essay_strict__pnts="1") == (None, None)
    assert parse("essay_strict", essay_strict="hi", essay_strict__pnts="1") == ok("hi")


@pytest.mark.parametrize(
    ("question_id", "fields", "key"),
    [
        ("count", {"count": "3", "count__pnts": "1"}, "answer_and_pnts"),
        ("any_number", {"any_number": "x", "any_number__pnts": "1"}, "answer_and_pnts"),
        ("word", {"word": "hi", "word__pnts": "1"}, "answer_and_pnts"),
        (
            "essay",
            {"essay": "story", "essay__pnts": "on", "essay__quote": "yes"},
            "answer_and_pnts",
        ),
        ("one", {"one": ["a", PNTS_VALUE]}, "choose_one"),
        ("many", {"many": ["a", PNTS_VALUE]}, "options_and_pnts"),
        (
            "many_other",
            {"many_other": [PNTS_VALUE, OTHER_VALUE], "many_other__other": "text"},
            "options_and_pnts",
        ),
        ("rate", {"rate": ["3", PNTS_VALUE]}, "choose_one"),
    ],
)
def test_answer_and_prefer_not_to_say_together_is_an_error(question_id, fields, key):
    assert parse(question_id, **fields) == error(key)


# --- choices ----------------------------------------------------------------------------


def test_single_choice_value():
    assert parse("one", one="b") == ok("b")
    assert parse("one", ("one", ""), ("one", "c")) == ok("c")  # empty values are ignored


def test_single_choice_two_values():
    assert parse("one", one=["a", "b"]) == error("choose_one")


@pytest.mark.parametrize(
    ("question_id", "values"),
    [
        ("one", ["d"]),
        ("one", ["A"]),
        ("one", [" a"]),
        ("one", [OTHER_VALUE]),  # no "Other" on this question
        ("one", ["_pnts"]),
        ("many", ["a", "d"]),
        ("many", ["a", "a"]),  # the same box twice
        ("many", [OTHER_VALUE]),
        ("rate", ["0"]),
        ("rate", ["6"]),
        ("rate", ["3.5"]),
        ("rate", ["three"]),
        ("rate", ["1e0"]),
        ("rate_neg", ["-3"]),
    ],
)
def test_values_not_among_the_options(question_id, values):
    assert parse(question_id, **{question_id: values}) == error("not_an_option")


def test_multi_choice_keeps_the_survey_order():
    assert parse("many", many=["c", "a"]) == ok(["a", "c"])
    assert parse("many", many=["a", "b", "c"]) == ok(["a", "b", "c"])


def test_too_many_choices():
    assert parse("many_other", many_other=["a", "b"]) == ok(["a", "b"])
    assert parse("many_other", many_other=["a", "b", "c"]) == error("too_many_choices", limit=2)


def test_other_counts_as_a_choice_for_the_limit():
    fields = {"many_other": ["a", "b", OTHER_VALUE], "many_other__other": "mine"}
    assert parse("many_other", **fields) == error("too_many_choices", limit=2)
    fields = {"many_other": ["a", OTHER_VALUE, "b"], "many_other__other": ""}
    assert parse("many_other", **fields) == error("too_many_choices", limit=2)


def test_multi_other_typing_alone_implies_choosing_other():
    assert parse("many_other", many_other__other="mine") == ok([{"other": "mine"}])


def test_other_text_beside_other_answers_without_other_is_ignored():
    # The box says "If you chose Other…"; its script hides it when Other isn't chosen.
    assert parse("many_other", many_other="b", many_other__other=" mine ") == ok(["b"])
    assert parse("one_other", one_other="a", one_other__other="mine") == ok("a")
    assert parse("one_other", one_other=PNTS_VALUE, one_other__other="mine") == (PNTS_ENTRY, None)
    assert parse("many_other", many_other=PNTS_VALUE, many_other__other="x") == (PNTS_ENTRY, None)
    assert parse("many_other", many_other=[OTHER_VALUE, "a"], many_other__other="mine") == ok(
        ["a", {"other": "mine"}]
    )


def test_multi_other_ticked_without_text():
    assert parse("many_other", many_other=OTHER_VALUE) == ok([{"other": ""}])


def test_single_other_text_alone_or_with_other_chosen():
    assert parse("one_other", one_other__other="mine") == ok({"other": "mine"})
    assert parse("one_other", one_other=OTHER_VALUE, one_other__other="mine") == ok(
        {"other": "mine"}
    )


def test_single_option_with_empty_other_box_is_fine():
    assert parse("one_other", one_other="a", one_other__other="") == ok("a")


def test_other_box_on_a_question_without_other_is_ignored():
    assert parse("one", one="a", one__other="sneaky") == ok("a")
    assert parse("one", one__other="sneaky") == (None, None)
    assert parse("many", many="a", many__other="sneaky") == ok(["a"])


@pytest.mark.parametrize("question_id", ["one_other", "many_other"])
def test_other_text_is_cleaned_and_limited(question_id):
    limit = q(question_id).text_limit
    assert limit == 500
    exact = "x" * limit
    expected = {"other": exact} if question_id == "one_other" else [{"other": exact}]
    assert parse(question_id, **{f"{question_id}__other": f" {exact}\x00 "}) == ok(expected)
    too_long = {f"{question_id}__other": "x" * (limit + 1)}
    assert parse(question_id, **too_long) == error("too_long", limit=limit)


def test_other_text_keeps_newlines_normalised():
    assert parse("one_other", one_other__other="a\r\nb") == ok({"other": "a\nb"})


# --- scale ------------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "value"), [("1", 1), ("3", 3), ("5", 5)])
def test_scale_values(raw, value):
    assert parse("rate", rate=raw) == ok(value)


def test_scale_with_negative_range():
    assert parse("rate_neg", rate_neg="-2") == ok(-2)
    assert parse("rate_neg", rate_neg="0") == ok(0)
    assert parse("rate_neg", rate_neg="2") == ok(2)


def test_scale_two_values():
    assert parse("rate", rate=["2", "3"]) == error("choose_one")


# --- numbers ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("3", 3),
        ("3.5", 3.5),
        ("3,5", 3.5),
        (" 12 ", 12),
        ("0", 0),
        ("100", 100),
        ("3.0", 3),
        ("007", 7),
        ("+4", 4),
        ("1 000", 1000),  # spaces inside are dropped
        ("-2,5", -2.5),
        ("0.000001", 0.000001),
    ],
)
def test_number_values(raw, value):
    entry, err = parse("any_number", any_number=raw)
    assert err is None
    assert entry == {"value": value}
    assert type(entry["value"]) is type(value)


@pytest.mark.parametrize(
    ("question_id", "raw"),
    [
        ("count", "-1"),
        ("count", "101"),
        ("count", "100.01"),
        ("count", "1e400"),
        ("count", "-1e400"),
        ("share", "0.51"),
        ("share", "-2.51"),
    ],
)
def test_number_out_of_range(question_id, raw):
    question = q(question_id)
    expected = {"min": f"{question.min:g}", "max": f"{question.max:g}"}
    assert parse(question_id, **{question_id: raw}) == error("out_of_range", **expected)


def test_number_range_boundaries_are_inclusive():
    assert parse("share", share="-2.5") == ok(-2.5)
    assert parse("share", share="0,5") == ok(0.5)
    assert parse("count", count="0") == ok(0)
    assert parse("count", count="100") == ok(100)


def test_out_of_range_params_read_like_the_definition():
    assert parse("count", count="500") == error("out_of_range", min="0", max="100")
    assert parse("share", share="9") == error("out_of_range", min="-2.5", max="0.5")


@pytest.mark.parametrize(
    "raw",
    [
        "nan",
        "NaN",
        "inf",
        "-inf",
        "Infinity",
        "sNaN",
        "abc",
        "3 apples",
        "1.2.3",
        "3,5,1",
        "0x10",
        "½",
        "1" * (MAX_NUMBER_CHARS + 1),
        "1" * 10_000,
    ],
)
def test_not_a_number(raw):
    assert parse("count", count=raw) == error("not_a_number")
    assert parse("any_number", any_number=raw) == error("not_a_number")


def test_number_length_limit_is_exact():
    at_limit = "0" * (MAX_NUMBER_CHARS - 1) + "5"
    assert len(at_limit) == MAX_NUMBER_CHARS
    assert parse("count", count=at_limit) == ok(5)
    assert parse("count", count="0" + at_limit) == error("not_a_number")


@pytest.mark.parametrize("raw", ["1e400", "1e1000000", "1e32", "-1e20", "1e15"])
def test_huge_numbers_are_refused_without_bounds(raw):
    # Refused before any conversion: "1e1000000" once took ~30 s to turn into an int.
    assert parse("any_number", any_number=raw) == error("too_big")


def test_parse_number_directly():
    assert parse_number("12") == 12
    assert parse_number("-3,25") == -3.25
    assert parse_number("nan") is None
    assert parse_number("") is None
    assert parse_number("1e-400") == 0.0


# --- text -------------------------------------------------------------------------------


def test_text_value_is_trimmed():
    assert parse("word", word="  hello  ") == ok("hello")


def test_text_crlf_is_normalised():
    assert parse("essay_strict", essay_strict="one\r\ntwo\rthree\nfour") == ok(
        "one\ntwo\nthree\nfour"
    )


def test_text_control_characters_are_stripped_but_tabs_and_newlines_kept():
    raw = "a\x00b\x07c\x08d\x0be\x0cf\x1bg\x7fh\ti\nj"
    assert parse("essay_strict", essay_strict=raw) == ok("abcdefgh\ti\nj")


def test_text_keeps_non_ascii():
    assert parse("word_default", word_default="¿Qué? 子ども 🙂") == ok("¿Qué? 子ども 🙂")


@pytest.mark.parametrize(
    ("question_id", "limit"), [("word", 10), ("word_default", 500), ("essay_strict", 5000)]
)
def test_text_length_limit_exactly_at_and_one_over(question_id, limit):
    assert q(question_id).text_limit == limit
    assert parse(question_id, **{question_id: "é" * limit}) == ok("é" * limit)
    over = "é" * (limit + 1)
    assert parse(question_id, **{question_id: over}) == error(
        "too_long", limit=limit, length=limit + 1
    )


def test_text_limit_counts_after_cleaning():
    # 10 characters once CRLF is one newline and the control character is gone.
    raw = "abcd\r\nefg\x00hi"
    assert len(raw) == 12
    assert parse("word", word=raw) == ok("abcd\nefghi")
    assert parse("word", word=f"   {'x' * 10}   ") == ok("x" * 10)


def test_clean_text():
    assert clean_text("\r\n a\r\n\r\nb \x1f") == "a\n\nb"


# --- quote consent ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("posted", "consent"),
    [("yes", True), ("no", False), (None, False), ("", False), ("YES", False), ("on", False)],
)
def test_quote_consent_needs_a_clear_yes(posted, consent):
    fields = {"essay": "my story"}
    if posted is not None:
        fields["essay__quote"] = posted
    assert parse("essay", **fields) == ({"value": "my story", "quote_consent": consent}, None)


def test_quote_consent_only_where_asked():
    assert parse("essay_strict", essay_strict="story", essay_strict__quote="yes") == ok("story")
    assert parse("word", word="hi", word__quote="yes") == ok("hi")


def test_quote_consent_without_an_answer_is_blank():
    assert parse("essay", essay="", essay__quote="yes") == (None, None)
    assert parse("essay", essay__pnts="1", essay__quote="yes") == (PNTS_ENTRY, None)


# --- form values: showing a stored answer again ----------------------------------------

FORM_KEYS = {"chosen", "text", "other", "pnts", "quote"}


def post_form(question: Question, values: dict[str, Any]) -> MultiDict:
    """What the browser posts for a question rendered with these form values.

    Mirrors templates/respond/_macros.html: checked boxes post `<id>`, the Other box
    posts `<id>-other`, text inputs post `<id>`, the prefer-not-to-say checkbox of a
    number or text question posts `<id>-pnts=1`, the quote radio posts `<id>-quote`.
    """
    data = MultiDict()
    if question.type in ("single_choice", "multi_choice", "scale"):
        for value in values["chosen"]:
            data.add(question.id, value)
        if question.other:
            data.add(other_field(question), values["other"])
    elif question.type != "info":
        data.add(question.id, values["text"])
        if values["pnts"]:
            data.add(pnts_field(question), "1")
        if question.quote_consent and values["quote"]:
            data.add(quote_field(question), values["quote"])
    return data


ROUND_TRIPS: list[tuple[str, dict[str, Any] | None]] = [
    ("note", None),
    ("one", None),
    ("one", {"value": "a"}),
    ("one", {"value": "c"}),
    ("one", PNTS_ENTRY),
    ("one_other", {"value": "b"}),
    ("one_other", {"value": {"other": "my own words"}}),
    ("one_other", {"value": {"other": ""}}),
    ("one_other", PNTS_ENTRY),
    ("one_strict", {"value": "a"}),
    ("many", {"value": ["a"]}),
    ("many", {"value": ["a", "b", "c"]}),
    ("many", PNTS_ENTRY),
    ("many_other", {"value": ["c", {"other": "mine"}]}),
    ("many_other", {"value": [{"other": "only mine"}]}),
    ("many_other", {"value": ["a", "b"]}),
    ("many_other", PNTS_ENTRY),
    ("many_strict", {"value": ["b"]}),
    ("rate", {"value": 1}),
    ("rate", {"value": 5}),
    ("rate", PNTS_ENTRY),
    ("rate_neg", {"value": -2}),
    ("rate_neg", {"value": 0}),
    ("count", {"value": 0}),
    ("count", {"value": 42}),
    ("count", {"value": 99.75}),
    ("count", PNTS_ENTRY),
    ("share", {"value": -2.5}),
    ("share", {"value": 0.1}),
    ("any_number", {"value": -123456789}),
    ("any_number", {"value": 0.000001}),
    ("any_number", {"value": 1e-7}),
    ("any_number", {"value": 123456789.123}),
    ("any_number", {"value": 10**14}),
    ("word", {"value": "hello"}),
    ("word", PNTS_ENTRY),
    ("word_default", {"value": "a b\tc"}),
    ("essay", {"value": "line one\nline two\n\n¿tres? 🙂", "quote_consent": True}),
    ("essay", {"value": "x" * 5000, "quote_consent": False}),
    ("essay", PNTS_ENTRY),
    ("essay_strict", {"value": "text"}),
    ("essay_strict", {"value": "x" * 5000}),
]


def round_trip_id(case: Any) -> str:
    text = repr(case)
    return text if len(text) <= 40 else text[:37] + "..."


@pytest.mark.parametrize(("question_id", "entry"), ROUND_TRIPS, ids=round_trip_id)
def test_form_values_round_trip(question_id, entry):
    question = q(question_id)
    values = form_values(question, entry)
    assert set(values) == FORM_KEYS
    assert parse_answer(question, post_form(question, values)) == (entry, None)


@pytest.mark.parametrize(("question_id", "entry"), ROUND_TRIPS, ids=round_trip_id)
def test_raw_form_values_show_what_form_values_gave(question_id, entry):
    """After an error the page re-shows the raw input; it must look like the stored answer."""
    question = q(question_id)
    values = form_values(question, entry)
    raw = raw_form_values(question, post_form(question, values))
    assert set(raw) == FORM_KEYS
    if question.type in ("single_choice", "multi_choice", "scale"):
        assert raw["chosen"] == values["chosen"]
        assert raw["other"] == (values["other"] if question.other else "")
    elif question.type != "info":
        assert raw["text"] == values["text"]
        assert raw["pnts"] == values["pnts"]
        assert raw["quote"] == (values["quote"] if question.quote_consent else "")


def test_form_values_of_nothing():
    blank = {"chosen": [], "text": "", "other": "", "pnts": False, "quote": ""}
    for question in DEFINITION.questions():
        assert form_values(question, None) == blank


def test_form_values_shapes():
    assert form_values(q("count"), {"value": 7}) == {
        "chosen": [],
        "text": "7",
        "other": "",
        "pnts": False,
        "quote": "",
    }
    assert form_values(q("count"), {"value": 7.0})["text"] == "7"
    assert form_values(q("share"), {"value": -0.25})["text"] == "-0.25"
    assert form_values(q("rate"), {"value": 4})["chosen"] == ["4"]
    assert form_values(q("one_other"), {"value": {"other": "x"}})["chosen"] == [OTHER_VALUE]
    assert form_values(q("many_other"), {"value": ["a", {"other": "x"}]})["chosen"] == [
        "a",
        OTHER_VALUE,
    ]
    assert form_values(q("word"), PNTS_ENTRY)["pnts"] is True
    assert form_values(q("essay"), {"value": "s", "quote_consent": True})["quote"] == "yes"
    assert form_values(q("essay"), {"value": "s", "quote_consent": False})["quote"] == "no"


@pytest.mark.parametrize("raw", ["1e14", "999999999999999", "-99999999999999.5"])
def test_every_accepted_number_shows_again_and_parses_the_same(raw):
    question = q("any_number")
    entry, err = parse_answer(question, form(any_number=raw))
    assert err is None
    values = form_values(question, entry)
    assert parse_answer(question, post_form(question, values)) == (entry, None)


@pytest.mark.parametrize("raw", ["1e32", "-1e31", "1e40", "1e400"])
def test_numbers_too_big_to_show_again_are_refused_and_the_input_kept(raw):
    question = q("any_number")
    entry, err = parse_answer(question, form(any_number=raw))
    assert entry is None and err == AnswerError("too_big")
    assert raw_form_values(question, form(any_number=raw))["text"] == raw


# --- field names ------------------------------------------------------------------------


def test_field_names():
    # A hyphen can't appear in ids, so these never collide with another question.
    assert other_field(q("one_other")) == "one_other-other"
    assert pnts_field(q("essay")) == "essay-pnts"
    assert quote_field(q("essay")) == "essay-quote"


def _colliding_definition() -> SurveyDefinition:
    return parse_definition(  # ids may contain "__" (docs/survey-format.md)
        {
            "format": "chorus-survey/1",
            "slug": "collide",
            "title": "Collide",
            "sections": [
                {
                    "id": "s",
                    "title": "S",
                    "questions": [
                        {
                            "id": "story",
                            "type": "long_text",
                            "text": "Story",
                            "quote_consent": True,
                        },
                        {"id": "story__pnts", "type": "short_text", "text": "Anything else?"},
                        {"id": "story__quote", "type": "short_text", "text": "A favourite quote?"},
                    ],
                }
            ],
        }
    )


def test_another_questions_answer_is_not_read_as_prefer_not_to_say():
    definition = _colliding_definition()
    # The fields of the questions whose ids are "story__pnts" and "story__quote".
    posted = form(("story", ""), ("story__pnts", "no"), ("story__quote", ""))
    assert parse_answer(definition.question("story"), posted) == (None, None)


def test_another_questions_answer_is_not_read_as_quote_consent():
    definition = _colliding_definition()
    posted = form(("story", "my story"), ("story__pnts", ""), ("story__quote", "yes"))
    assert parse_answer(definition.question("story"), posted) == (
        {"value": "my story", "quote_consent": False},
        None,
    )


@pytest.mark.parametrize(
    ("raw", "kept"),
    [
        ("a\x85b", "ab"),  # C1 control (NEL)
        ("a\x9bb", "ab"),  # C1 control (CSI)
        ("safe \u202eevil\u202c text", "safe evil text"),  # right-to-left override
        ("x\u2066y\u2069z", "xyz"),  # isolates
        ("café – ok\nnext", "café – ok\nnext"),  # ordinary text untouched
    ],
)
def test_clean_text_strips_c1_controls_and_bidi_overrides(raw, kept):
    assert clean_text(raw) == kept


def test_a_whole_number_question_refuses_decimals_with_a_clear_message():
    assert parse("whole", whole="3") == ok(3)
    assert parse("whole", whole="3.0") == ok(3)
    assert parse("whole", whole="2.5") == error("not_whole")
    assert parse("whole", whole="2,5") == error("not_whole")
    assert ERROR_MESSAGES["not_whole"] == "Enter a whole number, like 3"
    # Its bounds still apply, and other number questions still take decimals.
    assert parse("whole", whole="51") == error("out_of_range", min="0", max="50")
    assert parse("any_number", any_number="2.5") == ok(2.5)
