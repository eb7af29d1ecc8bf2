"""The survey builder: make, edit, preview, export, copy, close and archive surveys,
set how long their data is kept, and issue invite codes.

Facilitators (and admins) design and run surveys; analysts may see the list and
a survey's overview, which leads to their key pages. Every edit rebuilds the
whole candidate document and validates it with `parse_definition`, as
`chorus survey import` does; a refused edit saves nothing and shows the form
again exactly as typed, each problem beside its field. Opening a survey (keys,
custodians, the key sheet) is admin/custody/keys.py's business, not this module's.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

import yaml
from flask import (
    Blueprint,
    Flask,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from admin.access import allow, attachment, survey_or_404
from admin.builder import forms
from survey.definition import (
    CHOICE_TYPES,
    LANGUAGE_RE,
    QUESTION_TYPES,
    SECONDS_AROUND_THE_QUESTIONS,
    SECONDS_TO_ANSWER,
    SLUG_RE,
    DefinitionError,
    SurveyDefinition,
    load_definition_text,
    localize,
    parse_definition,
)
from survey.events import announce
from survey.i18n import N_, language_name, speaking, translate_to
from survey.models import Role, Survey, SurveyStatus, db
from survey.spreadsheet import rows_csv
from survey.stored import counts_note, stored_count
from survey.support_services import chosen_services, suggestions_for
from survey.surveys import (
    SurveyError,
    archive_survey,
    bundled_template_text,
    close_survey,
    create_invite_codes,
    definition_of,
    find_survey,
    import_definition,
    invite_counts,
    open_survey,
    response_count,
    untranslated_texts,
)

bp = Blueprint("builder", __name__, url_prefix="/staff/surveys")

DESIGNERS = (Role.FACILITATOR, Role.ADMIN)
READERS = (Role.FACILITATOR, Role.ADMIN, Role.ANALYST)
MAX_INVITES = 1000
# "/staff/surveys/new" is the page for making a survey, so no survey may be called that.
RESERVED_SLUGS = frozenset({"new"})
QUESTION_TYPE_NAMES = {
    "single_choice": "Single choice (radio buttons)",
    "multi_choice": "Multiple choice (checkboxes)",
    "scale": "Scale (numbered points with labelled ends)",
    "number": "Number",
    "short_text": "Short text",
    "long_text": "Long text",
    "info": "Information (no answer)",
}


# --- helpers ------------------------------------------------------------------------------


@bp.app_template_global("field_id")
def _field_id(name: str) -> str:
    return forms.field_id(name)


@bp.app_template_global("language_name")
def _language_name(tag: str) -> str:
    return language_name(tag)


def _actor() -> str:
    return current_user.email


def _can_design() -> bool:
    return current_user.has_role(*DESIGNERS)


def _why_not_editable(survey: Survey) -> str | None:
    """Why this survey's definition can't change now, or None when it can."""
    if survey.status != SurveyStatus.DRAFT.value:
        return (
            f"This survey is {survey.status}: its questions can't change any more, so that "
            "every answer was given to the same questions."
        )
    if response_count(survey):
        return "This survey has responses: its questions can't change any more."
    return None


def _blocked(survey: Survey, reason: str, status: int = 409):
    page = render_template("admin/builder/blocked.html", survey=survey, reason=reason)
    return page, status


def _languages(doc: dict[str, Any]) -> list[str]:
    return list(doc.get("languages", ["en"]))


def _today() -> date:
    return datetime.now(UTC).date()


def _store(survey: Survey, doc: dict[str, Any], what: str):
    """Validate a whole candidate document and store it; (definition, None) or (None, problems)."""
    try:
        definition = parse_definition(doc)
    except DefinitionError as exc:
        return None, exc.problems
    try:
        import_definition(definition)
    except SurveyError as exc:
        return None, [str(exc)]
    announce("survey.edit", _actor(), survey.slug, what=what)
    return definition, None


def _suggest_slug(base: str) -> str:
    """`<base>-v2`, `-v3`, ... the first that is free (and fits)."""
    stem = base
    if "-v" in base and base.rsplit("-v", 1)[1].isdigit():
        stem = base.rsplit("-v", 1)[0]
    for n in range(2, 1000):
        candidate = f"{stem[:55]}-v{n}"
        if find_survey(candidate) is None:
            return candidate
    return f"{stem[:50]}-copy"


def _slug_problem(slug: str) -> str | None:
    if not SLUG_RE.fullmatch(slug):
        return (
            "Use 2 to 63 lower-case letters, digits and hyphens, starting with a letter or digit."
        )
    if slug in RESERVED_SLUGS:
        return f'"{slug}" is reserved: choose another.'
    if find_survey(slug) is not None:
        return f'There is already a survey "{slug}": choose another.'
    return None


def _form_page(template: str, status: int = 200, **context: Any):
    return render_template(f"admin/builder/{template}", **context), status


# --- the list and the overview ------------------------------------------------------------


@bp.get("")
@allow(*READERS)
def surveys():
    # Counts as of each survey's last weekly flush (survey/stored.py), never live.
    rows = [
        (s, stored_count(s)) for s in db.session.scalars(db.select(Survey).order_by(Survey.slug))
    ]
    return render_template(
        "admin/builder/list.html", rows=rows, can_design=_can_design(), counts_note=counts_note()
    )


@bp.get("/<slug>")
@allow(*READERS)
def survey(slug: str):
    survey = survey_or_404(slug)
    definition = definition_of(survey)
    issued, used = invite_counts(survey)
    previous = (
        db.session.get(Survey, survey.previous_version_id) if survey.previous_version_id else None
    )
    return render_template(
        "admin/builder/overview.html",
        survey=survey,
        definition=definition,
        responses=stored_count(survey),
        counts_note=counts_note(survey),
        issued=issued,
        used=used,
        previous=previous,
        can_design=_can_design(),
        editable=_why_not_editable(survey) is None,
        untranslated=untranslated_links(survey),
    )


def untranslated_links(survey: Survey) -> list[tuple[str, str]]:
    """What a draft lacks before it can open because a text isn't in every language
    (surveys.untranslated_texts): each missing text, as words, with the page of the
    builder where it is typed (the question, the section, or the survey's settings)."""
    if survey.status != SurveyStatus.DRAFT.value:
        return []
    links = []
    for item in untranslated_texts(survey):
        if item.question_id:
            url = url_for("builder.edit_question", slug=survey.slug, question_id=item.question_id)
        elif item.section_id:
            url = url_for("builder.edit_section", slug=survey.slug, section_id=item.section_id)
        else:
            url = url_for("builder.settings", slug=survey.slug)
        links.append((str(item), url))
    return links


# --- new surveys: blank, from the template, by import -------------------------------------


def blank_document(slug: str, title: str) -> dict[str, Any]:
    """The smallest valid survey: one section with one short-text question."""
    return {
        "format": "chorus-survey/1",
        "slug": slug,
        "title": title,
        "languages": ["en"],
        "sections": [
            {
                "id": "first",
                "title": "First section",
                "questions": [
                    {
                        "id": "first_question",
                        "type": "short_text",
                        # No help of its own: the page says "Please leave out names
                        # and places." under every text box, in the page's language.
                        "text": "Your first question",
                    }
                ],
            }
        ],
    }


@bp.route("/new", methods=["GET", "POST"])
@allow(*DESIGNERS)
def new_survey():
    form = request.form if request.method == "POST" else MultiDict()
    errors: dict[str, str] = {}
    if request.method == "POST":
        title = forms.clean(form.get("title"), 500)
        slug = forms.clean(form.get("slug"), 100)
        if not title:
            errors["title"] = "Give the survey a title."
        problem = _slug_problem(slug)
        if problem:
            errors["slug"] = problem
        if not errors:
            survey = import_definition(parse_definition(blank_document(slug, title)))
            announce("survey.create", _actor(), survey.slug, source="blank")
            flash("The survey was made. Add its sections and questions below.")
            return redirect(url_for("builder.edit", slug=survey.slug))
    return _form_page(
        "new.html",
        422 if errors else 200,
        form=form,
        errors=errors,
        template_slug=_template_slug(),
    )


def _template_slug() -> str:
    slug = json.loads(bundled_template_text())["slug"]
    return slug if find_survey(slug) is None else _suggest_slug(slug)


@bp.post("/new/template")
@allow(*DESIGNERS)
def new_from_template():
    slug = forms.clean(request.form.get("template_slug"), 100)
    problem = _slug_problem(slug)
    if problem:
        return _form_page(
            "new.html",
            422,
            form=request.form,
            errors={"template_slug": problem},
            template_slug=slug,
        )
    definition = load_definition_text(bundled_template_text(), "template.json").with_slug(slug)
    survey = import_definition(definition)
    announce("survey.create", _actor(), survey.slug, source="template")
    flash("The survey was made from the template. Change anything you like below.")
    return redirect(url_for("builder.edit", slug=survey.slug))


def _import_text() -> tuple[str, str]:
    """The uploaded file's text (or the pasted text) and a name saying its format."""
    upload = request.files.get("file")
    if upload and upload.filename:
        raw = upload.read(2_000_001)
        try:
            return raw.decode("utf-8-sig"), upload.filename
        except UnicodeDecodeError:
            return "\x00", upload.filename
    return request.form.get("text", ""), ""


@bp.route("/new/import", methods=["GET", "POST"])
@allow(*DESIGNERS)
def import_survey():
    return _import(None)


@bp.route("/<slug>/import", methods=["GET", "POST"])
@allow(*DESIGNERS)
def import_into(slug: str):
    return _import(survey_or_404(slug))


def _import(target: Survey | None):
    """Import a definition: a new draft, or (into a draft without responses) a replacement."""
    if target is not None:
        reason = _why_not_editable(target)
        if reason:
            return _blocked(target, reason, 409 if request.method == "POST" else 200)
    problems: list[str] = []
    typed = ""
    if request.method == "POST":
        text, name = _import_text()
        typed = request.form.get("text", "")[:1_000_000]
        if text == "\x00":
            problems = ["(file): is not UTF-8 text; save it as UTF-8 JSON or YAML"]
        elif not text.strip():
            problems = ["(file): choose a file, or paste the definition"]
        else:
            try:
                definition = load_definition_text(text, name)
                if target is not None and definition.slug != target.slug:
                    definition = definition.with_slug(target.slug)
                if target is None and definition.slug in RESERVED_SLUGS:
                    raise SurveyError(f'"{definition.slug}" is reserved: change the slug.')
                survey = import_definition(definition)
            except DefinitionError as exc:
                problems = exc.problems
            except SurveyError as exc:
                problems = [str(exc)]
            else:
                announce("survey.import", _actor(), survey.slug, source=name or "pasted")
                flash("The definition was imported.")
                return redirect(url_for("builder.survey", slug=survey.slug))
    return _form_page(
        "import.html",
        422 if problems else 200,
        survey=target,
        problems=problems,
        typed=typed,
    )


# --- editing ------------------------------------------------------------------------------


def _editable(slug: str) -> tuple[Survey, dict[str, Any], Any]:
    """The survey and its document, or a page explaining why it can't be edited."""
    survey = survey_or_404(slug)
    reason = _why_not_editable(survey)
    if reason:
        return survey, {}, _blocked(survey, reason, 409 if request.method == "POST" else 200)
    return survey, definition_of(survey).to_dict(), None


@bp.get("/<slug>/edit")
@allow(*DESIGNERS)
def edit(slug: str):
    survey, doc, refused = _editable(slug)
    if refused:
        return refused
    return _edit_page(survey, doc)


def _edit_page(survey: Survey, doc: dict[str, Any], problems: list[str] | None = None):
    languages = _languages(doc)
    return _form_page(
        "edit.html",
        422 if problems else 200,
        survey=survey,
        doc=doc,
        problems=problems or [],
        tx=lambda text: localize(text, languages[0], languages[0]),
        type_names=QUESTION_TYPE_NAMES,
        untranslated=forms.untranslated(doc),
    )


@bp.route("/<slug>/settings", methods=["GET", "POST"])
@allow(*DESIGNERS)
def settings(slug: str):
    survey, doc, refused = _editable(slug)
    if refused:
        return refused
    languages = _languages(doc)
    if request.method == "GET":
        return _settings_page(survey, forms.settings_form(doc), languages, None)
    form: MultiDict[str, Any] = MultiDict(request.form)
    if form.get("action") == "add_row":
        return _settings_page(survey, form, languages, None, forms.row_count(form, "support") + 1)
    # Suggested services join the list only when ticked, whichever button saves (the
    # one beside the list is there to be found; Enter in a field presses the first).
    added = [
        service
        for service in chosen_services(form.getlist("suggested"), languages)
        if service.url not in forms.support_urls(form)
    ]
    if added:
        entries = [service.as_support(languages) for service in added]
        form = forms.with_support_rows(form, entries, languages)
    rows = forms.row_count(form, "support")
    built = forms.settings_from_form(form, doc)
    candidate = built.part
    new_languages = forms.parse_languages(form.get("languages", ""))
    copied = False
    if new_languages and new_languages != languages:
        if len(set(new_languages)) == len(new_languages) and all(
            LANGUAGE_RE.fullmatch(tag) for tag in new_languages
        ):
            copied = forms.relanguage(candidate, languages, new_languages)
        else:
            candidate["languages"] = new_languages
    elif not new_languages:
        candidate["languages"] = []
    _, problems = _store(survey, candidate, "settings")
    if problems:
        fields = forms.settings_fields(form, languages, rows)
        placed = forms.place_problems(problems, "", fields, languages, built.rows)
        return _settings_page(survey, form, languages, placed, rows)
    if copied:
        flash(
            "Texts in the new language start as a copy of the "
            f"{language_name(new_languages[0])} text: translate them on each page."
        )
    flash("The settings were saved.")
    if added:
        names = "; ".join(localize(s.name, languages[0], "en") for s in added)
        flash(f"Support services added: {names}. Check their details below.")
        return redirect(
            url_for("builder.settings", slug=survey.slug, _anchor=forms.field_id("support"))
        )
    return redirect(url_for("builder.edit", slug=survey.slug))


def _estimate_hint(definition: SurveyDefinition) -> str:
    """The rule the landing page's time follows when none is set, and what it gives now."""
    minutes = definition.estimated_minutes_from_questions()
    s = SECONDS_TO_ANSWER
    return (
        "Leave empty to use an estimate worked out from its questions: about "
        f"{minutes} minute{'' if minutes == 1 else 's'} now. It counts {s['single_choice']} "
        f"seconds for each single choice, {s['multi_choice']} for a multiple choice, "
        f"{s['scale']} for a scale or a number, {s['short_text']} for a short text, "
        f"{s['long_text']} for a long text and {s['info']} for information (every question, "
        "even those branching may hide), a few seconds a page, and "
        f"{SECONDS_AROUND_THE_QUESTIONS} seconds for the start and the end."
    )


def _settings_page(survey, form, languages, placed, rows=None):
    if rows is None:
        rows = forms.row_count(form, "support") + 1
    listed = forms.support_urls(form)
    return _form_page(
        "settings.html",
        422 if placed else 200,
        survey=survey,
        form=form,
        languages=languages,
        placed=placed or forms.Problems(),
        rows=max(rows, 1),
        has_support=any(
            forms.clean(form.get(f"support[{i}].name.{lang}"))
            for i in range(forms.row_count(form, "support"))
            for lang in languages
        ),
        suggestions=[s for s in suggestions_for(languages) if s.url not in listed],
        ticked=set(form.getlist("suggested")),
        estimate_hint=_estimate_hint(definition_of(survey)),
    )


# sections


def _section_index(doc: dict[str, Any], section_id: str) -> int | None:
    ids = [s["id"] for s in doc["sections"]]
    return ids.index(section_id) if section_id in ids else None


def _not_found(survey: Survey, what: str):
    """Unknown sections and questions lead back to the survey's editing page."""
    flash(f"There is no {what} with that id in this survey (it may have been renamed or deleted).")
    return redirect(url_for("builder.edit", slug=survey.slug))


def _condition_choices(doc: dict[str, Any], before: tuple[int, int | None]) -> list[dict]:
    """Choice questions that come before a position (a section, or a question in one)."""
    choices: list[dict] = []
    languages = _languages(doc)
    for si, section in enumerate(doc["sections"]):
        for qi, question in enumerate(section["questions"]):
            if (si, qi) >= (before[0], before[1] if before[1] is not None else -1):
                return choices
            if question["type"] in CHOICE_TYPES:
                choices.append(
                    {
                        "id": question["id"],
                        "text": localize(question["text"], languages[0], languages[0]),
                        "options": [
                            (o["value"], localize(o["label"], languages[0], languages[0]))
                            for o in question["options"]
                        ],
                    }
                )
    return choices


@bp.route("/<slug>/sections/add", methods=["GET", "POST"])
@allow(*DESIGNERS)
def add_section(slug: str):
    survey, doc, refused = _editable(slug)
    if refused:
        return refused
    return _section(survey, doc, None)


@bp.route("/<slug>/sections/<section_id>", methods=["GET", "POST"])
@allow(*DESIGNERS)
def edit_section(slug: str, section_id: str):
    survey, doc, refused = _editable(slug)
    if refused:
        return refused
    index = _section_index(doc, section_id)
    if index is None:
        return _not_found(survey, "section")
    return _section(survey, doc, index)


def _section(survey: Survey, doc: dict[str, Any], index: int | None):
    """Add (index None) or edit one section; a new one starts with a first question."""
    languages = _languages(doc)
    position = index if index is not None else len(doc["sections"])
    choices = _condition_choices(doc, (position, None))
    if request.method == "GET":
        form = (
            forms.section_form(doc["sections"][index], languages)
            if index is not None
            else MultiDict()
        )
        if index is None:
            form["first.type"] = "short_text"
        return _section_page(survey, form, index, languages, choices, None)
    form = request.form
    if index is None:
        first = {
            "id": forms.clean(form.get("first.id"), 100),
            "type": "short_text" if form.get("first.type") != "info" else "info",
        }
        text = forms.read_text(form, "first.text", languages)
        if text is not None:
            first["text"] = text
        questions = [first]
    else:
        questions = doc["sections"][index]["questions"]
    built = forms.section_from_form(form, languages, questions)
    candidate = copy.deepcopy(doc)
    if index is None:
        candidate["sections"].append(built.part)
    else:
        candidate["sections"][index] = built.part
    what = "section added" if index is None else f"section {built.part['id']}"
    problems = built.problems or None
    if not problems:
        _, problems = _store(survey, candidate, what)
    if problems:
        fields = forms.section_fields(languages)
        fields |= {"first.id", "first.type", "questions"} | {
            f"first.text.{lang}" for lang in languages
        }
        base = f"sections[{position}]"
        mapped = [
            p.replace(f"{base}.questions[0].", f"{base}.first.") if index is None else p
            for p in problems
        ]
        placed = forms.place_problems(mapped, base if not built.problems else "", fields, languages)
        return _section_page(survey, form, index, languages, choices, placed)
    flash("The section was saved." if index is not None else "The section was added.")
    return redirect(url_for("builder.edit", slug=survey.slug) + f"#section-{built.part['id']}")


def _section_page(survey, form, index, languages, choices, placed):
    return _form_page(
        "section.html",
        422 if placed else 200,
        survey=survey,
        form=form,
        index=index,
        languages=languages,
        choices=choices,
        placed=placed or forms.Problems(),
    )


@bp.route("/<slug>/sections/<section_id>/delete", methods=["GET", "POST"])
@allow(*DESIGNERS)
def delete_section(slug: str, section_id: str):
    survey, doc, refused = _editable(slug)
    if refused:
        return refused
    index = _section_index(doc, section_id)
    if index is None:
        return _not_found(survey, "section")
    section = doc["sections"][index]
    if request.method == "GET":
        return _form_page(
            "delete.html",
            survey=survey,
            what="section",
            item_id=section_id,
            count=len(section["questions"]),
        )
    candidate = copy.deepcopy(doc)
    del candidate["sections"][index]
    _, problems = _store(survey, candidate, f"section {section_id} deleted")
    if problems:
        return _edit_page(survey, doc, problems)
    flash(f'The section "{section_id}" was deleted.')
    return redirect(url_for("builder.edit", slug=survey.slug))


@bp.post("/<slug>/sections/<section_id>/move")
@allow(*DESIGNERS)
def move_section(slug: str, section_id: str):
    survey, doc, refused = _editable(slug)
    if refused:
        return refused
    index = _section_index(doc, section_id)
    if index is None:
        return _not_found(survey, "section")
    step = -1 if request.form.get("direction") == "up" else 1
    other = index + step
    if request.form.get("direction") not in ("up", "down") or not 0 <= other < len(doc["sections"]):
        return redirect(url_for("builder.edit", slug=survey.slug))
    candidate = copy.deepcopy(doc)
    sections = candidate["sections"]
    sections[index], sections[other] = sections[other], sections[index]
    _, problems = _store(
        survey, candidate, f"section {section_id} moved {request.form['direction']}"
    )
    if problems:
        return _edit_page(survey, doc, problems)
    return redirect(url_for("builder.edit", slug=survey.slug) + f"#section-{section_id}")


# questions


def _question_position(doc: dict[str, Any], question_id: str) -> tuple[int, int] | None:
    for si, section in enumerate(doc["sections"]):
        for qi, question in enumerate(section["questions"]):
            if question["id"] == question_id:
                return si, qi
    return None


@bp.route("/<slug>/sections/<section_id>/questions/add", methods=["GET", "POST"])
@allow(*DESIGNERS)
def add_question(slug: str, section_id: str):
    survey, doc, refused = _editable(slug)
    if refused:
        return refused
    index = _section_index(doc, section_id)
    if index is None:
        return _not_found(survey, "section")
    return _question(survey, doc, (index, len(doc["sections"][index]["questions"])), new=True)


@bp.route("/<slug>/questions/<question_id>", methods=["GET", "POST"])
@allow(*DESIGNERS)
def edit_question(slug: str, question_id: str):
    survey, doc, refused = _editable(slug)
    if refused:
        return refused
    position = _question_position(doc, question_id)
    if position is None:
        return _not_found(survey, "question")
    return _question(survey, doc, position, new=False)


def _question(survey: Survey, doc: dict[str, Any], position: tuple[int, int], new: bool):
    languages = _languages(doc)
    si, qi = position
    choices = _condition_choices(doc, position)
    section_id = doc["sections"][si]["id"]
    if request.method == "GET":
        if new:
            form = MultiDict({"type": forms.question_type(request.args)})
            form["prefer_not_to_say"] = "1"
        else:
            form = forms.question_form(doc["sections"][si]["questions"][qi], languages)
        return _question_page(survey, form, section_id, new, languages, choices, None)
    form = request.form
    rows = forms.row_count(form, "options")
    if form.get("action") == "add_row":
        return _question_page(survey, form, section_id, new, languages, choices, None, rows + 1)
    if _kind_changed(form, new):
        # A new kind shows its own fields first (a choice question's answers, a
        # scale's points), instead of a save that fails for want of them.
        return _question_page(
            survey, form, section_id, new, languages, choices, None, kind_changed=True
        )
    built = forms.question_from_form(form, languages)
    candidate = copy.deepcopy(doc)
    questions = candidate["sections"][si]["questions"]
    if new:
        questions.append(built.part)
    else:
        old = questions[qi]
        questions[qi] = built.part
        renames = forms.option_renames(form)
        if old["id"] != built.part["id"] or renames:
            forms.rename_references(candidate, old["id"], built.part["id"], renames)
    problems = built.problems or None
    if not problems:
        what = f"question {built.part['id']}" + (" added" if new else "")
        _, problems = _store(survey, candidate, what)
    if problems:
        fields = forms.question_fields(languages, rows)
        base = "" if built.problems else f"sections[{si}].questions[{qi}]"
        placed = forms.place_problems(problems, base, fields, languages, built.rows)
        return _question_page(survey, form, section_id, new, languages, choices, placed, rows)
    flash("The question was added." if new else "The question was saved.")
    return redirect(url_for("builder.edit", slug=survey.slug) + f"#question-{built.part['id']}")


def _kind_changed(form: Mapping[str, Any], new: bool) -> bool:
    """Whether the form asks for another kind's fields: "Show the fields for this
    kind" pressed, or a save of a kind whose required fields (a choice question's
    answers, a scale's points) the form did not show."""
    if new:
        return False
    if form.get("action") == "change_type":
        return True
    shown, chosen = form.get("shown_type"), forms.question_type(form)
    needs_fields = chosen in CHOICE_TYPES or chosen == "scale"
    return shown in QUESTION_TYPES and shown != chosen and needs_fields


def _question_page(
    survey, form, section_id, new, languages, choices, placed, rows=None, kind_changed=False
):
    qtype = forms.question_type(form)
    if rows is None:  # a form fresh from the document: one empty row to add an answer
        rows = forms.row_count(form, "options") + 1
    # Three answer rows at least, for any kind: a choice kind's rows are on the page
    # (hidden) before the kind changes to one (templates/admin/builder/question.html).
    rows = max(rows, 3)
    return _form_page(
        "question.html",
        422 if placed else 200,
        survey=survey,
        form=form,
        section_id=section_id,
        new=new,
        qtype=qtype,
        languages=languages,
        choices=choices,
        placed=placed or forms.Problems(),
        rows=rows,
        type_names=QUESTION_TYPE_NAMES,
        question_types=QUESTION_TYPES,
        kind_changed=kind_changed,
    )


@bp.route("/<slug>/questions/<question_id>/delete", methods=["GET", "POST"])
@allow(*DESIGNERS)
def delete_question(slug: str, question_id: str):
    survey, doc, refused = _editable(slug)
    if refused:
        return refused
    position = _question_position(doc, question_id)
    if position is None:
        return _not_found(survey, "question")
    si, qi = position
    if request.method == "GET":
        return _form_page(
            "delete.html", survey=survey, what="question", item_id=question_id, count=0
        )
    candidate = copy.deepcopy(doc)
    questions = candidate["sections"][si]["questions"]
    del questions[qi]
    if not questions:
        return _edit_page(
            survey,
            doc,
            [
                f"sections[{si}]: a section needs at least one question: delete the section "
                f'"{doc["sections"][si]["id"]}" instead, or add another question first'
            ],
        )
    _, problems = _store(survey, candidate, f"question {question_id} deleted")
    if problems:
        return _edit_page(survey, doc, problems)
    flash(f'The question "{question_id}" was deleted.')
    return redirect(
        url_for("builder.edit", slug=survey.slug) + f"#section-{doc['sections'][si]['id']}"
    )


@bp.post("/<slug>/questions/<question_id>/move")
@allow(*DESIGNERS)
def move_question(slug: str, question_id: str):
    """Up or down within its section; past the end, into the neighbouring section."""
    survey, doc, refused = _editable(slug)
    if refused:
        return refused
    position = _question_position(doc, question_id)
    direction = request.form.get("direction")
    if position is None:
        return _not_found(survey, "question")
    if direction not in ("up", "down"):
        return redirect(url_for("builder.edit", slug=survey.slug))
    si, qi = position
    candidate = copy.deepcopy(doc)
    sections = candidate["sections"]
    questions = sections[si]["questions"]
    step = -1 if direction == "up" else 1
    if 0 <= qi + step < len(questions):
        questions[qi], questions[qi + step] = questions[qi + step], questions[qi]
    elif 0 <= si + step < len(sections) and len(questions) > 1:
        moved = questions.pop(qi)
        target = sections[si + step]["questions"]
        if step < 0:
            target.append(moved)
        else:
            target.insert(0, moved)
    else:
        return redirect(url_for("builder.edit", slug=survey.slug) + f"#question-{question_id}")
    _, problems = _store(survey, candidate, f"question {question_id} moved {direction}")
    if problems:
        return _edit_page(survey, doc, problems)
    return redirect(url_for("builder.edit", slug=survey.slug) + f"#question-{question_id}")


# --- preview ------------------------------------------------------------------------------


@bp.get("/<slug>/preview")
@allow(*DESIGNERS)
def preview(slug: str):
    return _preview(survey_or_404(slug), None)


@bp.get("/<slug>/preview/<section_id>")
@allow(*DESIGNERS)
def preview_section(slug: str, section_id: str):
    survey = survey_or_404(slug)
    if definition_of(survey).section(section_id) is None:
        flash("There is no section with that id in this survey.")
        return redirect(url_for("builder.preview", slug=survey.slug))
    return _preview(survey, section_id)


def _preview(survey: Survey, section_id: str | None):
    """The respondent's pages as they will look, from the same macros and texts.

    Reads only: no draft, no respondent session, no audit entry. Buttons are
    links between preview pages; the answer fields sit in no form.
    """
    definition: SurveyDefinition = definition_of(survey)
    asked = request.args.get("lang")
    language = asked if asked in definition.languages else definition.default_language
    sections = list(definition.sections)
    index = next((i for i, s in enumerate(sections) if s.id == section_id), None)

    def tx(text: Any) -> str:
        return localize(text, language, definition.default_language)

    def page_url(sid: str | None) -> str:
        if sid is None:
            return url_for("builder.preview", slug=survey.slug, lang=language)
        return url_for("builder.preview_section", slug=survey.slug, section_id=sid, lang=language)

    empty = {"chosen": [], "text": "", "other": "", "pnts": False, "quote": ""}
    with speaking(language):
        return render_template(
            "admin/builder/preview.html",
            survey=survey,
            definition=definition,
            preview_lang=language,
            preview_languages=[(tag, language_name(tag)) for tag in definition.languages],
            tx=tx,
            section=sections[index] if index is not None else None,
            index=index,
            sections=sections,
            page_url=page_url,
            empty=empty,
        )


# --- export and copy ----------------------------------------------------------------------


@bp.get("/<slug>/export.json")
@allow(*DESIGNERS)
def export_json(slug: str):
    survey = survey_or_404(slug)
    announce("survey.export", _actor(), survey.slug, format="json")
    return attachment(definition_of(survey).to_json(), "application/json", f"{slug}.json")


@bp.get("/<slug>/export.yaml")
@allow(*DESIGNERS)
def export_yaml(slug: str):
    survey = survey_or_404(slug)
    text = yaml.safe_dump(
        definition_of(survey).to_dict(), allow_unicode=True, sort_keys=False, width=100
    )
    announce("survey.export", _actor(), survey.slug, format="yaml")
    return attachment(text, "application/yaml", f"{slug}.yaml")


@bp.route("/<slug>/copy", methods=["GET", "POST"])
@allow(*DESIGNERS)
def copy_survey(slug: str):
    survey = survey_or_404(slug)
    error = None
    new_slug = _suggest_slug(survey.slug)
    if request.method == "POST":
        new_slug = forms.clean(request.form.get("new_slug"), 100)
        error = _slug_problem(new_slug)
        if not error:
            copied = import_definition(definition_of(survey).with_slug(new_slug))
            copied.previous_version_id = survey.id
            db.session.commit()
            announce("survey.copy", _actor(), new_slug, source=survey.slug)
            flash(f'"{new_slug}" is a new draft copied from "{survey.slug}".')
            return redirect(url_for("builder.survey", slug=new_slug))
    return _form_page(
        "copy.html", 422 if error else 200, survey=survey, new_slug=new_slug, error=error
    )


# --- lifecycle (opening is admin/custody/keys.py's) -----------------------------------------------

LIFECYCLE = {
    "close": ("survey.close", "Close the survey"),
    "reopen": ("survey.reopen", "Reopen the survey"),
    "archive": ("survey.archive", "Archive the survey"),
}


@bp.route("/<slug>/close", methods=["GET", "POST"])
@allow(*DESIGNERS)
def close(slug: str):
    return _lifecycle(survey_or_404(slug), "close")


@bp.route("/<slug>/reopen", methods=["GET", "POST"])
@allow(*DESIGNERS)
def reopen(slug: str):
    return _lifecycle(survey_or_404(slug), "reopen")


@bp.route("/<slug>/archive", methods=["GET", "POST"])
@allow(*DESIGNERS)
def archive(slug: str):
    return _lifecycle(survey_or_404(slug), "archive")


def _lifecycle(survey: Survey, step: str):
    action, heading = LIFECYCLE[step]
    error = None
    if request.method == "POST":
        try:
            if step == "close":
                close_survey(survey)
            elif step == "reopen":
                if survey.status != SurveyStatus.CLOSED.value:
                    raise SurveyError(
                        f'"{survey.slug}" is {survey.status}: only a closed survey reopens.'
                    )
                open_survey(survey)
            else:
                archive_survey(survey)
        except SurveyError as exc:
            error = str(exc)
        else:
            announce(action, _actor(), survey.slug)
            flash(f"Done: the survey is now {survey.status}.")
            return redirect(url_for("builder.survey", slug=survey.slug))
    return _form_page(
        "lifecycle.html",
        409 if error else 200,
        survey=survey,
        step=step,
        heading=heading,
        error=error,
        responses=stored_count(survey),
        counts_note=counts_note(survey),
    )


# --- retention ----------------------------------------------------------------------------


@bp.route("/<slug>/retention", methods=["GET", "POST"])
@allow(*DESIGNERS)
def retention(slug: str):
    survey = survey_or_404(slug)
    error = None
    typed = survey.retain_until.isoformat() if survey.retain_until else ""
    if request.method == "POST":
        typed = forms.clean(request.form.get("retain_until"), 40)
        if request.form.get("action") == "clear":
            chosen = None
        else:
            try:
                chosen = date.fromisoformat(typed) if typed else None
            except ValueError:
                chosen = None
                error = "Give a date like 2027-06-30 (year-month-day)."
            if not error and chosen is None:
                error = 'Give a date, or press "Keep with no end date" to clear it.'
            elif not error and chosen is not None and chosen < _today():
                error = (
                    f"Choose today ({_today().isoformat()}) or a later day: that day has passed."
                )
        if not error:
            survey.retain_until = chosen
            db.session.commit()
            announce(
                "survey.retention",
                _actor(),
                survey.slug,
                retain_until=chosen.isoformat() if chosen else None,
            )
            flash(
                f"Its data is kept until {chosen.isoformat()}."
                if chosen
                else "The retention date was cleared."
            )
            return redirect(url_for("builder.survey", slug=survey.slug))
    return _form_page(
        "retention.html",
        422 if error else 200,
        survey=survey,
        typed=typed,
        error=error,
        today=_today().isoformat(),
    )


# --- invite codes -------------------------------------------------------------------------


# What an invite card says, in the survey's language (the respondents' catalogues).
CARD_WORDS = {
    "where": N_("Go to this web address:"),
    "type": N_("Type this invite code:"),
    "note": N_("The code works once. No one can tell which answers came with it."),
}
NOT_INVITE_ONLY = (
    "This survey does not ask for an invite code, so codes would change nothing: "
    "anyone with the link can answer. Turn on “Invite only” in its settings first."
)


def invite_cards(
    survey: Survey, definition: SurveyDefinition, codes: list[str], language: str, title: bool
) -> str:
    """The printable cards, in `language` (one of the survey's); the survey's title
    only when asked for: a card left in someone's home that names the topic can put
    them at risk."""
    words = {key: translate_to(language, message) for key, message in CARD_WORDS.items()}
    return render_template(
        "admin/builder/invite_cards.html",
        survey=survey,
        codes=codes,
        language=language,
        words=words,
        title=localize(definition.title, language, definition.default_language) if title else None,
    )


@bp.route("/<slug>/invites", methods=["GET", "POST"])
@allow(*DESIGNERS)
def invites(slug: str):
    survey = survey_or_404(slug)
    definition = definition_of(survey)
    error, status = None, 200
    typed = "50"
    language = definition.default_language
    show_title = False
    if request.method == "POST":
        typed = forms.clean(request.form.get("count"), 20)
        count = int(typed) if typed.isdigit() and len(typed) <= 5 else 0
        chosen = request.form.get("language", "")
        language = chosen if chosen in definition.languages else language
        show_title = request.form.get("show_title") == "1"
        if survey.status in (SurveyStatus.CLOSED.value, SurveyStatus.ARCHIVED.value):
            error, status = (
                f"This survey is {survey.status}: new invite codes would be of no use.",
                409,
            )
        elif not definition.invite_only:
            error, status = NOT_INVITE_ONLY, 409
        elif not 1 <= count <= MAX_INVITES:
            error, status = f"Give a number from 1 to {MAX_INVITES}.", 422
        else:
            codes = create_invite_codes(survey, count)
            announce("invites.create", _actor(), survey.slug, count=count)
            if request.form.get("action") == "csv":
                body = rows_csv(["invite_code"], ([code] for code in codes))
                return attachment(body, "text/csv", f"{slug}-invite-codes.csv")
            return invite_cards(survey, definition, codes, language, show_title)
    issued, used = invite_counts(survey)
    return _form_page(
        "invites.html",
        status,
        survey=survey,
        issued=issued,
        used=used,
        counts_note=counts_note(survey),
        error=error,
        typed=typed,
        max_invites=MAX_INVITES,
        invite_only=definition.invite_only,
        languages=definition.languages,
        language=language,
        show_title=show_title,
    )


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
