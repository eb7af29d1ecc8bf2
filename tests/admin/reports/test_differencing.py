"""Two versions of a report can't be subtracted to describe a few people.

The attack of issue 20: publish a version, let 9 people skip everything and 1 answer
everything, publish the next (10 more respondents, which the old check on respondent
totals let through), and subtract the two tables: every question shows `answered` +1
and exactly one option +1, the newcomer's whole profile. Here each attack is run
against the real report builder and publisher; the checks of what a reader learns are
written out independently of admin/analysis/differencing.py.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.optimize import linprog
from sqlalchemy import func, select

from admin.analysis.sdc import Disclosure
from admin.reports import coding
from admin.reports.build import Published, build_report, theme_evidence
from admin.reports.draft import DraftReport, FindingDraft, ReportError
from admin.reports.publish import publish
from survey.models import Organisation, ReportVersion, db
from survey.surveys import unwrap_with_password
from tests.factories import (
    CUSTODIAN_PASSWORD,
    EVIDENCE_STORY,
    FINE_STORY,
    answered_small_survey,
    custodian_user,
    person,
    store_people,
    story_codebook,
    storytellers,
)

K = 10
ORG = "Example Messaging Ltd"
EVERYTHING = person("under_18", 5, ["defaults"], apps=None)


def add_people(survey, people):
    """Store more responses and return the survey's whole frame, read afresh."""
    from admin.analysis.frame import answers_frame

    store_people(survey, people)
    return answers_frame(survey, unwrap_with_password(survey, custodian_user(), CUSTODIAN_PASSWORD))


def published_numbers(document):
    """Every number a reader can subtract, by where it stands: the margins and every
    shown count (a hidden one is None)."""
    numbers = {("respondents",): document["respondents"]}
    for q in document["questions"]:
        for name in ("answered", "prefer_not_to_say", "skipped", "not_shown"):
            numbers[(q["id"], name)] = q[name]
        for category, count in zip(q["categories"], q["counts"], strict=True):
            numbers[(q["id"], category)] = count
    for b in document["breakdowns"]:
        for row, counts in zip(b["rows"], b["counts"], strict=True):
            for column, count in zip(b["columns"], counts, strict=True):
                numbers[(b["question"], b["by"], row, column)] = count
    for t in document["themes"]:
        numbers[("theme", t["id"])] = t["count"]
        numbers[("themes answered",)] = t["answered"]
    return numbers


def small_differences(before, after):
    """What subtracting two versions gives away: numbers shown in both whose
    difference is 1 to k−1 people."""
    old, new = published_numbers(before), published_numbers(after)
    return {
        where: new[where] - old[where]
        for where in old.keys() & new.keys()
        if old[where] is not None
        and new[where] is not None
        and 0 < abs(new[where] - old[where]) < K
    }


def test_nine_skippers_and_one_answerer_between_versions_are_refused(app, answered_survey):
    survey, frame = answered_survey
    organisation = Organisation(name=ORG)
    db.session.add(organisation)
    db.session.commit()
    publish(survey, frame, DraftReport(), [organisation], "ana@example.org")
    whole = add_people(survey, [person() for _ in range(9)] + [EVERYTHING])
    assert len(whole) == len(frame) + 10  # the old check on respondents passes

    with pytest.raises(ReportError) as refused:
        publish(survey, whole, DraftReport(), [organisation], "ana@example.org")
    message = str(refused.value)
    assert "“harm_scale” answered by 1" in message and "“harm_scale” skipped by 9" in message
    assert "from version 1" in message
    assert db.session.scalar(select(func.count()).select_from(ReportVersion)) == 1


