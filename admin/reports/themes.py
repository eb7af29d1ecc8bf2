"""Themes in free-text answers: the codebook, keyword rules, topic suggestions, agreement.

An analyst reads free-text answers and codes each one with the themes it carries
(docs/report-format.md "Themes"). This module is the part of that work that needs
no database: a codebook of themes and its CSV form, keyword rules that suggest
themes, NMF topics that suggest themes nobody has written down yet, codes (which
themes a coder gave which answer) and how far two coders agree.

Matching and topics read text the same way, through `fold`: case and accents are
ignored ("NIÑO" reads as "nino"), so a keyword typed with or without accents finds
answers typed with or without them, in English and in Spanish.
"""

from __future__ import annotations

import csv
import functools
import io
import re
import sys
import unicodedata
import warnings
from collections.abc import Iterable, Mapping, Sequence, Set
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

from survey.definition import TEXT_TYPES, SurveyDefinition
from survey.spreadsheet import looks_like_formula, rows_csv

# --- the codebook -------------------------------------------------------------------

THEME_ID_RE = re.compile(r"[a-z][a-z0-9_]*")
MAX_ID_CHARS = 64
MAX_LABEL_CHARS = 200
# The database's columns (survey.models.Theme): a longer feature or harm would be
# refused by PostgreSQL, so it is refused here first, with a message.
MAX_SHORT_CHARS = 500
MAX_DESCRIPTION_CHARS = 5000
CSV_COLUMNS = ("id", "label", "description", "feature", "harm", "keywords")
KEYWORD_SEPARATOR = ";"
# Line breaks in a codebook's text are "\n", as in answers (survey.answers.clean_text):
# the CSV writer leaves a cell with a lone "\r" unquoted, which would split its row.
CARRIAGE_RETURN = 'has a carriage return; line breaks are written "\\n"'


class CodebookError(ValueError):
    """A codebook that can't be used; `problems` lists every reason, each with its row
    and column (`row 3, id: ...`) so the file can be fixed in one go."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class Theme:
    """One theme of a codebook: what answers that carry it say.

    `id` is what codes and reports refer to; `feature` and `harm` say which product
    feature and which harm the theme is about; `keywords` are the rules that suggest
    it (see `rule_matches`).
    """

    id: str
    label: str
    description: str = ""
    feature: str = ""
    harm: str = ""
    keywords: tuple[str, ...] = ()


IDENTIFYING_WORDING = {
    "name": "a person's name",
    "place": "a place",
    "email": "an email address",
    "phone": "a phone number",
    "handle": "a social media handle",
    "url": "a web address",
    "address": "an address",
    "date": "a date",
    "age": "an age",
}


def identifying_warnings(theme: Theme, languages: Sequence[str] = ()) -> list[str]:
    """What in the theme's id, label or keywords looks like a name, a place or a contact
    detail, one message per word ("keywords: “leeds” looks like a place"), each
    starting with its field. The codebook is stored unencrypted, so these are worth a
    second look; they are warnings, not errors: "Grace" may be the theme's own word."""
    from admin.reports import masking

    languages = tuple(languages) or masking.LANGUAGES
    fields = [("id", [theme.id]), ("label", [theme.label]), ("keywords", list(theme.keywords))]
    found: list[str] = []
    for field, phrases in fields:
        seen: set[str] = set()
        for phrase in phrases:
            for words, kind in masking.looks_identifying(phrase, languages):
                if words.casefold() in seen:
                    continue
                seen.add(words.casefold())
                found.append(f"{field}: “{words}” looks like {IDENTIFYING_WORDING[kind]}")
    return found


def normalise_keywords(keywords: Iterable[str]) -> tuple[str, ...]:
    """Keywords as a codebook keeps them: trimmed, empty ones dropped, and each listed
    once, the first spelling kept. Two spellings are the same keyword when they match
    the same answers (`keyword_key`): "Niño", "nino" and "NIÑO" are one keyword."""
    kept: dict[str, str] = {}
    for keyword in keywords:
        keyword = keyword.strip()
        if keyword:
            kept.setdefault(keyword_key(keyword), keyword)
    return tuple(kept.values())


def keyword_key(keyword: str) -> str:
    """What a keyword matches: its folded words, single-spaced."""
    return " ".join(fold(keyword).split())


