"""The analyst's theme pages: codebook, coding, agreement and quotes, through the
test client against the real database, errors included."""

from __future__ import annotations

import html
import io
import json
import logging
import re

import pytest
from sqlalchemy import select

from admin.reports import coding, quotes
from admin.reports.coding import REPORT_CODING
from admin.reports.draft import DraftReport, FindingDraft, draft_for, store_draft
from admin.reports.theme_pages import position_after
from survey.models import AuditEntry, Role, db
from survey.surveys import definition_of, find_survey, unwrap_with_password
from tests.factories import (
    CUSTODIAN_PASSWORD,
    EVIDENCE_STORY,
    FINE_STORY,
    IGNORED_STORY,
    analyst_client,
    csrf,
    custodian_user,
    every_stored_value,
    make_user,
    page_text,
    sign_in_enrolled,
    told_small_survey,
    unlocked_analyst,
)

BASE = "/staff/surveys/small"
ANSWER_RE = re.compile(r'name="answer-(\d+)" value="([^"]+)"')


@pytest.fixture
def told(app):
    """The storytellers' survey with its two themes, and an analyst who unlocked it."""
    survey, _ = told_small_survey()
    return unlocked_analyst(app), survey


def post(client, path, data=None, **kwargs):
    token = csrf(client, f"{BASE}/report")
    return client.post(path, data={"csrf_token": token, **(data or {})}, **kwargs)


def private_key(survey):
    return unwrap_with_password(survey, custodian_user(), CUSTODIAN_PASSWORD)


def texts_of(survey):
    from admin.analysis.frame import answers_frame

    return coding.free_texts_of(answers_frame(survey, private_key(survey)), definition_of(survey))


def report_coding(survey):
    db.session.expire_all()
    return coding.load_coding(survey, private_key(survey))


def answers_on(page) -> list[str]:
    return [key for _, key in ANSWER_RE.findall(page.get_data(as_text=True))]


def audit_actions():
    db.session.expire_all()
    return [(e.action, e.details) for e in db.session.scalars(select(AuditEntry))]


# --- who may use them -----------------------------------------------------------------------

ROUTES = [
    ("GET", "/themes"),
    ("POST", "/themes/new"),
    ("GET", "/themes/evidence/edit"),
    ("POST", "/themes/evidence/edit"),
    ("GET", "/themes/evidence/delete"),
    ("POST", "/themes/evidence/delete"),
    ("POST", "/themes/evidence/move"),
    ("POST", "/themes/merge"),
    ("GET", "/themes/import"),
    ("POST", "/themes/import"),
    ("GET", "/themes/codebook.csv"),
    ("GET", "/themes/topics"),
    ("POST", "/themes/evidence/finding"),
    ("GET", "/themes/code"),
    ("POST", "/themes/code"),
    ("POST", "/themes/code/accept"),
    ("GET", "/themes/agreement"),
    ("POST", "/themes/agreement/settle"),
    ("GET", "/quotes"),
    ("POST", "/quotes"),
]


def test_only_custodians_with_the_survey_unlocked_reach_the_theme_pages(app):
    told_small_survey()
    locked = analyst_client(app)
    for method, path in ROUTES:
        response = locked.open(
            BASE + path, method=method, data={"csrf_token": csrf(locked, "/staff/")}
        )
        assert response.status_code == 302, (method, path)
        assert response.location.endswith(f"{BASE}/keys"), (method, path)
    make_user("other@example.org", roles=(Role.ANALYST,))
    make_user("fac@example.org", roles=(Role.FACILITATOR,))
    for email in ("other@example.org", "fac@example.org"):
        client = app.test_client()
        sign_in_enrolled(client, email)
        for method, path in ROUTES:
            token = csrf(client, "/staff/password")
            response = client.open(BASE + path, method=method, data={"csrf_token": token})
            assert response.status_code == 403, (email, method, path)
    assert coding.codebook(find_survey("small"))[0].id == "evidence"  # nothing changed
    assert locked.get("/staff/surveys/ghost/themes").status_code == 404


def test_a_form_without_its_token_is_refused(told):
    client, survey = told
    response = client.post(f"{BASE}/themes/new", data={"id": "planted", "label": "Planted"})
    assert response.status_code == 400
    assert coding.find_theme(survey, "planted") is None


# --- the codebook -----------------------------------------------------------------------------


def test_the_codebook_lists_each_theme_with_its_answers_in_the_reports_coding(told):
    client, _ = told
    post(client, f"{BASE}/themes/code/accept", {"accept_theme": "evidence"})
    page = page_text(client.get(f"{BASE}/themes"))
    assert "Evidence disappears" in page and "evidence; deleted" in page
    assert "disappearing messages" in page and "no proof" in page
    assert "45 in the report's coding" in page and "0 in the report's coding" in page
    assert "45 of 60 answers are coded so far" in page
    for link in ("/themes/code", "/themes/topics", "/themes/import", "/themes/codebook.csv"):
        assert f'href="{BASE}{link}"' in page


