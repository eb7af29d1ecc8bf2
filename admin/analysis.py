"""Analysis: an unlocked survey's answers, decrypted in memory for the analyst.

Nothing decrypted is ever written to the server's disk: the frame lives in the
unlock's scratch memory (dropped at lock or when the unlock lapses), and the
CSV is built in memory and sent straight to the analyst.
"""

from __future__ import annotations

import pandas as pd
from flask import Blueprint, Flask, Response, abort, redirect, url_for
from flask_login import current_user

from admin.access import allow
from admin.frame import answers_frame
from admin.keys import unlocked, unlocked_key
from survey.events import announce
from survey.models import Role, Survey, User
from survey.surveys import find_survey, response_count, responses_frame

bp = Blueprint("analysis", __name__, url_prefix="/staff/surveys")


def analysis_frame(survey: Survey, user: User) -> pd.DataFrame | None:
    """The survey's answers as a frame, built once per unlock (again when new
    responses arrive or some are withdrawn); None when the survey is locked."""
    held = unlocked(survey, user)
    if held is None:
        return None
    count = response_count(survey)
    cached = held.scratch.get("frame")
    if cached is None or cached[0] != count:
        cached = held.scratch["frame"] = (count, answers_frame(survey, held.key))
    return cached[1]


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
