"""The migrations are the schema: they build it, undo it, and match the models."""

from __future__ import annotations

import flask_migrate
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from survey import create_app
from survey.models import db
from tests.conftest import base_config


def test_migrations_match_the_models(app):
    with db.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), db.metadata)
    assert diff == []


def test_downgrade_to_nothing_and_back(database_url, tmp_path):
    if database_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'roundtrip.db'}"
    else:
        url = database_url  # the per-run database: put it back as it was
    app = create_app(base_config(url))
    with app.app_context():
        flask_migrate.upgrade()
        flask_migrate.downgrade(revision="base")
        with db.engine.connect() as connection:
            assert set(db.inspect(connection).get_table_names()) <= {"alembic_version"}
        flask_migrate.upgrade()
        with db.engine.connect() as connection:
            assert {"surveys", "responses", "drafts"} <= set(
                db.inspect(connection).get_table_names()
            )
        db.engine.dispose()