def test_adding_a_theme_explains_every_problem_and_keeps_what_was_typed(told):
    client, survey = told
    refused = post(
        client,
        f"{BASE}/themes/new",
        {"id": "Bad Id", "label": " ", "description": "Kept words", "feature": "f" * 501},
    )
    page = page_text(refused)
    assert refused.status_code == 422
    assert 'id: "Bad Id" must be lowercase letters' in page
    assert "label: required" in page and "feature: 501 characters, at most 500" in page
    assert 'value="Bad Id"' in page and "Kept words" in page
    assert 'href="#label"' in page and 'id="label-error"' in page
    again = post(client, f"{BASE}/themes/new", {"id": "evidence", "label": "Again"})
    assert again.status_code == 422 and "already a theme with the id" in page_text(again)

    added = post(
        client,
        f"{BASE}/themes/new",
        {"id": "blocked", "label": "Blocked and alone", "keywords": "blocked; cut off;; Blocked"},
    )
    assert added.status_code == 302
    theme = coding.find_theme(survey, "blocked")
    assert theme.label == "Blocked and alone" and theme.keywords == ("blocked", "cut off")
    assert "The theme “Blocked and alone” was added." in page_text(client.get(added.location))
    assert ("theme.create", '{"theme":"blocked"}') in audit_actions()


def test_a_theme_is_edited_moved_and_deleted_after_a_confirmation(told):
    client, survey = told
    post(client, f"{BASE}/themes/code/accept", {"accept_theme": "evidence"})
    post(client, f"{BASE}/themes/evidence/finding")
    edit = f"{BASE}/themes/evidence/edit"
    assert 'value="Evidence disappears"' in page_text(client.get(edit))
    refused = post(client, edit, {"label": "", "description": "Still here", "keywords": "gone"})
    assert refused.status_code == 422 and "label: required" in page_text(refused)
    assert "Still here" in page_text(refused)
    saved = post(client, edit, {"label": "Proof vanishes", "keywords": "evidence; proof"})
    assert saved.status_code == 302
    assert coding.find_theme(survey, "evidence").label == "Proof vanishes"

    post(client, f"{BASE}/themes/ignored/move", {"direction": "up"})
    assert [t.id for t in coding.codebook(survey)] == ["ignored", "evidence"]
    post(client, f"{BASE}/themes/ignored/move", {"direction": "down"})
    assert [t.id for t in coding.codebook(survey)] == ["evidence", "ignored"]

    confirm = page_text(client.get(f"{BASE}/themes/evidence/delete"))
    assert "Delete the theme “Proof vanishes”?" in confirm
    assert "45 answers carry it in the report's coding" in confirm
    assert "1 finding rests on it" in confirm and "Evidence disappears" in confirm
    assert coding.find_theme(survey, "evidence") is not None  # asking changes nothing
    done = post(client, f"{BASE}/themes/evidence/delete")
    assert done.status_code == 302
    assert coding.find_theme(survey, "evidence") is None
    assert report_coding(survey).codes == {}
    assert draft_for(survey).finding("evidence").themes == []
    for path in ("/themes/evidence/edit", "/themes/evidence/delete"):
        assert client.get(BASE + path).status_code == 404
    assert post(client, f"{BASE}/themes/evidence/move", {"direction": "up"}).status_code == 404


def test_merging_needs_a_theme_to_keep_and_others_to_fold_in(told):
    client, survey = told
    post(client, f"{BASE}/themes/code/accept", {"accept_theme": "ignored"})
    store_draft(survey, DraftReport(findings=[FindingDraft("f1", "F", themes=["ignored"])]))
    nothing = post(client, f"{BASE}/themes/merge", {"merged": "ignored"})
    assert nothing.status_code == 422 and "Choose the theme to keep." in page_text(nothing)
    assert 'value="ignored" checked' in nothing.get_data(as_text=True)  # the choice stays
    alone = post(client, f"{BASE}/themes/merge", {"keep": "evidence"})
    assert alone.status_code == 422 and "at least one other theme" in page_text(alone)
    unknown = post(client, f"{BASE}/themes/merge", {"keep": "evidence", "merged": "ghost"})
    assert unknown.status_code == 422 and '"ghost" is not a theme' in page_text(unknown)

    merged = post(client, f"{BASE}/themes/merge", {"keep": "evidence", "merged": "ignored"})
    assert merged.status_code == 302
    assert [t.id for t in coding.codebook(survey)] == ["evidence"]
    assert "listened" in coding.find_theme(survey, "evidence").keywords
    assert coding.answers_by_theme(report_coding(survey), texts_of(survey)) == {"evidence": 3}
    assert draft_for(survey).finding("f1").themes == ["evidence"]
    assert "1 theme merged into “Evidence disappears”." in page_text(client.get(merged.location))


