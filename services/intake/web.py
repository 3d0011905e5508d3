"""Signing in and out, the language switch and the home page."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, session, url_for
from sqlalchemy import select

from services.intake import accounts, analytics, lists, paging, progress, rounds
from services.intake.auth import current_user, login_required, safe_next, start_session
from services.intake.extensions import db_session
from services.intake.pages import LOCALES
from services.intake.throttle import LoginThrottle
from shared import clock, config
from shared.models import District, Round

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
            if request.args.get("next"):
                return redirect(safe_next(request.args.get("next")))
            return redirect(landing(user))
        throttle().failed(email, source)
        error = "wrong"
    return render_template("login.html", error=error), (401 if error else 200)


def landing(user: Any) -> str:
    """Where a sign-in without a `next` goes: the office to its dashboard, a district to its units."""
    office = user.role in ("supervisor", "admin")
    if office and db_session().scalar(select(Round.code).limit(1)) is not None:
        return url_for("dashboard.dashboard")
    return url_for("web.home")


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
    user, query, session = current_user(), request.args, db_session()
    open_rounds = sorted(rounds.open_rounds(session), key=lambda r: r.due_date)
    # With several rounds open, the one due first stays in front until the clerk switches.
    round_ = next(
        (r for r in open_rounds if r.code == query.get("round")), open_rounds[0] if open_rounds else None
    )
    today = clock.today()
    everyone = lists.units_query(user, {**query, "state": ""}, round_, today)
    counts = progress.state_counts(session, everyone, round_.code) if round_ else {}
    page = paging.paginate(
        session, lists.units_query(user, query, round_, today), paging.page_number(query.get("page"))
    )
    rows = progress.unit_progress(session, page.items, round_.code) if round_ else []
    days = progress.days_left(round_.due_date, today) if round_ else None
    # after the deadline the banner names the units still missing (of the district chosen)
    missing = lists.overdue_units(session, user, query, round_, today) if round_ else []
    return render_template(
        "home.html",
        user=user,
        round=round_,
        open_rounds=open_rounds,
        reported=progress.reported_counts(
            session,
            lists.units_query(user, {"district": query.get("district", "")}, None, today),
            open_rounds,
        ),
        rows=rows,
        page=page,
        counts=counts,
        summary=progress.summary(counts) if round_ else None,
        missing=missing,
        lights=home_lights(user, round_),
        days_left=days,
        districts=all_districts() if user.role != "district" else [],
        states=progress.STATES,
        groups=progress.GROUPS,
        filters=query,
        district=session.get(District, user.district_code) if user.district_code else None,
    )


def home_lights(user: Any, round_: Any) -> dict[str, int]:
    """The user's problems past their deadline (red) and close to it (yellow) in the round."""
    lights = {"red": 0, "yellow": 0}
    if round_ is None:
        return lights
    by_district = analytics.light_counts(
        db_session(),
        round_.code,
        clock.today(),
        config.current().yellow_light_days,
        user.district_code if user.role == "district" else None,
    )
    for code, counted in by_district.items():
        if user.role != "district" or code == user.district_code:
            lights = {k: lights[k] + counted[k] for k in lights}
    return lights


def all_districts() -> list[District]:
    return list(db_session().scalars(select(District).order_by(District.code)))
