"""admin/display.py: emails that wrap after their @ on a narrow screen."""

from __future__ import annotations

from flask import render_template_string

from admin.display import breakable_email


def test_an_email_may_break_only_after_its_at_sign():
    assert str(breakable_email("facilitator@demo.chorus")) == (
        '<span class="email">facilitator@<wbr>demo.chorus</span>'
    )
    assert str(breakable_email("no-at-sign")) == '<span class="email">no-at-sign</span>'
    assert str(breakable_email(None)) == '<span class="email"></span>'


def test_it_is_escaped(app):
    with app.test_request_context("/"):
        html = render_template_string("{{ e | email }}", e='<b>"x"</b>@e.org')
    assert html == '<span class="email">&lt;b&gt;&#34;x&#34;&lt;/b&gt;@<wbr>e.org</span>'


def test_counted_puts_the_noun_in_the_form_its_number_needs():
    from admin.display import counted

    assert counted(1, "section") == "1 section"
    assert counted(0, "section") == "0 sections"
    assert counted(2, "person", "people") == "2 people"
    assert counted(1200, "response") == "1,200 responses"
