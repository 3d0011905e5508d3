"""The first browser pages: log in, fill in a unit's report, see what evaluation made of it."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from services.intake import reports, schemas
from services.intake.auth import current_user, login_required, require_district_access
from services.intake.extensions import celery, db_session
from shared import accounts
from shared.catalogue import STATUS_NAMES, Catalogue
from shared.catalogue import store as catalogues
from shared.models import Evaluation, PilotUnit, Round, Submission

bp = Blueprint("web", __name__)


def _number(text: str) -> Any:
    try:
        value = float(text)
    except ValueError:
        return text  # left as text: the check answers "must be a number" next to the field
    return int(value) if value.is_integer() and "." not in text else value


def form_to_report(form: Any, catalogue: Catalogue) -> dict[str, Any]:
    """The form's flat fields as the same document the JSON API takes."""
    measures: dict[str, Any] = {}
    for code in catalogue.measures:
        status = form.get(f"m.{code}.status", "").strip()
        if status:
            measures[code] = {"status": status, "note": form.get(f"m.{code}.note", "").strip()}
    indicators: dict[str, Any] = {}
    for code, spec in catalogue.indicators.items():
        raw = form.get(f"i.{code}", "").strip()
        if spec.get("type") == "boolean":
            if raw:
                indicators[code] = raw in ("1", "true", "yes", "on")
        elif raw:
            indicators[code] = _number(raw)
    return {"unit": form.get("unit", ""), "round": form.get("round", ""), "measures": measures,
            "indicators": indicators}


def visible_units(user: Any) -> list[PilotUnit]:
    query = select(PilotUnit).where(PilotUnit.active.is_(True)).order_by(PilotUnit.name)
    if user.role == "district":
        query = query.where(PilotUnit.district_code == user.district_code)
    return list(db_session().scalars(query))


def open_rounds() -> list[Round]:
    return list(db_session().scalars(select(Round).where(Round.status == "open").order_by(Round.due_date.desc())))


@bp.get("/")
@login_required
def home() -> str:
    user = current_user()
    units = visible_units(user)
    recent = db_session().scalars(
        select(Submission).join(PilotUnit).where(PilotUnit.id.in_([u.id for u in units]))
        .options(selectinload(Submission.unit), selectinload(Submission.evaluation))
        .order_by(Submission.submitted_at.desc()).limit(20)
    ).all() if units else []
    return render_template("home.html", user=user, units=units, rounds=open_rounds(), recent=recent)


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    error = None
    if request.method == "POST":
        user = accounts.check_password(db_session(), request.form.get("email", ""), request.form.get("password", ""))
        if user is not None:
            session.clear()
            session["user_id"] = user.id
            target = request.args.get("next", "")
            return redirect(target if target.startswith("/") and not target.startswith("//") else url_for("web.home"))
        error = "邮箱或密码不正确 / wrong email or password"
    return render_template("login.html", error=error), (401 if error else 200)


@bp.post("/logout")
def logout() -> Any:
    session.clear()
    return redirect(url_for("web.login"))


@bp.route("/submissions/new", methods=["GET", "POST"])
@login_required
def new_submission() -> Any:
    user = current_user()
    rounds = open_rounds()
    if not rounds:
        return render_template("message.html", title="没有开放的督导轮次", text="当前没有开放的督导轮次，无法报送。"), 409
    round_code = request.values.get("round") or rounds[0].code
    round_ = next((r for r in rounds if r.code == round_code), rounds[0])
    catalogue = catalogues.get(db_session(), round_.catalogue_version)
    values: dict[str, Any] = {"unit": request.values.get("unit", ""), "round": round_.code}
    errors: dict[str, Any] = {}
    if request.method == "POST":
        report = form_to_report(request.form, catalogue)
        values = dict(request.form)
        try:
            data = schemas.SubmissionSchema().load(report)
        except ValidationError as exc:
            errors = exc.normalized_messages()
        else:
            checked, errors = reports.check(db_session(), data)
            if checked is not None:
                require_district_access(user, checked.unit.district_code, api=False)
                submission = reports.submit(db_session(), celery(), checked, data, user, None, "form")
                flash("报送成功，正在评估 / submitted, evaluation under way")
                return redirect(url_for("web.submission", submission_id=submission.id))
    return render_template("submission_form.html", user=user, units=visible_units(user), rounds=rounds,
                           round=round_, catalogue=catalogue, statuses=STATUS_NAMES, values=values,
                           errors=errors), (422 if errors else 200)


@bp.get("/submissions/<submission_id>")
@login_required
def submission(submission_id: str) -> Any:
    found = db_session().scalar(
        select(Submission).where(Submission.id == submission_id[:64]).options(
            selectinload(Submission.unit), selectinload(Submission.evaluation).selectinload(Evaluation.findings))
    )
    if found is None:
        abort(404)
    require_district_access(current_user(), found.unit.district_code, api=False)
    round_ = db_session().get(Round, found.round_code)
    catalogue = catalogues.get(db_session(), round_.catalogue_version)
    return render_template("submission.html", submission=found, catalogue=catalogue, statuses=STATUS_NAMES)
