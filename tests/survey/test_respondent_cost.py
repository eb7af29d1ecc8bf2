"""What a respondent's request costs the database, and the definition cache that relies on.

Counted, never timed (the times are bench/submit.py's and bench/flow.py's): the
statements and commits of each page, through the real pages on a real database;
and that a parsed definition is served only for the very version the survey's
row names, whichever app instance parsed it first.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import flask_migrate
from flask import Flask
from sqlalchemy import event, func, select, text

from survey import create_app
from survey.models import Draft, InboxEntry, Response, Survey, db, definition_digest, iso_week
from survey.surveys import definition_of, find_survey, parsed_definitions
from tests.conftest import FreshContextClient, base_config, is_postgres
from tests.factories import Respondent, page_text, small_survey_document


@dataclass
class Cost:
    """The statements one request sent, and how many commits it made."""

    statements: list[str] = field(default_factory=list)
    commits: int = 0

    def kinds(self) -> list[str]:
        """Each statement's verb and first table, e.g. "DELETE drafts"."""
        named = []
        for statement in self.statements:
            words = statement.replace('"', "").replace("(", " ").split()
            if words[0].upper() == "WITH":  # WITH x AS (DELETE FROM a ...) INSERT INTO b ...
                inner = words[3:]
                at = next(i for i, word in enumerate(inner) if word.upper() in ("INSERT", "UPDATE"))
                named.append(
                    f"{Cost(statements=[' '.join(inner[:at])]).kinds()[0]} + "
                    f"{Cost(statements=[' '.join(inner[at:])]).kinds()[0]}"
                )
                continue
            verb = words[0].upper()
            if verb in ("SELECT", "DELETE"):
                table = words[words.index("FROM") + 1]
            else:  # INSERT INTO t, UPDATE t
                table = words[2] if verb == "INSERT" else words[1]
            named.append(f"{verb} {table}")
        return named