def test_the_codebook_is_exported_and_imported_as_csv(told):
    client, survey = told
    exported = client.get(f"{BASE}/themes/codebook.csv")
    assert exported.status_code == 200 and exported.mimetype == "text/csv"
    disposition = exported.headers["Content-Disposition"]
    assert disposition == 'attachment; filename="small-codebook.csv"'
    text = exported.get_data(as_text=True)
    assert text.splitlines()[0] == "id,label,description,feature,harm,keywords"

    bad = "id,label,description,feature,harm,keywords\nBad Id,x,,,,\n,,,,,k\n"
    refused = post(client, f"{BASE}/themes/import", {"text": bad})
    page = page_text(refused)
    assert refused.status_code == 422
    assert 'row 2, id: "Bad Id" must be lowercase' in page
    assert "row 3, id: required" in page and "row 3, label: required" in page
    assert "Bad Id,x,,,," in page  # the pasted text stays
    empty = post(client, f"{BASE}/themes/import", {"text": "  "})
    assert empty.status_code == 422 and "Choose a file, or paste the codebook." in page_text(empty)
    latin1 = post(
        client,
        f"{BASE}/themes/import",
        {"file": (io.BytesIO("id,label\nn,Niño".encode("latin-1")), "book.csv")},
        content_type="multipart/form-data",
    )
    assert latin1.status_code == 422 and "isn't UTF-8 text" in page_text(latin1)
    assert [t.id for t in coding.codebook(survey)] == ["evidence", "ignored"]

    upload = text + "blocked,Blocked and alone,,,,blocked; cut off\n"
    imported = post(
        client,
        f"{BASE}/themes/import",
        {"file": (io.BytesIO(upload.encode("utf-8-sig")), "book.csv")},
        content_type="multipart/form-data",
    )
    assert imported.status_code == 302
    assert [t.id for t in coding.codebook(survey)] == ["evidence", "ignored", "blocked"]
    assert "Imported: 1 theme added, 2 updated." in page_text(client.get(imported.location))


def test_topic_suggestions_show_terms_and_examples_and_start_a_theme(told):
    client, _ = told
    page = page_text(client.get(f"{BASE}/themes/topics"))
    assert "Topic 1: " in page and "deleted" in page
    # The examples are masked, as quotes are: the topics page shows no name (issue 20).
    masked_story = EVIDENCE_STORY.replace("Dave", "[name]")
    assert page.count(masked_story) >= 3 and FINE_STORY in page and "Dave" not in page
    assert f'href="{BASE}/themes?topic=0#new-theme"' in page
    started = page_text(client.get(f"{BASE}/themes?topic=0"))
    keywords = re.search(r'id="keywords" name="keywords" value="([^"]*)"', started).group(1)
    assert "deleted" in keywords.split("; ") and "evidence" in keywords.split("; ")
    for junk in ("99", "x", "-1"):
        plain = page_text(client.get(f"{BASE}/themes?topic={junk}"))
        assert 'id="keywords" name="keywords" value=""' in plain


def test_a_finding_is_built_from_a_theme_and_the_report_breaks_themes_down(told):
    client, survey = told
    settings = f"{BASE}/report/settings"
    assert "Break themes down by" in page_text(client.get(settings))
    wrong = post(client, settings, {"theme_breakdown_by": "harm_scale"})
    assert wrong.status_code == 422 and "can't be broken down by 'harm_scale'" in page_text(wrong)
    assert 'href="#theme_breakdown_by"' in page_text(wrong)
    assert post(client, settings, {"theme_breakdown_by": "age_band"}).status_code == 302
    assert draft_for(survey).theme_breakdown_by == "age_band"

    built = post(client, f"{BASE}/themes/evidence/finding")
    assert built.status_code == 302 and built.location.endswith(f"{BASE}/report/findings/evidence")
    finding = draft_for(survey).finding("evidence")
    assert (finding.title, finding.feature, finding.affected) == (
        "Evidence disappears",
        "disappearing messages",
        "no proof",
    )
    assert finding.themes == ["evidence"] and finding.affected_by == ["age_band"]
    assert post(client, f"{BASE}/themes/evidence/finding").location.endswith("/evidence_2")
    edit = client.get(built.location).get_data(as_text=True)
    assert 'id="themes-evidence" name="themes" value="evidence" checked' in edit
    assert 'id="themes-ignored" name="themes" value="ignored">' in edit
    post(client, f"{BASE}/report/findings/evidence", {"title": "T", "themes": ["ignored"]})
    assert draft_for(survey).finding("evidence").themes == ["ignored"]
    unknown = post(client, f"{BASE}/report/findings/evidence", {"title": "T", "themes": "ghost"})
    assert unknown.status_code == 422 and "there is no theme 'ghost'" in page_text(unknown)
    assert post(client, f"{BASE}/themes/ghost/finding").status_code == 404

    # A draft that can't be saved says so on the codebook page, and gains nothing.
    store_draft(survey, DraftReport(findings=[FindingDraft("f1", "F", severity_question="wanted")]))
    refused = post(client, f"{BASE}/themes/evidence/finding")
    assert refused.status_code == 422 and "No finding was built" in page_text(refused)
    assert [f.id for f in draft_for(survey).findings] == ["f1"]


