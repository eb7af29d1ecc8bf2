"""survey.definition: the `chorus-survey/1` contract (docs/survey-format.md).

Two corpora live in tests/definitions/:
- valid/*.json|yaml: each parses, and import → export → import is identical;
- invalid/NAME.json|yaml with NAME.expected beside it: one exact problem a line, in
  the order DefinitionError.problems gives them. (Expectations can't live inside the
  definitions: unknown keys are errors.)
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from survey.definition import (
    MAX_DEFINITION_BYTES,
    Condition,
    DefinitionError,
    SurveyDefinition,
    chosen_values,
    load_definition_text,
    localize,
    parse_definition,
    shown_questions,
    visible_sections_and_answers,
)

CORPUS = Path(__file__).resolve().parent.parent / "definitions"
VALID_DIR = CORPUS / "valid"
INVALID_DIR = CORPUS / "invalid"
BUNDLED = Path(__file__).resolve().parents[2] / "survey" / "bundled"
BUNDLED_TEMPLATE = BUNDLED / "product-risk-consultation.json"
DEFINITION_SUFFIXES = (".json", ".yaml", ".yml")

VALID_FILES = sorted(p for p in VALID_DIR.iterdir() if p.suffix in DEFINITION_SUFFIXES)
INVALID_FILES = sorted(p for p in INVALID_DIR.iterdir() if p.suffix in DEFINITION_SUFFIXES)
ALL_VALID = [*VALID_FILES, BUNDLED_TEMPLATE]


def load(path: Path) -> SurveyDefinition:
    return load_definition_text(path.read_text(encoding="utf-8"), path.name)


def problems_of(data: Any) -> list[str]:
    with pytest.raises(DefinitionError) as caught:
        parse_definition(data)
    assert str(caught.value) == "\n".join(caught.value.problems)
    return caught.value.problems


def problems_of_text(text: str, filename: str) -> list[str]:
    with pytest.raises(DefinitionError) as caught:
        load_definition_text(text, filename)
    return caught.value.problems


def minimal(**changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "format": "chorus-survey/1",
        "slug": "unit-test",
        "title": "Unit test",
        "sections": [
            {
                "id": "main",
                "title": "Main",
                "questions": [
                    {
                        "id": "often",
                        "type": "single_choice",
                        "text": "How often?",
                        "options": [
                            {"value": "never", "label": "Never"},
                            {"value": "often", "label": "Often"},
                        ],
                    },
                    {"id": "story", "type": "long_text", "text": "Tell us"},
                ],
            }
        ],
    }
    document.update(changes)
    return document


# --- the corpora -----------------------------------------------------------------------


def test_corpora_are_big_enough_and_paired():
    assert len(VALID_FILES) >= 6
    assert any(p.suffix == ".yaml" for p in VALID_FILES)
    assert len(INVALID_FILES) >= 25
    expected = {p.stem for p in INVALID_DIR.glob("*.expected")}
    assert expected == {p.stem for p in INVALID_FILES}, "every invalid file needs NAME.expected"


@pytest.mark.parametrize("path", ALL_VALID, ids=lambda p: p.name)
def test_valid_definition_parses(path):
    definition = load(path)
    assert isinstance(definition, SurveyDefinition)
    assert definition.sections
    assert list(definition.questions())


@pytest.mark.parametrize("path", ALL_VALID, ids=lambda p: p.name)
def test_import_export_import_is_identical(path):
    first = load(path)
    exported = first.to_dict()
    second = parse_definition(exported)
    assert second == first
    assert second.to_dict() == exported
    # Through the JSON text too, as `chorus survey export` → `import` does.
    text = first.to_json()
    third = load_definition_text(text, "exported.json")
    assert third == first
    assert third.to_json() == text
    assert json.loads(text) == exported


@pytest.mark.parametrize("path", ALL_VALID, ids=lambda p: p.name)
def test_to_json_is_stable(path):
    definition = load(path)
    assert definition.to_json() == definition.to_json()
    assert definition.to_json() == load(path).to_json()
    assert definition.to_json().endswith("}\n")


@pytest.mark.parametrize("path", ALL_VALID, ids=lambda p: p.name)
def test_question_index_covers_every_question(path):
    definition = load(path)
    for question in definition.questions():
        assert definition.question(question.id) is question
    for section in definition.sections:
        assert definition.section(section.id) is section
    assert definition.question("no_such_question") is None


def test_export_keeps_every_key_of_the_contract_example():
    source = json.loads((VALID_DIR / "contract-example.json").read_text(encoding="utf-8"))
    exported = parse_definition(source).to_dict()
    # Only the survey-level defaults are added; nothing given is lost or changed.
    assert exported == {**source, "invite_only": False, "min_report_n": 20, "suppression_k": 10}


def test_export_keeps_every_non_default_key():
    source = json.loads((VALID_DIR / "every-question-type.json").read_text(encoding="utf-8"))
    exported = parse_definition(source).to_dict()
    expected = copy.deepcopy(source)
    # Explicit defaults are not written out again.
    del expected["sections"][0]["questions"][-1]["quote_consent"]
    del expected["sections"][0]["questions"][-1]["prefer_not_to_say"]
    assert exported == expected


def test_defaults_of_a_minimal_definition():
    definition = load(VALID_DIR / "minimal.json")
    assert definition.languages == ("en",)
    assert definition.default_language == "en"
    assert definition.min_report_n == 20
    assert definition.suppression_k == 10
    assert definition.invite_only is False
    question = definition.question("q")
    assert question is not None
    assert question.prefer_not_to_say is True
    assert question.text_limit == 500


def test_yaml_and_json_forms_give_the_same_model():
    from_yaml = load(VALID_DIR / "yaml-version.yaml")
    from_json = load_definition_text(from_yaml.to_json(), "same.json")
    assert from_json == from_yaml
    assert from_yaml.intro == "A text over\nseveral lines.\n"
    assert from_yaml.question("apps").max == 30.5


def test_every_question_type_model():
    definition = load(VALID_DIR / "every-question-type.json")
    types = {q.type for q in definition.questions()}
    assert types == {
        "single_choice",
        "multi_choice",
        "scale",
        "number",
        "short_text",
        "long_text",
        "info",
    }
    assert next(q.id for q in definition.answerable_questions()) == "one"
    assert definition.question("welcome").takes_answer is False
    assert definition.question("one").is_choice
    assert definition.question("one").option_values() == ("a", "b")
    assert definition.question("many").max_choices == 4
    assert definition.question("rate").scale.max == 10
    assert definition.question("fraction").min == -2.5
    assert definition.question("word").text_limit == 40
    assert definition.question("essay_default").text_limit == 5000
    assert definition.question("rate").text_limit == 500  # "other"-sized text elsewhere
    assert definition.support[0].url == "https://help.example.org/support"


def test_multi_language_definition():
    definition = load(VALID_DIR / "multi-language.json")
    assert definition.languages == ("cy", "en", "pt-BR")
    assert definition.default_language == "cy"
    assert localize(definition.title, "pt-BR", definition.default_language) == (
        "Segurança nas mensagens"
    )


def test_contract_example_differs_from_the_document_only_by_its_option_value():
    """The contract's example once used "18_plus", which its own value pattern refuses.

    The corpus keeps the verbatim example as invalid/contract-example-verbatim.json and
    a fixed copy ("age_18_plus") as valid/contract-example.json (see
    docs/survey-format.md "Where Chorus settles the contract").
    """
    verbatim = (INVALID_DIR / "contract-example-verbatim.json").read_text(encoding="utf-8")
    fixed = (VALID_DIR / "contract-example.json").read_text(encoding="utf-8")
    assert verbatim.replace('"18_plus"', '"age_18_plus"') == fixed


@pytest.mark.parametrize("path", INVALID_FILES, ids=lambda p: p.name)
def test_invalid_definition_reports_exactly_its_problems(path):
    expected = path.with_suffix(".expected").read_text(encoding="utf-8").splitlines()
    assert expected, f"{path.with_suffix('.expected').name} is empty"
    problems = problems_of_text(path.read_text(encoding="utf-8"), path.name)
    assert problems == expected


def test_every_problem_names_a_path():
    for path in INVALID_FILES:
        for problem in problems_of_text(path.read_text(encoding="utf-8"), path.name):
            where, sep, message = problem.partition(": ")
            assert sep and where and message, problem


# --- loading: syntax, duplicates, YAML quirks, size ------------------------------------


def test_json_syntax_error_names_line_and_column():
    text = '{\n  "format": "chorus-survey/1",\n  "slug": "x"\n  "title": "y"\n}'
    assert problems_of_text(text, "broken.json") == [
        "(file): not valid JSON: Expecting ',' delimiter at line 4, column 3"
    ]


def test_json_syntax_error_without_a_json_extension_is_still_reported_as_json():
    problems = problems_of_text('{"format": }', "upload")
    assert problems == ["(file): not valid JSON: Expecting value at line 1, column 12"]


def test_non_json_text_without_an_extension_is_read_as_yaml():
    yaml_text = (VALID_DIR / "yaml-version.yaml").read_text(encoding="utf-8")
    assert load_definition_text(yaml_text, "upload") == load(VALID_DIR / "yaml-version.yaml")
    assert load_definition_text(yaml_text, "SURVEY.YML").slug == "yaml-survey"


def test_duplicate_keys_in_json_are_refused():
    text = json.dumps(minimal())[:-1] + ', "slug": "again"}'
    assert problems_of_text(text, "dup.json") == ["(file): duplicate key 'slug'"]


def test_duplicate_keys_in_yaml_are_refused_at_any_depth():
    text = (
        "format: chorus-survey/1\nslug: dup\ntitle: T\nsections:\n"
        "  - id: s\n    title: S\n    questions:\n"
        "      - {id: q, type: short_text, text: A, text: B}\n"
    )
    assert problems_of_text(text, "dup.yaml") == [
        "(file): not valid YAML: duplicate key 'text' at line 8, column 44"
    ]


YAML_TEMPLATE = (
    "format: chorus-survey/1\n"
    "slug: {slug}\n"
    "title: {title}\n"
    "sections:\n"
    "  - id: s\n"
    "    title: S\n"
    "    questions:\n"
    "      - {{id: q, type: short_text, text: Q, theme_hint: {hint}}}\n"
)


def test_yaml_dates_stay_strings():
    """A YAML date would become a datetime.date; the loader keeps it as text."""
    text = YAML_TEMPLATE.format(slug="2024-01-01", title="2024-01-01", hint="2024-01-01 10:00:00")
    definition = load_definition_text(text, "dates.yaml")
    # "2024-01-01" matches the slug pattern, so this is a valid slug, not a problem.
    assert definition.slug == "2024-01-01"
    assert definition.title == "2024-01-01"
    assert definition.question("q").theme_hint == "2024-01-01 10:00:00"
    assert isinstance(definition.to_dict()["title"], str)
    assert json.loads(definition.to_json())["slug"] == "2024-01-01"


def test_yaml_date_where_a_number_belongs_is_a_clear_problem():
    text = YAML_TEMPLATE.format(slug="dates", title="T", hint="x") + "min_report_n: 2024-01-01\n"
    assert problems_of_text(text, "dates.yaml") == ["min_report_n: must be a whole number"]


def test_yaml_syntax_error_names_line_and_column():
    problems = problems_of_text("format: chorus-survey/1\nslug: [a\n", "bad.yaml")
    assert len(problems) == 1
    assert problems[0].startswith("(file): not valid YAML: ")
    assert " at line " in problems[0] and ", column " in problems[0]


def test_yaml_python_tags_are_refused():
    text = "format: !!python/object/apply:os.system ['true']\n"
    problems = problems_of_text(text, "evil.yaml")
    assert len(problems) == 1
    assert problems[0].startswith("(file): not valid YAML: ")


def _padded_to(size: int) -> str:
    text = json.dumps(minimal())
    return text + " " * (size - len(text.encode()))


def test_definition_of_exactly_the_size_limit_is_accepted():
    text = _padded_to(MAX_DEFINITION_BYTES)
    assert len(text.encode()) == MAX_DEFINITION_BYTES
    assert load_definition_text(text, "big.json").slug == "unit-test"


def test_definition_bigger_than_the_size_limit_is_refused():
    assert MAX_DEFINITION_BYTES == 1_000_000
    text = _padded_to(MAX_DEFINITION_BYTES + 1)
    assert problems_of_text(text, "big.json") == ["(file): larger than 1 MB"]


def test_size_limit_counts_bytes_not_characters():
    text = json.dumps(minimal(intro="é" * 10), ensure_ascii=False)
    text += " " * (MAX_DEFINITION_BYTES - len(text))  # ≤ limit in characters, > in bytes
    assert len(text) <= MAX_DEFINITION_BYTES < len(text.encode())
    assert problems_of_text(text, "big.json") == ["(file): larger than 1 MB"]


@pytest.mark.parametrize(
    ("text", "filename"),
    [("", "empty.json"), ("", "empty.yaml"), ("[1, 2]", "list.json"), ("- a\n", "list.yaml")],
)
def test_empty_or_non_object_files_are_refused(text, filename):
    problems = problems_of_text(text, filename)
    assert len(problems) == 1
    assert problems[0].startswith("(")


# --- validation details not covered by the corpus ---------------------------------------


def test_valid_minimal_document_has_no_problems():
    assert parse_definition(minimal()).slug == "unit-test"


def test_input_document_is_not_changed_by_parsing():
    document = minimal()
    before = copy.deepcopy(document)
    parse_definition(document)
    assert document == before


@pytest.mark.parametrize(
    ("slug", "ok"),
    [
        ("ab", True),
        ("a" * 63, True),
        ("0-survey", True),
        ("a", False),
        ("a" * 64, False),
        ("Ab", False),
        ("a_b", False),
        ("-ab", False),
        ("ab cd", False),
        ("ab/cd", False),
        (12, False),
        (None, False),
    ],
)
def test_slug_pattern(slug, ok):
    document = minimal(slug=slug)
    if ok:
        assert parse_definition(document).slug == slug
    else:
        assert problems_of(document) == [
            "slug: must be 2-63 lower-case letters, digits or hyphens, starting with a letter "
            "or digit"
        ]


@pytest.mark.parametrize(
    "field",
    ["slug", "section id", "question id", "option value", "language", "support url"],
)
def test_trailing_newline_is_not_accepted(field):
    document = minimal(languages=["en"])
    if field == "slug":
        document["slug"] = "unit-test\n"
    elif field == "section id":
        document["sections"][0]["id"] = "main\n"
    elif field == "question id":
        document["sections"][0]["questions"][1]["id"] = "story\n"
    elif field == "option value":
        document["sections"][0]["questions"][0]["options"][0]["value"] = "never\n"
    elif field == "language":
        document["languages"] = ["en\n"]
    else:
        document["support"] = [{"name": "Help", "url": "https://example.org/\n"}]
    with pytest.raises(DefinitionError):
        parse_definition(document)


def test_required_keys_are_reported_at_every_level():
    document = {
        "format": "chorus-survey/1",
        "sections": [{"questions": [{"type": "short_text"}]}],
        "support": [{}],
    }
    assert problems_of(document) == [
        "slug: is required",
        "title: is required",
        "support[0].name: is required",
        "sections[0].id: is required",
        "sections[0].title: is required",
        "sections[0].questions[0].id: is required",
        "sections[0].questions[0].text: is required",
    ]


def test_problems_are_collected_not_stopped_at_the_first():
    document = minimal(slug="X", min_report_n=0, suppression_k="10")
    document["sections"][0]["questions"][0]["options"][1]["value"] = "never"
    document["sections"][0]["questions"][1]["max_length"] = 20001
    assert problems_of(document) == [
        "slug: must be 2-63 lower-case letters, digits or hyphens, starting with a letter or digit",
        "min_report_n: must be between 1 and 1000000",
        "suppression_k: must be a whole number",
        'sections[0].questions[0].options[1].value: duplicate value "never"',
        "sections[0].questions[1].max_length: must be between 1 and 20000",
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (["en", "es"], None),
        ([], 'languages: must be a non-empty list of language tags such as "en"'),
        ("en", 'languages: must be a non-empty list of language tags such as "en"'),
        (["en", "EN"], 'languages[1]: "EN" is not a language tag like "en"'),
        (["en", "en"], 'languages[1]: duplicate language "en"'),
        (["en", 5], 'languages[1]: 5 is not a language tag like "en"'),
    ],
)
def test_languages(value, expected):
    document = minimal(languages=value)
    if expected is None:
        assert parse_definition(document).languages == tuple(value)
    else:
        assert problems_of(document) == [expected]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ({"en": "Hi", "es": "Hola"}, None),
        ({"es": "Hola", "en": "Hi"}, None),
        ("Plain string: the default language", None),
        ({"en": "Hi"}, ['title: missing the "es" text']),
        (
            {"en": "Hi", "es": "Hola", "de": "Hallo"},
            ["title.de: is not one of the survey's languages"],
        ),
        ({"en": "Hi", "es": " "}, ["title.es: must be non-empty text"]),
        ({"en": "Hi", "es": 3}, ["title.es: must be non-empty text"]),
        ({}, ['title: missing the "en" text', 'title: missing the "es" text']),
        ("", ["title: must not be empty"]),
        (["Hi"], ['title: must be text: a string or an object like {"en": "..."}']),
        (None, ["title: is required"]),
        ("x" * 20_001, ["title: longer than 20000 characters"]),
    ],
)
def test_object_texts_need_every_language(text, expected):
    document = minimal(languages=["en", "es"], title=text)
    if expected is None:
        assert parse_definition(document).title == text
    else:
        assert problems_of(document) == expected


def test_null_for_an_optional_text():
    # An optional text given as null gets a message that says what to do.
    assert problems_of(minimal(intro=None)) == [
        "intro: must be text, not null (leave the key out instead)"
    ]


def test_every_text_field_is_checked_for_languages():
    document = minimal(languages=["en", "es"])
    section = document["sections"][0]
    section["intro"] = {"en": "only English"}
    section["questions"][0]["options"][0]["label"] = {"en": "Never"}
    section["questions"][1]["help"] = {"en": "only English"}
    document["support"] = [{"name": "Help", "hours": {"es": "siempre"}}]
    assert problems_of(document) == [
        'support[0].hours: missing the "en" text',
        'sections[0].intro: missing the "es" text',
        'sections[0].questions[0].options[0].label: missing the "es" text',
        'sections[0].questions[1].help: missing the "es" text',
    ]


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JAVASCRIPT:alert(1)",
        "data:text/html,hi",
        "ftp://example.org",
        "//example.org",
        "https://exa mple.org",
        'https://example.org/"onmouseover="x',
        "https://",
    ],
)
def test_support_url_must_be_a_web_address(url):
    document = minimal(support=[{"name": "Help", "url": url}])
    assert problems_of(document) == [
        "support[0].url: must be a web address starting with https:// or http://"
    ]


def test_support_phone_and_shape():
    document = minimal(support=[{"name": "Help", "phone": "1" * 41}, "Helpline"])
    assert problems_of(document) == [
        "support[0].phone: must be a phone number of at most 40 characters",
        "support[1]: must be an object with a name",
    ]
    assert problems_of(minimal(support={"name": "Help"})) == ["support: must be a list"]


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("min_report_n", True, "min_report_n: must be a whole number"),
        ("min_report_n", 20.0, "min_report_n: must be a whole number"),
        ("min_report_n", 0, "min_report_n: must be between 1 and 1000000"),
        ("suppression_k", 4, "suppression_k: must be between 5 and 1000000"),
        ("suppression_k", False, "suppression_k: must be a whole number"),
        ("estimated_minutes", "15", "estimated_minutes: must be a whole number"),
        ("estimated_minutes", 0, "estimated_minutes: must be between 1 and 600"),
        ("invite_only", "yes", "invite_only: must be true or false"),
        ("invite_only", 1, "invite_only: must be true or false"),
    ],
)
def test_survey_numbers_and_flags(key, value, expected):
    assert problems_of(minimal(**{key: value})) == [expected]


def test_smallest_allowed_report_settings():
    definition = parse_definition(minimal(min_report_n=1, suppression_k=5))
    assert (definition.min_report_n, definition.suppression_k) == (1, 5)


def test_question_flags_must_be_booleans():
    document = minimal()
    document["sections"][0]["questions"][0]["other"] = "yes"
    document["sections"][0]["questions"][0]["group_by"] = 1
    document["sections"][0]["questions"][1]["quote_consent"] = None
    document["sections"][0]["questions"][1]["prefer_not_to_say"] = "false"
    assert problems_of(document) == [
        "sections[0].questions[0].other: must be true or false",
        "sections[0].questions[0].group_by: must be true or false",
        "sections[0].questions[1].prefer_not_to_say: must be true or false",
        "sections[0].questions[1].quote_consent: must be true or false",
    ]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"min": 5, "max": 4}, "sections[0].questions[2].max: must be greater than min"),
        ({"min": True}, "sections[0].questions[2].min: must be a number"),
        ({"max": "10"}, "sections[0].questions[2].max: must be a number"),
        ({"max": float("nan")}, "sections[0].questions[2].max: must be a number"),
        ({"max": float("inf")}, "sections[0].questions[2].max: must be a number"),
        ({"max": 10**15}, "sections[0].questions[2].max: must be a number"),
    ],
)
def test_number_bounds(change, expected):
    document = minimal()
    document["sections"][0]["questions"].append(
        {"id": "count", "type": "number", "text": "How many?", **change}
    )
    assert problems_of(document) == [expected]


def test_number_bounds_may_be_one_sided_or_fractional():
    document = minimal()
    document["sections"][0]["questions"] += [
        {"id": "low_only", "type": "number", "text": "?", "min": -1},
        {"id": "high_only", "type": "number", "text": "?", "max": 0.25},
        {"id": "close", "type": "number", "text": "?", "min": 0.1, "max": 0.2},
    ]
    definition = parse_definition(document)
    assert definition.question("low_only").max is None
    assert definition.question("high_only").max == 0.25


@pytest.mark.parametrize(
    ("scale", "expected"),
    [
        ({"min": 1, "max": 3}, []),
        ({"min": 0, "max": 10}, []),
        (
            {"min": 1, "max": 2},
            ["sections[0].questions[2].scale: max − min must be between 2 and 10"],
        ),
        (
            {"min": 5, "max": 1},
            ["sections[0].questions[2].scale: max − min must be between 2 and 10"],
        ),
        ({"min": 1.0, "max": 5}, ["sections[0].questions[2].scale.min: must be a whole number"]),
        ({"min": 1, "max": True}, ["sections[0].questions[2].scale.max: must be a whole number"]),
    ],
)
def test_scale_range(scale, expected):
    document = minimal()
    document["sections"][0]["questions"].append(
        {
            "id": "harm",
            "type": "scale",
            "text": "How much?",
            "scale": {**scale, "min_label": "Low", "max_label": "High"},
        }
    )
    if expected:
        assert problems_of(document) == expected
    else:
        assert parse_definition(document).question("harm").scale.min == scale["min"]


def test_scale_question_needs_its_scale():
    document = minimal()
    document["sections"][0]["questions"].append({"id": "harm", "type": "scale", "text": "?"})
    assert problems_of(document) == [
        "sections[0].questions[2].scale: a scale question needs {min, max, min_label, max_label}"
    ]


def test_max_choices_may_count_the_other_option():
    document = minimal()
    question = document["sections"][0]["questions"][0]
    question.update(type="multi_choice", other=True, max_choices=3)
    assert parse_definition(document).question("often").max_choices == 3
    question["max_choices"] = 4
    assert problems_of(document) == [
        "sections[0].questions[0].max_choices: "
        "must be between 1 and 3, the number of answers to choose from"
    ]
    question["max_choices"] = 0
    assert problems_of(document) == [
        "sections[0].questions[0].max_choices: "
        "must be between 1 and 3, the number of answers to choose from"
    ]


def test_choice_question_without_options():
    document = minimal()
    del document["sections"][0]["questions"][0]["options"]
    assert problems_of(document) == [
        "sections[0].questions[0].options: a choice question needs a list of at least 2 options"
    ]


@pytest.mark.parametrize(
    ("qtype", "key", "value"),
    [
        ("short_text", "options", [{"value": "a", "label": "A"}, {"value": "b", "label": "B"}]),
        ("number", "other", True),
        ("scale", "group_by", True),
        ("long_text", "max_choices", 2),
        ("single_choice", "max_choices", 1),
        ("short_text", "scale", {"min": 1, "max": 5, "min_label": "a", "max_label": "b"}),
        ("short_text", "min", 0),
        ("single_choice", "max_length", 10),
        ("short_text", "quote_consent", True),
        ("scale", "integer", True),
        ("info", "prefer_not_to_say", True),
    ],
)
def test_keys_only_allowed_on_some_types(qtype, key, value):
    question: dict[str, Any] = {"id": "extra", "type": qtype, "text": "?", key: value}
    if qtype in ("single_choice", "multi_choice") and key != "options":
        question["options"] = [{"value": "a", "label": "A"}, {"value": "b", "label": "B"}]
    if qtype == "scale":
        question["scale"] = {"min": 1, "max": 5, "min_label": "a", "max_label": "b"}
    document = minimal()
    document["sections"][0]["questions"].append(question)
    article = "an" if qtype == "info" else "a"
    assert problems_of(document) == [
        f"sections[0].questions[2].{key}: is not allowed on {article} {qtype} question"
    ]


SHOW_IF = "sections[0].questions[1].show_if"
LATER = "is not a question that comes earlier in the survey"


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({"question": "often", "in": ["often", "never"]}, []),
        ("often", [f'{SHOW_IF}: must be {{"question": "<earlier question id>", "in": [values]}}']),
        ({"question": "often"}, [f"{SHOW_IF}.in: is required"]),
        ({"in": ["often"]}, [f"{SHOW_IF}.question: is required"]),
        (
            {"question": "often", "in": "often"},
            [f"{SHOW_IF}.in: must be a non-empty list of option values"],
        ),
        ({"question": "often", "in": [1]}, [f"{SHOW_IF}.in[0]: must be an option value"]),
        (
            {"question": "often", "in": ["often", "often"]},
            [f'{SHOW_IF}.in[1]: duplicate value "often"'],
        ),
        ({"question": "nowhere", "in": ["x"]}, [f'{SHOW_IF}.question: "nowhere" {LATER}']),
        ({"question": "story", "in": ["x"]}, [f'{SHOW_IF}.question: "story" {LATER}']),
    ],
)
def test_question_conditions(condition, expected):
    document = minimal()
    document["sections"][0]["questions"][1]["show_if"] = condition
    if expected:
        assert problems_of(document) == expected
    else:
        assert parse_definition(document).question("story").show_if == Condition(
            "often", ("often", "never")
        )


def test_condition_on_an_info_item_is_refused():
    document = minimal()
    document["sections"][0]["questions"].insert(0, {"id": "note", "type": "info", "text": "Hi"})
    document["sections"][0]["questions"][2]["show_if"] = {"question": "note", "in": ["x"]}
    assert problems_of(document) == [
        'sections[0].questions[2].show_if.question: "note" is not a choice question'
    ]


def test_section_condition_may_look_at_an_earlier_section():
    document = minimal()
    document["sections"].append(
        {
            "id": "more",
            "title": "More",
            "show_if": {"question": "often", "in": ["often"]},
            "questions": [{"id": "why", "type": "short_text", "text": "Why?"}],
        }
    )
    definition = parse_definition(document)
    assert definition.section("more").show_if == Condition("often", ("often",))


@pytest.mark.parametrize("key", ["[a, b]", "{a: 1}"])
def test_yaml_unhashable_key_is_a_problem_not_a_crash(key):
    text = YAML_TEMPLATE.format(slug="keys", title="T", hint="x") + f"? {key}\n: 1\n"
    problems = problems_of_text(text, "keys.yaml")
    assert problems and problems[0].startswith("(file): not valid YAML")


def test_unhashable_option_value_with_a_condition_is_a_problem_not_a_crash():
    document = minimal()
    document["sections"][0]["questions"][0]["options"][0]["value"] = ["never"]
    document["sections"][0]["questions"][1]["show_if"] = {"question": "often", "in": ["often"]}
    problems = problems_of(document)
    assert problems[0].startswith("sections[0].questions[0].options[0].value: ")


def test_unhashable_option_value_without_a_condition_is_a_problem():
    document = minimal()
    document["sections"][0]["questions"][0]["options"][0]["value"] = ["never"]
    assert problems_of(document) == [
        'sections[0].questions[0].options[0].value: ["never"] is not a valid value: use '
        "lower-case letters, digits and _, starting with a letter"
    ]


@pytest.mark.parametrize(
    "data",
    [None, 3, "text", ["list"], {"format": "chorus-survey/1", "sections": "all"}],
)
def test_odd_documents_give_problems_not_crashes(data):
    assert problems_of(data)


@pytest.mark.parametrize(
    "section",
    [
        "a section",
        {"id": "s", "title": "S", "questions": ["q"]},
        {
            "id": "s",
            "title": "S",
            "questions": [{"id": "q", "type": "single_choice", "text": "?", "options": ["a", "b"]}],
        },
    ],
)
def test_odd_sections_give_problems_not_crashes(section):
    assert problems_of(minimal(sections=[section]))


def test_with_slug_validates_the_new_slug():
    definition = parse_definition(minimal())
    renamed = definition.with_slug("renamed")
    assert renamed.slug == "renamed"
    assert renamed.sections == definition.sections
    with pytest.raises(DefinitionError):
        definition.with_slug("Not A Slug")


def test_editing_an_export_does_not_change_the_definition():
    definition = parse_definition(minimal(languages=["en"], title={"en": "Original"}))
    exported = definition.to_dict()
    exported["title"]["en"] = "Edited"
    assert definition.title == {"en": "Original"}


# --- branching ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def branching() -> SurveyDefinition:
    document = {
        "format": "chorus-survey/1",
        "slug": "branching",
        "title": "Branching",
        "sections": [
            {
                "id": "first",
                "title": "First",
                "questions": [
                    {
                        "id": "age",
                        "type": "single_choice",
                        "text": "Age?",
                        "options": [
                            {"value": "child", "label": "Under 18"},
                            {"value": "adult", "label": "18+"},
                        ],
                        "other": True,
                    },
                    {
                        "id": "apps",
                        "type": "multi_choice",
                        "text": "Apps?",
                        "show_if": {"question": "age", "in": ["adult"]},
                        "options": [
                            {"value": "chat", "label": "Chat"},
                            {"value": "video", "label": "Video"},
                            {"value": "games", "label": "Games"},
                        ],
                        "other": True,
                    },
                    {
                        "id": "chat_harm",
                        "type": "short_text",
                        "text": "Chat harm?",
                        "show_if": {"question": "apps", "in": ["chat", "games"]},
                    },
                ],
            },
            {
                "id": "children",
                "title": "Children",
                "show_if": {"question": "age", "in": ["child"]},
                "questions": [
                    {
                        "id": "school",
                        "type": "single_choice",
                        "text": "School?",
                        "options": [
                            {"value": "yes", "label": "Yes"},
                            {"value": "no", "label": "No"},
                        ],
                    }
                ],
            },
            {
                "id": "schools",
                "title": "Schools",
                "show_if": {"question": "school", "in": ["yes"]},
                "questions": [{"id": "which", "type": "short_text", "text": "Which?"}],
            },
            {
                "id": "end",
                "title": "End",
                "questions": [{"id": "last", "type": "long_text", "text": "Anything else?"}],
            },
        ],
    }
    return parse_definition(document)


def section_ids(sections) -> list[str]:
    return [s.id for s in sections]


def test_nothing_answered_shows_unconditional_sections_only(branching):
    sections, visible = visible_sections_and_answers(branching, {})
    assert section_ids(sections) == ["first", "end"]
    assert visible == {}


def test_single_choice_branch_shows_its_section(branching):
    given = {"age": "child", "school": "yes", "which": "Hillside", "last": "no"}
    sections, visible = visible_sections_and_answers(branching, given)
    assert section_ids(sections) == ["first", "children", "schools", "end"]
    assert visible == given


def test_answers_to_hidden_questions_do_not_count(branching):
    """The person once said "child" and answered the children's sections, then changed it."""
    given = {"age": "adult", "school": "yes", "which": "Hillside", "apps": ["video"]}
    sections, visible = visible_sections_and_answers(branching, given)
    assert section_ids(sections) == ["first", "end"]
    assert visible == {"age": "adult", "apps": ["video"]}


