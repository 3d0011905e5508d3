"""On-site supervision pages: the visits of a round and a district, recording one, a visit's page with
its files and the problems raised from it (the raise page links back here)."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from services.intake import files, rounds, scope, visits
from services.intake.auth import current_user, login_required
from services.intake.extensions import db_session
from shared import clock, config
from shared.models import VISIT_METHODS, District, PilotUnit, StoredFile

bp = Blueprint("visits", __name__)


def parsed_date(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip()) if text.strip() else None
    except ValueError:
        return None


@bp.get("/visits")
@login_required
def index() -> Any:
    user, session = current_user(), db_session()
    chosen = request.args.get("round", "")
    district = request.args.get("district", "")
    return render_template(
        "visits.html",
        visits=visits.listed(session, user, chosen or None, district or None),
        rounds=rounds.all_rounds(session),
        districts=list(session.scalars(select(District).order_by(District.code)))
        if user.role != "district"
        else [],
        filters=request.args,
    )


def upload(user: Any, visit: Any) -> StoredFile | None:
    """The file sent with the form, checked and kept with the visit (None when there is none)."""
    sent = request.files.get("file")
    if sent is None or not sent.filename:
        return None
    content, content_type = files.read_checked(sent.stream, config.current().upload_max_bytes)
    return visits.attach(db_session(), user, visit, content, content_type, sent.filename)


@bp.route("/visits/new", methods=["GET", "POST"])
@scope.roles_required("supervisor", "admin")
def new() -> Any:
    session, user = db_session(), current_user()
    form = {k: v for k, v in request.values.items() if k != "csrf_token"}
    all_rounds = rounds.all_rounds(session)
    latest = rounds.latest_open(session)
    form.setdefault("round", latest.code if latest else (all_rounds[0].code if all_rounds else ""))
    districts = list(session.scalars(select(District).order_by(District.code)))
    district = form.get("district") or (districts[0].code if districts else "")
    chosen_units = request.values.getlist("units")
    chosen_methods = request.values.getlist("methods")
    errors: dict[str, str] = {}
    if request.method == "POST" and form.get("action") == "save":
        visit_form = visits.VisitForm(
            round_code=form.get("round", ""),
            district_code=district,
            unit_codes=chosen_units,
            visited_on=parsed_date(form.get("visited_on", "")),
            team=form.get("team", ""),
            methods=chosen_methods,
            summary=form.get("summary", ""),
            opinion=form.get("opinion", ""),
        )
        try:
            visit = visits.record_visit(session, user, visit_form, clock.now())
            upload(user, visit)
        except visits.VisitRefused as exc:
            session.rollback()
            errors = exc.problems
        except files.FileRejected as exc:
            session.rollback()
            errors = {"file": str(exc)}
        else:
            session.commit()
            flash(_("已记录督导检查"))
            return redirect(url_for("visits.visit", visit_id=visit.id))
    units = list(
        session.scalars(
            select(PilotUnit)
            .where(PilotUnit.district_code == district, PilotUnit.active.is_(True))
            .order_by(PilotUnit.name)
        )
    )
    return render_template(
        "visit_form.html",
        form=form,
        errors=errors,
        rounds=all_rounds,
        districts=districts,
        district=district,
        units=units,
        chosen_units=set(chosen_units),
        methods=VISIT_METHODS,
        chosen_methods=set(chosen_methods),
        today=clock.today(),
    ), (422 if errors else 200)


def visible_visit(visit_id: int) -> Any:
    found = visits.find(db_session(), current_user(), visit_id)
    if found is None:
        abort(404)
    return found


@bp.get("/visits/<int:visit_id>")
@login_required
def visit(visit_id: int) -> Any:
    found = visible_visit(visit_id)
    session = db_session()
    open_codes = {r.code for r in rounds.open_rounds(session)}
    return render_template(
        "visit.html",
        visit=found,
        files=visits.files_of(session, found),
        problems=visits.problems_of(session, found),
        can_raise=current_user().role in visits.SUPERVISORS and found.round_code in open_codes,
    )


@bp.post("/visits/<int:visit_id>/files")
@scope.roles_required("supervisor", "admin")
def add_file(visit_id: int) -> Any:
    found = visible_visit(visit_id)
    try:
        if upload(current_user(), found) is None:
            flash(_("请选择要上传的文件"), "error")
            return redirect(url_for("visits.visit", visit_id=visit_id))
    except files.FileRejected as exc:
        db_session().rollback()
        flash(str(exc), "error")
        return redirect(url_for("visits.visit", visit_id=visit_id))
    db_session().commit()
    flash(_("材料已上传"))
    return redirect(url_for("visits.visit", visit_id=visit_id))


@bp.get("/visits/<int:visit_id>/files/<file_id>")
@login_required
def download(visit_id: int, file_id: str) -> Any:
    found = visible_visit(visit_id)
    record = db_session().get(StoredFile, file_id[:32])
    if record is None or record.visit_id != found.id or not files.path_for(record.id).exists():
        abort(404)
    return send_file(
        files.path_for(record.id),
        mimetype=record.content_type,
        download_name=record.filename,
        as_attachment=record.content_type == "application/pdf",
    )