def test_the_report_and_analysis_pages_link_to_the_theme_pages(told):
    client, _ = told
    for page in (f"{BASE}/report", f"{BASE}/analysis"):
        html = client.get(page).get_data(as_text=True)
        for path in ("/themes", "/themes/code", "/themes/agreement", "/quotes"):
            assert f'href="{BASE}{path}"' in html, (page, path)


# --- coding -----------------------------------------------------------------------------------


def save(client, data):
    return post(client, f"{BASE}/themes/code", data)


def test_coding_one_answer_at_a_time_with_previous_and_next(told):
    client, survey = told
    first_page = client.get(f"{BASE}/themes/code")
    page = page_text(first_page)
    assert "Answer 1 of 60" in page and "The report's coding: 0 of 60 answers coded." in page
    shown = re.search(r'<p class="answer-text">([^<]*)</p>', page).group(1)
    assert shown in (EVIDENCE_STORY, IGNORED_STORY, FINE_STORY)
    assert 'data-key="1" aria-keyshortcuts="1"' in page and "save and go to the next answer" in page
    assert "Previous answer" not in page and 'href="/staff/surveys/small/themes/code?at=2"' in page
    [first] = answers_on(first_page)

    moved = save(client, {"answer-0": first, "theme-0": "evidence", "action": "next"})
    assert moved.status_code == 302 and moved.location.endswith("/themes/code?at=2")
    assert report_coding(survey).themes_of(first) == {"evidence"}
    second_page = client.get(moved.location)
    assert "Answer 2 of 60" in page_text(second_page) and "Previous answer" in page_text(
        second_page
    )
    [second] = answers_on(second_page)
    stayed = save(client, {"answer-0": second, "theme-0": ["evidence", "ignored"], "at": "2"})
    assert stayed.location.endswith("/themes/code?at=2")
    assert report_coding(survey).themes_of(second) == {"evidence", "ignored"}
    # Unticking everything takes the answer's themes away.
    save(client, {"answer-0": second, "at": "2", "action": "save"})
    assert report_coding(survey).themes_of(second) == frozenset()

    # Not coded yet: a saved answer leaves the selection and the next takes its place.
    uncoded = client.get(f"{BASE}/themes/code?uncoded=yes")
    assert "Answer 1 of 59" in page_text(uncoded)
    [next_up] = answers_on(uncoded)
    onwards = save(
        client, {"answer-0": next_up, "theme-0": "evidence", "uncoded": "yes", "action": "next"}
    )
    assert onwards.location.endswith("/themes/code?uncoded=yes")
    assert "Answer 1 of 58" in page_text(client.get(onwards.location))

    # Filters: a question without free texts, a theme; junk falls back to everything.
    assert "No answers to show" in page_text(client.get(f"{BASE}/themes/code?question=wanted"))
    assert "Answer 1 of 2" in page_text(client.get(f"{BASE}/themes/code?theme=evidence"))
    assert "Answer 60 of 60" in page_text(client.get(f"{BASE}/themes/code?at=999"))
    junk = page_text(client.get(f"{BASE}/themes/code?at=x&theme=ghost&question=nope&view=zz"))
    assert "Answer 1 of 60" in junk


def test_keyword_suggestions_are_accepted_or_turned_down_one_by_one_or_all_at_once(told):
    client, survey = told
    texts = texts_of(survey)
    first, second = [t.key for t in texts if t.text == EVIDENCE_STORY][:2]
    at = [t.key for t in texts].index(second) + 1
    assert "Suggested by keywords:" in page_text(client.get(f"{BASE}/themes/code?at={at}"))
    accepted = save(client, {"answer-0": first, "action": "accept:0:evidence"})
    # Back to the same answer: where it is depends on the random response ids.
    back_at = [t.key for t in texts].index(first) + 1
    assert accepted.location.endswith("/themes/code" if back_at == 1 else f"?at={back_at}")
    assert report_coding(survey).themes_of(first) == {"evidence"}
    save(
        client,
        {"answer-0": second, "theme-0": "evidence", "at": str(at), "action": "reject:0:evidence"},
    )
    current = report_coding(survey)
    assert current.themes_of(second) == frozenset() and current.rejected[second] == {"evidence"}
    assert "Suggested by keywords:" not in page_text(client.get(f"{BASE}/themes/code?at={at}"))

    page = page_text(client.get(f"{BASE}/themes/code"))
    assert "Accept all 43 keyword matches for Evidence disappears" in page
    assert "Accept all 3 keyword matches for Not listened to" in page
    scoped = post(
        client, f"{BASE}/themes/code/accept", {"accept_theme": "ignored", "question": "adult_only"}
    )
    assert "“Not listened to” was added to 0 answers." in page_text(client.get(scoped.location))
    done = post(client, f"{BASE}/themes/code/accept", {"accept_theme": "ignored"})
    assert "“Not listened to” was added to 3 answers." in page_text(client.get(done.location))
    assert coding.answers_by_theme(report_coding(survey), texts_of(survey)) == {
        "evidence": 1,
        "ignored": 3,
    }
    ghost = post(client, f"{BASE}/themes/code/accept", {"accept_theme": "ghost"})
    assert ghost.status_code == 422 and "no longer in the codebook" in page_text(ghost)
    actions = [action for action, _ in audit_actions()]
    assert actions.count("themes.code") == 2 and actions.count("themes.accept_rules") == 2
    # Admins read the log without the key: no count of answers goes into it.
    for action, details in audit_actions():
        if action == "themes.accept_rules":
            assert json.loads(details) == {"theme": "ignored"}


