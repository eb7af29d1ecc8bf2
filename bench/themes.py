"""Suggesting themes for 100,000 free-text answers, beside floors measured in the same run.

    .venv/bin/python bench/themes.py [--n 100000] [--rounds 2] [--seed 1]

Answers: N synthetic free texts, half English and half Spanish, of 1 to 3 sentences
made from a fixed vocabulary of eight subjects (reporting, strangers, encryption,
location, live video, age checks, recommendations, support) and common words, with
accents, capitals and punctuation, drawn with a seeded random generator. Nothing
comes from a database. The codebook has 20 themes of 6 keywords each (a phrase among
them, and some keywords typed without their accents).

Rules. Chorus: admin.reports.themes.compile_rules on the codebook, then suggest_from_rules
over every answer (whole words and phrases, case and accents ignored). Floor: the
least any keyword matching must do, a `keyword in text.lower()` loop over every
theme's keywords (substrings, accents not ignored: it finds more, and not the same).
Also shown, on the first 10,000 answers only and timed once (it is slow): a correct
but naive matcher, every keyword's own compiled pattern (admin.reports.themes.keyword_pattern)
searched in each folded answer, which must give exactly Chorus's codes.

Topics. Chorus: admin.reports.themes.topic_suggestions(texts, 8 topics, 8 terms, seed 0).
Floor: scikit-learn's TfidfVectorizer (strip_accents="unicode", lowercase) and NMF
with the same token pattern, stop words, vocabulary cap, initialisation, seed and
iterations, and the same top-8 terms read off the components: what the library
costs without Chorus's folding and bookkeeping. Both must find the same terms.

Time: CPU seconds of this process (time.process_time, all threads), best of the
rounds, alternating Chorus and floor (ABBA). Memory: a separate, untimed run of
each in a forked copy of this process (with the answers already made), whose peak
resident size (ru_maxrss) less its size at the fork is what the work added: Python
objects, arrays and what compiled code allocates alike (tracemalloc would miss the
last and slows Python code several times over). Memory the parent had freed but kept
can be reused without showing, so small numbers are lower bounds. Linux only. This is
a report, not a test: nothing asserts on a time.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from sklearn.decomposition import NMF
from sklearn.feature_extraction.text import TfidfVectorizer

from admin.reports.themes import (
    MAX_TOPIC_TERMS,
    NMF_MAX_ITER,
    TOPIC_WORD_PATTERN,
    Theme,
    compile_rules,
    fold,
    keyword_pattern,
    suggest_from_rules,
    topic_stop_words,
    topic_suggestions,
)

N_TOPICS = 8
N_TERMS = 8
SEED = 0
NAIVE_SAMPLE = 10_000

# Eight subjects, each in English and Spanish.
SUBJECTS = {
    "reporting": (
        "report reported evidence screenshot deleted moderator ignored appeal removed",
        "denuncia denuncié pruebas captura borraron moderador ignoraron apelación eliminada",
    ),
    "strangers": (
        "stranger strangers messages chat child contact request friend adult",
        "desconocido desconocidos mensajes chat niño niña contacto solicitud amistad adulto",
    ),
    "encryption": (
        "encrypted encryption e2e scanning privacy images detect photos private",
        "cifrado cifrados escaneo privacidad imágenes detectar fotos privadas",
    ),
    "location": (
        "location map sharing tracked address followed nearby school",
        "ubicación mapa compartir rastreo dirección seguían cerca colegio",
    ),
    "live": (
        "live stream video camera gifts viewers broadcast streamer",
        "directo transmisión vídeo cámara regalos espectadores emisión",
    ),
    "age": (
        "age verification lied birthday account parents underage checks",
        "edad verificación mintió cumpleaños cuenta padres menores comprobación",
    ),
    "feed": (
        "recommended algorithm feed suggested content harmful videos endless",
        "recomendado algoritmo sugerencias contenido dañino portada vídeos infinito",
    ),
    "support": (
        "support helpline answer waited weeks nobody reply ticket",
        "ayuda línea respuesta esperé semanas nadie contestó ticket",
    ),
}
COMMON = (
    "the and my it was they I to of with in for after when because never again "
    "this that but not so very all just",
    "el la y mi que de con en por cuando porque nunca después también los las "
    "un una pero no muy todo solo",
)
ENDINGS = (".", ".", ".", "!", "?", ",", "...")


def synthetic_answers(n: int, seed: int) -> list[str]:
    """N free texts: each about one subject (now and then a second), in English or
    Spanish, of 1 to 3 sentences of 4 to 12 words, about 40% of them common words."""
    rng = random.Random(seed)
    subjects = list(SUBJECTS.values())
    vocabulary = [
        ([words.split() for words in (english, spanish)]) for english, spanish in subjects
    ]
    common = [words.split() for words in COMMON]
    texts = []
    for _ in range(n):
        language = rng.randrange(2)
        about = [rng.randrange(len(subjects))]
        if rng.random() < 0.2:
            about.append(rng.randrange(len(subjects)))
        sentences = []
        for _ in range(rng.randint(1, 3)):
            words = []
            for _ in range(rng.randint(4, 12)):
                if rng.random() < 0.4:
                    words.append(rng.choice(common[language]))
                else:
                    words.append(rng.choice(vocabulary[rng.choice(about)][language]))
            if rng.random() < 0.1:
                words = [word.upper() for word in words]
            sentences.append(" ".join(words).capitalize() + rng.choice(ENDINGS))
        texts.append(" ".join(sentences))
    return texts


def synthetic_codebook(seed: int) -> list[Theme]:
    """20 themes, 2 or 3 to a subject, of 6 keywords: 5 words of the subject in both
    languages (every third without its accents) and one two-word phrase."""
    rng = random.Random(seed)
    subjects = list(SUBJECTS.items())
    themes = []
    for number in range(20):
        name, (english, spanish) = subjects[number % len(subjects)]
        words = english.split() + spanish.split()
        keywords = rng.sample(words, 5)
        keywords = [fold(k) if i % 3 == 2 else k for i, k in enumerate(keywords)]
        keywords.append(" ".join(rng.sample(words, 2)))
        themes.append(
            Theme(f"{name}_{number}", f"{name.title()} {number}", keywords=tuple(keywords))
        )
    return themes


# --- the three ways to match ---------------------------------------------------------


def chorus_rules(themes: Sequence[Theme], texts: Sequence[str]) -> dict[str, frozenset[str]]:
    matcher = compile_rules(themes)
    return suggest_from_rules(matcher, {str(i): text for i, text in enumerate(texts)})


def floor_rules(themes: Sequence[Theme], texts: Sequence[str]) -> dict[str, frozenset[str]]:
    """Substring search of the lower-cased keywords: no accents, no word edges."""
    keywords = [(t.id, [k.lower() for k in t.keywords]) for t in themes]
    codes = {}
    for i, text in enumerate(texts):
        lowered = text.lower()
        found = [theme_id for theme_id, words in keywords if any(k in lowered for k in words)]
        if found:
            codes[str(i)] = frozenset(found)
    return codes


def pattern_loop_rules(themes: Sequence[Theme], texts: Sequence[str]) -> dict[str, frozenset[str]]:
    """Chorus's matching done the naive way: every keyword's pattern in every answer."""
    patterns = [(t.id, [keyword_pattern(k) for k in t.keywords]) for t in themes]
    codes = {}
    for i, text in enumerate(texts):
        folded = fold(text)
        found = [theme_id for theme_id, ps in patterns if any(p.search(folded) for p in ps)]
        if found:
            codes[str(i)] = frozenset(found)
    return codes


# --- the two ways to find topics -------------------------------------------------------


def chorus_topics(texts: Sequence[str]) -> list[tuple[str, ...]]:
    return [topic.terms for topic in topic_suggestions(texts, N_TOPICS, N_TERMS, seed=SEED)]


def floor_topics(texts: Sequence[str]) -> list[tuple[str, ...]]:
    vectorizer = TfidfVectorizer(
        strip_accents="unicode",
        lowercase=True,
        token_pattern=TOPIC_WORD_PATTERN,
        stop_words=list(topic_stop_words()),
        max_features=MAX_TOPIC_TERMS,
    )
    matrix = vectorizer.fit_transform(texts)
    nmf = NMF(n_components=N_TOPICS, init="nndsvda", random_state=SEED, max_iter=NMF_MAX_ITER)
    nmf.fit_transform(matrix)
    vocabulary = vectorizer.get_feature_names_out()
    return [
        tuple(str(vocabulary[i]) for i in np.argsort(-component, kind="stable")[:N_TERMS])
        for component in nmf.components_
    ]


# --- measuring -----------------------------------------------------------------------


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def cpu_seconds(work: Callable[[], Any]) -> tuple[float, Any]:
    started = time.process_time()
    result = work()
    return time.process_time() - started, result


def peak_mb(work: Callable[[], Any]) -> float:
    """How much `work` raises the peak resident memory of a forked copy of this
    process, in MB: the child's ru_maxrss after the work less its size at the fork
    (Linux starts a child's high-water mark at its resident size then)."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: measure, report, leave without any clean-up
        os.close(read_end)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        work()
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        os.write(write_end, str(after - before).encode())
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as report:
        kib = report.read()
    _, status = os.waitpid(pid, 0)
    if status != 0 or not kib:
        raise RuntimeError(f"the measuring child failed (status {status})")
    return int(kib) * 1024 / 1e6  # ru_maxrss is in KiB on Linux


def compare(name: str, ways: dict[str, Callable[[], Any]], rounds: int) -> dict[str, Any]:
    """Each way's peak memory (first, while the heap is fresh), then its best CPU
    seconds over the rounds (order reversed every other round); the results of the
    last round for checking."""
    memory = {which: peak_mb(work) for which, work in ways.items()}
    best = dict.fromkeys(ways, float("inf"))
    results: dict[str, Any] = {}
    for index in range(rounds):
        order = list(ways) if index % 2 == 0 else list(reversed(ways))
        for which in order:
            seconds, results[which] = cpu_seconds(ways[which])
            best[which] = min(best[which], seconds)
            log(f"  {name} {which}: {seconds:.2f} s")
    return {"seconds": best, "mb": memory, "results": results}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000, help="free-text answers")
    parser.add_argument("--rounds", type=int, default=2, help="timed rounds of each")
    parser.add_argument("--seed", type=int, default=1, help="seed for answers and codebook")
    args = parser.parse_args(argv)
    if args.n < N_TOPICS:
        parser.error(f"--n must be at least {N_TOPICS}")

    log(f"making {args.n:,} answers")
    texts = synthetic_answers(args.n, args.seed)
    themes = synthetic_codebook(args.seed)
    # Warm up: imports, the accent table, the stop words.
    chorus_rules(themes, texts[:1000])
    chorus_topics(texts[:1000])
    floor_topics(texts[:1000])

    rules = compare(
        "rules",
        {
            "chorus": lambda: chorus_rules(themes, texts),
            "floor": lambda: floor_rules(themes, texts),
        },
        args.rounds,
    )
    # The naive matcher takes ten times as long: it runs on a sample, once.
    sample = texts[:NAIVE_SAMPLE]
    naive_s, naive_codes = cpu_seconds(lambda: pattern_loop_rules(themes, sample))
    sample_s, sample_codes = cpu_seconds(lambda: chorus_rules(themes, sample))
    assert naive_codes == sample_codes, "the two matchers disagree"
    topics = compare(
        "topics",
        {"chorus": lambda: chorus_topics(texts), "floor": lambda: floor_topics(texts)},
        args.rounds,
    )
    same_terms = sorted(map(sorted, topics["results"]["chorus"])) == sorted(
        map(sorted, topics["results"]["floor"])
    )
    assert same_terms, "Chorus and the floor found different topics"

    coded = {which: len(codes) for which, codes in rules["results"].items()}
    print(
        f"suggesting themes for {args.n:,} free-text answers (English and Spanish), "
        f"{len(themes)} themes of {sum(len(t.keywords) for t in themes)} keywords, "
        f"{N_TOPICS} topics; best of {args.rounds} rounds, CPU seconds; "
        "peak resident memory added (maxrss of a forked child), MB"
    )
    print(f"  {'':<28}{'s':>8}{'MB':>8}{'× floor s':>11}{'× floor MB':>12}")
    rows = [
        ("rules: Chorus", rules, "chorus"),
        ("rules: floor (substring)", rules, "floor"),
        ("topics: Chorus", topics, "chorus"),
        ("topics: floor (sklearn)", topics, "floor"),
    ]
    for label, measured, which in rows:
        seconds, mb = measured["seconds"][which], measured["mb"][which]
        floor_s, floor_mb = measured["seconds"]["floor"], measured["mb"]["floor"]
        print(f"  {label:<28}{seconds:8.2f}{mb:8.1f}{seconds / floor_s:11.2f}{mb / floor_mb:12.2f}")
    print(
        f"  answers given a theme: Chorus {coded['chorus']:,}, floor {coded['floor']:,} "
        "(substrings, accents not ignored)"
    )
    print(
        f"  a pattern per keyword, on the first {len(sample):,} answers: {naive_s:.2f} s, "
        f"Chorus on the same {sample_s:.2f} s ({naive_s / sample_s:.1f}× Chorus; same codes)"
    )
    summary = {
        "bench": "themes",
        "answers": args.n,
        "themes": len(themes),
        "rounds": args.rounds,
        "rules_chorus_s": round(rules["seconds"]["chorus"], 3),
        "rules_floor_s": round(rules["seconds"]["floor"], 3),
        "naive_sample": len(sample),
        "naive_pattern_loop_s": round(naive_s, 3),
        "naive_chorus_s": round(sample_s, 3),
        "rules_ratio": round(rules["seconds"]["chorus"] / rules["seconds"]["floor"], 2),
        "rules_chorus_mb": round(rules["mb"]["chorus"], 1),
        "rules_floor_mb": round(rules["mb"]["floor"], 1),
        "topics_chorus_s": round(topics["seconds"]["chorus"], 3),
        "topics_floor_s": round(topics["seconds"]["floor"], 3),
        "topics_ratio": round(topics["seconds"]["chorus"] / topics["seconds"]["floor"], 2),
        "topics_chorus_mb": round(topics["mb"]["chorus"], 1),
        "topics_floor_mb": round(topics["mb"]["floor"], 1),
        "topics_mb_ratio": round(topics["mb"]["chorus"] / topics["mb"]["floor"], 2),
        "answers_coded": coded,
    }
    print(json.dumps(summary, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