def test_a_count_that_moved_by_a_few_is_hidden_and_stays_uncertain(app, answered_survey):
    """10 newcomers answer everything (no margin moves by fewer than k), 9 rating harm
    2 and one rating it 5: shown in both versions, "5" would go up by exactly 1."""
    survey, frame = answered_survey
    first = build_report(survey, frame, DraftReport(), FIRST)
    newcomers = [person("adult", 2, ["detect"]) for _ in range(9)]
    newcomers.append(person("adult", 5, ["detect"]))
    whole = add_people(survey, newcomers)
    naive = build_report(survey, whole, DraftReport(), FIRST)  # as if nothing came before
    assert small_differences(first, naive), "the attack works against versions built alone"

    second = build_report(survey, whole, DraftReport(), after(first))
    assert small_differences(first, second) == {}
    harm = next(q for q in second["questions"] if q["id"] == "harm_scale")
    old = next(q for q in first["questions"] if q["id"] == "harm_scale")
    assert harm["counts"][1] is None and harm["counts"][4] is None  # 2 and 5
    for hidden in (1, 4):
        low, high = one_way_interval(old, harm, hidden)
        assert high - low >= K // 2, (hidden, low, high)


def after(*documents):
    return Published(
        version=len(documents) + 1,
        published_week="2026-W50",
        addressed_to=[ORG],
        previous_version=len(documents),
        earlier=list(documents),
    )


FIRST = Published(version=1, published_week="2026-W49", addressed_to=[ORG])


def one_way_interval(old, new, cell):
    """The attacker's interval for a hidden count of `new`: its hidden counts add up
    to `answered` less the shown ones, each at least 1, and none below what `old`
    published of it (answers are only added once a report is out)."""
    hidden = [i for i, c in enumerate(new["counts"]) if c is None]
    rest = new["answered"] - sum(c for c in new["counts"] if c is not None)
    bounds = [(max(1, old["counts"][i] or 1), None) for i in hidden]
    a_eq, b_eq = np.ones((1, len(hidden))), [rest]
    target = np.zeros(len(hidden))
    target[hidden.index(cell)] = 1
    low = linprog(target, A_eq=a_eq, b_eq=b_eq, bounds=bounds).fun
    high = -linprog(-target, A_eq=a_eq, b_eq=b_eq, bounds=bounds).fun
    return low, high


def test_one_newcomer_among_skippers_in_a_breakdown(app, answered_survey):
    """10 newcomers give their age group and nothing else, except one under-18 who
    rates harm 5: the breakdown of harm by age is where they would show."""
    survey, frame = answered_survey
    draft = DraftReport(
        findings=[
            FindingDraft(
                id="harm", title="Harm", affected_by=["age_band"], severity_question="harm_scale"
            )
        ]
    )
    first = build_report(survey, frame, draft, FIRST)
    whole = add_people(survey, [person("adult") for _ in range(9)] + [person("under_18", 5)])
    with pytest.raises(ReportError, match="“harm_scale” answered by 1"):
        build_report(survey, whole, draft, after(first))


def test_the_free_text_set_and_theme_counts_are_held_to_the_rule(app):
    """v1: 60 people wrote a story. Then 10 more answer, one of them with a story:
    the number whose words were coded would go up by exactly 1."""
    survey, frame = answered_small_survey(storytellers())
    for theme in story_codebook():
        coding.add_theme(survey, theme, "ana@example.org")
    key = unwrap_with_password(survey, custodian_user(), CUSTODIAN_PASSWORD)

    def report(frame, published):
        evidence = theme_evidence(survey, frame, key)
        coding.accept_rule_matches(survey, key, evidence.texts)
        return build_report(
            survey, frame, DraftReport(), published, theme_evidence(survey, frame, key)
        )

    first = report(frame, FIRST)
    assert first["themes"][0]["answered"] == 60
    one_story = [person("adult", 3, ["detect"]) for _ in range(9)]
    one_story.append(person("adult", 3, ["detect"], story=EVIDENCE_STORY, consent=True))
    whole = add_people(survey, one_story)
    with pytest.raises(ReportError, match="people whose words were coded by 1"):
        report(whole, after(first))

    # Ten more stories, 8 of them coded "evidence" and two not: with the one before,
    # the theme count moves by 9 and is hidden in the next version, not subtracted.
    more = [person("adult", 3, ["detect"], story=EVIDENCE_STORY) for _ in range(8)]
    more += [person("adult", 3, ["detect"], story=FINE_STORY) for _ in range(2)]
    whole = add_people(survey, more)
    second = report(whole, after(first))
    assert second["themes"][0]["answered"] == 71
    assert small_differences(first, second) == {}
    evidence = second["themes"][0]
    assert evidence["count"] is None and evidence["quotes"] == []