def test_bad_codes_are_refused_and_the_ticks_come_back(told):
    client, survey = told
    [first] = answers_on(client.get(f"{BASE}/themes/code"))
    refused = save(client, {"answer-0": first, "theme-0": ["ignored", "ghost"], "action": "next"})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422 and 'There is no theme "ghost"' in page_text(refused)
    assert 'id="theme-0-ignored" name="theme-0" value="ignored" checked' in page
    assert 'id="theme-0-evidence" name="theme-0" value="evidence" data-key' in page  # unticked
    gone = save(client, {"answer-0": "nobody:story:text", "theme-0": "evidence"})
    assert gone.status_code == 422 and "no longer there" in page_text(gone)
    assert report_coding(survey).codes == {}
    # A form with no answer in it saves nothing and goes back.
    assert save(client, {"action": "next"}).status_code == 302


def test_a_page_of_answers_is_coded_at_once(told):
    client, survey = told
    listed = client.get(f"{BASE}/themes/code?view=list")
    page = page_text(listed)
    assert "Answers 1 to 20 of 60" in page and "Page 1 of 3" in page
    keys = answers_on(listed)
    assert len(keys) == 20
    data = {f"answer-{i}": key for i, key in enumerate(keys)}
    data.update({"theme-0": "evidence", "theme-5": ["evidence", "ignored"], "view": "list"})
    saved = save(client, data)
    assert saved.location.endswith("/themes/code?view=list")
    current = report_coding(survey)
    assert current.themes_of(keys[0]) == {"evidence"}
    assert current.themes_of(keys[5]) == {"evidence", "ignored"}
    assert sum(1 for k in keys if current.themes_of(k)) == 2
    last = page_text(client.get(f"{BASE}/themes/code?view=list&page=3"))
    assert "Answers 41 to 60 of 60" in last and "Page 3 of 3" in last


def hidden_fields(page) -> dict[str, list[str]]:
    """The hidden inputs of a page, as its form would send them."""
    fields: dict[str, list[str]] = {}
    for name, value in HIDDEN_RE.findall(page.get_data(as_text=True)):
        fields.setdefault(html.unescape(name), []).append(html.unescape(value))
    return fields


HIDDEN_RE = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')


def test_saving_a_page_of_answers_keeps_what_someone_else_coded_meanwhile(told):
    """One analyst has a page of answers open while another codes one of them: saving
    the page changes only what its reader changed, and nobody's work is lost."""
    client, survey = told
    first = client.get(f"{BASE}/themes/code?view=list")
    keys = answers_on(first)
    save(client, {"answer-0": keys[5], "theme-0": "evidence", "view": "list"})
    opened = client.get(f"{BASE}/themes/code?view=list")  # keys[5] drawn with evidence
    assert answers_on(opened) == keys
    # Meanwhile, in another browser: answer 4 gets "ignored", answer 6 "ignored" too.
    save(client, {"answer-0": keys[3], "theme-0": "ignored", "at": "4"})
    save(client, {"answer-0": keys[5], "theme-0": ["evidence", "ignored"], "at": "6"})
    # The page opened before is saved: answer 1 ticked, answer 6's evidence unticked.
    data = hidden_fields(opened) | {"theme-0": ["evidence"]}
    data.pop("csrf_token", None)
    assert save(client, data).status_code == 302
    current = report_coding(survey)
    assert current.themes_of(keys[0]) == {"evidence"}  # this reader's tick
    assert current.themes_of(keys[3]) == {"ignored"}  # the other's, kept
    assert current.themes_of(keys[5]) == {"ignored"}  # the other's kept, this untick applied


def test_an_analyst_codes_in_their_own_independent_coding(told):
    client, survey = told
    mine = client.get(f"{BASE}/themes/code?coding=mine")
    assert "'s independent coding: 0 of 60 answers coded." in page_text(mine)
    [first] = answers_on(mine)
    done = save(
        client, {"answer-0": first, "theme-0": "ignored", "coding": "mine", "action": "next"}
    )
    assert done.location.endswith("/themes/code?coding=mine&at=2")
    own = coding.load_coding(
        survey, private_key(survey), coding.independent_coding(custodian_user())
    )
    assert own.themes_of(first) == {"ignored"}
    assert report_coding(survey).codes == {}
    assert ("themes.code", '{"coding":"independent"}') in audit_actions()