def codebook_problems(themes: Sequence[Theme]) -> list[str]:
    """Every reason `themes` isn't a usable codebook, each named by the CSV row the
    theme would be written on: the header is row 1, the first theme row 2."""
    return numbered_problems(list(enumerate(themes, start=2)))


def numbered_problems(numbered: Sequence[tuple[int, Theme]]) -> list[str]:
    """Every problem of themes on the given rows, row by row: each theme's own, and
    an id already used on an earlier row."""
    problems: list[str] = []
    first_row: dict[str, int] = {}
    for row, theme in numbered:
        problems += theme_problems(row, theme)
        if theme.id in first_row:
            problems.append(
                f'row {row}, id: "{theme.id}" is already the id of row {first_row[theme.id]}'
            )
        elif theme.id:
            first_row[theme.id] = row
    return problems


def theme_problems(row: int, theme: Theme) -> list[str]:
    """What is wrong with one theme (duplicate ids are the codebook's to find)."""
    problems = []
    where = f"row {row}"
    if not theme.id:
        problems.append(f"{where}, id: required")
    elif len(theme.id) > MAX_ID_CHARS:
        problems.append(
            f'{where}, id: "{theme.id}" has {len(theme.id)} characters, at most {MAX_ID_CHARS}'
        )
    elif not THEME_ID_RE.fullmatch(theme.id):
        problems.append(
            f'{where}, id: "{theme.id}" must be lowercase letters, digits and _, '
            "starting with a letter"
        )
    if not theme.label.strip():
        problems.append(f"{where}, label: required")
    elif len(theme.label) > MAX_LABEL_CHARS:
        problems.append(f"{where}, label: {len(theme.label)} characters, at most {MAX_LABEL_CHARS}")
    limits = {"description": MAX_DESCRIPTION_CHARS, "feature": MAX_SHORT_CHARS,
              "harm": MAX_SHORT_CHARS}  # fmt: skip
    for column, limit in limits.items():
        length = len(getattr(theme, column))
        if length > limit:
            problems.append(f"{where}, {column}: {length} characters, at most {limit}")
    for column in ("label", "description", "feature", "harm"):
        if "\r" in getattr(theme, column):
            problems.append(f"{where}, {column}: {CARRIAGE_RETURN}")
    for keyword in theme.keywords:
        if "\r" in keyword:
            problems.append(f'{where}, keywords: "{keyword.strip()}" {CARRIAGE_RETURN}')
        elif KEYWORD_SEPARATOR in keyword:
            problems.append(
                f'{where}, keywords: "{keyword}" contains "{KEYWORD_SEPARATOR}", '
                "which separates keywords"
            )
        elif not any(char.isalnum() for char in fold(keyword)):
            problems.append(f'{where}, keywords: "{keyword}" has no letter or digit')
    if tuple(theme.keywords) != normalise_keywords(theme.keywords):
        problems.append(
            f"{where}, keywords: must be trimmed, not empty, and each listed once "
            "(as normalise_keywords gives them)"
        )
    return problems


def codebook_from_csv(text: str) -> list[Theme]:
    """The themes of a codebook CSV (the columns of `CSV_COLUMNS`, in any order).

    Accepts what a spreadsheet saves: a byte-order mark, \\r\\n or \\n line ends
    (line breaks inside cells become "\\n"), blank rows, trailing empty cells. Rows
    are numbered as a spreadsheet shows them (the header is row 1). Cells that
    `survey.spreadsheet.safe_cell` guarded come back as they were typed. Raises
    CodebookError with every problem found.
    """
    text = text.removeprefix("\ufeff")
    rows: list[tuple[int, list[str]]] = []
    number = 0
    try:
        for number, cells in enumerate(csv.reader(io.StringIO(text, newline=""), strict=True), 1):
            if any(cell.strip() for cell in cells):
                rows.append((number, cells))
    except csv.Error as exc:
        raise CodebookError([f"row {number + 1}: not readable as CSV ({exc})"]) from None
    if not rows:
        raise CodebookError(
            [f"the file is empty: a codebook starts with the header row {','.join(CSV_COLUMNS)}"]
        )
    (header_row, header), *theme_rows = rows
    columns = [cell.strip().lower() for cell in header]
    while not columns[-1]:  # empty cells a spreadsheet left after the last column
        columns.pop()
    header_problems = check_header(header_row, columns)
    if header_problems:
        raise CodebookError(header_problems)

    numbered: list[tuple[int, Theme]] = []
    too_long: list[str] = []
    for number, cells in theme_rows:
        if any(cell.strip() for cell in cells[len(columns) :]):
            too_long.append(f"row {number}: {len(cells)} cells where the header has {len(columns)}")
            continue
        values = dict.fromkeys(CSV_COLUMNS, "")
        values.update(
            (column, one_line_end(unguard(cell)))
            for column, cell in zip(columns, cells, strict=False)
        )
        theme = Theme(
            id=values["id"].strip(),
            label=values["label"],
            description=values["description"],
            feature=values["feature"],
            harm=values["harm"],
            keywords=normalise_keywords(values["keywords"].split(KEYWORD_SEPARATOR)),
        )
        numbered.append((number, theme))
    problems = too_long + numbered_problems(numbered)
    if problems:
        raise CodebookError(problems)
    return [theme for _, theme in numbered]