@contextmanager
def counted() -> Iterator[Cost]:
    cost = Cost()

    def executed(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        cost.statements.append(" ".join(statement.split()))

    def committed(conn: Any) -> None:
        cost.commits += 1

    event.listen(db.engine, "before_cursor_execute", executed)
    event.listen(db.engine, "commit", committed)
    try:
        yield cost
    finally:
        event.remove(db.engine, "before_cursor_execute", executed)
        event.remove(db.engine, "commit", committed)


def cost_of(call: Callable[[], Any], status: int) -> Cost:
    with counted() as cost:
        response = call()
    assert response.status_code == status, response.status_code
    return cost


def answer_small_survey(r: Respondent) -> dict[str, Cost]:
    """Walk the small survey as an adult would; the cost of each kind of request."""
    costs = {"landing": cost_of(lambda: r.get("/s/small"), 200)}
    costs["start"] = cost_of(lambda: r.post("/s/small/start", {"lang": "en"}, csrf=False), 302)
    costs["section"] = cost_of(lambda: r.section("you"), 200)
    answers = {"age_band": "under_18", "apps": "4"}
    costs["save"] = cost_of(lambda: r.post("/s/small/section/you", answers), 302)
    r.section("e2ee")
    warning = {"action": "continue"}
    costs["warning"] = cost_of(lambda: r.post("/s/small/section/e2ee/warning", warning), 302)
    r.answer("e2ee", {"harm_scale": "4", "story": "Keep detection."})
    r.answer("minors", {"felt_safe": "no"})
    costs["review"] = cost_of(lambda: r.get("/s/small/review"), 200)
    costs["submit"] = cost_of(lambda: r.post("/s/small/submit"), 302)
    costs["receipt"] = cost_of(lambda: r.get("/s/small/receipt"), 200)
    return costs


def test_each_page_reads_in_one_statement_and_a_submit_commits_once(app, make_open_survey):
    make_open_survey()
    first = answer_small_survey(Respondent(app.test_client(), "small"))
    # A process's first draft and first submission of the week also look for
    # stale drafts and for last week's inbox.
    assert first["start"].kinds() == ["SELECT surveys", "INSERT drafts", "DELETE drafts"]
    assert first["submit"].kinds()[:2] == ["SELECT surveys", "SELECT response_inbox"]

    costs = answer_small_survey(Respondent(app.test_client(), "small"))
    kinds = {page: cost.kinds() for page, cost in costs.items()}
    assert kinds == {
        "landing": ["SELECT surveys"],
        "start": ["SELECT surveys", "INSERT drafts"],
        "section": ["SELECT surveys"],
        "save": ["SELECT surveys", "UPDATE drafts"],
        "warning": ["SELECT surveys", "UPDATE drafts"],
        "review": ["SELECT surveys"],
        # The draft comes with the survey; the very draft read is deleted and its
        # answers put in the inbox together: one statement on PostgreSQL.
        "submit": ["SELECT surveys", *submit_writes(app)],
        "receipt": ["SELECT surveys"],
    }
    assert {page: cost.commits for page, cost in costs.items()} == {
        "landing": 0,
        "start": 1,
        "section": 0,
        "save": 1,
        "warning": 1,
        "review": 0,
        "submit": 1,
        "receipt": 0,
    }
    # The session's draft comes with the survey, in the same statement; the
    # definition's JSON doesn't (it is parsed once per version).
    for page in ("section", "save", "warning", "review", "submit"):
        read = costs[page].statements[0]
        assert "JOIN drafts" in read.replace('"', "") and "definition_json" not in read
    # The draft taken is the one read: known by its version byte and nonce.
    assert "substr(drafts.sealed, " in costs["submit"].statements[1].replace('"', "")
    assert response_count_of("small") == 2


def submit_writes(app: Flask) -> list[str]:
    """SQLite can't put a DELETE inside a WITH: there the two share a transaction."""
    if is_postgres(app.config["SQLALCHEMY_DATABASE_URI"]):
        return ["DELETE drafts + INSERT response_inbox"]
    return ["DELETE drafts", "INSERT response_inbox"]


def response_count_of(slug: str) -> int:
    survey = find_survey(slug)
    stored = db.session.scalar(
        select(func.count()).select_from(Response).where(Response.survey_id == survey.id)
    )
    waiting = db.session.scalar(
        select(func.count()).select_from(InboxEntry).where(InboxEntry.survey_id == survey.id)
    )
    return stored + waiting


def test_the_first_submission_of_a_new_week_stores_last_weeks_inbox(
    app, make_open_survey, monkeypatch
):
    import survey.inbox

    make_open_survey()
    answer_small_survey(Respondent(app.test_client(), "small"))
    # The same process, a week later: its check of this week is no answer for that one.
    monkeypatch.setattr(survey.inbox, "iso_week", lambda day=None: "2999-W01")
    costs = answer_small_survey(Respondent(app.test_client(), "small"))
    assert "SELECT response_inbox" in costs["submit"].kinds()
    stored = db.session.scalar(select(func.count()).select_from(Response))
    waiting = db.session.scalar(select(func.count()).select_from(InboxEntry))
    assert (stored, waiting) == (1, 1)


def test_stale_drafts_go_at_the_first_new_draft(app, make_open_survey):
    survey, _ = make_open_survey()
    stale_week = iso_week(datetime.now(UTC).date() - timedelta(weeks=3))
    db.session.add(Draft(id="a" * 32, survey_id=survey.id, sealed=b"x", saved_week=stale_week))
    db.session.commit()
    r = Respondent(app.test_client(), "small")
    assert r.start().status_code == 302
    [left] = db.session.scalars(select(Draft.id)).all()
    assert left != "a" * 32


# --- parsed definitions, per version -------------------------------------------------------


def test_a_definition_digest_is_set_with_every_definition():
    document = json.dumps(small_survey_document())
    survey = Survey(slug="small", title="t", definition_json=document)
    assert survey.definition_sha256 == definition_digest(document)
    changed = json.dumps(small_survey_document(title="Another title"))
    survey.definition_json = changed
    assert survey.definition_sha256 == definition_digest(changed) != definition_digest(document)


def other_app(database_url: str) -> Flask:
    """Another app instance on the same database, as another worker process would be."""
    app = create_app(base_config(database_url))
    app.test_client_class = FreshContextClient
    return app


def landing_text(app: Flask) -> str:
    with app.app_context():
        return page_text(app.test_client().get("/s/small"))


def test_a_changed_definition_is_never_served_from_a_warm_cache(
    app, database_url, make_open_survey
):
    make_open_survey()
    other = other_app(database_url)
    # Both "processes" have parsed and shown the first version.
    assert "Messaging safety" in landing_text(app) and "Messaging safety" in landing_text(other)
    # The other one changes the definition in the database (respondents can't see
    # the drafts the builder edits; a row changed in place is the harder case).
    with other.app_context():
        survey = find_survey("small")
        survey.definition_json = json.dumps(small_survey_document(title="Second version"))
        db.session.commit()
    for each in (app, other):
        page = landing_text(each)
        assert "Second version" in page and "Messaging safety" not in page
    db.session.expire_all()
    assert definition_of(find_survey("small")).title == "Second version"


def test_a_definition_is_kept_under_the_digest_of_its_own_json(app, make_open_survey):
    survey, _ = make_open_survey()
    document = json.dumps(small_survey_document(title="Parsed"))
    # A row whose digest isn't its JSON's (written around the model).
    claims_another = Survey(id=survey.id, slug="small", title="t", definition_json=document)
    claims_another.definition_sha256 = "0" * 64
    assert definition_of(claims_another).title == "Parsed"
    assert parsed_definitions.get((survey.id, "0" * 64)) is None
    assert parsed_definitions.get((survey.id, definition_digest(document))).title == "Parsed"


def test_the_migration_gives_existing_surveys_their_digest(database_url, tmp_path):
    if database_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'digests.db'}"
    else:
        url = database_url  # the per-run database: put it back as it was
    app = create_app(base_config(url))
    document = json.dumps(small_survey_document(slug="older"))
    with app.app_context():
        if url == database_url:
            flask_migrate.downgrade(revision="0008")
        flask_migrate.upgrade(revision="0008")
        with db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO surveys (slug, title, definition_json, status) "
                    "VALUES ('older', 'Older', :d, 'draft')"
                ),
                {"d": document},
            )
        flask_migrate.upgrade()
        with db.engine.connect() as connection:
            digest = connection.execute(
                text("SELECT definition_sha256 FROM surveys WHERE slug = 'older'")
            ).scalar_one()
            connection.execute(text("DELETE FROM surveys WHERE slug = 'older'"))
            connection.commit()
        db.engine.dispose()
    assert digest == definition_digest(document)