def test_hidden_question_does_not_feed_a_later_condition(branching):
    # "apps" was answered while age was adult; age is now child, so apps is hidden and
    # chat_harm, which depends on apps, must be hidden too.
    given = {"age": "child", "apps": ["chat"], "chat_harm": "x"}
    _, visible = visible_sections_and_answers(branching, given)
    assert "apps" not in visible
    assert "chat_harm" not in visible
    assert shown_questions(branching.section("first"), visible) == [branching.question("age")]


@pytest.mark.parametrize(
    ("apps", "shown"),
    [
        (["chat"], True),
        (["video", "games"], True),  # any of the values
        (["video"], False),
        ([], False),
        ([{"other": "chat"}], False),  # the text of "Other" is not a value
        (["video", {"other": "games"}], False),
    ],
)
def test_multi_choice_condition_matches_any_chosen_value(branching, apps, shown):
    given = {"age": "adult", "apps": apps, "chat_harm": "yes"}
    _, visible = visible_sections_and_answers(branching, given)
    assert ("chat_harm" in visible) is shown
    section = branching.section("first")
    assert (branching.question("chat_harm") in shown_questions(section, visible)) is shown


def test_single_choice_other_answer_is_not_a_value(branching):
    sections, visible = visible_sections_and_answers(branching, {"age": {"other": "adult"}})
    assert section_ids(sections) == ["first", "end"]
    assert "apps" not in [q.id for q in shown_questions(sections[0], visible)]


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("a", {"a"}),
        (["a", "b", {"other": "c"}], {"a", "b"}),
        ({"other": "a"}, set()),
        (3, set()),
        (None, set()),
    ],
)
def test_chosen_values(answer, expected):
    assert chosen_values(answer) == expected