def check_header(row: int, columns: list[str]) -> list[str]:
    """What is wrong with a codebook's header row (which columns are missing,
    unknown or repeated)."""
    where = f"row {row} (header)"
    problems = []
    repeated = sorted({column for column in columns if columns.count(column) > 1 and column})
    if repeated:
        problems.append(
            f"{where}: {_plural('column', repeated)} {_quoted(repeated)} more than once"
        )
    missing = [column for column in CSV_COLUMNS if column not in columns]
    if missing:
        problems.append(f"{where}: missing {_plural('column', missing)} {_quoted(missing)}")
    unknown = [column or "(empty)" for column in columns if column not in CSV_COLUMNS]
    if unknown:
        problems.append(
            f"{where}: unknown {_plural('column', unknown)} {_quoted(unknown)}; "
            f"a codebook has the columns {', '.join(CSV_COLUMNS)}"
        )
    return problems


def _plural(noun: str, items: Sequence[Any]) -> str:
    return noun if len(items) == 1 else noun + "s"


def _quoted(items: Iterable[str]) -> str:
    return ", ".join(f'"{item}"' for item in items)


def unguard(cell: str) -> str:
    """The text `survey.spreadsheet.safe_cell` was given, from the cell it wrote.

    safe_cell puts an apostrophe before text that a spreadsheet could read as a
    formula; this takes exactly that apostrophe off again. Text typed with a leading
    apostrophe before =, +, -, @, a tab or a carriage return can't be told apart from
    guarded text, so it loses that apostrophe (the one thing that doesn't round-trip).
    """
    if cell.startswith("'") and looks_like_formula(cell[1:]):
        return cell[1:]
    return cell


