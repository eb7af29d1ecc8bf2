"""admin.reports.themes: codebook CSV, keyword rules, topic suggestions, codes and agreement."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.metrics import cohen_kappa_score

from admin.reports.themes import (
    CSV_COLUMNS,
    CodebookError,
    Disagreement,
    Theme,
    ThemeAgreement,
    agreement_by_theme,
    answer_key,
    codebook_from_csv,
    codebook_problems,
    codebook_to_csv,
    cohen_kappa,
    compile_rules,
    disagreements,
    fold,
    free_texts,
    keyword_key,
    merge_codes,
    merge_themes,
    normalise_keywords,
    parse_answer_key,
    rule_matches,
    suggest_from_rules,
    topic_stop_words,
    topic_suggestions,
    unguard,
)
from survey.definition import parse_definition
from survey.spreadsheet import safe_cell

PROPERTIES = settings(
    max_examples=150,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

HEADER = ",".join(CSV_COLUMNS)

EVIDENCE = Theme(
    id="evidence_lost",
    label="Evidence lost",
    description="Reports that lost screenshots or messages",
    feature="Reporting",
    harm="Abuse goes unpunished",
    keywords=("lost evidence", "screen shot", "pruebas"),
)
STRANGERS = Theme(
    id="strangers",
    label="Contact from strangers",
    keywords=("stranger", "desconocido", "niño"),
)


def problems_of(text: str) -> list[str]:
    with pytest.raises(CodebookError) as caught:
        codebook_from_csv(text)
    assert str(caught.value) == "\n".join(caught.value.problems)
    return caught.value.problems


# --- codebook CSV -------------------------------------------------------------------


def test_codebook_round_trips_through_csv():
    text = codebook_to_csv([EVIDENCE, STRANGERS])
    assert text.splitlines()[0] == HEADER
    assert "lost evidence; screen shot; pruebas" in text
    assert codebook_from_csv(text) == [EVIDENCE, STRANGERS]


def test_reading_a_spreadsheets_csv():
    text = (
        "\ufeffKeywords, id ,label,description,feature,harm,,\r\n"
        "\r\n"
        " NIÑO ;; niño; Nino ;;kid ,strangers,Contact from strangers,,,,,\r\n"
        ",,,,,,,\r\n"
        "lost evidence,evidence_lost,Evidence lost\r\n"
    )
    assert codebook_from_csv(text) == [
        Theme("strangers", "Contact from strangers", keywords=("NIÑO", "kid")),
        Theme("evidence_lost", "Evidence lost", keywords=("lost evidence",)),
    ]


def test_a_header_alone_is_an_empty_codebook():
    assert codebook_from_csv(HEADER + "\n") == []
    assert codebook_to_csv([]) == HEADER + "\n"


def test_guarded_cells_come_back_as_typed():
    theme = Theme(
        "formulas",
        '=HYPERLINK("http://x")',
        description="+44 20 7946 0000",
        feature="-ish",
        harm="@mention\tand more",
        keywords=("-ish", "c++"),
    )
    text = codebook_to_csv([theme])
    row = text.splitlines()[1]
    assert row.startswith('formulas,"\'=HYPERLINK(""http://x"")",\'+44 20 7946 0000,\'-ish,')
    assert "'-ish; c++" in row
    assert codebook_from_csv(text) == [theme]


def test_unguard_undoes_exactly_safe_cell():
    for typed in ("=1+1", "+1", "-", "@a", "\tx", "\rx", "plain", "'quoted", "", "'"):
        assert unguard(safe_cell(typed)) == typed
    # The one ambiguous text: an apostrophe typed before a formula sign reads as the
    # guard and is taken off (codebook_to_csv can't tell it from safe_cell's own).
    assert unguard(safe_cell("'=1")) == "=1"


def test_every_problem_is_reported_with_its_row_and_column():
    text = "\n".join(
        [
            HEADER,
            "evidence_lost,Evidence lost,,,,",
            "Evidence Lost,Evidence again,,,,",
            ",,description only,,,",
            f"{'x' * 65},{'L' * 201},,,,---; ok",
            "evidence_lost,Twice,,,,",
            "extra,Extra,,,,,not a column",
            "9lives,Cats,,,,",
        ]
    )
    assert problems_of(text) == [
        "row 7: 7 cells where the header has 6",
        'row 3, id: "Evidence Lost" must be lowercase letters, digits and _, '
        "starting with a letter",
        "row 4, id: required",
        "row 4, label: required",
        f'row 5, id: "{"x" * 65}" has 65 characters, at most 64',
        "row 5, label: 201 characters, at most 200",
        'row 5, keywords: "---" has no letter or digit',
        'row 6, id: "evidence_lost" is already the id of row 2',
        'row 8, id: "9lives" must be lowercase letters, digits and _, starting with a letter',
    ]


def test_an_id_of_64_characters_and_a_label_of_200_are_allowed():
    theme = Theme("a" * 64, "L" * 200)
    assert codebook_from_csv(codebook_to_csv([theme])) == [theme]


def test_feature_harm_and_description_fit_their_columns():
    fits = Theme("a", "A", "d" * 5000, "f" * 500, "h" * 500)
    assert codebook_problems([fits]) == []
    over = Theme("a", "A", "d" * 5001, "f" * 501, "h" * 501)
    assert codebook_problems([over]) == [
        "row 2, description: 5001 characters, at most 5000",
        "row 2, feature: 501 characters, at most 500",
        "row 2, harm: 501 characters, at most 500",
    ]


@pytest.mark.parametrize("text", ["", "\ufeff", "\n\r\n", " , ,\n"])
def test_an_empty_file(text):
    assert problems_of(text) == [
        "the file is empty: a codebook starts with the header row "
        "id,label,description,feature,harm,keywords"
    ]


def test_header_problems():
    assert problems_of("id,label,notes,id,,feature\nx,X,,,,\n") == [
        'row 1 (header): column "id" more than once',
        'row 1 (header): missing columns "description", "harm", "keywords"',
        'row 1 (header): unknown columns "notes", "(empty)"; '
        "a codebook has the columns id, label, description, feature, harm, keywords",
    ]
    assert problems_of("\nid,label,description,feature,harm\n") == [
        'row 2 (header): missing column "keywords"'
    ]


def test_unreadable_csv():
    assert problems_of(HEADER + '\nx,"unfinished\n') == [
        "row 2: not readable as CSV (unexpected end of data)"
    ]


def test_writing_an_invalid_codebook_is_refused():
    themes = [
        Theme("ok", "Ok", keywords=("a;b",)),
        Theme("ok", " ", keywords=(" padded", "x", "X")),
    ]
    assert codebook_problems(themes) == [
        'row 2, keywords: "a;b" contains ";", which separates keywords',
        "row 3, label: required",
        "row 3, keywords: must be trimmed, not empty, and each listed once "
        "(as normalise_keywords gives them)",
        'row 3, id: "ok" is already the id of row 2',
    ]
    with pytest.raises(CodebookError) as caught:
        codebook_to_csv(themes)
    assert caught.value.problems == codebook_problems(themes)


def test_carriage_returns():
    # Line breaks inside cells come back as "\n" however they were saved ...
    text = f'{HEADER}\r\nx,"two\r\nlines","old\rMac",,,\r\n'
    assert codebook_from_csv(text) == [Theme("x", "two\nlines", description="old\nMac")]
    # ... and a theme with a "\r" isn't written: the CSV writer would leave a cell
    # holding a lone "\r" unquoted, and the row would split there.
    bad = [Theme("x", "X", harm="a\rb", keywords=("new\rline",))]
    assert codebook_problems(bad) == [
        'row 2, harm: has a carriage return; line breaks are written "\\n"',
        'row 2, keywords: "new\rline" has a carriage return; line breaks are written "\\n"',
    ]


def test_keywords_are_normalised_once_per_spelling():
    assert normalise_keywords(
        [" Niño", "nino", "NIÑO ", "", "  ", "screen  shot", "Screen shot"]
    ) == (
        "Niño",
        "screen  shot",
    )
    assert keyword_key(" Screen \t SHOT ") == "screen shot"


# Codebooks as a person could type them (valid ones), for the round-trip property.
ids = st.from_regex(r"[a-z][a-z0-9_]{0,63}", fullmatch=True)
# Texts without a carriage return (codebook_problems refuses one; see
# test_carriage_returns) and without a typed apostrophe before a formula sign (see
# test_unguard_undoes_exactly_safe_cell).
characters = st.characters(exclude_categories=["Cs"], exclude_characters="\r")
cell_text = st.text(characters, max_size=40).filter(
    lambda t: not (t.startswith("'") and unguard(t) != t)
)
labels = cell_text.filter(lambda t: t.strip() and len(t) <= 200)
keyword_text = st.text(
    st.characters(exclude_categories=["Cs"], exclude_characters=";\r"), min_size=1, max_size=15
).filter(lambda k: any(c.isalnum() for c in fold(k)))
themes = st.builds(
    Theme,
    id=ids,
    label=labels,
    description=cell_text,
    feature=cell_text,
    harm=cell_text,
    keywords=st.lists(keyword_text, max_size=5).map(normalise_keywords),
)
codebooks = st.lists(themes, max_size=6, unique_by=lambda t: t.id)


@PROPERTIES
@given(codebooks)
def test_any_valid_codebook_round_trips(codebook):
    assert codebook_problems(codebook) == []
    assert codebook_from_csv(codebook_to_csv(codebook)) == codebook
    # What Excel saves: a byte-order mark and \r\n line ends, inside cells too.
    excel = "\ufeff" + codebook_to_csv(codebook).replace("\n", "\r\n")
    assert codebook_from_csv(excel) == codebook


# --- merging ------------------------------------------------------------------------


def test_merge_themes_folds_keywords_into_the_kept_theme():
    other = Theme("missing_proof", "Missing proof", keywords=("Pruebas", "proof gone"))
    merged = merge_themes([EVIDENCE, STRANGERS, other], "evidence_lost", ["missing_proof"])
    assert [t.id for t in merged] == ["evidence_lost", "strangers"]
    assert merged[0].keywords == ("lost evidence", "screen shot", "pruebas", "proof gone")
    assert merged[0].label == EVIDENCE.label and merged[1] == STRANGERS


def test_merge_themes_refuses_unknown_ids_and_itself():
    with pytest.raises(CodebookError) as caught:
        merge_themes([EVIDENCE], "nope", ["nope", "gone"])
    assert caught.value.problems == [
        '"nope" is not a theme of the codebook',
        '"nope" can\'t be merged into itself',
        '"gone" is not a theme of the codebook',
    ]


def test_merge_codes_relabels_and_dedupes_per_answer():
    codes = {
        "r1:q:text": frozenset({"a", "b", "keep"}),
        "r2:q:text": frozenset({"b"}),
        "r3:q:other": frozenset({"c"}),
        "r4:q:text": frozenset(),
    }
    assert merge_codes(codes, "keep", ["a", "b"]) == {
        "r1:q:text": {"keep"},
        "r2:q:text": {"keep"},
        "r3:q:other": {"c"},
        "r4:q:text": frozenset(),
    }


# --- keyword rules ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("keyword", "text", "matches"),
    [
        ("report", "I REPORTED it", False),
        ("report", "the Report, twice", True),
        ("report", "reports", False),
        ("niño", "mi nino", True),
        ("niño", "el NIÑO.", True),
        ("NIÑOS", "el niño", False),
        ("niño", "los NIÑOS", False),
        ("pingüino", "PINGUINO!", True),
        ("acción", "accion", True),
        ("accion", "¿Acción?", True),
        ("España", "espana", True),
        ("screen shot", "a Screen \n\t shot of it", True),
        ("screen shot", "a screenshot", False),
        ("screen shot", "screen-shot", False),
        ("e2e", "E2E, they said", True),
        ("e2e", "e2ee", False),
        ("e2e", "(e2e)", True),
        ("c++", "I code in C++.", True),
        ("c++", "I code in c", False),
        ("c++", "abc++", False),
        ("(sic)", "he wrote (SIC) there", True),
        ("(sic)", "sic", False),
        ("a.b", "axb", False),
        ("a.b", "A.B", True),
        ("[x]", "[x]", True),
        ("under_18", "under_18", True),
        ("under", "under_18", False),
        ("ﬁle", "file", True),
        ("straße", "STRASSE", True),
    ],
)
def test_rule_matches(keyword, text, matches):
    assert rule_matches([keyword], text) is matches
    matcher = compile_rules([Theme("t", "T", keywords=(keyword,))])
    assert matcher.themes_for(text) == (("t",) if matches else ())


def test_any_keyword_of_a_theme_matches():
    assert rule_matches(["stranger", "desconocido"], "Un DESCONOCIDO me escribió")
    assert not rule_matches([], "anything")


def test_a_keyword_without_a_word_cant_be_compiled():
    with pytest.raises(CodebookError, match='theme "t", keywords: "--" has no word'):
        compile_rules([Theme("t", "T", keywords=("ok", "--"))])


def test_the_matcher_gives_themes_in_codebook_order():
    shared = Theme("shared", "Shared", keywords=("screen",))
    matcher = compile_rules([STRANGERS, EVIDENCE, shared])
    text = "A stranger took a screen shot; perdí las pruebas."
    assert matcher.themes_for(text) == ("strangers", "evidence_lost", "shared")
    assert matcher.themes_for("nothing here") == ()


def test_overlapping_keywords_of_different_themes_all_match():
    matcher = compile_rules(
        [
            Theme("phrase", "P", keywords=("screen shot",)),
            Theme("first", "F", keywords=("screen",)),
            Theme("last", "L", keywords=("shot",)),
            Theme("same", "S", keywords=("Screen Shot",)),
        ]
    )
    assert matcher.themes_for("one screen shot") == ("phrase", "first", "last", "same")


words = st.sampled_from(
    ["niño", "NIÑOS", "screen", "shot", "c++", "(sic)", "e2e", "e2ee", "año", "ano", "x.y"]
)
separators = st.sampled_from([" ", "  ", "\n", ",", ".", "-", "", "(", ")"])
texts = st.lists(st.tuples(words, separators), max_size=8).map(
    lambda parts: "".join(w + s for w, s in parts)
)
rule_themes = st.lists(
    st.lists(st.one_of(words, st.tuples(words, words).map(" ".join)), min_size=1, max_size=3).map(
        normalise_keywords
    ),
    min_size=1,
    max_size=4,
)


@PROPERTIES
@given(rule_themes, st.lists(texts, max_size=5))
def test_the_compiled_matcher_agrees_with_rule_matches(keyword_lists, some_texts):
    codebook = [Theme(f"t{i}", "T", keywords=kw) for i, kw in enumerate(keyword_lists)]
    matcher = compile_rules(codebook)
    for text in some_texts:
        expected = tuple(t.id for t in codebook if rule_matches(t.keywords, text))
        assert matcher.themes_for(text) == expected


def test_fold_is_idempotent_and_ignores_case_and_accents():
    for text in ("NIÑO", "Ǆemal", "İstanbul", "ﬁ", "ÅNGSTRÖM", "plain ascii"):
        assert fold(fold(text)) == fold(text)
    assert fold("Niño Pingüino ÁÉÍÓÚ") == "nino pinguino aeiou"
    assert fold("İ") == "i"


# --- codes --------------------------------------------------------------------------


def test_answer_keys():
    key = answer_key("ab12", "story", "text")
    assert key == "ab12:story:text"
    assert parse_answer_key(key) == ("ab12", "story", "text")
    assert parse_answer_key(answer_key("a:b", "q", "other")) == ("a:b", "q", "other")
    with pytest.raises(ValueError, match="part must be one of text, other"):
        answer_key("r", "q", "value")
    with pytest.raises(ValueError, match="contains"):
        answer_key("r", "q:x", "text")


def test_free_texts_of_a_response():
    definition = parse_definition(
        {
            "format": "chorus-survey/1",
            "slug": "themes",
            "title": "Themes",
            "sections": [
                {
                    "id": "s",
                    "title": "S",
                    "questions": [
                        {"id": "story", "type": "long_text", "text": "Story?"},
                        {"id": "name", "type": "short_text", "text": "Name?"},
                        {
                            "id": "where",
                            "type": "single_choice",
                            "text": "Where?",
                            "other": True,
                            "options": [
                                {"value": "app", "label": "App"},
                                {"value": "web", "label": "Web"},
                            ],
                        },
                        {
                            "id": "what",
                            "type": "multi_choice",
                            "text": "What?",
                            "other": True,
                            "options": [
                                {"value": "chat", "label": "Chat"},
                                {"value": "feed", "label": "Feed"},
                            ],
                        },
                        {"id": "age", "type": "number", "text": "Age?"},
                    ],
                }
            ],
        }
    )
    answers = {
        "story": {"value": "They lost my evidence"},
        "name": {"value": "   "},
        "where": {"value": {"other": "en el chat"}},
        "what": {"value": ["chat", {"other": "games"}]},
        "age": {"value": 30},
    }
    assert free_texts(definition, "r1", answers) == {
        "r1:story:text": "They lost my evidence",
        "r1:where:other": "en el chat",
        "r1:what:other": "games",
    }
    assert (
        free_texts(definition, "r2", {"story": {"state": "skipped"}, "where": {"value": "app"}})
        == {}
    )


def test_suggest_from_rules_keeps_only_answers_with_a_theme():
    matcher = compile_rules([EVIDENCE, STRANGERS])
    answers = {
        "r1:story:text": "Perdí todas las PRUEBAS",
        "r2:story:text": "Un desconocido le escribió al niño",
        "r3:story:text": "Nothing to say",
        "r4:where:other": "a stranger deleted my screen shot",
    }
    assert suggest_from_rules(matcher, answers) == {
        "r1:story:text": {"evidence_lost"},
        "r2:story:text": {"strangers"},
        "r4:where:other": {"evidence_lost", "strangers"},
    }


# --- topic suggestions --------------------------------------------------------------

# Two topics no word is shared between: lost evidence in English, strangers in
# Spanish (with and without accents, which must count as one word).
EVIDENCE_TEXTS = [
    "The app lost my evidence after I reported the abuse",
    "My report disappeared and the evidence was deleted",
    "Moderators deleted the screenshots I sent as evidence",
    "I reported it twice but the report and evidence vanished",
    "Evidence lost, report ignored, screenshots gone",
]
STRANGER_TEXTS = [
    "Un desconocido escribió a mi niña por el chat",
    "Mensajes de desconocidos a los niños en el chat del juego",
    "El chat deja que un adulto desconocido contacte a niños",
    "Mi hijo recibió mensajes de un desconocido, nino de diez años",
    "Desconocidos piden fotos a las niñas por mensajes privados",
]
CORPUS = [EVIDENCE_TEXTS[i % 5] for i in range(15)] + [STRANGER_TEXTS[i % 5] for i in range(15)]
random.Random(7).shuffle(CORPUS)


def test_two_clearly_separate_topics_are_found():
    topics = topic_suggestions(CORPUS, n_topics=2, n_terms=6, seed=0)
    assert len(topics) == 2
    evidence_words = {"evidence", "report", "reported", "deleted", "screenshots", "lost"}
    stranger_words = {"desconocido", "chat", "mensajes", "ninos", "desconocidos", "nina"}
    by_side = sorted(topics, key=lambda t: len(set(t.terms) & evidence_words), reverse=True)
    evidence, strangers = by_side
    assert set(evidence.terms) & evidence_words and not set(evidence.terms) & stranger_words
    assert set(strangers.terms) & stranger_words and not set(strangers.terms) & evidence_words
    assert all(CORPUS[i] in EVIDENCE_TEXTS for i in evidence.examples)
    assert all(CORPUS[i] in STRANGER_TEXTS for i in strangers.examples)
    assert len(evidence.examples) == len(strangers.examples) == 5
    assert evidence.count == strangers.count == 15
    assert evidence.share == strangers.share == 0.5
    assert [t.index for t in topics] == [0, 1]


def test_topics_are_deterministic_with_the_seed():
    assert topic_suggestions(CORPUS, 4, 5, seed=3) == topic_suggestions(CORPUS, 4, 5, seed=3)


def test_accents_and_case_count_as_one_term():
    topics = topic_suggestions(["Niño NIÑO nino", "niño pequeño", "NINO"], n_topics=1)
    assert topics[0].terms == ("nino", "pequeno")


def test_stop_words_of_both_languages_are_left_out():
    stop = set(topic_stop_words())
    assert {"the", "and", "para", "tambien", "estan", "pa"} <= stop
    assert {fold("التي"), fold("في"), fold("أن")} <= stop  # Arabic too (issue 20)
    assert all(word == fold(word) for word in stop)
    topics = topic_suggestions(CORPUS, n_topics=2, n_terms=50)
    assert not {t for topic in topics for t in topic.terms} & stop


@pytest.mark.parametrize(
    "texts",
    [
        [],
        ["", "   ", "\n"],
        ["the and of", "el la de los también", "a"],
    ],
)
def test_no_words_no_topics(texts):
    assert topic_suggestions(texts) == []


def test_fewer_texts_than_topics():
    texts = ["evidence lost report", "", "stranger chat message"]
    topics = topic_suggestions(texts, n_topics=8)
    assert len(topics) == 2
    assert sorted(t.examples for t in topics) == [(0,), (2,)]
    assert sum(t.count for t in topics) == 2
    assert [t.share for t in topics] == [1 / 3, 1 / 3]


def test_topic_arguments_must_be_positive():
    with pytest.raises(ValueError, match="at least 1"):
        topic_suggestions(CORPUS, n_topics=0)


# --- agreement ----------------------------------------------------------------------


def test_kappa_by_hand():
    # Ten answers, one theme. Coder A says yes to 1-6, coder B to 1-4 and 7-8.
    #   both yes: 1-4 (4)   only A: 5-6 (2)   only B: 7-8 (2)   both no: 9-10 (2)
    # po = (4 + 2) / 10 = 0.6
    # A yes 6/10, B yes 6/10: pe = 0.6 × 0.6 + 0.4 × 0.4 = 0.36 + 0.16 = 0.52
    # kappa = (0.6 - 0.52) / (1 - 0.52) = 0.08 / 0.48 = 1/6
    a = [True] * 6 + [False] * 4
    b = [True] * 4 + [False] * 2 + [True] * 2 + [False] * 2
    assert cohen_kappa(a, b) == pytest.approx(1 / 6)
    assert cohen_kappa(a, a) == 1.0
    assert cohen_kappa(a, [not x for x in a]) == pytest.approx(-12 / 13)


def test_kappa_undefined_cases():
    assert cohen_kappa([], []) is None
    assert cohen_kappa([False] * 4, [False] * 4) is None  # pe = 1
    assert cohen_kappa([True] * 4, [True] * 4) is None
    assert cohen_kappa([True] * 4, [False] * 4) == 0.0  # pe = 0, po = 0
    with pytest.raises(ValueError, match="same answers"):
        cohen_kappa([True], [True, False])


def test_kappa_agrees_with_scikit_learn_on_random_codes():
    rng = random.Random(11)
    for _ in range(200):
        n = rng.randint(1, 60)
        p_a, p_b = rng.random(), rng.random()
        a = [rng.random() < p_a for _ in range(n)]
        b = [x if rng.random() < 0.6 else rng.random() < p_b for x in a]
        ours = cohen_kappa(a, b)
        if ours is None:
            assert len(set(a) | set(b)) == 1
        else:
            assert ours == pytest.approx(cohen_kappa_score(a, b, labels=[False, True]))


CODES_A = {
    "r1:q:text": frozenset({"evidence", "strangers"}),
    "r2:q:text": frozenset({"evidence"}),
    "r3:q:text": frozenset(),
    "r4:q:other": frozenset({"strangers"}),
    "elsewhere:q:text": frozenset({"evidence"}),
}
CODES_B = {
    "r1:q:text": frozenset({"evidence"}),
    "r2:q:text": frozenset({"evidence"}),
    "r4:q:other": frozenset({"strangers", "evidence"}),
    "r5:q:text": frozenset({"strangers"}),
}
KEYS = ["r1:q:text", "r2:q:text", "r3:q:text", "r4:q:other", "r5:q:text", "r1:q:text"]


def test_agreement_by_theme():
    evidence, strangers, unused = agreement_by_theme(
        CODES_A, CODES_B, ["evidence", "strangers", "unused"], KEYS
    )
    # evidence over r1..r5: A = 1,1,0,0,0; B = 1,1,0,1,0 -> po 4/5, pe = .4*.6 + .6*.4 = .48
    assert evidence == ThemeAgreement(
        "evidence", 5, both=2, only_a=0, only_b=1, kappa=pytest.approx((0.8 - 0.48) / 0.52)
    )
    # strangers: A = 1,0,0,1,0; B = 0,0,0,1,1 -> po 3/5, pe = .4*.4 + .6*.6 = .52
    assert strangers == ThemeAgreement("strangers", 5, 1, 1, 1, pytest.approx((0.6 - 0.52) / 0.48))
    assert strangers.neither == 2
    assert unused == ThemeAgreement("unused", 5, 0, 0, 0, None)


def test_disagreements():
    assert disagreements(CODES_A, CODES_B, KEYS) == [
        Disagreement("r1:q:text", frozenset({"strangers"}), frozenset()),
        Disagreement("r4:q:other", frozenset(), frozenset({"evidence"})),
        Disagreement("r5:q:text", frozenset(), frozenset({"strangers"})),
    ]
    assert disagreements(CODES_A, CODES_A, KEYS) == []
