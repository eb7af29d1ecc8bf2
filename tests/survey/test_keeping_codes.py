"""Codes that are easy to keep (issue 21, point 8), through the test client: the
receipt says how long it stays, the resume-code page gives the address to come
back to, and the pages to print a code last no longer than the code is shown."""

from __future__ import annotations

import time

from tests.factories import CODE_RE, page_text
from tests.survey.test_respondent_path import complete_small_survey


def test_the_resume_code_page_gives_the_address_and_a_page_to_print(respondent):
    respondent.start()
    respondent.answer("you", {"age_band": "under_18"}, action="save")
    page = page_text(respondent.get("/s/small/code"))
    assert "http://localhost/s/small/resume" in page
    code = respondent.shown_code()
    printable = page_text(respondent.get("/s/small/code/print"))
    assert code in printable.replace("<wbr>", "")
    assert "http://localhost/s/small/resume" in printable
    # Once the person says they saved it, neither page shows it again.
    respondent.get("/s/small/code")
    respondent.post("/s/small/code", {"saved": "1"})
    gone = respondent.get("/s/small/code/print")
    assert gone.status_code == 302 and code not in page_text(gone)


def test_the_receipt_and_its_page_to_print_last_the_same_minutes(respondent, monkeypatch):
    complete_small_survey(respondent)
    respondent.submit()
    receipt = respondent.receipt_code()
    html = respondent.get("/s/small/receipt").get_data(as_text=True)
    assert "stays on this page for 10 more minutes" in page_text(respondent.get("/s/small/receipt"))
    assert "-<wbr>" in html and "Open a page with the code to print" in html
    printable = page_text(respondent.get("/s/small/receipt/print"))
    assert CODE_RE.search(printable) and "http://localhost/s/small/withdraw" in printable
    later = time.time() + 4 * 60
    monkeypatch.setattr("survey.respondent.session.time.time", lambda: later)
    assert "for 6 more minutes" in page_text(respondent.get("/s/small/receipt"))
    later += 7 * 60
    lapsed = respondent.get("/s/small/receipt/print")
    assert lapsed.status_code == 302 and receipt not in page_text(lapsed)
    assert "This page has expired" in page_text(respondent.get("/s/small/receipt"))
