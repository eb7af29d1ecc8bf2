"""Analysis: an unlocked survey's answers, decrypted in memory for the analyst.

Nothing decrypted is ever written to the server's disk: the CSV is built in
memory and sent straight to the analyst, who holds the survey's key.
"""

from __future__ import annotations

from flask import Blueprint, Flask, Response, abort, redirect, url_for
from flask_login import current_user

from admin.access import allow
from admin.keys import unlocked_key
from survey.events import announce
from survey.models import Role
from survey.surveys import find_survey, responses_frame

bp = Blueprint("analysis", __name__, url_prefix="/staff/surveys")


@bp.get("/<slug>/responses.csv")
@allow(Role.ANALYST)
def export_csv(slug: str):
    """Every response as CSV (the format of `chorus responses export`), if unlocked."""
    survey = find_survey(slug)
    if survey is None:
        abort(404)
    me = current_user._get_current_object()  # type: ignore[attr-defined]
    private_key = unlocked_key(survey, me)
    if private_key is None:
        return redirect(url_for("keys.custody", slug=slug))
    frame = responses_frame(survey, private_key)
    announce("responses.export", me.email, slug, rows=len(frame), key="unlocked in browser")
    return Response(
        frame.to_csv(index=False),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{slug}-responses.csv"'},
    )


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