def test_every_pair_of_versions_passes_and_earlier_hidden_counts_stay_hidden(app, answered_survey):
    """Three versions, each 10 to 30 people apart, every pair compared."""
    survey, frame = answered_survey
    versions = [build_report(survey, frame, DraftReport(), FIRST)]
    batches = [
        [person("adult", 2, ["detect", "report"]) for _ in range(12)]
        + [person("under_18", 4, ["detect"]) for _ in range(10)],
        [person("adult", 3, ["report"]) for _ in range(10)]
        + [person("under_18", 1, ["defaults"]) for _ in range(10)],
    ]
    for batch in batches:
        whole = add_people(survey, batch)
        versions.append(build_report(survey, whole, DraftReport(), after(*versions)))
    for i, later in enumerate(versions):
        for earlier in versions[:i]:
            assert small_differences(earlier, later) == {}
    from admin.analysis.differencing import pinned_tables

    disclosure = Disclosure(k=K)
    assert pinned_tables(versions[:-1], versions[-1], disclosure) == []
    assert json.dumps(versions[-1])  # a document like any other


def test_a_count_hidden_before_is_not_pinned_by_what_the_next_version_shows(app):
    """Version 1 hides harm 1 (8 people) and, to protect it, harm 2 (12): the attacker
    knows only that they add up to 20. Then 2 more rate harm 1 and 10 rate harm 3.
    Shown in version 2, 10 and 12 would bound version 1's pair from above (counts only
    grow), pinning its 8 to [8, 10]; so version 2 hides the table instead."""
    people = (
        [person(harm=1) for _ in range(8)]
        + [person(harm=2) for _ in range(12)]
        + [person(harm=3) for _ in range(30)]
    )
    survey, frame = answered_small_survey(people)
    first = build_report(survey, frame, DraftReport(), FIRST)
    old = next(q for q in first["questions"] if q["id"] == "harm_scale")
    assert old["counts"] == [None, None, 30, 0, 0]
    whole = add_people(
        survey, [person(harm=1) for _ in range(2)] + [person(harm=3) for _ in range(10)]
    )
    second = build_report(survey, whole, DraftReport(), after(first))
    new = next(q for q in second["questions"] if q["id"] == "harm_scale")
    assert new["counts"] == [None, None, None, 0, 0]
    # The attacker's bound on version 1's hidden "1": x1 + x2 = 20 (v1), y1 + y2 + y3 =
    # 62 (v2), y3 ≥ 30, each y at least its x, everything hidden at least 1.
    # Variables x1, x2, y1, y2, y3.
    a_eq = [[1, 1, 0, 0, 0], [0, 0, 1, 1, 1]]
    b_eq = [20, new["answered"]]
    a_ub = [[1, 0, -1, 0, 0], [0, 1, 0, -1, 0]]
    b_ub = [0, 0]
    bounds = [(1, None)] * 4 + [(30, None)]
    low = linprog([1, 0, 0, 0, 0], A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, bounds=bounds)
    high = linprog([-1, 0, 0, 0, 0], A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, bounds=bounds)
    assert -high.fun - low.fun >= K // 2


def test_the_preview_tells_analysts_what_earlier_versions_hide_and_why_it_cant_publish(
    app, answered_survey
):
    from tests.factories import page_text, unlocked_analyst

    survey, frame = answered_survey
    organisation = Organisation(name=ORG)
    db.session.add(organisation)
    db.session.commit()
    publish(survey, frame, DraftReport(), [organisation], "ana@example.org")
    add_people(
        survey,
        [person("adult", 2, ["detect"]) for _ in range(9)] + [person("adult", 5, ["detect"])],
    )
    client = unlocked_analyst(app)
    preview = page_text(client.get("/staff/surveys/small/report/preview"))
    assert "Hidden because of earlier versions" in preview
    assert "“harm_scale”: 2 counts changed by fewer than 10 people" in preview

    add_people(survey, [person() for _ in range(9)] + [EVERYTHING])
    refused = page_text(client.get("/staff/surveys/small/report/preview"))
    assert "This report can't be published yet" in refused
    assert "“harm_scale” skipped by 9" in refused
