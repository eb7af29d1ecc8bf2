"""Keeping a receipt or resume code on a 320 px phone (issue 21, point 8): the code
breaks only between its groups; with JavaScript, Copy, Print and Save as a file
(made in the page, never asked of the server); without it, a plain page to print;
the resume-code page gives the address to come back to. axe checks every page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import Person, screenshot
from tests.factories import small_survey_document

pytestmark = pytest.mark.browser

PHONE = {"width": 320, "height": 568}
CODE_RE = re.compile(r"^[0-9A-Z]{4}(-[0-9A-Z]{4}){3}$")
BUTTONS = ("Copy", "Print", "Save as a file")
PRINT_LINK = "Open a page with the code to print"


def lines_of_each_group(page: Page) -> list[set[int]]:
    """For each group of the code on the page, the tops of the lines its letters are
    drawn on (one top: the group is whole on one line)."""
    return page.evaluate(
        """() => {
          const code = document.querySelector('.code-box__code');
          const tops = [];
          const walker = document.createTreeWalker(code, NodeFilter.SHOW_TEXT);
          for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            for (let i = 0; i < node.length; i++) {
              const range = document.createRange();
              range.setStart(node, i);
              range.setEnd(node, i + 1);
              const rect = range.getClientRects()[0];
              tops.push([node.data[i], Math.round(rect.top)]);
            }
          }
          const groups = [[]];
          for (const [ch, top] of tops) {
            if (ch === '-') { groups.push([]); } else { groups[groups.length - 1].push(top); }
          }
          return groups.map(g => Array.from(new Set(g)));
        }"""
    )


def check_code_fits(p: Person) -> str:
    code = p.code_shown()
    assert CODE_RE.match(code), code
    groups = lines_of_each_group(p.page)
    assert len(groups) == 4 and all(len(tops) == 1 for tops in groups), groups
    # At 320 px it takes two lines or more, so the test would see a group split.
    assert len({tops[0] for tops in groups}) >= 2, groups
    width = p.page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], width
    return code


def to_resume_code(p: Person) -> None:
    p.goto("/s/small", "Messaging safety")
    p.press("Start the survey", "About you")
    p.choose("How old are you?", "Under 18")
    p.press("Save and get a resume code", "Your resume code")


def to_receipt(p: Person) -> None:
    p.page.get_by_label("I have saved my code").check()
    p.press("Continue answering", "About you")
    p.press("Save and continue", "Encrypted messaging")
    p.press("Continue to this section", "Encrypted messaging")
    p.press("Save and continue", "Young people")
    p.press("Save and review your answers", "Check your answers")
    p.press("Send my answers", "Your answers have been sent")


def test_with_javascript_copy_print_and_save_a_code(open_survey_live, new_context, tmp_path):
    open_survey_live(small_survey_document())
    context = new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    p = Person(context.new_page())
    asked: list[str] = []
    p.page.on("request", lambda request: asked.append(request.url))
    to_resume_code(p)
    resume = check_code_fits(p)
    main = p.page.locator("main")
    expect(main).to_contain_text(f"{p.page.url.split('/s/')[0]}/s/small/resume")
    to_receipt(p)
    receipt = check_code_fits(p)
    screenshot(p.page, "receipt-js", (320,))
    expect(p.page.get_by_role("link", name=PRINT_LINK)).to_be_hidden()
    for name in BUTTONS:
        expect(p.page.get_by_role("button", name=name)).to_be_visible()

    p.page.get_by_role("button", name="Copy").click()
    expect(p.page.get_by_role("status")).to_have_text("The code is copied.")
    assert p.page.evaluate("navigator.clipboard.readText()") == receipt

    p.page.evaluate("window.print = () => { window.printed = true; }")
    p.page.get_by_role("button", name="Print").click()
    assert p.page.evaluate("window.printed === true")

    with p.page.expect_download() as download:
        p.page.get_by_role("button", name="Save as a file").click()
    saved = Path(tmp_path / "code.txt")
    download.value.save_as(saved)
    text = saved.read_text()
    assert receipt in text and "/s/small/withdraw" in text
    assert download.value.url.startswith("blob:")
    # Neither code ever went to the server in an address.
    codes = (resume, receipt, resume.lower(), receipt.lower())
    assert not any(code in url for url in asked for code in codes)
    p.check("Your answers have been sent")


def test_without_javascript_a_plain_page_to_print(open_survey_live, new_context):
    open_survey_live(small_survey_document())
    p = Person(new_context(js=False, viewport=PHONE).new_page())
    to_resume_code(p)
    resume = check_code_fits(p)
    screenshot(p.page, "resume-code-no-js", (320,))
    for name in BUTTONS:
        expect(p.page.get_by_role("button", name=name)).to_be_hidden()
    p.page.get_by_role("link", name=PRINT_LINK).click()
    p.check("Your resume code")
    assert p.code_shown() == resume
    expect(p.page.locator("main")).to_contain_text("/s/small/resume")
    p.page.get_by_role("link", name="Back").click()
    p.check("Your resume code")

    to_receipt(p)
    receipt = check_code_fits(p)
    p.page.get_by_role("link", name=PRINT_LINK).click()
    p.check("Your receipt code")
    assert p.code_shown() == receipt
    expect(p.page.locator("main")).to_contain_text("/s/small/withdraw")
    check_code_fits(p)
    screenshot(p.page, "receipt-print-no-js", (320,))
