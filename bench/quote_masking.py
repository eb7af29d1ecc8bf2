"""Masking 10,000 candidate quotes, beside a floor measured in the same run; and how
much of a hand-labelled set each language's masker catches.

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
on the first call) and what they add to the process's resident memory; masking
2,000 Arabic quotes made the same way (Arabic's own lists load on the first).

Recall and precision per language, on LABELLED: quotes written for this, apart from
the tests' corpus, each detail marked {like this|kind}. Recall: the share of details
whose every character was masked. Precision: the share of masked spans that touch a
detail. No offline recogniser (spaCy, stanza, Flair, CAMeL) is compared: each needs
a model that no package registry ships as an ordinary package, and a download at
run time fails where Chorus runs (see README).

Times are CPU seconds of this process (time.process_time). Rounds alternate (Chorus,
floor, floor, Chorus, ...) and the best of each is compared. This is a report, not a
test: nothing asserts on a time.
"""

from __future__ import annotations

import argparse
import json
import random
import re
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
ARABIC = [
    "اسمي {name_ar} وكان عمري {age_ar} سنة",
    "كان {relative_ar} {name_ar} يرسل لي رسائل من {town_ar}",
    "اتصل بي على {phone_ar} أو راسلني على {email}",
    "حسابه على سناب {handle}",
    "بدأ ذلك في {date_ar} واستمر شهورا",
    "أبلغت عن الحساب على انستغرام ولم يحدث شيء",
    "كان يرسل لي حوالي ٥٠ رسالة في اليوم",
    "كنت في الصف {grade_ar} عندما تعرفت عليه",
]
NAMES_AR = ["فاطمة", "أحمد الراشد", "يوسف", "مريم", "خالد بن سالم", "ليلى"]
TOWNS_AR = ["الرياض", "جدة", "القاهرة", "عمّان", "بيروت", "الدار البيضاء"]
RELATIVES_AR = ["عمي", "خالي", "ابن عمي", "مدربي", "جاري"]
AGES_AR = ["١٢", "۱۴", "13", "ثلاثة عشر"]
PHONES_AR = ["٠٥٠١٢٣٤٥٦٧", "+966 50 123 4567", "01001234567"]
DATES_AR = ["٣ مارس ٢٠١٩", "نيسان ٢٠٢٠", "12/03/2019"]
GRADES_AR = ["السابع", "الثامن", "التاسع"]
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


def arabic_quotes(count: int, seed: int) -> list[tuple[str, str]]:
    rng = random.Random(seed)

    def fill(template: str) -> str:
        return template.format(
            name_ar=rng.choice(NAMES_AR),
            town_ar=rng.choice(TOWNS_AR),
            relative_ar=rng.choice(RELATIVES_AR),
            age_ar=rng.choice(AGES_AR),
            phone_ar=rng.choice(PHONES_AR),
            email=rng.choice(EMAILS),
            handle=rng.choice(HANDLES),
            date_ar=rng.choice(DATES_AR),
            grade_ar=rng.choice(GRADES_AR),
        )

    return [
        ("، ".join(fill(rng.choice(ARABIC)) for _ in range(rng.randint(1, 2))), "ar")
        for _ in range(count)
    ]


# --- the labelled set ----------------------------------------------------------------------

