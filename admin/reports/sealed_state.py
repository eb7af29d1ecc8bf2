"""Analysts' work on a survey's answers, stored sealed to the survey's key.

Each piece (a coder's codes, the quotes approved for publication) is one JSON
document per survey and `name`, sealed by survey/sealed_answers.py
`seal_analysis` and kept in `AnalysisState`. Reading needs the survey's private
key; writing needs only its public key, but callers hold the private key anyway.
A save names the revision it read: when another analyst saved in between, the
save fails and `change_state` reads their version and applies the change again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from survey.models import AnalysisState, Survey, db, rows_changed
from survey.sealed_answers import open_analysis, seal_analysis

# A save that finds someone else saved first starts again from their version.
SAVE_ATTEMPTS = 5


class ConcurrentChange(ValueError):
    """Others kept saving the same document at the same moment."""


def _row(survey: Survey, name: str) -> AnalysisState | None:
    return db.session.scalar(
        select(AnalysisState).where(
            AnalysisState.survey_id == survey.id, AnalysisState.name == name
        )
    )


def load_state(
    survey: Survey, private_key: bytes, name: str, format_name: str
) -> tuple[dict[str, Any], int | None]:
    """The document and the revision it was read at; ({}, None) if never saved.
    crypto.CryptoError when the key is wrong or the row was tampered with."""
    row = _row(survey, name)
    if row is None:
        return {}, None
    return open_analysis(private_key, survey.id, name, format_name, row.sealed), row.revision


def save_state(
    survey: Survey, name: str, format_name: str, document: dict[str, Any], revision: int | None
) -> int | None:
    """Store `document` if nobody saved since `revision` was read (not committed).
    Returns the new revision, or None when someone else saved first."""
    sealed = seal_analysis(survey, name, format_name, document)
    if revision is None:
        if _row(survey, name) is not None:
            return None
        try:
            with db.session.begin_nested():
                db.session.add(AnalysisState(survey_id=survey.id, name=name, sealed=sealed))
        except IntegrityError:  # another process inserted it first (unique survey + name)
            return None
        return 1
    done = db.session.execute(
        update(AnalysisState)
        .where(
            AnalysisState.survey_id == survey.id,
            AnalysisState.name == name,
            AnalysisState.revision == revision,
        )
        .values(sealed=sealed, revision=revision + 1)
    )
    return revision + 1 if rows_changed(done) == 1 else None


def change_state(
    survey: Survey,
    private_key: bytes,
    name: str,
    format_name: str,
    change: Callable[[dict[str, Any]], dict[str, Any]],
) -> dict[str, Any]:
    """Read a document, apply `change` (old -> new), store it and commit."""
    for _ in range(SAVE_ATTEMPTS):
        document, revision = load_state(survey, private_key, name, format_name)
        new = change(document)
        if save_state(survey, name, format_name, new, revision) is not None:
            db.session.commit()
            return new
        db.session.rollback()
    raise ConcurrentChange("Others were saving the same work just now. Please try again.")


def state_names(survey: Survey, prefix: str) -> list[str]:
    """The names of the survey's documents that start with `prefix`."""
    return list(
        db.session.scalars(
            select(AnalysisState.name).where(
                AnalysisState.survey_id == survey.id,
                AnalysisState.name.startswith(prefix, autoescape=True),
            )
        )
    )