def test_position_after_saving():
    before = ["a", "b", "c"]
    assert position_after(before, before, "a", forward=True) == 2
    assert position_after(before, before, "b", forward=False) == 2
    assert position_after(before, before, "c", forward=True) == 3  # the last stays last
    assert position_after(before, ["a", "c"], "b", forward=True) == 2  # "c" took its place
    assert position_after(before, ["a", "c"], "b", forward=False) == 2
    assert position_after(before, ["a", "b"], "c", forward=False) == 2
    assert position_after(["a"], [], "a", forward=True) == 1


# --- agreement -------------------------------------------------------------------------------


def test_two_codings_are_compared_and_their_disagreements_settled(told):
    client, survey = told
    assert "Only the report's coding exists" in page_text(client.get(f"{BASE}/themes/agreement"))
    key = private_key(survey)
    texts = texts_of(survey)
    coding.accept_rule_matches(survey, key, texts)  # the report's: evidence 45, ignored 3
    mine = coding.independent_coding(custodian_user())
    evidence = [t.key for t in texts if t.text == EVIDENCE_STORY]
    fine = next(t.key for t in texts if t.text == FINE_STORY)
    ignored = [t.key for t in texts if t.text == IGNORED_STORY]
    chosen = {k: {"evidence"} for k in evidence[1:]} | {k: {"ignored"} for k in ignored}
    coding.code_answers(survey, key, mine, texts, chosen | {fine: {"evidence"}})
    coding.add_theme(survey, coding.Theme("unused", "Never used"), "ana@example.org")

    page = page_text(client.get(f"{BASE}/themes/agreement"))
    assert "custodian@example.org's independent coding" in page
    rows = re.findall(
        r"<tr><th scope=\"row\">([^<]+)</th>((?:<td class=\"num\">[^<]*</td>)+)", page
    )
    cells = {label: re.findall(r">([^<]*)<", rest)[::2] for label, rest in rows}
    assert cells["Evidence disappears"] == ["60", "44", "1", "1", "14", "0.91"]
    assert cells["Not listened to"] == ["60", "3", "0", "0", "57", "1.00"]
    assert cells["Never used"] == ["60", "0", "0", "0", "60", "not defined"]
    assert "Answers coded differently (2)" in page
    assert "Use B's themes in the report's coding" in page
    assert "Use A's themes in the report's coding" not in page  # A is the report's own

    same = client.get(f"{BASE}/themes/agreement?a={mine}&b={mine}")
    assert same.status_code == 422 and "Choose two different codings" in page_text(same)
    swapped = page_text(client.get(f"{BASE}/themes/agreement?a={mine}&b={REPORT_CODING}"))
    assert "Use A's themes in the report's coding" in swapped

    settled = post(
        client,
        f"{BASE}/themes/agreement/settle",
        {"answer": evidence[0], "source": mine, "a": REPORT_CODING, "b": mine},
    )
    assert settled.status_code == 302
    assert report_coding(survey).themes_of(evidence[0]) == frozenset()
    assert "Answers coded differently (1)" in page_text(client.get(settled.location))
    stranger = post(
        client,
        f"{BASE}/themes/agreement/settle",
        {"answer": fine, "source": "coding:user:99999", "a": REPORT_CODING, "b": mine},
    )
    assert stranger.status_code == 422 and "Choose one of the two codings" in page_text(stranger)
    gone = post(
        client,
        f"{BASE}/themes/agreement/settle",
        {"answer": "nobody:story:text", "source": mine, "a": REPORT_CODING, "b": mine},
    )
    assert gone.status_code == 422 and "no longer there" in page_text(gone)
    assert ("themes.settle", "{}") in audit_actions()


# --- quotes ------------------------------------------------------------------------------------


def quote_form(client, path=f"{BASE}/quotes"):
    """(answer key, textarea text) of each quote on the page."""
    html = client.get(path).get_data(as_text=True)
    keys = re.findall(r'name="answer" value="([^"]+)"', html)
    texts = re.findall(r'<textarea class="textarea" id="text-\d+" name="text"[^>]*>([^<]*)<', html)
    return list(zip(keys, texts, strict=True))


