"""Coding free text into themes: the codebook, sealed codes, quotes and themed reports."""

from __future__ import annotations

from datetime import date

import pytest

from admin.analysis.frame import answers_frame
from admin.reports import coding, quotes
from admin.reports.build import Published, build_report, theme_evidence
from admin.reports.coding import REPORT_CODING, CodingError, Theme
from admin.reports.draft import (
    ID_RE,
    DraftReport,
    FindingDraft,
    draft_for,
    finding_from_theme,
    retheme_findings,
    save_draft,
)
from admin.reports.sealed_state import load_state, save_state
from admin.reports.themes import CodebookError
from survey.crypto import CryptoError
from survey.models import AnalysisState, db
from survey.retention import purge_expired
from survey.surveys import definition_of, unwrap_with_password
from tests.factories import (
    CUSTODIAN_PASSWORD,
    EVIDENCE_STORY,
    IGNORED_STORY,
    answered_small_survey,
    custodian_user,
    every_stored_value,
    storytellers,
    told_small_survey,
)

CSV_HEADER = "id,label,description,feature,harm,keywords\n"
EVIDENCE = EVIDENCE_STORY


@pytest.fixture
def unlocked(app):
    """The survey with its codebook, its free texts and the private key."""
    survey, frame = told_small_survey()
    key = unwrap_with_password(survey, custodian_user(), CUSTODIAN_PASSWORD)
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
    assert len(texts) == 60
    assert {t.question_id for t in texts} == {"story"}
    assert sum(t.quote_consent for t in texts) == 57


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
    assert len(found) == 57
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
    # A consented answer the analyst codes "ignored": that theme has 4 people, fewer
    # than k, so its approved quote must stay out.
    few = next(t for t in texts if t.quote_consent and t.text != EVIDENCE)
    coding.change_coding(survey, key, REPORT_CODING, lambda c: c.set_themes(few.key, {"ignored"}))
    quotes.decide(
        survey,
        key,
        texts,
        {
            adult.key: quotes.Decision(quotes.APPROVED, "They deleted the evidence."),
            young.key: quotes.Decision(quotes.APPROVED, "Gone before I could show anyone."),
            few.key: quotes.Decision(quotes.APPROVED, "I was fine in the end."),
        },
    )
    draft = DraftReport(
        theme_breakdown_by="age_band",
        findings=[FindingDraft(id="evidence", title="Evidence disappears", themes=["evidence"])],
    )
    report = build_report(survey, frame, draft, FIRST, theme_evidence(survey, frame, key))
    evidence, ignored = report["themes"]
    assert (evidence["id"], evidence["count"], evidence["answered"]) == ("evidence", 45, 60)
    assert evidence["percent"] == 75.0
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
    survey, frame = answered_small_survey(storytellers()[:25])
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


# --- what the theme pages need ------------------------------------------------------------------


def test_select_texts_filters_by_question_theme_and_uncoded(unlocked):
    survey, _, key, texts = unlocked
    first, second = texts[0].key, texts[1].key
    coding.change_coding(survey, key, REPORT_CODING, lambda c: c.set_themes(first, {"evidence"}))
    current = coding.load_coding(survey, key)
    assert len(coding.select_texts(texts, current)) == 60
    assert coding.select_texts(texts, current, question_id="wanted") == []
    assert [t.key for t in coding.select_texts(texts, current, theme_id="evidence")] == [first]
    uncoded = coding.select_texts(texts, current, "story", uncoded=True)
    assert len(uncoded) == 59 and uncoded[0].key == second


def test_code_answers_sets_exactly_the_chosen_themes_and_refuses_junk(unlocked):
    survey, _, key, texts = unlocked
    a, b = texts[0].key, texts[1].key
    coding.code_answers(survey, key, REPORT_CODING, texts, {a: {"evidence", "ignored"}})
    done = coding.code_answers(
        survey, key, REPORT_CODING, texts, {a: {"ignored"}, b: {"evidence"}}, {b: {"evidence"}}
    )
    assert done.themes_of(a) == {"ignored"}
    assert done.themes_of(b) == frozenset() and done.rejected[b] == {"evidence"}  # turned down
    before = coding.load_coding(survey, key).document()
    with pytest.raises(CodingError, match="no theme"):
        coding.code_answers(survey, key, REPORT_CODING, texts, {a: {"evidence", "nope"}})
    with pytest.raises(CodingError, match="no longer there"):
        coding.code_answers(survey, key, REPORT_CODING, texts, {"gone:story:text": {"evidence"}})
    assert coding.load_coding(survey, key).document() == before


