"""The gettext catalogues (survey/translations): complete, current and compiled.

- messages.pot holds exactly the messages the code and templates use today (extracted
  here as `make messages` does): a new or changed message without `make messages` fails.
- Every shipped language's messages.po translates every one of them (not empty, not
  fuzzy), with the same %(name)s placeholders as the English.
- Each committed messages.mo holds what its .po says (a .po edited without compiling fails).
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

from survey.i18n import shipped_languages

ROOT = Path(__file__).resolve().parents[2]
CATALOGUES = ROOT / "survey" / "translations"
TEMPLATE = CATALOGUES / "messages.pot"
# As the Makefile's `messages` target: its input folders and keywords.
EXTRACT_FROM = ("survey", "admin", "templates")
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "N_": None}
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def read_catalogue(path: Path) -> Catalog:
    with path.open("rb") as file:
        return read_po(file)


def ids(catalogue: Catalog) -> set[str | tuple[str, ...]]:
    return {message.id for message in catalogue if message.id}


def texts(message: Message) -> list[str]:
    return list(message.string) if isinstance(message.string, tuple) else [message.string]


def messages_of(catalogue: Catalog) -> dict[Any, Any]:
    """Each message's id and text; a plural one's as tuples (read_mo gives lists)."""

    def plain(value: Any) -> Any:
        return tuple(value) if isinstance(value, list | tuple) else value

    return {plain(m.id): plain(m.string) for m in catalogue}


def extracted_ids() -> set[str | tuple[str, ...]]:
    with (ROOT / "babel.cfg").open(encoding="utf-8") as config:
        method_map, options_map = parse_mapping_cfg(config)
    found: set[str | tuple[str, ...]] = set()
    for folder in EXTRACT_FROM:
        for _, _, message, _, _ in extract_from_dir(
            ROOT / folder, method_map, options_map, keywords=KEYWORDS, comment_tags=()
        ):
            found.add(message)
    return found


def test_at_least_one_language_besides_english_is_shipped():
    assert "es" in shipped_languages()


def test_the_template_holds_exactly_the_messages_the_code_uses():
    in_template, in_code = ids(read_catalogue(TEMPLATE)), extracted_ids()
    assert in_template == in_code, (
        "run `make messages`: "
        f"missing {sorted(map(str, in_code - in_template))}, "
        f"unused {sorted(map(str, in_template - in_code))}"
    )


@pytest.mark.parametrize("language", shipped_languages())
def test_every_message_has_a_translation_with_the_same_placeholders(language):
    po = CATALOGUES / language / "LC_MESSAGES" / "messages.po"
    catalogue = read_catalogue(po)
    translated = {message.id: message for message in catalogue if message.id}
    missing = ids(read_catalogue(TEMPLATE)) - set(translated)
    assert not missing, f"{po}: not in the catalogue (run `make messages`): {missing}"
    for message in translated.values():
        english = [message.id] if isinstance(message.id, str) else list(message.id)
        assert not message.fuzzy, f"{po}: fuzzy, check it: {message.id!r}"
        assert all(text.strip() for text in texts(message)), f"{po}: empty: {message.id!r}"
        wanted = set(PLACEHOLDER.findall(english[0]))
        for text in texts(message):
            assert set(PLACEHOLDER.findall(text)) == wanted, f"{po}: {message.id!r} → {text!r}"


@pytest.mark.parametrize("language", shipped_languages())
def test_the_compiled_catalogue_matches_its_source(language):
    folder = CATALOGUES / language / "LC_MESSAGES"
    expected = io.BytesIO()
    write_mo(expected, read_catalogue(folder / "messages.po"))
    with (folder / "messages.mo").open("rb") as file:
        compiled = read_mo(file)
    expected.seek(0)
    wanted = read_mo(expected)
    assert messages_of(compiled) == messages_of(wanted), (
        f"{folder}/messages.mo is stale: run `make messages` (or pybabel compile)"
    )