def test_quotes_are_consented_masked_and_approved_rejected_or_undone(told):
    client, survey = told
    post(client, f"{BASE}/themes/code/accept", {"accept_theme": "evidence"})
    page = page_text(client.get(f"{BASE}/quotes"))
    assert "Only answers whose authors agreed to be quoted appear here." in page
    assert "The text is masked automatically" in page and "Read each quote" in page
    assert "Quote 1 of 57" in page and "Page 1 of 3" in page
    assert "0 approved, 0 rejected, 57 not decided yet." in page
    assert "Dave" not in page and "[name] said nothing" in page
    assert IGNORED_STORY not in page  # its authors didn't agree
    assert "Quote 1 of 45" in page_text(client.get(f"{BASE}/quotes?theme=evidence"))
    nobody = page_text(client.get(f"{BASE}/quotes?theme=ignored"))
    assert "No answer with this theme has an author who agreed to be quoted." in nobody

    (first, masked), (second, _) = quote_form(client)[:2]
    empty = post(client, f"{BASE}/quotes", {"answer": first, "action": "approve", "text": " "})
    assert empty.status_code == 422 and "Write the text to publish" in page_text(empty)
    long = "x" * 1501
    too_long = post(client, f"{BASE}/quotes", {"answer": first, "action": "approve", "text": long})
    assert too_long.status_code == 422 and "under 1500 characters" in page_text(too_long)
    assert long in page_text(too_long)  # what was typed stays
    junk = post(client, f"{BASE}/quotes", {"answer": first, "action": "publish", "text": "x"})
    assert junk.status_code == 422 and "Choose to approve" in page_text(junk)
    texts = texts_of(survey)
    refused_author = next(t.key for t in texts if t.text == IGNORED_STORY)
    not_theirs = post(
        client, f"{BASE}/quotes", {"answer": refused_author, "action": "approve", "text": "x"}
    )
    assert not_theirs.status_code == 422 and "agreed to be quoted" in page_text(not_theirs)

    edited = "They deleted the evidence before I could report it."
    approved = post(
        client,
        f"{BASE}/quotes",
        {"answer": first, "action": "approve", "text": edited, "position": "1", "theme": ""},
    )
    assert approved.status_code == 302 and approved.location.endswith("/quotes#quote-1")
    post(client, f"{BASE}/quotes", {"answer": second, "action": "reject", "text": masked})
    decisions = quotes.load_decisions(survey, private_key(survey))
    assert decisions[first] == quotes.Decision(quotes.APPROVED, edited)
    assert decisions[second].status == quotes.REJECTED
    page = page_text(client.get(f"{BASE}/quotes"))
    assert "1 approved, 1 rejected, 55 not decided yet." in page
    assert ">Approved<" in page and ">Rejected<" in page and edited in page
    post(client, f"{BASE}/quotes", {"answer": second, "action": "undo"})
    assert second not in quotes.load_decisions(survey, private_key(survey))
    decided = [json.loads(d) for a, d in audit_actions() if a == "quotes.decide"]
    assert decided == [
        {"approved": 1, "rejected": 0, "undone": 0},
        {"approved": 0, "rejected": 1, "undone": 0},
        {"approved": 0, "rejected": 0, "undone": 1},
    ]


# --- privacy -----------------------------------------------------------------------------------


def test_coding_and_approving_leave_no_answer_key_or_quote_in_storage_logs_or_audit(told, caplog):
    caplog.set_level(logging.DEBUG)
    client, survey = told
    locations = []
    [first] = answers_on(client.get(f"{BASE}/themes/code"))
    for at in range(1, 4):
        [key] = answers_on(client.get(f"{BASE}/themes/code?at={at}"))
        response = save(
            client, {"answer-0": key, "theme-0": "evidence", "at": str(at), "action": "next"}
        )
        locations.append(response.location)
    listed = client.get(f"{BASE}/themes/code?view=list&coding=mine")
    data = {f"answer-{i}": k for i, k in enumerate(answers_on(listed))} | {"theme-1": "ignored"}
    locations.append(save(client, data | {"view": "list", "coding": "mine"}).location)
    locations.append(
        post(client, f"{BASE}/themes/code/accept", {"accept_theme": "ignored"}).location
    )
    approved_text = "Gone before anyone saw it, said someone I trust."
    (quote_key, _), (other_key, _) = quote_form(client)[:2]
    for answer, action in ((quote_key, "approve"), (other_key, "reject")):
        response = post(
            client, f"{BASE}/quotes", {"answer": answer, "action": action, "text": approved_text}
        )
        locations.append(response.location)
    decisions = quotes.load_decisions(survey, private_key(survey))
    assert decisions[quote_key].text == approved_text  # it was approved, and is sealed

    texts = texts_of(survey)
    keys = [t.key for t in texts]
    response_ids = {k.split(":")[0] for k in keys}
    assert first in keys
    stored = every_stored_value()
    assert not [k for k in keys if k in stored]
    assert approved_text not in stored and EVIDENCE_STORY not in stored
    audit = "\n".join(f"{a} {d}" for a, d in audit_actions())
    logged = caplog.text + "\n".join(locations)
    for where in (audit, logged):
        assert not [r for r in response_ids if r in where]
        assert approved_text not in where and EVIDENCE_STORY not in where
        assert "[name]" not in where


# --- what identifies a person never reaches the codebook or an unmasked page (issue 20) -------

NAMED_STORIES = [
    "Jamie from Leeds kept messaging me, I had to block his account, jamie.lee@example.com",
    "I blocked the account but Jamie came back from Leeds with a new one",
    "Jamie made a new account every time I blocked him, he lived in Leeds",
]