def one_line_end(text: str) -> str:
    """Line breaks in a cell as "\n", however the spreadsheet saved them."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def codebook_to_csv(themes: Sequence[Theme]) -> str:
    """The codebook as CSV that `codebook_from_csv` reads back into the same themes.

    Written by `survey.spreadsheet.rows_csv`, so every cell is guarded against
    spreadsheet formulas; keywords are joined with "; ". Raises CodebookError when the
    themes aren't a valid codebook, which couldn't be read back.
    """
    problems = codebook_problems(themes)
    if problems:
        raise CodebookError(problems)
    return rows_csv(
        CSV_COLUMNS,
        ((t.id, t.label, t.description, t.feature, t.harm, "; ".join(t.keywords)) for t in themes),
    )


def merge_themes(codebook: Sequence[Theme], keep_id: str, merge_ids: Iterable[str]) -> list[Theme]:
    """The codebook after the themes `merge_ids` are folded into `keep_id`.

    The merged themes leave the codebook; the kept theme keeps its wording and takes
    on their keywords too (after its own, each listed once), so the rules that used to
    suggest a merged theme now suggest the kept one. Codes are merged by `merge_codes`.
    """
    merging = _check_merge({theme.id for theme in codebook}, keep_id, merge_ids)
    gained = [k for theme in codebook if theme.id in merging for k in theme.keywords]
    return [
        replace(theme, keywords=normalise_keywords([*theme.keywords, *gained]))
        if theme.id == keep_id
        else theme
        for theme in codebook
        if theme.id not in merging
    ]


def merge_codes(
    codes: Mapping[str, Set[str]], keep_id: str, merge_ids: Iterable[str]
) -> dict[str, frozenset[str]]:
    """One coder's codes after `merge_ids` are merged into `keep_id`: an answer that
    carried any of them carries `keep_id` instead (once, however many it carried)."""
    merging = frozenset(merge_ids) - {keep_id}
    merged: dict[str, frozenset[str]] = {}
    for key, theme_ids in codes.items():
        theme_ids = frozenset(theme_ids)
        if theme_ids & merging:
            theme_ids = (theme_ids - merging) | {keep_id}
        merged[key] = theme_ids
    return merged


def _check_merge(known: Set[str], keep_id: str, merge_ids: Iterable[str]) -> frozenset[str]:
    merging = frozenset(merge_ids)
    problems = []
    if keep_id not in known:
        problems.append(f'"{keep_id}" is not a theme of the codebook')
    if keep_id in merging:
        problems.append(f'"{keep_id}" can\'t be merged into itself')
    problems += [
        f'"{m}" is not a theme of the codebook' for m in sorted(merging - known - {keep_id})
    ]
    if problems:
        raise CodebookError(problems)
    return merging


# --- reading text the same way everywhere ------------------------------------------


@functools.cache
def _without_combining_marks() -> dict[int, None]:
    """A str.translate table that deletes every combining mark (what NFKD splits
    accents into). Built once, on first use (about 0.1 s)."""
    return dict.fromkeys(
        code for code in range(sys.maxunicode + 1) if unicodedata.combining(chr(code))
    )


def fold(text: str) -> str:
    """Text with case and accents ignored: casefolded, NFKD-decomposed (so "ﬁ" is
    "fi" and a no-break space a space) and stripped of combining marks, as
    scikit-learn's strip_accents="unicode" strips them. "NIÑOS" folds to "ninos"."""
    if text.isascii():
        return text.lower()
    return unicodedata.normalize("NFKD", text.casefold()).translate(_without_combining_marks())


# --- keyword rules ------------------------------------------------------------------

WORD_RE = re.compile(r"\w+")
_WORD_CHAR = re.compile(r"\w")


def keyword_pattern(keyword: str) -> re.Pattern[str]:
    """The regular expression, over folded text, that finds a keyword.

    A keyword is literal text ("c++" and "(sic)" mean those characters), matched
    as a whole word or phrase: where it starts or ends with a letter or digit, no
    letter or digit may touch it there ("e2e" finds "E2E," but not "e2ee"). Words of
    a phrase may be apart by any run of whitespace, line breaks included.
    """
    words = fold(keyword).split()
    if not words:
        raise ValueError(f'keyword "{keyword}" is empty')
    body = r"\s+".join(re.escape(word) for word in words)
    start = r"(?<!\w)" if _WORD_CHAR.match(words[0][0]) else ""
    end = r"(?!\w)" if _WORD_CHAR.match(words[-1][-1]) else ""
    return re.compile(start + body + end)


def rule_matches(keywords: Iterable[str], text: str) -> bool:
    """Whether any keyword occurs in `text` (see `keyword_pattern`). Checks each
    keyword in turn: fine for one text, `compile_rules` for many."""
    folded = fold(text)
    return any(keyword_pattern(keyword).search(folded) for keyword in keywords)


@dataclass(frozen=True)
class _Rule:
    """One keyword, found in a text by its longest word: when `pattern` is None the
    keyword is that one word, and the word being in the text is the match."""

    pattern: re.Pattern[str] | None
    theme_ids: frozenset[str]


@dataclass(frozen=True)
class RuleMatcher:
    """Every keyword of a codebook, indexed by word so that one text costs one
    fold, one split into words and a look-up of those words, whatever the size of
    the codebook. Only a keyword with several words or with punctuation is then
    confirmed with its own pattern, and only in texts that have its longest word.
    Build it with `compile_rules`."""

    rules_by_word: Mapping[str, tuple[_Rule, ...]]
    theme_order: Mapping[str, int]

    def themes_for(self, text: str) -> tuple[str, ...]:
        """The ids of the themes any of whose keywords occurs in `text`, in codebook
        order; the same as testing `rule_matches` theme by theme."""
        folded = fold(text)
        found: set[str] = set()
        for word in self.rules_by_word.keys() & set(WORD_RE.findall(folded)):
            for rule in self.rules_by_word[word]:
                if rule.pattern is None or rule.pattern.search(folded):
                    found |= rule.theme_ids
        return tuple(sorted(found, key=self.theme_order.__getitem__))


