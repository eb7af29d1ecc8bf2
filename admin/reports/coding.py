"""Coding free-text answers into themes: the codebook, and every coder's codes.

The codebook (admin/reports/themes.py's `Theme`, stored as `survey.models.Theme`
rows) is the analysts' vocabulary and is stored in the clear. Which answer carries
which theme is not: each coder's codes, and the suggestions they turned down, are
one document sealed to the survey's key (survey/sealed_answers.py
`seal_analysis`), so that nothing in the database, a log or a backup links a theme
to an answer. Reading or changing codes needs the survey's private key, which the
pages get from the unlock store and the CLI from the recovery code.

Two codings matter: the report's (`REPORT_CODING`), which the analysts build
together and which reports count, and each analyst's own independent coding
(`independent_coding(user)`), kept apart so that two people's reading of the same
answers can be compared (Cohen's kappa per theme) and their disagreements settled
in the report's coding.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy import select

from admin.reports import themes
from admin.reports.sealed_state import (
    ConcurrentChange,
    change_state,
    load_state,
    save_state,
    state_names,
)
from admin.reports.themes import Codes, Theme
from survey.definition import TEXT_TYPES, SurveyDefinition
from survey.events import announce
from survey.models import Survey, User, db
from survey.models import Theme as ThemeRow
from survey.sealed_answers import columns_of

REPORT_CODING = "coding:report"
CODING_FORMAT = "chorus-coding/1"


class CodingError(ValueError):
    """A change to the codebook or the codes that can't be made; says why, for a person.
    `problems` lists each reason on its own (a form shows each beside its field)."""

    def __init__(self, message: str, problems: list[str] | None = None):
        super().__init__(message)
        self.problems = problems or [message]


INDEPENDENT_PREFIX = "coding:user:"


def independent_coding(user: User) -> str:
    """The name of an analyst's own coding, made apart from the report's."""
    return f"{INDEPENDENT_PREFIX}{user.id}"


def coding_names(survey: Survey) -> list[str]:
    """The survey's codings: the report's first (even before anything is saved in
    it), then each analyst's independent coding that has been saved, oldest account
    first."""
    independent = [n for n in state_names(survey, INDEPENDENT_PREFIX) if _user_id(n) is not None]
    return [REPORT_CODING, *sorted(independent, key=lambda n: _user_id(n) or 0)]


def _user_id(name: str) -> int | None:
    number = name.removeprefix(INDEPENDENT_PREFIX)
    return int(number) if name.startswith(INDEPENDENT_PREFIX) and number.isdigit() else None


def coding_label(name: str) -> str:
    """What a person calls a coding: the report's, or an analyst's by their email."""
    if name == REPORT_CODING:
        return "The report's coding"
    user_id = _user_id(name)
    user = db.session.get(User, user_id) if user_id is not None else None
    if user is None:
        return "A former analyst's independent coding"
    return f"{user.email}'s independent coding"


# --- the codebook ------------------------------------------------------------------------


def _theme_of(row: ThemeRow) -> Theme:
    return Theme(
        id=row.key,
        label=row.label,
        description=row.description,
        feature=row.feature,
        harm=row.harm,
        keywords=tuple(json.loads(row.keywords_json)),
    )


def _rows(survey: Survey) -> list[ThemeRow]:
    return list(
        db.session.scalars(
            select(ThemeRow)
            .where(ThemeRow.survey_id == survey.id)
            .order_by(ThemeRow.position, ThemeRow.id)
        )
    )


def codebook(survey: Survey) -> list[Theme]:
    """The survey's themes, in the analysts' order."""
    return [_theme_of(row) for row in _rows(survey)]


def find_theme(survey: Survey, key: str) -> Theme | None:
    return next((t for t in codebook(survey) if t.id == key), None)


def _checked(theme: Theme) -> Theme:
    theme = Theme(
        id=theme.id.strip(),
        label=theme.label.strip(),
        description=theme.description.strip(),
        feature=theme.feature.strip(),
        harm=theme.harm.strip(),
        keywords=themes.normalise_keywords(theme.keywords),
    )
    problems = themes.theme_problems(0, theme)
    if problems:
        # "row 0, label: ..." reads as a CSV problem; in a form the field name is enough.
        problems = [p.removeprefix("row 0, ") for p in problems]
        raise CodingError(" ".join(problems), problems)
    return theme


def _store(row: ThemeRow, theme: Theme) -> None:
    row.label = theme.label
    row.description = theme.description
    row.feature = theme.feature
    row.harm = theme.harm
    row.keywords_json = json.dumps(list(theme.keywords), ensure_ascii=False)


def add_theme(survey: Survey, theme: Theme, actor: str, check_only: bool = False) -> Theme:
    """Add a theme at the end of the codebook (commits); with `check_only`, only say
    whether it could be added (CodingError if not) and store nothing."""
    theme = _checked(theme)
    if find_theme(survey, theme.id) is not None:
        raise CodingError(f'There is already a theme with the id "{theme.id}".')
    if check_only:
        return theme
    rows = _rows(survey)
    row = ThemeRow(survey_id=survey.id, key=theme.id, position=len(rows))
    _store(row, theme)
    db.session.add(row)
    db.session.commit()
    announce("theme.create", actor, survey.slug, theme=theme.id)
    return theme


def edit_theme(
    survey: Survey, key: str, theme: Theme, actor: str, check_only: bool = False
) -> Theme:
    """Change a theme's label, description, feature, harm and keywords; its id stays,
    since codes point at it (commits); with `check_only`, store nothing."""
    row = _row(survey, key)
    theme = _checked(Theme(key, theme.label, theme.description, theme.feature, theme.harm,
                           theme.keywords))  # fmt: skip
    if check_only:
        return theme
    _store(row, theme)
    db.session.commit()
    announce("theme.edit", actor, survey.slug, theme=key)
    return theme


def _row(survey: Survey, key: str) -> ThemeRow:
    row = db.session.scalar(
        select(ThemeRow).where(ThemeRow.survey_id == survey.id, ThemeRow.key == key)
    )
    if row is None:
        raise CodingError(f'There is no theme "{key}".')
    return row


def delete_theme(survey: Survey, key: str, private_key: bytes, actor: str) -> None:
    """Delete a theme and every code of it, in every coding (commits)."""
    row = _row(survey, key)
    _rewrite_codings(survey, private_key, lambda codes: themes.merge_codes(codes, "", ()), {key})
    db.session.delete(row)
    _renumber(survey)
    db.session.commit()
    announce("theme.delete", actor, survey.slug, theme=key)


def merge_into(
    survey: Survey, keep: str, merged: Sequence[str], private_key: bytes, actor: str
) -> Theme:
    """Fold `merged` themes into `keep`: their keywords join its rules and every
    answer coded with one of them carries `keep` instead, in every coding (commits)."""
    merged = [m for m in dict.fromkeys(merged) if m != keep]
    if not merged:
        raise CodingError("Choose at least one other theme to merge into it.")
    book = codebook(survey)
    try:
        new_book = themes.merge_themes(book, keep, merged)
    except ValueError as exc:
        raise CodingError(str(exc)) from None
    kept = next(t for t in new_book if t.id == keep)
    _store(_row(survey, keep), kept)

    def merge(codes: Codes) -> Codes:
        return themes.merge_codes(codes, keep, merged)

    _rewrite_codings(survey, private_key, merge, set())
    for key in merged:
        db.session.delete(_row(survey, key))
    _renumber(survey)
    db.session.commit()
    announce("theme.merge", actor, survey.slug, theme=keep, merged=list(merged))
    return kept


def move_theme(survey: Survey, key: str, step: int) -> None:
    """Move a theme up (-1) or down (+1) in the codebook (commits)."""
    rows = _rows(survey)
    index = next((i for i, r in enumerate(rows) if r.key == key), None)
    if index is None:
        raise CodingError(f'There is no theme "{key}".')
    other = index + step
    if 0 <= other < len(rows):
        rows[index], rows[other] = rows[other], rows[index]
        for position, row in enumerate(rows):
            row.position = position
        db.session.commit()


def _renumber(survey: Survey) -> None:
    db.session.flush()
    for position, row in enumerate(_rows(survey)):
        row.position = position


@dataclass(frozen=True)
class ImportResult:
    added: list[str]
    updated: list[str]


def import_codebook(survey: Survey, csv_text: str, actor: str) -> ImportResult:
    """Add the CSV's new themes and update those whose id exists; themes the file
    doesn't name stay as they are (commits). themes.CodebookError lists every
    problem of a file, and then nothing changes."""
    incoming = themes.codebook_from_csv(csv_text)
    existing = {row.key: row for row in _rows(survey)}
    added, updated = [], []
    position = len(existing)
    for theme in incoming:
        row = existing.get(theme.id)
        if row is None:
            row = ThemeRow(survey_id=survey.id, key=theme.id, position=position)
            position += 1
            db.session.add(row)
            added.append(theme.id)
        else:
            updated.append(theme.id)
        _store(row, theme)
    db.session.commit()
    announce("theme.import", actor, survey.slug, added=len(added), updated=len(updated))
    return ImportResult(added, updated)


def export_codebook(survey: Survey) -> str:
    return themes.codebook_to_csv(codebook(survey))


# --- codings: sealed documents -------------------------------------------------------------


@dataclass
class Coding:
    """One coder's codes (answer key -> theme ids) and the suggestions they turned
    down (answer key -> theme ids), as read at `revision` (None: never saved)."""

    name: str
    codes: Codes = field(default_factory=dict)
    rejected: Codes = field(default_factory=dict)
    revision: int | None = None

    def themes_of(self, key: str) -> frozenset[str]:
        return self.codes.get(key, frozenset())

    def set_themes(self, key: str, theme_ids: Iterable[str]) -> None:
        chosen = frozenset(theme_ids)
        if chosen:
            self.codes[key] = chosen
        else:
            self.codes.pop(key, None)

    def reject(self, key: str, theme_id: str) -> None:
        self.rejected[key] = self.rejected.get(key, frozenset()) | {theme_id}
        self.set_themes(key, self.themes_of(key) - {theme_id})

    def document(self) -> dict:
        return {
            "codes": {k: sorted(v) for k, v in sorted(self.codes.items())},
            "rejected": {k: sorted(v) for k, v in sorted(self.rejected.items()) if v},
        }


def load_coding(survey: Survey, private_key: bytes, name: str = REPORT_CODING) -> Coding:
    """A coding as last saved (empty if never); crypto.CryptoError with a wrong key."""
    document, revision = load_state(survey, private_key, name, CODING_FORMAT)
    return Coding(
        name,
        codes={k: frozenset(v) for k, v in document.get("codes", {}).items()},
        rejected={k: frozenset(v) for k, v in document.get("rejected", {}).items()},
        revision=revision,
    )


def change_coding(
    survey: Survey, private_key: bytes, name: str, change: Callable[[Coding], None]
) -> Coding:
    """Read a coding, apply `change` to it, store it and commit. When another analyst
    saved the same coding in between, `change` is applied to their version."""
    result: list[Coding] = []

    def apply(document: dict) -> dict:
        coding = Coding(
            name,
            codes={k: frozenset(v) for k, v in document.get("codes", {}).items()},
            rejected={k: frozenset(v) for k, v in document.get("rejected", {}).items()},
        )
        change(coding)
        result[:] = [coding]
        return coding.document()

    change_state(survey, private_key, name, CODING_FORMAT, apply)
    return result[0]


def _rewrite_codings(
    survey: Survey, private_key: bytes, rewrite: Callable[[Codes], Codes], dropped: set[str]
) -> None:
    """Apply `rewrite` to the codes of every coding of the survey, and take the
    `dropped` themes out of codes and rejections alike (not committed)."""
    for name in state_names(survey, "coding:"):
        coding = load_coding(survey, private_key, name)
        coding.codes = {k: v - dropped for k, v in rewrite(coding.codes).items() if v - dropped}
        coding.rejected = {k: v - dropped for k, v in coding.rejected.items() if v - dropped}
        if save_state(survey, name, CODING_FORMAT, coding.document(), coding.revision) is None:
            raise ConcurrentChange("Someone saved codes just now. Please try again.")


# --- the free texts to code -------------------------------------------------------------------


@dataclass(frozen=True)
class FreeText:
    """One free-text answer: the text of a text question, or an "Other" text."""

    key: str
    question_id: str
    part: str
    text: str
    quote_consent: bool  # only long texts ask; an "Other" text is never quotable


def codable_questions(definition: SurveyDefinition) -> list:
    """Questions whose answers have free text: text questions and choices with "Other"."""
    return [
        q
        for q in definition.answerable_questions()
        if q.type in TEXT_TYPES or (q.is_choice and q.other)
    ]


def free_texts_of(frame: pd.DataFrame, definition: SurveyDefinition) -> list[FreeText]:
    """Every non-blank free text of the unlocked frame, question by question."""
    found: list[FreeText] = []
    for question in codable_questions(definition):
        names = columns_of(question)
        column: str | None = names.value if question.type in TEXT_TYPES else names.other
        part = "text" if question.type in TEXT_TYPES else "other"
        if column is None or column not in frame:
            continue
        consent = (
            frame[names.quote_consent]
            if names.quote_consent is not None and names.quote_consent in frame
            else None
        )
        consents = consent.to_dict() if consent is not None else {}
        for response_id, text in frame[column].items():
            if not isinstance(text, str) or not text.strip():
                continue
            # True, or numpy's True when the whole column is booleans; never None.
            agreed = part == "text" and consents.get(response_id) in (True,)
            found.append(
                FreeText(
                    themes.answer_key(str(response_id), question.id, part),
                    question.id,
                    part,
                    text,
                    agreed,
                )
            )
    return found


# --- suggestions and decisions ----------------------------------------------------------------


def select_texts(
    texts: Sequence[FreeText],
    coding: Coding,
    question_id: str | None = None,
    theme_id: str | None = None,
    uncoded: bool = False,
) -> list[FreeText]:
    """The answers a coder asked to see, in answer order: of one question, or that
    carry one theme, or that carry none yet (each filter only when given)."""
    return [
        t
        for t in texts
        if (question_id is None or t.question_id == question_id)
        and (theme_id is None or theme_id in coding.themes_of(t.key))
        and not (uncoded and coding.themes_of(t.key))
    ]


def code_answers(
    survey: Survey,
    private_key: bytes,
    name: str,
    texts: Sequence[FreeText],
    chosen: Mapping[str, Iterable[str]],
    turned_down: Mapping[str, Iterable[str]] | None = None,
    was: Mapping[str, Iterable[str]] | None = None,
) -> Coding:
    """Give each answer of `chosen` (answer key -> theme ids) exactly those themes,
    then record the keyword suggestions the coder `turned_down` (which takes those
    themes off again), and commit. Refuses, before changing anything, an answer that
    is no longer there and a theme that isn't in the codebook.

    With `was` (answer key -> the themes the coder's page showed), an answer changes
    only as the coder changed it: the themes they ticked are added and those they
    unticked taken off, so what someone else saved meanwhile stays."""
    turned_down = turned_down or {}
    was = was or {}
    present = {t.key for t in texts}
    known = {t.id for t in codebook(survey)}
    for key, theme_ids in [*chosen.items(), *turned_down.items()]:
        if key not in present:
            raise CodingError(
                "That answer is no longer there (its author may have withdrawn it). "
                "Nothing was saved."
            )
        unknown = sorted(set(theme_ids) - known)
        if unknown:
            raise CodingError(
                f'There is no theme "{unknown[0]}" in the codebook any more. Nothing was saved.'
            )

    def code(coding: Coding) -> None:
        for key, theme_ids in chosen.items():
            ticked = set(theme_ids)
            if key in was:
                drawn = set(was[key])
                ticked = (set(coding.themes_of(key)) - (drawn - ticked)) | (ticked - drawn)
            coding.set_themes(key, ticked)
        for key, theme_ids in turned_down.items():
            for theme_id in theme_ids:
                coding.reject(key, theme_id)

    return change_coding(survey, private_key, name, code)


def settle_disagreement(
    survey: Survey, private_key: bytes, texts: Sequence[FreeText], answer_key: str, source: str
) -> frozenset[str]:
    """Give an answer, in the report's coding, the themes the coding `source` gave
    it (commits); returns those themes."""
    if source not in coding_names(survey):
        raise CodingError("That coding doesn't exist.")
    taken = load_coding(survey, private_key, source).themes_of(answer_key)
    code_answers(survey, private_key, REPORT_CODING, texts, {answer_key: taken})
    return taken


def rule_suggestions(
    texts: Sequence[FreeText], book: Sequence[Theme], coding: Coding
) -> dict[str, tuple[str, ...]]:
    """For each answer, the themes its keyword rules suggest that the coder has
    neither given it nor turned down."""
    matcher = themes.compile_rules(book)
    suggestions = {}
    for text in texts:
        open_ = tuple(
            t
            for t in matcher.themes_for(text.text)
            if t not in coding.themes_of(text.key) and t not in coding.rejected.get(text.key, ())
        )
        if open_:
            suggestions[text.key] = open_
    return suggestions


def accept_rule_matches(
    survey: Survey,
    private_key: bytes,
    texts: Sequence[FreeText],
    theme_id: str | None = None,
    name: str = REPORT_CODING,
) -> dict[str, int]:
    """Accept every open rule suggestion (of one theme, or of all): the analyst's
    decision, applied at once. Returns how many answers each theme was added to."""
    book = codebook(survey)
    if theme_id is not None:
        book = [t for t in book if t.id == theme_id]
        if not book:
            raise CodingError(f'There is no theme "{theme_id}".')
    added: dict[str, int] = {}

    def accept(coding: Coding) -> None:
        added.clear()
        for key, suggested in rule_suggestions(texts, book, coding).items():
            coding.set_themes(key, coding.themes_of(key) | set(suggested))
            for t in suggested:
                added[t] = added.get(t, 0) + 1

    change_coding(survey, private_key, name, accept)
    return {t.id: added.get(t.id, 0) for t in book}


# --- counts ----------------------------------------------------------------------------------


def respondents_by_theme(coding: Coding, texts: Sequence[FreeText]) -> dict[str, set[str]]:
    """For each theme, the responses with at least one answer that carries it. Only
    answers still present count: a withdrawn response's codes are left behind."""
    present = {t.key for t in texts}
    found: dict[str, set[str]] = {}
    for key, theme_ids in coding.codes.items():
        if key not in present:
            continue
        response_id = themes.parse_answer_key(key)[0]
        for theme_id in theme_ids:
            found.setdefault(theme_id, set()).add(response_id)
    return found


def answers_by_theme(coding: Coding, texts: Sequence[FreeText]) -> dict[str, int]:
    """For each theme, how many of the answers still present carry it."""
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(coding.themes_of(text.key))
    return dict(counts)


def suggestion_counts(suggestions: Mapping[str, Iterable[str]]) -> dict[str, int]:
    """For each theme, how many answers its keyword rules suggest it for (given
    `rule_suggestions`): what accepting all of them would add."""
    counts: Counter[str] = Counter()
    for theme_ids in suggestions.values():
        counts.update(theme_ids)
    return dict(counts)


def coding_progress(coding: Coding, texts: Sequence[FreeText]) -> tuple[int, int]:
    """(answers coded, answers in all)."""
    return sum(1 for t in texts if coding.codes.get(t.key)), len(texts)