def test_codings_are_named_and_disagreements_settled_into_the_reports(unlocked):
    survey, _, key, texts = unlocked
    user = custodian_user()
    assert coding.coding_names(survey) == [REPORT_CODING]  # even before anything is saved
    mine = coding.independent_coding(user)
    a = texts[0].key
    coding.code_answers(survey, key, mine, texts, {a: {"evidence", "ignored"}})
    assert coding.coding_names(survey) == [REPORT_CODING, mine]
    assert coding.coding_label(REPORT_CODING) == "The report's coding"
    assert coding.coding_label(mine) == f"{user.email}'s independent coding"
    assert coding.coding_label("coding:user:99999") == "A former analyst's independent coding"
    assert coding.settle_disagreement(survey, key, texts, a, mine) == {"evidence", "ignored"}
    assert coding.load_coding(survey, key).themes_of(a) == {"evidence", "ignored"}
    with pytest.raises(CodingError, match="doesn't exist"):
        coding.settle_disagreement(survey, key, texts, a, "coding:user:99999")


def test_counts_of_answers_and_of_open_suggestions(unlocked):
    survey, _, key, texts = unlocked
    coding.accept_rule_matches(survey, key, texts, "ignored")
    report = coding.load_coding(survey, key)
    assert coding.answers_by_theme(report, texts) == {"ignored": 3}
    # A withdrawn answer's codes don't count.
    assert coding.answers_by_theme(report, [t for t in texts if t.text != IGNORED_STORY]) == {}
    open_ = coding.rule_suggestions(texts, coding.codebook(survey), report)
    assert coding.suggestion_counts(open_) == {"evidence": 45}


def test_quotable_answers_and_decision_counts(unlocked):
    survey, _, key, texts = unlocked
    coding.accept_rule_matches(survey, key, texts)
    report = coding.load_coding(survey, key)
    assert len(quotes.quotable(texts, report)) == 57
    evidence = quotes.quotable(texts, report, "evidence")
    assert len(evidence) == 45 and quotes.quotable(texts, report, "ignored") == []  # no consent
    quotes.decide(
        survey,
        key,
        texts,
        {
            evidence[0].key: quotes.Decision(quotes.APPROVED, "They deleted the evidence."),
            evidence[1].key: quotes.Decision(quotes.REJECTED),
        },
    )
    counts = quotes.decision_counts(texts, quotes.load_decisions(survey, key))
    assert counts == {quotes.APPROVED: 1, quotes.REJECTED: 1, "undecided": 55}


def test_a_finding_built_from_a_theme_and_findings_following_merges_and_deletes(unlocked):
    survey, _, key, _ = unlocked
    evidence = coding.find_theme(survey, "evidence")
    draft = DraftReport(theme_breakdown_by="age_band")
    first = finding_from_theme(draft, evidence)
    assert (first.id, first.title, first.feature, first.affected) == (
        "evidence",
        "Evidence disappears",
        "disappearing messages",
        "no proof",
    )
    assert first.themes == ["evidence"] and first.affected_by == ["age_band"]
    draft.findings.append(first)
    assert finding_from_theme(draft, evidence).id == "evidence_2"
    long = Theme("t" * 64, "Long")
    assert ID_RE.fullmatch(finding_from_theme(DraftReport(), long).id)
    assert finding_from_theme(DraftReport(), long).affected_by == []

    draft.findings.append(FindingDraft(id="both", title="Both", themes=["ignored", "evidence"]))
    save_draft(survey, draft)
    coding.merge_into(survey, "evidence", ["ignored"], key, "ana@example.org")
    assert retheme_findings(survey, {"ignored": "evidence"}) == 1
    assert draft_for(survey).finding("both").themes == ["evidence"]
    coding.delete_theme(survey, "evidence", key, "ana@example.org")
    assert retheme_findings(survey, {"evidence": None}) == 2
    assert [f.themes for f in draft_for(survey).findings] == [[], []]
    assert retheme_findings(survey, {"evidence": None}) == 0