LABELLED = {
    "en": [
        "my {uncle's friend Gary|name} used to pick me up from {Hartlepool|place}",
        "{Kayleigh|name} was my best friend and she knew",
        "he called himself {Jayden_xo|handle} on snap",
        "My name's {Precious Adeyemi|name} and I was {14|age} when it started.",
        "{Novak|name} sent the photos to my whole class",
        "we were both in {year nine|age} at {Castlebrook High School|place}",
        "his number was {07911 123456|phone}, he made me save it as a girl's name",
        "I'm {16|age} now and I still think about it",
        "the coach, Mr {Pritchard|name}, said it was normal",
        "he lived in {Wigan|place} and drove down every weekend",
        "email {kelsey.b2009@gmail.com|email} if you want to talk",
        "{Siobhan O'Connell|name} told the police for me",
        "it started on {14 February 2021|date}",
        "I was {thirteen|age} and he was {29|age}",
        "my cousin {Tariq Al-Amin|name} saw the messages",
        "he said his name was {Ryan|name} but it wasn't",
        "we moved from {Croydon|place} to get away from him",
        "he sent me to {discord.gg/secretroom|url}",
        "nobody at school believed me",
        "I reported it on TikTok three times and nothing happened",
        "Instagram kept suggesting him as a friend",
        "it went on for 2 years and I told no one",
        "Hope this helps another kid",
        "he messaged me about 40 times a day",
        "my mum found out in the end",
        "May was the worst month",
        "Will anyone actually read this?",
        "I wish the app had asked how old I was",
        "Snapchat should have stopped it",
        "he made me feel like it was my fault",
    ],
    "es": [
        "mi vecino {Rubén|name} me escribía por Instagram",
        "me llamo {Naiara Etxeberria|name} y tenía {12|age} años",
        "vivíamos en {Alcorcón|place} cuando pasó",
        "un tal {Kowalski|name} me mandaba regalos",
        "su número era el {654 321 987|phone}",
        "estaba en {1º de la ESO|age} en el {instituto Miguel Servet|place}",
        "el {3 de mayo de 2020|date} me pidió fotos",
        "mi tía {Begoña|name} fue la única que me creyó",
        "me pasó su correo {pacoxx@hotmail.es|email}",
        "{Íñigo|name} me dijo que no se lo contara a nadie",
        "tengo {15|age} y todavía me da miedo",
        "su insta era {@elrubio_07|handle}",
        "era de un pueblo de {Cuenca|place}",
        "nadie en el colegio me creyó",
        "lo denuncié en TikTok y no hicieron nada",
        "durante 2 años no dije nada",
        "mi madre se enteró al final",
        "la luz de la pantalla me despertaba",
        "Roblox debería proteger a los niños",
        "me mandaba más de 100 mensajes al día",
    ],
    "ar": [
        "اسمي {ريم العلي|name} وكان عمري {١١ سنة|age} عندما بدأ جاري "
        "{سعيد الحربي|name} في {الدمام|place} يراسلني",
        "كان خالي {يوسف|name} يرسل لي صورا",
        "تعرفت على شاب يدعى {سامر|name} على انستغرام",
        "كنت أعيش في {طرابلس|place} مع أهلي",
        "رقمه {٠٥٥٤٤٤٣٣٢٢|phone} وكان يتصل كل ليلة",
        "كنت في {الصف الثامن|age} عندما بدأ",
        "بدأ ذلك في {١٥ أيار ٢٠١٨|date}",
        "أخبرت معلمتي {نادية|name} لكنها لم تفعل شيئا",
        "حسابه كان {@ahmed.r22|handle}",
        "راسلني على {samer99@hotmail.com|email}",
        "كنت أدرس في {مدرسة النور الثانوية|place}",
        "ابن عمي {محمد بن سالم|name} هو من فعل ذلك",
        "كنت في {الرابعة عشرة|age} من عمري",
        "انتقلنا من {حلب|place} إلى {عمّان|place}",
        "كان عمره {٣٠|age} تقريبا",
        "لم أخبر أحدا لسنوات طويلة",
        "أبلغت عن الحساب عدة مرات لكن لم يتغير شيء",
        "كان يطلب مني صورا كل يوم ويهددني بنشرها",
        "أتمنى أن تحمي التطبيقات الأطفال بشكل أفضل",
        "الشرطة لم تفعل شيئا عندما أخبرتهم",
        "كنت وحيدة جدا في تلك الفترة",
        "تعرفت عليه في لعبة على الإنترنت",
        "أمي عرفت بعد سنة كاملة",
        "يجب أن يكون هناك زر للإبلاغ سهل وواضح",
        "أشعر بالأمل الآن بعد أن تكلمت",
        "عشنا في السعودية ثم انتقلنا إلى مصر",
        "كان يرسل لي ٣ مرات في الأسبوع",
        "أغلقت حسابي وفتحت حسابا جديدا",
        "نحن بحاجة إلى قوانين أقوى",
        "ساعدني الأخصائي النفسي كثيرا",
    ],
}
LABEL = re.compile(r"\{([^|{}]+)\|(\w+)\}")


def unlabelled(labelled: str) -> tuple[str, list[tuple[int, int]]]:
    """The quote without its marks, and where each marked detail is in it."""
    text, details, position = [], [], 0
    length = 0
    for match in LABEL.finditer(labelled):
        plain = labelled[position : match.start()]
        text.append(plain)
        length += len(plain)
        details.append((length, length + len(match.group(1))))
        text.append(match.group(1))
        length += len(match.group(1))
        position = match.end()
    text.append(labelled[position:])
    return "".join(text), details


def scores(language: str) -> dict[str, float | int]:
    """Recall and precision of the masker for `language` on LABELLED[language]."""
    found = missed = right = wrong = 0
    for labelled in LABELLED[language]:
        text, details = unlabelled(labelled)
        spans = quote_masking.mask_quote(text, language).spans
        masked = set()
        for start, end, _ in spans:
            masked.update(range(start, end))
        for start, end in details:
            if all(i in masked or text[i].isspace() for i in range(start, end)):
                found += 1
            else:
                missed += 1
        for start, end, _ in spans:
            if any(start < d_end and d_start < end for d_start, d_end in details):
                right += 1
            else:
                wrong += 1
    return {
        "details": found + missed,
        "recall": found / max(1, found + missed),
        "precision": right / max(1, right + wrong),
    }


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

    arabic = arabic_quotes(2000, seed=11)
    chorus(arabic[:10])  # Arabic's own lists load on the first
    arabic_s = min(cpu_seconds(chorus, arabic) for _ in range(args.rounds))
    labelled = {language: scores(language) for language in LABELLED}

    per_thousand = best["chorus"] / len(texts) * 1000
    print(f"masking {len(texts)} quotes, best of {args.rounds} rounds, CPU seconds:")
    print(f"  {'':<24}{'Chorus':>8}{'floor':>8}{'ratio':>8}")
    print(
        f"  {'mask_quote':<24}{best['chorus']:8.2f}{best['floor']:8.2f}"
        f"{best['chorus'] / best['floor']:8.1f}"
    )
    print(f"  per 1,000 quotes: {per_thousand:.2f} s")
    print(f"  lists loaded once: {load_s:.2f} s (wall), +{load_mb:.0f} MB resident")
    print(f"  {len(arabic)} Arabic quotes: {arabic_s:.2f} s")
    print("labelled set (details found whole; masked spans that touch a detail):")
    for language, score in labelled.items():
        print(
            f"  {language}: {score['details']} details, recall {score['recall']:.2f}, "
            f"precision {score['precision']:.2f}"
        )
    summary = {
        "texts": len(texts),
        "rounds": args.rounds,
        "chorus_s": round(best["chorus"], 3),
        "floor_s": round(best["floor"], 3),
        "ratio": round(best["chorus"] / best["floor"], 1),
        "per_1000_s": round(per_thousand, 3),
        "load_s": round(load_s, 2),
        "load_mb": round(load_mb),
        "arabic_2000_s": round(arabic_s, 3),
        **{
            f"{language}_{name}": round(value, 3)
            for language, score in labelled.items()
            for name, value in score.items()
            if name != "details"
        },
    }
    print(json.dumps(summary, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
