"""`chorus ...` commands against a real database."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from survey.models import db
from survey.surveys import find_survey, response_count
from tests.factories import (
    CUSTODIAN_EMAIL,
    CUSTODIAN_PASSWORD,
    Respondent,
    custodian_user,
    small_survey_document,
    store_the_week,
)


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def write(tmp_path, name, content):
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content), "utf-8")
    return path


def test_import_export_list_open_close(runner, tmp_path):
    path = write(tmp_path, "small.json", small_survey_document())
    result = runner.invoke(args=["survey", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert 'Imported "small" as a draft: 3 sections, 7 questions.' in result.output

    exported = runner.invoke(args=["survey", "export", "small"])
    assert exported.exit_code == 0
    again = write(tmp_path, "again.json", exported.output)
    assert runner.invoke(args=["survey", "import", str(again)]).exit_code == 0
    assert runner.invoke(args=["survey", "export", "small"]).output == exported.output

    listed = runner.invoke(args=["survey", "list"])
    assert "small" in listed.output and "draft" in listed.output

    # The first opening needs a custodian: without one the survey stays a draft.
    refused = runner.invoke(args=["survey", "open", "small"])
    assert refused.exit_code == 1
    assert "Choose at least one person who can unlock the answers" in refused.output
    nobody = runner.invoke(args=["survey", "open", "small", "--custodian", "ghost@example.org"])
    assert nobody.exit_code == 1 and "no account for ghost@example.org" in nobody.output
    assert find_survey("small").status == "draft"
    custodian_user()
    opened = runner.invoke(args=["survey", "open", "small", "--custodian", CUSTODIAN_EMAIL])
    assert opened.exit_code == 0 and "RECOVERY CODE" in opened.output
    assert runner.invoke(args=["survey", "open", "small"]).exit_code == 1
    # Open surveys can't have their questions changed.
    refused = runner.invoke(args=["survey", "import", str(again)])
    assert refused.exit_code == 1 and "can't change" in refused.output
    assert runner.invoke(args=["survey", "close", "small"]).exit_code == 0
    db.session.expire_all()
    assert find_survey("small").status == "closed"
    # Reopening keeps the keys: no new recovery code.
    reopened = runner.invoke(args=["survey", "open", "small"])
    assert reopened.exit_code == 0 and "RECOVERY CODE" not in reopened.output


def test_yaml_import_and_template_with_slug(runner, tmp_path):
    path = write(tmp_path, "s.yaml", yaml.safe_dump(small_survey_document(slug="from-yaml")))
    assert runner.invoke(args=["survey", "import", str(path)]).exit_code == 0
    result = runner.invoke(args=["survey", "import", "--template", "--slug", "consult"])
    assert result.exit_code == 0, result.output
    assert find_survey("consult") is not None


def test_invalid_definition_lists_every_problem_with_its_path(runner, tmp_path):
    document = small_survey_document(slug="Bad Slug")
    document["sections"][0]["questions"][0]["options"][1]["value"] = "under_18"
    document["sections"][1]["questions"][0]["colour"] = "red"
    path = write(tmp_path, "bad.json", document)
    result = runner.invoke(args=["survey", "import", str(path)])
    assert result.exit_code == 1
    assert "bad.json is not a valid survey definition" in result.output
    assert "  slug: must be 2-63 lower-case letters" in result.output
    assert 'sections[0].questions[0].options[1].value: duplicate value "under_18"' in result.output
    assert "sections[1].questions[0].colour: unknown key" in result.output
    assert find_survey("bad-slug") is None


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "(document): must be an object"),
        ("slug: [unclosed", "not valid YAML"),
    ],
)
def test_malformed_files_get_a_clear_message(runner, tmp_path, content, message):
    name = "x.yaml" if "slug:" in content else "x.json"
    result = runner.invoke(args=["survey", "import", str(write(tmp_path, name, content))])
    assert result.exit_code == 1 and message in result.output


def test_missing_file_and_unknown_survey(runner, tmp_path):
    missing = runner.invoke(args=["survey", "import", str(tmp_path / "nope.json")])
    assert missing.exit_code == 1 and "Can't read" in missing.output
    for args in (["survey", "open", "ghost"], ["responses", "count", "ghost"]):
        result = runner.invoke(args=args)
        assert result.exit_code == 1 and 'There is no survey "ghost"' in result.output


def test_responses_count_and_export_with_the_recovery_code(app, runner, make_open_survey, tmp_path):
    survey, recovery = make_open_survey()
    r = Respondent(app.test_client(), survey.slug)
    r.start()
    r.answer("you", {"age_band": "under_18", "apps": "12"})
    r.pass_warning("e2ee")
    r.answer(
        "e2ee",
        {
            "wanted": ["report", "_other"],
            "wanted-other": "Faster help",
            "story": 'A, "quoted"\nline',
        },
    )
    r.answer("minors", {"felt_safe": "_prefer_not_to_say"})
    r.submit()
    store_the_week("small")  # counted and exported once the weekly flush stores it
    assert runner.invoke(args=["responses", "count", "small"]).stdout.strip() == "1"

    out = tmp_path / "answers.csv"
    result = runner.invoke(
        args=["responses", "export", "small", "--out", str(out)], input=recovery.lower() + "\n"
    )
    assert result.exit_code == 0, result.output
    [row] = list(csv.DictReader(io.StringIO(out.read_text("utf-8"))))
    assert row["age_band"] == "under_18"
    assert row["adult_only"] == "[not_shown]"
    assert row["apps"] == "12"
    assert row["harm_scale"] == "[skipped]"
    assert row["wanted"] == "report;other" and row["wanted_other"] == "Faster help"
    assert row["story"] == 'A, "quoted"\nline'
    assert row["story_quote_consent"] == "no"
    assert row["felt_safe"] == "[prefer_not_to_say]"
    assert row["week"].count("-W") == 1
    assert list(row)[:2] == ["week", "age_band"]


def test_export_with_a_custodians_password(app, runner, make_open_survey, tmp_path):
    make_open_survey()
    r = Respondent(app.test_client(), "small")
    r.start()
    r.answer("you", {"apps": "7"})
    r.submit()
    store_the_week("small")
    out = tmp_path / "answers.csv"
    args = ["responses", "export", "small", "--out", str(out), "--custodian", CUSTODIAN_EMAIL]
    wrong = runner.invoke(args=args, input="not my password\n")
    assert wrong.exit_code == 1 and "That password does not open your key" in wrong.output
    assert not out.exists()
    # A password may begin or end with spaces: only the line ending is taken off.
    result = runner.invoke(args=args, input=CUSTODIAN_PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    [row] = list(csv.DictReader(io.StringIO(out.read_text("utf-8"))))
    assert row["apps"] == "7"
    # Someone who holds no grant gets a clear refusal, not an error.
    custodian_user("other@example.org", "another passphrase 77")
    other = runner.invoke(args=[*args[:-1], "other@example.org"], input="another passphrase 77\n")
    assert other.exit_code == 1 and 'holds no key for "small"' in other.output


@pytest.mark.parametrize("typed", ["", "garbage", "ABCD-EFGH-JKMN-PQRS-TVWX-YZ01-2345"])
def test_export_with_a_wrong_recovery_code_writes_nothing(
    runner, make_open_survey, tmp_path, typed
):
    make_open_survey()
    out = tmp_path / "answers.csv"
    result = runner.invoke(
        args=["responses", "export", "small", "--out", str(out)], input=typed + "\n"
    )
    assert result.exit_code == 1 and "recovery code" in result.output
    assert not out.exists()


def test_invite_codes_are_printed_once_and_counted(runner, make_open_survey):
    make_open_survey(small_survey_document(slug="inv", invite_only=True))
    result = runner.invoke(args=["invites", "create", "inv", "--count", "3"])
    assert result.exit_code == 0
    codes = [
        line for line in result.output.splitlines() if line.count("-") == 3 and len(line) == 19
    ]
    assert len(set(codes)) == 3
    assert "3 invite codes issued, 0 used." in result.output
    assert runner.invoke(args=["invites", "create", "inv", "--count", "0"]).exit_code == 1


def test_invite_codes_are_refused_for_a_survey_that_does_not_use_them(runner, make_open_survey):
    make_open_survey(small_survey_document(slug="open"))
    result = runner.invoke(args=["invites", "create", "open", "--count", "3"])
    assert result.exit_code == 1
    assert "does not ask for an invite code" in result.output
    assert "Invite only" in result.output


def test_demo_command_loads_synthetic_sealed_responses(app, runner, tmp_path, monkeypatch):
    # The demo keeps its recovery code in instance/: never the real one in a test.
    monkeypatch.setattr("survey.cli.INSTANCE_DIR", tmp_path)
    custodian_user()
    demo = ["demo", "--slug", "demo-test", "--responses", "25", "--custodian", CUSTODIAN_EMAIL]
    result = runner.invoke(args=demo)
    assert result.exit_code == 0, result.output
    survey = find_survey("demo-test")
    assert survey.status == "open" and response_count(survey) == 25
    assert (tmp_path / "demo-recovery-code.txt").exists()
    # Idempotent: running it again tops up to the target, nothing more.
    assert runner.invoke(args=demo).exit_code == 0
    assert response_count(find_survey("demo-test")) == 25


# --- the console script without a secret key ------------------------------------------------

PROJECT_ROOT = Path(__file__).resolve().parents[2]
NO_SECRET = ("CHORUS_SECRET_KEY", "CHORUS_SECRET_KEY_FILE", "CHORUS_DEMO")


def chorus_without_a_secret(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The installed `chorus` script, run with this checkout and no secret key set."""
    env = {name: value for name, value in os.environ.items() if name not in NO_SECRET}
    env["PYTHONPATH"] = str(PROJECT_ROOT)
    chorus = Path(sys.executable).parent / "chorus"
    return subprocess.run(
        [str(chorus), *args],
        cwd=tmp_path,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_help_works_without_a_secret_key(tmp_path):
    result = chorus_without_a_secret(tmp_path, "--help")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Traceback" not in output
    assert "Usage: chorus" in result.stdout
    # Every command is listed, not only Flask's own.
    commands = ("survey", "responses", "invites", "serve", "purge", "backup", "restore")
    for command in (*commands, "user", "audit", "db"):
        assert re.search(rf"^\s+{command}\s", result.stdout, re.MULTILINE), command
    assert "CHORUS_SECRET_KEY" in result.stderr  # and what to set before using them


@pytest.mark.parametrize("args", [("db", "upgrade"), ("survey", "list"), ("serve",)])
def test_a_command_without_a_secret_key_says_what_to_set(tmp_path, args):
    result = chorus_without_a_secret(tmp_path, *args)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "Traceback" not in output
    assert "CHORUS_SECRET_KEY (or CHORUS_SECRET_KEY_FILE) is not set" in result.stderr
    assert "No such command" not in output


def test_a_survey_without_support_services_does_not_open(runner, tmp_path):
    """Its pages would have no "If you need support": refused before any key is made."""
    document = small_survey_document(slug="alone")
    del document["support"]
    path = write(tmp_path, "alone.json", document)
    assert runner.invoke(args=["survey", "import", str(path)]).exit_code == 0
    custodian_user()
    refused = runner.invoke(args=["survey", "open", "alone", "--custodian", CUSTODIAN_EMAIL])
    assert refused.exit_code == 1
    assert '"alone" has no support services' in refused.output
    assert "Support services" in refused.output and "chorus survey import" in refused.output
    assert "RECOVERY CODE" not in refused.output
    survey = find_survey("alone")
    assert survey.status == "draft" and survey.public_key is None and not survey.key_wraps

    # With one added (and imported again) it opens.
    document["support"] = [
        {"name": {"en": "Helpline", "es": "Línea de ayuda"}, "phone": "0800 000 000"}
    ]
    assert (
        runner.invoke(args=["survey", "import", str(write(tmp_path, "a.json", document))]).exit_code
        == 0
    )
    opened = runner.invoke(args=["survey", "open", "alone", "--custodian", CUSTODIAN_EMAIL])
    assert opened.exit_code == 0, opened.output