@pytest.mark.parametrize(
    ("answers", "holds"),
    [
        ({"q": "a"}, True),
        ({"q": "c"}, False),
        ({"q": ["c", "b"]}, True),
        ({"q": ["c"]}, False),
        ({"q": {"other": "a"}}, False),
        ({"q": 1}, False),
        ({}, False),  # not shown or not answered
        ({"other_question": "a"}, False),
    ],
)
def test_condition_holds(answers, holds):
    assert Condition("q", ("a", "b")).holds(answers) is holds


# --- localize ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        (None, "en", ""),
        ("Plain", "es", "Plain"),
        ({"en": "Hi", "es": "Hola"}, "es", "Hola"),
        ({"en": "Hi", "es": "Hola"}, "en", "Hi"),
        ({"es": "Hola", "en": "Hi"}, "fr", "Hi"),  # unknown language → default, not first
        ({"es": "", "en": "Hi"}, "es", "Hi"),  # empty → default
        ({"es": "Hola", "cy": "Helo"}, "fr", "Hola"),  # no default either → first
        ({}, "en", ""),
    ],
)
def test_localize_fallbacks(text, language, expected):
    assert localize(text, language, "en") == expected


def test_yaml_keeps_yaml_1_1_words_and_times_as_text():
    text = """
format: chorus-survey/1
slug: yaml-words
title: Words
languages: [en, no]
support:
  - name: Line
    hours: 9:00
sections:
  - id: s
    title: {en: S, no: S}
    questions:
      - id: q
        type: single_choice
        text: {en: Q, no: Q}
        options:
          - {value: yes, label: {en: "Yes", no: Ja}}
          - {value: no, label: {en: "No", no: Nei}}
"""
    definition = load_definition_text(text, "words.yaml")
    assert definition.languages == ("en", "no")
    assert definition.support[0].hours == "9:00"
    assert definition.question("q").option_values() == ("yes", "no")


def test_yaml_true_false_and_integers_still_work():
    text = """
format: chorus-survey/1
slug: yaml-types
title: T
invite_only: true
min_report_n: 25
sections:
  - id: s
    title: S
    questions:
      - {id: q, type: number, text: N, min: -3, max: 0x10}
"""
    # 0x10 is text in YAML 1.2's core schema, so max is not a number.
    with pytest.raises(DefinitionError) as caught:
        load_definition_text(text, "types.yaml")
    assert caught.value.problems == ["sections[0].questions[0].max: must be a number"]
    definition = load_definition_text(text.replace("0x10", "16"), "types.yaml")
    assert definition.invite_only is True and definition.min_report_n == 25
    assert definition.question("q").min == -3 and definition.question("q").max == 16


def test_exit_is_not_a_survey_slug():
    # /s/exit is the quick exit: a survey there would be unreachable.
    text = json.dumps(minimal(slug="exit"))
    assert problems_of_text(text, "exit.json") == ['slug: "exit" is reserved; choose another']