def compile_rules(themes: Sequence[Theme]) -> RuleMatcher:
    """The keyword rules of a codebook, ready to run over many texts.

    Every word of a keyword is a whole word of any text it occurs in (keywords are
    whole words and phrases), so a text without the keyword's longest word can't
    hold the keyword and is never searched for it.
    """
    # Each keyword once (by what it matches), with one of its spellings and the
    # themes it suggests.
    keywords: dict[str, tuple[str, set[str]]] = {}
    for theme in themes:
        for keyword in theme.keywords:
            if not WORD_RE.search(fold(keyword)):
                raise CodebookError([f'theme "{theme.id}", keywords: "{keyword}" has no word'])
            keywords.setdefault(keyword_key(keyword), (keyword, set()))[1].add(theme.id)
    rules_by_word: dict[str, list[_Rule]] = {}
    for key, (keyword, theme_ids) in keywords.items():
        longest = max(WORD_RE.findall(key), key=len)
        pattern = None if WORD_RE.fullmatch(key) else keyword_pattern(keyword)
        rules_by_word.setdefault(longest, []).append(_Rule(pattern, frozenset(theme_ids)))
    order = {theme.id: index for index, theme in enumerate(themes)}
    return RuleMatcher({word: tuple(rules) for word, rules in rules_by_word.items()}, order)


# --- codes --------------------------------------------------------------------------

ANSWER_PARTS = ("text", "other")
# One coder's codes: answer key -> the ids of the themes it carries. An answer
# that isn't a key carries no theme.
Codes = dict[str, frozenset[str]]


def answer_key(response_id: str, question_id: str, part: str) -> str:
    """The key of one free-text answer: the text of a short or long text question
    ("text"), or the "Other" text of a choice question ("other"). Question ids and
    parts have no ":", so `parse_answer_key` can always split a key again."""
    if part not in ANSWER_PARTS:
        raise ValueError(f'part must be one of {", ".join(ANSWER_PARTS)}, not "{part}"')
    if ":" in question_id:
        raise ValueError(f'question id "{question_id}" contains ":"')
    return f"{response_id}:{question_id}:{part}"


def parse_answer_key(key: str) -> tuple[str, str, str]:
    """(response id, question id, part) of an `answer_key`."""
    response_id, question_id, part = key.rsplit(":", 2)
    return response_id, question_id, part


def free_texts(
    definition: SurveyDefinition, response_id: str, answers: Mapping[str, Any]
) -> dict[str, str]:
    """The free texts of one response (as docs/survey-format.md stores answers), by
    answer key, in question order: text answers and "Other" texts that aren't blank."""
    texts: dict[str, str] = {}
    for question in definition.answerable_questions():
        value = answers.get(question.id, {}).get("value")
        if question.type in TEXT_TYPES and isinstance(value, str):
            text, part = value, "text"
        elif question.is_choice:
            items = value if isinstance(value, list) else [value]
            others = [item["other"] for item in items if isinstance(item, dict)]
            text, part = (others[0] if others else ""), "other"
        else:
            continue
        if isinstance(text, str) and text.strip():
            texts[answer_key(response_id, question.id, part)] = text
    return texts


def suggest_from_rules(matcher: RuleMatcher, answers: Mapping[str, str]) -> Codes:
    """Codes the keyword rules suggest for free-text answers (answer key -> text):
    only answers some theme's rule matches are keys."""
    suggested: Codes = {}
    for key, text in answers.items():
        theme_ids = matcher.themes_for(text)
        if theme_ids:
            suggested[key] = frozenset(theme_ids)
    return suggested


# --- topic suggestions --------------------------------------------------------------

# scikit-learn (and NumPy) are imported inside the functions that use them: importing
# them takes about a second, and only topic suggestions need them.
# Topics keep the most frequent terms only, which bounds memory on large surveys.
MAX_TOPIC_TERMS = 10_000
TOPIC_EXAMPLES = 5
TOPIC_WORD_PATTERN = r"(?u)\b\w\w+\b"  # scikit-learn's default: words of 2+ characters
NMF_MAX_ITER = 400


