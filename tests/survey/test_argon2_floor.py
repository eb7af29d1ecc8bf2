"""Argon2 settings below OWASP's floor for argon2id refuse to start the app."""

from __future__ import annotations

import pytest

from survey import create_app
from survey.config import ConfigError
from tests.conftest import TEST_SECRET_KEY

DATABASE = "sqlite://"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in ("CHORUS_ARGON2_TIME_COST", "CHORUS_ARGON2_MEMORY_KIB", "CHORUS_DEMO"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CHORUS_SECRET_KEY", TEST_SECRET_KEY)


def test_the_defaults_pass():
    app = create_app({"SQLALCHEMY_DATABASE_URI": DATABASE})
    assert app.config["CHORUS_ARGON2_MEMORY_KIB"] >= 19456


@pytest.mark.parametrize(
    ("time_cost", "memory_kib", "named"),
    [
        ("1", "1024", "CHORUS_ARGON2_MEMORY_KIB"),
        ("2", "16384", "CHORUS_ARGON2_MEMORY_KIB"),
        ("1", "19456", "CHORUS_ARGON2_MEMORY_KIB"),
    ],
)
def test_below_the_floor_from_the_environment_refuses_to_start(
    monkeypatch, time_cost, memory_kib, named
):
    monkeypatch.setenv("CHORUS_ARGON2_TIME_COST", time_cost)
    monkeypatch.setenv("CHORUS_ARGON2_MEMORY_KIB", memory_kib)
    with pytest.raises(ConfigError, match=named):
        create_app({"SQLALCHEMY_DATABASE_URI": DATABASE})


@pytest.mark.parametrize(("time_cost", "memory_kib"), [("2", "19456"), ("1", "47104")])
def test_owasp_settings_pass(monkeypatch, time_cost, memory_kib):
    monkeypatch.setenv("CHORUS_ARGON2_TIME_COST", time_cost)
    monkeypatch.setenv("CHORUS_ARGON2_MEMORY_KIB", memory_kib)
    create_app({"SQLALCHEMY_DATABASE_URI": DATABASE})


def test_only_a_testing_config_may_go_below_it(monkeypatch):
    cheap = {"CHORUS_ARGON2_TIME_COST": 1, "CHORUS_ARGON2_MEMORY_KIB": 1024}
    with pytest.raises(ConfigError, match="CHORUS_ARGON2_MEMORY_KIB"):
        create_app({"SQLALCHEMY_DATABASE_URI": DATABASE, **cheap})
    create_app({"SQLALCHEMY_DATABASE_URI": DATABASE, **cheap, "TESTING": True})
    # The environment can't switch testing on.
    monkeypatch.setenv("CHORUS_ARGON2_MEMORY_KIB", "1024")
    monkeypatch.setenv("TESTING", "1")
    monkeypatch.setenv("FLASK_TESTING", "1")
    with pytest.raises(ConfigError, match="CHORUS_ARGON2_MEMORY_KIB"):
        create_app({"SQLALCHEMY_DATABASE_URI": DATABASE})