def in_languages(document, languages):
    """The survey document with every text in each of `languages` (the English text
    copied), so a survey can be made in a language Chorus has no masker for."""
    if isinstance(document, dict):
        if document and set(document) <= {"en", "es", "ar"} and "en" in document:
            return {language: document["en"] for language in languages}
        changed = {key: in_languages(value, languages) for key, value in document.items()}
        if "languages" in changed:
            changed["languages"] = list(languages)
        return changed
    if isinstance(document, list):
        return [in_languages(value, languages) for value in document]
    return document


@pytest.fixture
def french(app):
    """A survey whose language (French) has no masker, with consenting storytellers."""
    from tests.factories import answered_small_survey, person, small_survey_document

    document = in_languages(small_survey_document(), ("fr", "en"))
    people = [person("adult", 3, ["detect"], story=EVIDENCE_STORY, consent=True)] * 12
    survey, _ = answered_small_survey(people, **document)
    return unlocked_analyst(app), survey


def test_a_survey_language_without_a_masker_offers_no_quote_and_says_so(french):
    client, survey = french
    assert definition_of(survey).default_language == "fr"
    response = client.get(f"{BASE}/quotes")
    page = page_text(response)
    assert response.status_code == 200
    assert "Chorus can't mask answers written in French (fr)" in page
    assert "no answer is offered as a quote" in page
    assert "Dave" not in page and "Quote 1 of" not in page and quote_form(client) == []
    texts = texts_of(survey)
    refused = post(
        client, f"{BASE}/quotes", {"answer": texts[0].key, "action": "approve", "text": "x"}
    )
    assert refused.status_code == 422 and "can't mask answers written in French" in (
        page_text(refused)
    )
    assert quotes.load_decisions(survey, private_key(survey)) == {}


@pytest.fixture
def named(app):
    """Stories that name a person, a town and an email, and nothing else to say."""
    from tests.factories import answered_small_survey, person

    people = [
        person("adult", 3, ["detect"], story=NAMED_STORIES[i % 3], consent=True) for i in range(30)
    ]
    survey, _ = answered_small_survey(people)
    return unlocked_analyst(app), survey


def test_topics_and_a_theme_started_from_one_never_show_or_offer_a_name_place_or_email(named):
    client, _ = named
    page = page_text(client.get(f"{BASE}/themes/topics"))
    assert "Topic 1: " in page and "block" in page.lower()
    for detail in ("jamie", "leeds", "example.com", "[email]".strip("[]") + "@"):
        assert detail not in page.lower(), detail
    assert "[name]" in page  # the examples are shown masked
    started = page_text(client.get(f"{BASE}/themes?topic=0"))
    keywords = re.search(r'id="keywords" name="keywords" value="([^"]*)"', started).group(1)
    label = re.search(r'id="label" name="label" value="([^"]*)"', started).group(1)
    offered = (keywords + " " + label).lower()
    assert keywords and label
    for word in ("jamie", "leeds", "example", "lee", "name", "place", "email"):
        assert word not in re.findall(r"\w+", offered), word


def test_the_theme_form_warns_about_a_name_place_or_email_and_saves_once_confirmed(told):
    client, survey = told
    typed = {
        "id": "jamie",
        "label": "Block, account, jamie",
        "keywords": "blocked; leeds; jamie.lee@example.com",
    }
    warned = post(client, f"{BASE}/themes/new", typed)
    page = page_text(warned)
    assert warned.status_code == 422 and coding.find_theme(survey, "jamie") is None
    assert "stored unencrypted" in page
    assert "label: “jamie” looks like a person's name" in page
    assert "keywords: “leeds” looks like a place" in page
    assert "keywords: “jamie.lee@example.com” looks like an email address" in page
    assert 'name="identifying_confirmed"' in page and 'value="Block, account, jamie"' in page

    saved = post(client, f"{BASE}/themes/new", {**typed, "identifying_confirmed": "1"})
    assert saved.status_code == 302
    assert coding.find_theme(survey, "jamie").keywords == (
        "blocked",
        "leeds",
        "jamie.lee@example.com",
    )

    edit = f"{BASE}/themes/evidence/edit"
    form = {"label": "Evidence gone", "keywords": "deleted; Dave", "description": ""}
    warned = post(client, edit, form)
    assert warned.status_code == 422 and "“Dave” looks like a person's name" in page_text(warned)
    assert coding.find_theme(survey, "evidence").label != "Evidence gone"
    assert post(client, edit, {**form, "identifying_confirmed": "1"}).status_code == 302
    assert coding.find_theme(survey, "evidence").label == "Evidence gone"

    plain = post(client, f"{BASE}/themes/new", {"id": "alone", "label": "Left alone"})
    assert plain.status_code == 302

    book = "id,label,description,feature,harm,keywords\ntowns,Towns,,,,moved away; leeds\n"
    imported = post(client, f"{BASE}/themes/import", {"text": book})
    assert imported.status_code == 302 and coding.find_theme(survey, "towns") is not None
    assert "towns, keywords: “leeds” looks like a place" in page_text(client.get(imported.location))