@dataclass(frozen=True)
class Topic:
    """A group of answers that use the same words, as a suggestion for a theme.

    `terms` are its strongest words (folded); `examples` the indexes of the texts
    most made of it (at most 5, strongest first); `count` how many texts have it
    as their strongest topic and `share` that count over all texts given.
    """

    index: int
    terms: tuple[str, ...]
    examples: tuple[int, ...]
    count: int
    share: float


@functools.cache
def topic_stop_words() -> tuple[str, ...]:
    """English, Spanish and Arabic words too common to name a topic, folded like the
    texts.

    English: scikit-learn's own list. Spanish and Arabic: the `stop-words` package's lists
    (github.com/Alir3z4/stop-words, BSD licence; 60 kB with its 30-odd languages),
    the small, maintained one on PyPI; NLTK's or spaCy's come with far more to install.
    Each word is folded and split as the texts are, so "pa'" is "pa" and
    scikit-learn finds every stop word as one of its own tokens.
    """
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS
    from stop_words import get_stop_words

    token = re.compile(TOPIC_WORD_PATTERN)
    words = {w for phrase in ENGLISH_STOP_WORDS for w in token.findall(fold(phrase))}
    for language in ("spanish", "arabic"):
        words |= {w for phrase in get_stop_words(language) for w in token.findall(fold(phrase))}
    return tuple(sorted(words))


def topic_suggestions(
    texts: Sequence[str], n_topics: int = 8, n_terms: int = 8, seed: int = 0
) -> list[Topic]:
    """Up to `n_topics` topics of the texts: TF-IDF of their folded words less English
    and Spanish stop words, factorised by NMF (scikit-learn), most common topic first.

    Give it masked texts (admin/reports/masking.py): a topic's words become a theme's
    keywords and label, which are stored unencrypted. The masker's placeholders are
    no words here, and a word that still looks like a name or a place
    (`masking.looks_identifying`) is never one of a topic's terms.

    The same texts and seed give the same topics. There are never more topics than
    texts with words left, and a topic that is no text's strongest is left out. When
    no text has any words left (none given, all blank, all stop words) the answer is
    [] rather than an error.
    """
    if n_topics < 1 or n_terms < 1:
        raise ValueError("n_topics and n_terms must be at least 1")
    if not texts:
        return []
    import numpy as np
    from sklearn.decomposition import NMF
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(
        preprocessor=_without_placeholders,
        token_pattern=TOPIC_WORD_PATTERN,
        stop_words=list(topic_stop_words()),
        max_features=MAX_TOPIC_TERMS,
    )
    try:
        weights_by_term = vectorizer.fit_transform(texts)
    except ValueError as exc:
        if "empty vocabulary" in str(exc):
            return []
        raise
    texts_with_words = int(np.count_nonzero(np.diff(weights_by_term.indptr)))
    n_components = min(n_topics, texts_with_words, weights_by_term.shape[1])
    nmf = NMF(n_components=n_components, init="nndsvda", random_state=seed, max_iter=NMF_MAX_ITER)
    with warnings.catch_warnings(), np.errstate(invalid="ignore"):
        # An unconverged factorisation still ranks words and texts; these are
        # suggestions a person reads, not estimates. (NMF's error measure takes the
        # square root of a rounding error below zero when the fit is exact.)
        warnings.simplefilter("ignore", ConvergenceWarning)
        text_weights = nmf.fit_transform(weights_by_term)
    vocabulary = vectorizer.get_feature_names_out()
    has_topic = text_weights.max(axis=1) > 0
    strongest = np.where(has_topic, text_weights.argmax(axis=1), -1)

    found = []
    for component in range(n_components):
        term_weights = nmf.components_[component]
        top_terms: list[int] = []
        for i in _strongest_first(term_weights):
            if len(top_terms) == n_terms or term_weights[i] <= 0:
                break
            if not _identifying(str(vocabulary[i])):
                top_terms.append(i)
        if not top_terms:
            continue
        column = text_weights[:, component]
        examples = [i for i in _strongest_first(column)[:TOPIC_EXAMPLES] if column[i] > 0]
        count = int(np.count_nonzero(strongest == component))
        if count == 0:
            # The strongest topic of no text: when the texts hold fewer topics than
            # asked for, such leftovers repeat the words of another.
            continue
        found.append((tuple(str(vocabulary[i]) for i in top_terms), tuple(examples), count))
    found.sort(key=lambda topic: -topic[2])
    return [
        Topic(index, terms, examples, count, count / len(texts))
        for index, (terms, examples, count) in enumerate(found)
    ]


