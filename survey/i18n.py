"""The app's own words on respondent pages (and in reports), in every language it speaks.

Survey texts carry their own translations (docs/survey-format.md); these are the
buttons, notices and messages around them: gettext messages whose msgids are the
English text, translated in survey/translations/<language>/LC_MESSAGES/messages.po
(README "Languages"). Templates call `_("...")`; Python calls `gettext`, or marks a
message it chooses for a template to translate later with `N_`. A survey in a language
without a catalogue shows its own texts with this chrome in English.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

import flask_babel
from babel import Locale, UnknownLocaleError
from babel.support import NullTranslations, Translations
from flask import Flask, g, has_app_context
from flask_babel import Babel, force_locale

from survey.config import TRANSLATIONS_DIR

LANGUAGE_NAMES = {"en": "English", "es": "Español"}


def gettext(message: str, **params: Any) -> str:
    """`message` (a msgid) in this request's language, its %(name)s placeholders filled."""
    text: str = active_catalogue().ugettext(message)
    return text % params if params else text


def N_(message: str) -> str:
    """Marks `message` for extraction (pybabel's keyword N_) without translating it:
    for messages chosen in Python and translated where a template shows them."""
    return message


@contextmanager
def speaking(language: str) -> Iterator[None]:
    """Within it, gettext, templates and Babel's formats speak `language`, whatever this
    request speaks (a report in its survey's language, the builder's preview). Languages
    without a catalogue get English words, and Babel's formats for the language."""
    locale = babel_locale(language)
    if locale is None:
        yield
        return
    if not has_app_context():  # force_locale does nothing there, and gettext is English
        yield
        return
    with force_locale(locale):
        previous = g.pop(_CATALOGUE_KEY, None)
        try:
            yield
        finally:
            g.pop(_CATALOGUE_KEY, None)
            if previous is not None:
                setattr(g, _CATALOGUE_KEY, previous)


def translate_to(language: str, message: str, **params: Any) -> str:
    """`message` (a msgid) in `language`, whatever this request speaks, and outside any
    request too (a report built or rendered from the command line)."""
    text: str = catalogue(language).ugettext(message)
    return text % params if params else text


@cache
def catalogue(language: str) -> NullTranslations:
    """`language`'s compiled catalogue (its .mo file), read without Flask: what the
    report's own Jinja environment speaks. English, or a language without a catalogue,
    gets the msgids themselves (English)."""
    locale = babel_locale(language)
    if locale is None:
        return NullTranslations()
    return Translations.load(str(TRANSLATIONS_DIR), [locale], domain="messages")


def language_name(tag: str) -> str:
    """A language's name in itself ("Español", "العربية"), for the language switch."""
    if tag in LANGUAGE_NAMES:
        return LANGUAGE_NAMES[tag]
    locale = babel_locale(tag)
    name = locale.get_display_name(locale) if locale else None
    return name[:1].upper() + name[1:] if name else tag


def language_label(tag: str) -> str:
    """A language's English name, for staff pages ("Arabic" for "ar"); the tag when
    Babel knows no such language."""
    locale = babel_locale(tag)
    name = locale.get_display_name("en") if locale else None
    return name or tag


# --- gettext catalogues (Flask-Babel) --------------------------------------------------
# The app's words are gettext messages whose msgids are the English text; each language
# the app speaks has survey/translations/<language>/LC_MESSAGES/messages.po (edited by
# translators) and messages.mo (compiled, what the app reads). `make messages` extracts
# and updates them; README "Languages" says how to add one.

ENGLISH = "en"
_LANGUAGE_KEY = "chorus_language"
# The catalogue this request speaks now, found once: a page asks for some thirty
# messages, and Flask-Babel finds the locale and its catalogue again for each.
_CATALOGUE_KEY = "chorus_catalogue"
babel = Babel()


def init_babel(app: Flask) -> None:
    """Flask-Babel on `app`, reading survey/translations, the locale chosen per request."""
    app.config.setdefault("BABEL_DEFAULT_LOCALE", ENGLISH)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(TRANSLATIONS_DIR)
    babel.init_app(app, locale_selector=selected_locale)
    # {% trans %} blocks lose their line breaks and indentation, as pybabel extracts them.
    app.jinja_env.policies["ext.i18n.trimmed"] = True
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        lambda message: active_catalogue().ugettext(message),
        lambda singular, plural, n: active_catalogue().ungettext(singular, plural, n),
        newstyle=True,
    )
    # <html dir="{{ text_direction(lang) }}">: right-to-left languages mirror the page.
    app.jinja_env.globals["text_direction"] = text_direction


def selected_locale() -> Locale:
    """The respondent's survey language on respondent pages (set by `use_language`),
    English everywhere else unless a report forces its survey's language."""
    chosen = g.get(_LANGUAGE_KEY)
    locale = babel_locale(chosen) if isinstance(chosen, str) else None
    return locale or Locale.parse(ENGLISH)


def use_language(language: str) -> None:
    """Speak `language` for the rest of this request (a respondent page's survey language)."""
    if g.get(_LANGUAGE_KEY) == language:
        return
    setattr(g, _LANGUAGE_KEY, language)
    g.pop(_CATALOGUE_KEY, None)
    flask_babel.refresh()


def active_catalogue() -> NullTranslations:
    """The catalogue of the language Flask-Babel speaks now (`selected_locale`, or the
    one `speaking` forces), kept for the rest of the request until either changes."""
    if not has_app_context():
        return catalogue(ENGLISH)
    found: NullTranslations | None = g.get(_CATALOGUE_KEY)
    if found is None:
        found = catalogue(str(flask_babel.get_locale()))
        setattr(g, _CATALOGUE_KEY, found)
    return found


def babel_locale(language: str) -> Locale | None:
    """Babel's locale for a survey language tag ("es", "pt-BR"), or None if it knows none."""
    try:
        return Locale.parse(language.replace("-", "_"))
    except (ValueError, TypeError, UnknownLocaleError):
        return None


def is_rtl(language: str) -> bool:
    """Whether `language` is written right to left (Arabic, Hebrew, Farsi, Urdu...)."""
    locale = babel_locale(language)
    return locale is not None and locale.character_order == "right-to-left"


def text_direction(language: str) -> str:
    """The HTML dir attribute's value for text in `language`."""
    return "rtl" if is_rtl(language) else "ltr"


def shipped_languages() -> list[str]:
    """The languages the app's own words are translated into, besides English."""
    if not TRANSLATIONS_DIR.is_dir():
        return []
    return sorted(p.parent.parent.name for p in TRANSLATIONS_DIR.glob("*/LC_MESSAGES/messages.po"))


def direction_of(text: object) -> str:
    """The direction a piece of data is written in, from its first letter (as the
    Unicode bidirectional algorithm and HTML's dir="auto" decide it): "rtl" for
    Arabic or Hebrew, "ltr" for Latin and others, "ltr" when it has no letter at all
    (numbers, codes, web addresses). For dir="" on data of unknown language where
    dir="auto" doesn't reach: WeasyPrint, which makes report PDFs, ignores it."""
    import unicodedata

    for character in str(text or ""):
        kind = unicodedata.bidirectional(character)
        if kind in ("R", "AL"):
            return "rtl"
        if kind == "L":
            return "ltr"
    return "ltr"
