"""Coding free text into themes: the codebook, sealed codes, quotes and themed reports."""

from __future__ import annotations

from datetime import date

import pytest

from admin.analysis.frame import answers_frame
from admin.reports import coding, quotes
from admin.reports.build import Published, build_report, theme_evidence
from admin.reports.coding import REPORT_CODING, CodingError, Theme
from admin.reports.draft import DraftReport, FindingDraft
from admin.reports.sealed_state import load_state, save_state
from admin.reports.themes import CodebookError
from survey.crypto import CryptoError
from survey.models import AnalysisState, db
from survey.retention import purge_expired
from survey.surveys import definition_of, unwrap_with_password
from tests.factories import (
    CUSTODIAN_PASSWORD,
    answered_small_survey,
    custodian_user,
    every_stored_value,
    person,
)

CSV_HEADER = "id,label,description,feature,harm,keywords\n"
EVIDENCE = "They deleted the evidence before I could report it, Dave said nothing."
IGNORED = "Nobody listened when I told them."
FINE = "I was fine in the end."
# k = 10. 61 wrote a story (one didn't agree to be quoted). "evidence": 30 adults,
# 3 under 18 (hidden in a breakdown by age) and 12 who didn't give their age;
# "ignored": 3 people, fewer than k; 12 wrote something else.
PEOPLE = (
    [person("adult", 3, ["detect"], story=EVIDENCE, consent=True) for _ in range(30)]
    + [person("under_18", 4, ["detect"], story=EVIDENCE, consent=True) for _ in range(3)]
    + [person("pnts", 4, ["detect"], story=EVIDENCE, consent=True) for _ in range(12)]
    + [person("adult", 2, ["report"], story=IGNORED, consent=True) for _ in range(3)]
    + [person("adult", 2, ["report"], story=FINE, consent=True) for _ in range(12)]
    + [person("under_18", 2, ["report"]) for _ in range(15)]
    + [person("pnts", 2, ["report"]) for _ in range(10)]
    + [person("adult", 2, ["report"], story="I'd rather not be quoted.", consent=False)]
)
BOOK = [
    Theme(
        "evidence",
        "Evidence disappears",
        "Messages vanish",
        "disappearing messages",
        "no proof",
        ("evidence", "deleted"),
    ),
    Theme("ignored", "Not listened to", feature="reporting", keywords=("listened",)),
]


@pytest.fixture
def unlocked(app):
    """The survey with its codebook, its free texts and the private key."""
    survey, frame = answered_small_survey(PEOPLE)
    key = unwrap_with_password(survey, custodian_user(), CUSTODIAN_PASSWORD)
    for theme in BOOK:
        coding.add_theme(survey, theme, "ana@example.org")
    texts = coding.free_texts_of(frame, definition_of(survey))
    return survey, frame, key, texts


# --- the codebook ---------------------------------------------------------------------------


def test_themes_are_added_edited_moved_and_deleted(unlocked):
    survey, _, key, _ = unlocked
    assert [t.id for t in coding.codebook(survey)] == ["evidence", "ignored"]
    with pytest.raises(CodingError, match="already a theme"):
        coding.add_theme(survey, Theme("evidence", "Again"), "ana@example.org")
    with pytest.raises(CodingError, match="label"):
        coding.add_theme(survey, Theme("blank", " "), "ana@example.org")
    coding.edit_theme(survey, "ignored", Theme("x", "Not believed", keywords=("believe",)), "a")
    assert coding.find_theme(survey, "ignored").label == "Not believed"  # the id stays
    coding.move_theme(survey, "ignored", -1)
    assert [t.id for t in coding.codebook(survey)] == ["ignored", "evidence"]
    coding.delete_theme(survey, "ignored", key, "ana@example.org")
    assert [t.id for t in coding.codebook(survey)] == ["evidence"]


def test_a_codebook_round_trips_through_csv_and_a_bad_file_changes_nothing(unlocked):
    survey, *_ = unlocked
    text = coding.export_codebook(survey)
    assert text.splitlines()[0] == "id,label,description,feature,harm,keywords"
    result = coding.import_codebook(
        survey, text + "new_one,A new theme,,,,grooming; friend request\n", "ana@example.org"
    )
    assert result.added == ["new_one"] and result.updated == ["evidence", "ignored"]
    assert coding.find_theme(survey, "new_one").keywords == ("grooming", "friend request")
    before = coding.codebook(survey)
    with pytest.raises(CodebookError, match="row 2, id"):
        coding.import_codebook(survey, CSV_HEADER + "Bad Id,x,,,,\n", "ana@example.org")
    assert coding.codebook(survey) == before


# --- codes, sealed -----------------------------------------------------------------------------