def _without_placeholders(text: str) -> str:
    """The folded text without the masker's placeholders: "[name]" is where a name
    was, not a word for a topic or a keyword."""
    from admin.reports.masking import PLACEHOLDER

    return PLACEHOLDER.sub(" ", fold(text))


@functools.lru_cache(maxsize=65536)
def _identifying(term: str) -> bool:
    """A term that looks like a name or a place even after masking (one the masker
    missed): never offered as a topic's word, a keyword or a label."""
    from admin.reports.masking import looks_identifying

    return bool(looks_identifying(term))


def _strongest_first(weights: Any) -> list[int]:
    """Indexes by weight, largest first; equal weights keep their order."""
    import numpy as np

    return [int(i) for i in np.argsort(-weights, kind="stable")]


# --- agreement between two coders ---------------------------------------------------


def cohen_kappa(a: Sequence[bool], b: Sequence[bool]) -> float | None:
    """Cohen's kappa of two coders' yes/no for one theme over the same answers.

    kappa = (po - pe) / (1 - pe), with po the share of answers they agree on and pe
    the agreement expected by chance from how often each says yes. Worked out in
    whole numbers (multiplied through by n²) so that it is exact until the division.
    None when it is undefined: no answers, or pe = 1, which is when both coders gave
    every answer the same single code (all yes, or all no) and chance alone explains
    their agreement (scikit-learn returns nan there).
    """
    if len(a) != len(b):
        raise ValueError(f"{len(a)} codes against {len(b)}: both coders must code the same answers")
    n = len(a)
    if n == 0:
        return None
    yes_a, yes_b = sum(map(bool, a)), sum(map(bool, b))
    agreed = sum(bool(x) == bool(y) for x, y in zip(a, b, strict=True))
    expected = yes_a * yes_b + (n - yes_a) * (n - yes_b)  # pe × n²
    if expected == n * n:
        return None
    return (n * agreed - expected) / (n * n - expected)


@dataclass(frozen=True)
class ThemeAgreement:
    """How two coders coded one theme over the same answers."""

    theme_id: str
    answers: int
    both: int
    only_a: int
    only_b: int
    kappa: float | None

    @property
    def neither(self) -> int:
        return self.answers - self.both - self.only_a - self.only_b


class Disagreement(NamedTuple):
    """An answer the two coders coded differently: the themes only each gave it."""

    answer_key: str
    only_a: frozenset[str]
    only_b: frozenset[str]


def agreement_by_theme(
    codes_a: Mapping[str, Set[str]],
    codes_b: Mapping[str, Set[str]],
    theme_ids: Sequence[str],
    answer_keys: Sequence[str],
) -> list[ThemeAgreement]:
    """Agreement on each theme (in `theme_ids` order) over the answers `answer_keys`
    (each counted once); an answer a coder has no codes for carries no theme."""
    keys = list(dict.fromkeys(answer_keys))
    empty: frozenset[str] = frozenset()
    found = []
    for theme_id in theme_ids:
        a = [theme_id in codes_a.get(key, empty) for key in keys]
        b = [theme_id in codes_b.get(key, empty) for key in keys]
        found.append(
            ThemeAgreement(
                theme_id=theme_id,
                answers=len(keys),
                both=sum(x and y for x, y in zip(a, b, strict=True)),
                only_a=sum(x and not y for x, y in zip(a, b, strict=True)),
                only_b=sum(y and not x for x, y in zip(a, b, strict=True)),
                kappa=cohen_kappa(a, b),
            )
        )
    return found


def disagreements(
    codes_a: Mapping[str, Set[str]],
    codes_b: Mapping[str, Set[str]],
    answer_keys: Sequence[str],
) -> list[Disagreement]:
    """The answers (in `answer_keys` order, each once) the coders coded differently."""
    empty: frozenset[str] = frozenset()
    found = []
    for key in dict.fromkeys(answer_keys):
        a, b = frozenset(codes_a.get(key, empty)), frozenset(codes_b.get(key, empty))
        if a != b:
            found.append(Disagreement(key, a - b, b - a))
    return found
