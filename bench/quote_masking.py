"""Masking 10,000 candidate quotes, beside a floor measured in the same run.

    .venv/bin/python bench/quote_masking.py [--texts 10000] [--rounds 3]

The quotes are generated from sentences written the way survivors write (English and
Spanish, lower case, typos), each with up to two personal details (names, emails,
phones, handles, URLs, towns, addresses, dates, ages) or none, from a fixed seed.

Chorus: admin.reports.masking.mask_quote on each quote in its language: libphonenumber
where a quote has 7 digits or more, the date, age, address and school patterns, the
word-by-word pass for names and places against Faker's name lists and GeoNames'
towns, merging, and a second pass over the masked text (masking must be a fixed
point).

Floor: the least any masker must do, in this process: the same email and URL regular
expressions that admin.reports.masking uses, run over the same quotes, each match
replaced by its placeholder. The ratio says what the rest of the detection costs on
top of the two cheapest patterns.

Also shown, not compared: loading the name, word and place lists (once per process,
on the first call) and what they add to the process's resident memory.

Times are CPU seconds of this process (time.process_time). Rounds alternate (Chorus,
floor, floor, Chorus, ...) and the best of each is compared. This is a report, not a
test: nothing asserts on a time.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Callable

from admin.reports import masking as quote_masking

ENGLISH = [
    "my {relative} {name} added me on snap when i was {age}",
    "he said his name was {name} and he lived in {town}",
    "call me on {phone} or email {email}",
    "add me {handle} lol",
    "it started on {date} and went on for months",
    "he sent me to {url} and told me not to tell anyone",
    "we lived at {address} until i was {age}",
    "i reported it on Instagram three times and nothing happened",
    "he messaged me about 50 times a day on WhatsApp",
    "in 2020 the app changed and it got worse",
    "Will you help other kids? nobody helped me",
    "i was in year 8 and he was like 30",
]
SPANISH = [
    "me escribia un tal {name} desde {town}",
    "mi {relative_es} {name} me mandaba fotos cuando tenía {age} años",
    "escríbeme a {email} o al {phone_es}",
    "su insta es {handle}",
    "el {date_es} me escribió por primera vez",
    "me pasó un link {url} y me dio miedo",
    "vivía en la calle Mayor {number}, {town}",
    "lo denuncié en TikTok y no hicieron nada",
    "durante 2 años no le conté nada a nadie",
    "hablaba conmigo todos los días por Roblox",
]
NAMES = ["dave", "Javier Gómez", "lucia", "Tyler", "Chloe Evans", "pepe", "María José", "kayden"]
TOWNS = ["Leeds", "Valencia", "reading", "Getafe", "Burnley", "Jaén", "Rotherham", "Sevilla"]
RELATIVES = ["uncle", "cousin", "stepdad", "coach", "neighbour"]
RELATIVES_ES = ["tío", "primo", "entrenador", "vecino", "padrastro"]
EMAILS = ["lucia.perez@gmail.com", "jamie99@hotmail.co.uk", "x_x@yahoo.es", "dave@example.org"]
PHONES = ["07700 900123", "+44 7700 900456", "(212) 555-0147"]
PHONES_ES = ["612 345 678", "+34 912 345 678", "55 1234 5678"]
HANDLES = ["@jessie_x", "@el_primo_23", "u/throwaway_9981", "shadow#4821"]
URLS = ["www.x.com", "discord.gg/abc", "bit.ly/x", "https://t.me/joinchat/abc"]
DATES = ["3 March 2019", "12/03/2019", "July 4th", "the 5th of June"]
DATES_ES = ["3 de marzo de 2019", "14 de febrero", "1 de enero de 2020"]
ADDRESSES = ["12 Elm Street", "4 Church Lane", "221b Baker Street"]


def quotes(count: int, seed: int) -> list[tuple[str, str]]:
    """`count` (quote, language) pairs: each quote one or two filled-in sentences."""
    rng = random.Random(seed)

    def fill(template: str) -> str:
        return template.format(
            name=rng.choice(NAMES),
            town=rng.choice(TOWNS),
            relative=rng.choice(RELATIVES),
            relative_es=rng.choice(RELATIVES_ES),
            age=rng.randint(8, 17),
            email=rng.choice(EMAILS),
            phone=rng.choice(PHONES),
            phone_es=rng.choice(PHONES_ES),
            handle=rng.choice(HANDLES),
            url=rng.choice(URLS),
            date=rng.choice(DATES),
            date_es=rng.choice(DATES_ES),
            address=rng.choice(ADDRESSES),
            number=rng.randint(1, 99),
        )

    made = []
    for _ in range(count):
        language = rng.choice(["en", "es"])
        templates = ENGLISH if language == "en" else SPANISH
        sentences = [fill(rng.choice(templates)) for _ in range(rng.randint(1, 2))]
        made.append((". ".join(sentences), language))
    return made


def floor(texts: list[tuple[str, str]]) -> list[str]:
    """Only the email and URL patterns, each match replaced by its placeholder."""
    patterns = [
        (quote_masking.EMAIL, quote_masking.MASK_LABELS["email"]),
        (quote_masking.URL_WITH_SCHEME, quote_masking.MASK_LABELS["url"]),
        (quote_masking.URL_WWW, quote_masking.MASK_LABELS["url"]),
        (quote_masking.URL_BARE, quote_masking.MASK_LABELS["url"]),
    ]
    masked = []
    for text, _ in texts:
        for pattern, label in patterns:
            text = pattern.sub(label, text)
        masked.append(text)
    return masked


def chorus(texts: list[tuple[str, str]]) -> list[str]:
    return [quote_masking.mask_quote(text, language).text for text, language in texts]


def resident_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(
    work: Callable[[list[tuple[str, str]]], list[str]], texts: list[tuple[str, str]]
) -> float:
    started = time.process_time()
    work(texts)
    return time.process_time() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--texts", type=int, default=10_000, help="quotes per round")
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds of each")
    args = parser.parse_args(argv)

    before = resident_mb()
    started = time.perf_counter()
    quote_masking.lexicon()
    load_s = time.perf_counter() - started
    load_mb = resident_mb() - before

    texts = quotes(args.texts, seed=11)
    masked = chorus(texts[:500])  # warm up, and check the details are gone
    assert not any(detail in m for m in masked for detail in EMAILS + PHONES + URLS)
    floor(texts[:500])

    best = {"chorus": float("inf"), "floor": float("inf")}
    for index in range(args.rounds):
        order = ("chorus", "floor") if index % 2 == 0 else ("floor", "chorus")
        for which in order:
            seconds = cpu_seconds(chorus if which == "chorus" else floor, texts)
            best[which] = min(best[which], seconds)
            print(f"  {which}: {seconds:.2f} s", file=sys.stderr, flush=True)

    per_thousand = best["chorus"] / len(texts) * 1000
    print(f"masking {len(texts)} quotes, best of {args.rounds} rounds, CPU seconds:")
    print(f"  {'':<24}{'Chorus':>8}{'floor':>8}{'ratio':>8}")
    print(
        f"  {'mask_quote':<24}{best['chorus']:8.2f}{best['floor']:8.2f}"
        f"{best['chorus'] / best['floor']:8.1f}"
    )
    print(f"  per 1,000 quotes: {per_thousand:.2f} s")
    print(f"  lists loaded once: {load_s:.2f} s (wall), +{load_mb:.0f} MB resident")
    summary = {
        "texts": len(texts),
        "rounds": args.rounds,
        "chorus_s": round(best["chorus"], 3),
        "floor_s": round(best["floor"], 3),
        "ratio": round(best["chorus"] / best["floor"], 1),
        "per_1000_s": round(per_thousand, 3),
        "load_s": round(load_s, 2),
        "load_mb": round(load_mb),
    }
    print(json.dumps(summary, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
