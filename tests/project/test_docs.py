"""Comments, docstrings and the docs cite only what is in the repository.

The contracts the code follows are docs/survey-format.md and docs/report-format.md;
the product's behaviour is described in README.md. A citation of a file outside
the repository (the design notes the project started from, or a sibling folder)
can't be checked by a reader, so it is refused here, and every cited file and
quoted section (`README.md "Key custody"`, `docs/report-format.md "Disclosure
control"`) must exist.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from admin.analysis import sdc
from survey.definition import parse_definition

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
SCANNED_DIRS = ("survey", "admin", "tests", "bench", "templates", "migrations")
SCANNED_SUFFIXES = {".py", ".html", ".txt", ".toml", ".cfg", ".md"}
SCANNED_FILES = ("Makefile", "pyproject.toml")

CITED_DOC = re.compile(r"(?<![\w/.])docs/[\w./-]+\.md")
# Files that are not in the repository: the shared folder beside it, the design
# notes, or a format's name without the docs/ folder in front.
OUTSIDE = re.compile(r"\.\./shared|(?<![\w/.])DESIGN\.md|(?<![\w/.-])(?:survey|report)-format\.md")
# A quoted section after a cited file, possibly wrapped over a comment's lines.
CITED_SECTION = re.compile(
    r"(?<![\w/.])(docs/[\w./-]+\.md|README\.md)(?:[ \t]+|[ \t]*\n[ \t]*(?:#[ \t]*)?)"
    r"\"([^\"]{1,120})\""
)


def scanned_files() -> list[Path]:
    files = [ROOT / name for name in SCANNED_FILES]
    for folder in SCANNED_DIRS:
        files += [
            p
            for p in sorted((ROOT / folder).rglob("*"))
            if p.is_file() and p.suffix in SCANNED_SUFFIXES and "__pycache__" not in p.parts
        ]
    return [p for p in files if p.resolve() != Path(__file__).resolve()]


def where(path: Path, text: str, offset: int) -> str:
    line = text.count("\n", 0, offset) + 1
    return f"{path.relative_to(ROOT)}:{line}"


def headings(path: Path) -> set[str]:
    return {
        line.lstrip("#").strip()
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.startswith("#")
    }


def unwrapped(quoted: str) -> str:
    """A quoted heading as one line: a wrap in a comment or docstring is one space."""
    return re.sub(r"\s*\n\s*(?:#\s*)?", " ", quoted).strip()


def test_nothing_cites_a_file_outside_the_repository():
    found = []
    for path in scanned_files():
        text = path.read_text(encoding="utf-8")
        found += [f"{where(path, text, m.start())}: {m.group()}" for m in OUTSIDE.finditer(text)]
    assert found == [], "cite docs/… or README.md instead:\n" + "\n".join(found)


def test_every_cited_doc_exists():
    cited = 0
    missing = []
    for path in scanned_files():
        text = path.read_text(encoding="utf-8")
        for match in CITED_DOC.finditer(text):
            cited += 1
            if not (ROOT / match.group()).is_file():
                missing.append(f"{where(path, text, match.start())}: {match.group()}")
    assert missing == [], "\n".join(missing)
    assert cited >= 2  # the code does cite the two formats


def test_every_cited_section_exists():
    missing = []
    for path in scanned_files():
        text = path.read_text(encoding="utf-8")
        for match in CITED_SECTION.finditer(text):
            target = ROOT / match.group(1)
            section = unwrapped(match.group(2))
            if not target.is_file() or section not in headings(target):
                missing.append(f'{where(path, text, match.start())}: {match.group(1)} "{section}"')
    assert missing == [], "\n".join(missing)


def test_the_docs_name_only_files_that_exist():
    missing = []
    for doc in sorted(DOCS.glob("*.md")):
        text = doc.read_text(encoding="utf-8")
        for match in re.finditer(r"\]\(([^)#]+)\)", text):  # Markdown links
            if not (doc.parent / match.group(1)).exists():
                missing.append(f"{where(doc, text, match.start())}: {match.group(1)}")
        for match in re.finditer(
            r"`((?:survey|admin|tests|templates|bench|migrations)/[\w./-]*[\w/])`", text
        ):
            if not (ROOT / match.group(1)).exists():
                missing.append(f"{where(doc, text, match.start())}: {match.group(1)}")
    assert missing == [], "\n".join(missing)


def json_example(doc: Path) -> dict:
    """The JSON block under the document's "## Example" heading."""
    text = doc.read_text(encoding="utf-8").split("\n## Example\n", 1)[1]
    block = text.split("```json\n", 1)[1].split("\n```", 1)[0]
    return json.loads(block)


def test_the_survey_example_is_the_valid_contract_example():
    example = json_example(DOCS / "survey-format.md")
    parse_definition(example)  # raises DefinitionError with every problem
    corpus = ROOT / "tests" / "definitions" / "valid" / "contract-example.json"
    assert example == json.loads(corpus.read_text(encoding="utf-8"))


def test_the_report_example_shows_what_disclosure_control_publishes():
    """The worked example's true counts, protected as admin/analysis/published.py protects them."""
    example = json_example(DOCS / "report-format.md")
    k10 = sdc.Disclosure(k=10)
    question = example["questions"][0]
    assert question["counts"] == sdc.protect_counts([366, 21, 11], k10).counts
    table = sdc.protect_table(
        [[40, 6, 3, 0], [326, 15, 8, 0], [0, 0, 0, 14]],
        k10,
        row_totals=[49, 349, 14],
        column_totals=[366, 21, 11, 14],
        grand_total=412,
    )
    breakdown = example["breakdowns"][0]
    assert breakdown["counts"] == table.counts
    assert breakdown["display"] == table.display
    assert breakdown["percent"] == table.percent
    intervals = sdc.attacker_intervals(
        [[40, 6, 3, 0], [326, 15, 8, 0], [0, 0, 0, 14]],
        table.suppressed,
        [49, 349, 14],
        [366, 21, 11, 14],
        412,
    )
    assert (intervals[0][1].low, intervals[0][1].high) == (1, 8)
    severity = next(f["severity"] for f in example["findings"] if f["severity"])
    protected = sdc.protect_counts([7, 12, 40, 120, 220], k10)
    assert severity["counts"] == protected.counts
    assert severity["percent"] == protected.percent
    assert example["disclosure"]["method"] == sdc.method_text(k10)
