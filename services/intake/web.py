"""Signing in and out, the language switch and the home page."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, session, url_for
from sqlalchemy import select

from services.intake import accounts, analytics, progress, rounds
from services.intake.auth import current_user, login_required, safe_next, start_session
from services.intake.extensions import db_session
from services.intake.pages import LOCALES
from services.intake.throttle import LoginThrottle
from shared import clock, config
from shared.models import District

bp = Blueprint("web", __name__)


def throttle() -> LoginThrottle:
    from flask import current_app

    return current_app.extensions["login_throttle"]


def source_address() -> str:
    return request.remote_addr or "unknown"


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    error = None
    if request.method == "POST":
        email, source = request.form.get("email", "").strip().lower()[:200], source_address()
        if throttle().locked(email, source):
            return render_template("login.html", error="locked"), 429
        user = accounts.check_password(db_session(), email, request.form.get("password", ""))
        if user is not None:
            throttle().succeeded(email, source)
            start_session(user)
            return redirect(safe_next(request.args.get("next")))
        throttle().failed(email, source)
        error = "wrong"
    return render_template("login.html", error=error), (401 if error else 200)


@bp.post("/logout")
def logout() -> Any:
    """Sign out, ending every session of the user (a copy of the cookie elsewhere too)."""
    user = current_user()
    if user is not None:
        accounts.end_sessions(db_session(), user)
        db_session().commit()
    session.clear()
    return redirect(url_for("web.login"))


@bp.post("/locale")
def switch_locale() -> Any:
    chosen = request.form.get("locale", "zh")
    chosen = chosen if chosen in LOCALES else "zh"
    session["locale"] = chosen
    user = current_user()
    if user is not None:
        user.locale = chosen
        db_session().commit()
    return redirect(safe_next(request.form.get("next")))


@bp.get("/")
@login_required
def home() -> str:
    user = current_user()
    query = request.args
    open_rounds = sorted(rounds.open_rounds(db_session()), key=lambda r: r.due_date)
    # With several rounds open, the one due first stays in front until the clerk switches.
    round_ = next(
        (r for r in open_rounds if r.code == query.get("round")), open_rounds[0] if open_rounds else None
    )
    units_query = select_units(user, query.get("district", ""), query.get("q", ""))
    units = list(db_session().scalars(units_query))
    rows = progress.unit_progress(db_session(), units, round_.code) if round_ else []
    counts = {state: sum(1 for r in rows if r.state == state) for state in progress.STATES}
    if query.get("state") in progress.STATES:
        rows = [r for r in rows if r.state == query["state"]]
    districts = (
        list(db_session().scalars(select(District).order_by(District.code)))
        if user.role != "district"
        else []
    )
    days = progress.days_left(round_.due_date, clock.today()) if round_ else None
    lights = {"red": 0, "yellow": 0}
    if round_:
        by_district = analytics.light_counts(
            db_session(), round_.code, clock.today(), config.current().yellow_light_days
        )
        for code, counted in by_district.items():
            if user.role != "district" or code == user.district_code:
                lights = {k: lights[k] + counted[k] for k in lights}
    reported = progress.reported_counts(
        db_session(), select_units(user, query.get("district", ""), ""), open_rounds
    )
    return render_template(
        "home.html",
        user=user,
        round=round_,
        open_rounds=open_rounds,
        reported=reported,
        rows=rows,
        counts=counts,
        lights=lights,
        days_left=days,
        districts=districts,
        states=progress.STATES,
        filters=query,
        district=db_session().get(District, user.district_code) if user.district_code else None,
    )


def select_units(user: Any, district: str, text: str) -> Any:
    from services.intake import scope
    from shared.models import PilotUnit

    units_query = scope.units(user).order_by(PilotUnit.district_code, PilotUnit.name)
    if district and user.role != "district":
        units_query = units_query.where(PilotUnit.district_code == district)
    if text.strip():
        like = f"%{text.strip()}%"
        units_query = units_query.where(PilotUnit.name.like(like) | PilotUnit.credit_code.like(like))
    return units_query