def test_free_texts_are_the_texts_and_only_long_texts_can_carry_consent(unlocked):
    texts = unlocked[3]
    assert len(texts) == 61
    assert {t.question_id for t in texts} == {"story"}
    assert sum(t.quote_consent for t in texts) == 60


def test_codes_are_sealed_nothing_stored_links_a_theme_to_an_answer(unlocked):
    survey, _, key, texts = unlocked
    first = texts[0]
    coding.change_coding(
        survey, key, REPORT_CODING, lambda c: c.set_themes(first.key, {"evidence"})
    )
    assert coding.load_coding(survey, key).themes_of(first.key) == {"evidence"}
    stored = every_stored_value()
    response_id = first.key.split(":")[0]
    assert first.key not in stored
    assert "chorus-coding" not in stored and '"codes"' not in stored
    sealed = db.session.scalar(db.select(AnalysisState.sealed))
    for clear in (response_id, "evidence", "story"):
        assert clear.encode() not in sealed and clear.encode().hex() not in sealed.hex()
    # A sealed document moved to another name (another coder's) doesn't open.
    db.session.execute(db.update(AnalysisState).values(name="coding:user:1"))
    with pytest.raises(CryptoError):
        load_state(survey, key, "coding:user:1", coding.CODING_FORMAT)


def test_a_save_based_on_an_old_revision_fails_and_change_coding_retries(unlocked):
    survey, _, key, texts = unlocked
    a, b = texts[0].key, texts[1].key
    coding.change_coding(survey, key, REPORT_CODING, lambda c: c.set_themes(a, {"evidence"}))
    stale = coding.load_coding(survey, key)
    coding.change_coding(survey, key, REPORT_CODING, lambda c: c.set_themes(b, {"ignored"}))
    stale.set_themes(a, set())
    assert save_state(survey, REPORT_CODING, coding.CODING_FORMAT, stale.document(),
                      stale.revision) is None  # fmt: skip
    db.session.rollback()
    both = coding.load_coding(survey, key)
    assert both.themes_of(a) == {"evidence"} and both.themes_of(b) == {"ignored"}


def test_rule_suggestions_leave_out_what_is_coded_or_turned_down(unlocked):
    survey, _, key, texts = unlocked
    first, second = [t.key for t in texts if t.text == EVIDENCE][:2]

    def decide(c):
        c.set_themes(first, {"evidence"})
        c.reject(second, "evidence")

    coding.change_coding(survey, key, REPORT_CODING, decide)
    suggestions = coding.rule_suggestions(
        texts, coding.codebook(survey), coding.load_coding(survey, key)
    )
    assert first not in suggestions and second not in suggestions
    assert len(suggestions) == 43 + 3  # the other "evidence" answers, and "listened"
    added = coding.accept_rule_matches(survey, key, texts)
    assert added == {"evidence": 43, "ignored": 3}
    assert coding.load_coding(survey, key).themes_of(second) == frozenset()  # still turned down


def test_merging_and_deleting_themes_rewrite_every_coding(unlocked):
    survey, _, key, texts = unlocked
    user = custodian_user()
    mine = coding.independent_coding(user)
    a = texts[0].key
    coding.change_coding(survey, key, REPORT_CODING, lambda c: c.set_themes(a, {"ignored"}))
    coding.change_coding(survey, key, mine, lambda c: c.set_themes(a, {"ignored", "evidence"}))
    kept = coding.merge_into(survey, "evidence", ["ignored"], key, "ana@example.org")
    assert "listened" in kept.keywords
    assert coding.load_coding(survey, key).themes_of(a) == {"evidence"}
    assert coding.load_coding(survey, key, mine).themes_of(a) == {"evidence"}
    coding.delete_theme(survey, "evidence", key, "ana@example.org")
    assert coding.load_coding(survey, key).codes == {}
    assert coding.load_coding(survey, key, mine).codes == {}


# --- quotes ------------------------------------------------------------------------------------


def test_only_consented_answers_are_candidates_and_they_are_masked(unlocked):
    survey, _, key, texts = unlocked
    found = quotes.candidates(texts, coding.load_coding(survey, key), {}, "en")
    assert len(found) == 60
    told = [c for c in found if "evidence" in c.masked]
    assert len(told) == 45
    assert all("Dave" not in c.masked and "[name]" in c.masked for c in told)
    refused = next(t for t in texts if not t.quote_consent)
    with pytest.raises(quotes.QuoteError, match="agreed to be quoted"):
        quotes.decide(survey, key, texts, {refused.key: quotes.Decision(quotes.APPROVED, "x")})


