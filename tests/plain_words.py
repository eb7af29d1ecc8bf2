"""How plainly a respondent page reads: the prose a person reads in <main>, measured
with Flesch-Kincaid (English, a school grade) and Fernández-Huerta (Spanish, 0-100,
higher is easier).

Syllables: English by vowel groups, Spanish by pyphen's hyphenation (pyphen comes
with WeasyPrint). textstat is not used: its last offline release needs
pkg_resources, which setuptools no longer has, and later ones download nltk's
pronouncing dictionary at run time.

"Prose" is every paragraph, list item, heading, legend, label, summary and
definition in <main> that has at least MIN_WORDS words: buttons, codes, single
words and option labels are not sentences and would flatter the grade. Each block
counts as a sentence of its own (a full stop is added where it has none), so a
heading doesn't run into the paragraph after it.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pyphen

MIN_WORDS = 5
PROSE_TAGS = {"p", "li", "h1", "h2", "h3", "legend", "label", "summary", "dt", "dd"}
# Text inside these is never read as prose: scripts, and the words only a screen
# reader announces in passing ("There is a problem:" before an error).
SKIPPED_TAGS = {"script", "style", "template"}


class _ProseParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.in_main = 0
        self.skipping = 0
        self.open_blocks: list[list[str]] = []
        self.blocks: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "main":
            self.in_main += 1
        elif tag in SKIPPED_TAGS:
            self.skipping += 1
        elif tag in PROSE_TAGS and self.in_main:
            self.open_blocks.append([])

    def handle_endtag(self, tag: str) -> None:
        if tag == "main":
            self.in_main -= 1
        elif tag in SKIPPED_TAGS:
            self.skipping -= 1
        elif tag in PROSE_TAGS and self.in_main and self.open_blocks:
            text = " ".join("".join(self.open_blocks.pop()).split())
            if text:
                self.blocks.append(text)

    def handle_data(self, data: str) -> None:
        if self.open_blocks and not self.skipping:
            # A nested block (a <p> in an <li>) is its own sentence; the outer one
            # keeps only its own words.
            self.open_blocks[-1].append(data)


def prose_blocks(html: str) -> list[str]:
    """The prose of a page's <main>, one string per block, in page order."""
    parser = _ProseParser()
    parser.feed(html)
    return [block for block in parser.blocks if len(block.split()) >= MIN_WORDS]


def as_sentences(blocks: list[str]) -> str:
    return " ".join(block if re.search(r"[.!?:…]$", block) else block + "." for block in blocks)


WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")
SENTENCE_END = re.compile(r"[.!?:…]+(?:\s|$)")


def english_syllables(word: str) -> int:
    """Syllables of an English word by its vowel groups, less a silent final e:
    within a syllable or so of a pronouncing dictionary for everyday words
    (hyphenation points undercount short words, which are never hyphenated)."""
    word = word.lower().replace("’", "'").split("'")[0]
    groups = len(re.findall(r"[aeiouy]+", word))
    if word.endswith("e") and not word.endswith(("le", "ee", "ye")) and groups > 1:
        groups -= 1
    if word.endswith("ed") and not word.endswith(("ted", "ded")) and groups > 1:
        groups -= 1
    return max(1, groups)


SPANISH = pyphen.Pyphen(lang="es", left=1, right=1)


def spanish_syllables(word: str) -> int:
    """Syllables of a Spanish word: its hyphenation points, every one allowed (Spanish
    hyphenates between syllables), plus one."""
    return len(SPANISH.positions(word)) + 1


def _counts(text: str, syllables_of) -> tuple[int, int, int]:
    """(sentences, words, syllables) of a text."""
    words = WORD.findall(text)
    syllables = sum(syllables_of(word) for word in words)
    sentences = max(1, len(SENTENCE_END.findall(text)))
    return sentences, max(1, len(words)), syllables


def english_grade(html: str) -> float:
    """Flesch-Kincaid grade of a page's prose (lower is easier; 6 is an 11-12 year old)."""
    sentences, words, syllables = _counts(as_sentences(prose_blocks(html)), english_syllables)
    return round(0.39 * words / sentences + 11.8 * syllables / words - 15.59, 1)


def spanish_ease(html: str) -> float:
    """Fernández-Huerta reading ease of a page's prose (higher is easier; 80+ is easy)."""
    sentences, words, syllables = _counts(as_sentences(prose_blocks(html)), spanish_syllables)
    return round(206.84 - 60 * syllables / words - 1.02 * words / sentences, 1)
