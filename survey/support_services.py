"""A starting list of support services a facilitator may choose from.

A survey can't open without at least one support service (survey/surveys.py
`require_support_services`): every respondent page names them under "If you need
support". The builder offers these as a starting point, and adds one only when
the facilitator ticks it; nothing here is added to a survey by itself.

Only services whose details are certain are listed: the ones the bundled template
(survey/bundled/product-risk-consultation.json) names, with the same details and
the same words in each of its languages.
Child Helpline International's directory suits any survey; the others are
offered to surveys in the language their service answers in.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SuggestedService:
    """A support service in the survey format's terms, with its texts in the
    languages it has them in."""

    key: str  # stable, for the builder's form
    name: dict[str, str]
    url: str | None = None
    phone: str | None = None
    hours: dict[str, str] | None = None
    # The languages of the surveys it is offered to; empty: every survey.
    for_languages: tuple[str, ...] = ()

    def suits(self, languages: Iterable[str]) -> bool:
        if not self.for_languages:
            return True
        return any(_primary(tag) in self.for_languages for tag in languages)

    def as_support(self, languages: Sequence[str]) -> dict[str, Any]:
        """A `support` entry for a survey in `languages`: a text for each of them, or,
        when this list lacks one of them, the default language's text alone (a plain
        string): the survey then can't open until the facilitator translates it
        (surveys.require_translations), instead of showing English words as if they
        were that language's."""
        entry: dict[str, Any] = {"name": _text(self.name, languages)}
        if self.url:
            entry["url"] = self.url
        if self.phone:
            entry["phone"] = self.phone
        if self.hours:
            entry["hours"] = _text(self.hours, languages)
        return entry


def _primary(tag: str) -> str:
    """The language of a tag: "es" for "es-419"."""
    return tag.split("-", 1)[0].lower()


def _text(text: dict[str, str], languages: Sequence[str]) -> str | dict[str, str]:
    found = {tag: text.get(tag) or text.get(_primary(tag)) for tag in languages}
    if len(languages) > 1 and all(found.values()):
        return {tag: words for tag, words in found.items() if words}
    return found[languages[0]] or text["en"]


EVERY_DAY = {
    "en": "24 hours, every day",
    "es": "24 horas, todos los días",
    "ar": "على مدار 24 ساعة، كل يوم",
}

SUGGESTED_SERVICES: tuple[SuggestedService, ...] = (
    SuggestedService(
        key="child-helpline-international",
        name={
            "en": "Child Helpline International — find a helpline in your country",
            "es": "Child Helpline International — encuentra una línea de ayuda en tu país",
            "ar": "الشبكة الدولية لخطوط مساعدة الأطفال (Child Helpline International): "
            "ابحث عن خط مساعدة في بلدك",
        },
        url="https://childhelplineinternational.org/helplines/",
    ),
    SuggestedService(
        key="childline-uk",
        name={
            "en": "Childline (UK, for children and young people under 19)",
            "es": "Childline (Reino Unido, para niños, niñas y jóvenes menores de 19 años)",
            "ar": "خط المساعدة Childline (المملكة المتحدة، للأطفال والشباب دون 19 عامًا)",
        },
        url="https://www.childline.org.uk",
        phone="0800 1111",
        hours=EVERY_DAY,
        for_languages=("en",),
    ),
    SuggestedService(
        key="napac-uk",
        name={
            "en": "NAPAC — National Association for People Abused in Childhood (UK, for adults)",
            "es": "NAPAC — National Association for People Abused in Childhood "
            "(Reino Unido, para personas adultas)",
            "ar": "الجمعية الوطنية للأشخاص الذين تعرّضوا للإساءة في الطفولة (NAPAC) — "
            "المملكة المتحدة، للبالغين",
        },
        url="https://napac.org.uk",
        phone="0808 801 0331",
        for_languages=("en",),
    ),
    SuggestedService(
        key="anar-spain",
        name={
            "en": "Fundación ANAR (Spain, for children and teenagers)",
            "es": "Fundación ANAR (España, para niños, niñas y adolescentes)",
            "ar": "مؤسسة ANAR (إسبانيا، للأطفال والمراهقين)",
        },
        url="https://www.anar.org",
        phone="900 20 20 10",
        hours=EVERY_DAY,
        for_languages=("es",),
    ),
)


def suggestions_for(languages: Sequence[str]) -> list[SuggestedService]:
    """The services to offer a survey in these languages, in the list's order."""
    return [service for service in SUGGESTED_SERVICES if service.suits(languages)]


def chosen_services(keys: Iterable[str], languages: Sequence[str]) -> list[SuggestedService]:
    """The offered services whose keys were ticked (unknown keys are ignored)."""
    ticked = set(keys)
    return [service for service in suggestions_for(languages) if service.key in ticked]