def test_approved_text_is_sealed_and_a_csv_round_trip_takes_the_edits(unlocked):
    survey, _, key, texts = unlocked
    found = quotes.candidates(texts, coding.load_coding(survey, key), {}, "en")
    exported = quotes.candidates_csv(key, found[:2], definition_of(survey))
    lines = exported.splitlines()
    assert lines[0] == "id,question,themes,text,approved"
    first_id, second_id = (line.split(",")[0] for line in lines[1:3])
    assert found[0].key.split(":")[0] not in exported  # the id says nothing of the response
    edited = (
        "id,question,themes,text,approved\n"
        f'{first_id},q,,"They deleted the evidence, [name] said nothing.",yes\n'
        f"{second_id},q,,whatever,no\n"
    )
    result = quotes.decisions_from_csv(survey, key, texts, edited)
    assert (result.approved, result.rejected, result.left) == (1, 1, 0)
    approved = quotes.approved_quotes(texts, quotes.load_decisions(survey, key))
    assert approved == {found[0].key: "They deleted the evidence, [name] said nothing."}
    assert "[name] said nothing" not in every_stored_value()
    with pytest.raises(quotes.QuoteError, match="row 2: unknown id"):
        quotes.decisions_from_csv(survey, key, texts, "id,text,approved\nq123,x,yes\n")


# --- themes in the report ----------------------------------------------------------------------

FIRST = Published(version=1, published_week="2026-W49", addressed_to=["Example Ltd"])


def test_the_report_leads_with_protected_theme_counts_breakdowns_and_safe_quotes(unlocked):
    survey, frame, key, texts = unlocked
    coding.accept_rule_matches(survey, key, texts)
    evidence = [t for t in texts if t.text == EVIDENCE]
    adult = next(t for t in evidence if age_of(frame, t) == "adult")
    young = next(t for t in evidence if age_of(frame, t) == "under_18")
    few = next(t for t in texts if t.text == IGNORED)  # a theme of 3, fewer than k
    quotes.decide(
        survey,
        key,
        texts,
        {
            adult.key: quotes.Decision(quotes.APPROVED, "They deleted the evidence."),
            young.key: quotes.Decision(quotes.APPROVED, "Gone before I could show anyone."),
            few.key: quotes.Decision(quotes.APPROVED, "Nobody listened."),
        },
    )
    draft = DraftReport(
        theme_breakdown_by="age_band",
        findings=[FindingDraft(id="evidence", title="Evidence disappears", themes=["evidence"])],
    )
    report = build_report(survey, frame, draft, FIRST, theme_evidence(survey, frame, key))
    evidence, ignored = report["themes"]
    assert (evidence["id"], evidence["count"], evidence["answered"]) == ("evidence", 45, 61)
    assert evidence["percent"] == 73.8
    assert evidence["breakdown"]["rows"] == ["under_18", "adult", "no_answer"]
    assert evidence["breakdown"]["counts"] == [None, 30, None]
    # The author whose group is hidden (3 under 18) isn't quoted; the adult is.
    assert evidence["quotes"] == ["They deleted the evidence."]
    assert ignored["count"] is None and ignored["display"] == "suppressed"
    assert ignored["quotes"] == []  # approved, but its theme is too small to quote
    assert report["findings"][0]["evidence"]["themes"] == ["evidence"]
    assert report["findings"][0]["quotes"] == ["They deleted the evidence."]


def age_of(frame, text) -> str | None:
    response = text.key.split(":")[0]
    if frame.at[response, "age_band.state"] != "answered":
        return None
    return frame.at[response, "age_band"]


def test_no_codebook_means_no_themes(app):
    survey, frame = answered_small_survey(PEOPLE[:25])
    key = unwrap_with_password(survey, custodian_user(), CUSTODIAN_PASSWORD)
    report = build_report(survey, frame, DraftReport(), FIRST, theme_evidence(survey, frame, key))
    assert report["themes"] == []


def test_a_withdrawn_or_purged_answer_takes_its_codes_and_quotes_with_it(unlocked):
    survey, _, key, texts = unlocked
    coding.accept_rule_matches(survey, key, texts)
    gone = texts[0]
    # Withdrawal removes the response from the frame the next unlock builds.
    frame = answers_frame(survey, key).drop(gone.key.split(":")[0])
    still = coding.free_texts_of(frame, definition_of(survey))
    carried = coding.respondents_by_theme(coding.load_coding(survey, key), still)
    assert gone.key.split(":")[0] not in carried["evidence"]
    survey.retain_until = date(2026, 1, 1)
    db.session.commit()
    [purged] = purge_expired(date(2026, 1, 2), "cli:test")
    assert purged.analysis == 1
    assert db.session.scalar(db.select(db.func.count()).select_from(AnalysisState)) == 0
