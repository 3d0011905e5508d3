"""The case library's pages: published cases for everyone; a district's own cases and the hints of what it
might write up; writing, editing and recommending a case; the city's review (入选 / 退回修改)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from services.intake import case_hints, cases, files, rounds, scope
from services.intake.auth import current_user, login_required
from services.intake.extensions import db_session
from shared import clock, config
from shared.catalogue import store as catalogues
from shared.models import AuditEvent, Case, PilotUnit, Round, StoredFile, User

bp = Blueprint("cases", __name__)
HISTORY = {
    "case.draft": _l("撰写案例"),
    "case.edit": _l("修改案例"),
    "case.recommend": _l("推荐"),
    "case.select": _l("入选"),
    "case.return": _l("退回修改"),
}


def chosen_round() -> Round | None:
    every = rounds.all_rounds(db_session())
    wanted = request.args.get("round")
    return next((r for r in every if r.code == wanted), every[0] if every else None)


@bp.get("/cases")
@login_required
def index() -> Any:
    user, session = current_user(), db_session()
    round_ = chosen_round()
    code = round_.code if round_ else None
    own = cases.library(session, user, code, district=user.district_code) if user.role == "district" else []
    return render_template(
        "cases.html",
        round=round_,
        rounds=rounds.all_rounds(session),
        published=cases.library(session, user, code, status="selected"),
        own=[c for c in own if c.status != "selected"],
        to_review=cases.library(session, user, code, status="recommended") if user.role != "district" else [],
        hints=case_hints.hints(session, code, user.district_code) if code and user.role == "district" else [],
    )


def form_of(values: Any) -> cases.CaseForm:
    return cases.CaseForm(
        round_code=values.get("round", ""),
        unit_code=values.get("unit", ""),
        title=values.get("title", ""),
        measures=values.getlist("measures"),
        practice=values.get("practice", ""),
        results=values.get("results", ""),
        figures=[
            {"label": values.get(f"figure_label_{i}", ""), "value": values.get(f"figure_value_{i}", "")}
            for i in range(cases.FIGURES)
        ],
    )


def upload(user: User, case: Case) -> None:
    sent = request.files.get("file")
    if sent is not None and sent.filename:
        content, content_type = files.read_checked(sent.stream, config.current().upload_max_bytes)
        cases.attach(db_session(), user, case, content, content_type, sent.filename)


def editor(case: Case | None, values: dict[str, Any], errors: dict[str, str]) -> Any:
    session, user = db_session(), current_user()
    round_code = values.get("round") or (case.round_code if case else "")
    round_ = session.get(Round, round_code) or chosen_round()
    catalogue = catalogues.get(session, round_.catalogue_version) if round_ else None
    return render_template(
        "case_form.html",
        case=case,
        form=values,
        errors=errors,
        rounds=rounds.all_rounds(session),
        round=round_,
        catalogue=catalogue,
        units=list(session.scalars(scope.units(user).order_by(PilotUnit.name))),
        figures=cases.FIGURES,
    ), (422 if errors else 200)


def values_of(case: Case) -> dict[str, Any]:
    values: dict[str, Any] = {
        "round": case.round_code,
        "unit": case.unit.credit_code,
        "title": case.title,
        "measures": case.measures,
        "practice": case.practice,
        "results": case.results,
    }
    for i, figure in enumerate(case.figures):
        values[f"figure_label_{i}"], values[f"figure_value_{i}"] = figure["label"], figure["value"]
    return values


def save(case: Case | None) -> Any:
    """Create or change the case from the form (and keep the file sent with it); refused: the form again."""
    session, user = db_session(), current_user()
    values = {k: v for k, v in request.form.items() if k != "csrf_token"}
    values["measures"] = request.form.getlist("measures")
    existing = case
    try:
        if case is None:
            case = cases.draft(session, user, form_of(request.form), clock.now())
        else:
            cases.edit(session, user, case, form_of(request.form), clock.now())
        upload(user, case)
        if request.form.get("action") == "recommend":
            cases.recommend(session, user, case, clock.now())
    except cases.CaseRefused as exc:
        session.rollback()
        return editor(existing, values, exc.problems)
    except files.FileRejected as exc:
        session.rollback()
        return editor(existing, values, {"file": str(exc)})
    session.commit()
    flash(_("案例已推荐，等待市产改办审核") if case.status == "recommended" else _("案例已保存"))
    return redirect(url_for("cases.case", case_id=case.id))


@bp.route("/cases/new", methods=["GET", "POST"])
@scope.roles_required("district")
def new() -> Any:
    if request.method == "POST":
        return save(None)
    values: dict[str, Any] = {k: v for k, v in request.args.items()}
    values["measures"] = request.args.getlist("measures")
    return editor(None, values, {})


def visible_case(case_id: int) -> Case:
    found = cases.find(db_session(), current_user(), case_id)
    if found is None:
        abort(404)
    return found


@bp.route("/cases/<int:case_id>/edit", methods=["GET", "POST"])
@scope.roles_required("district")
def edit(case_id: int) -> Any:
    found = visible_case(case_id)
    if not cases.can_edit(current_user(), found):
        abort(403, description=_("当前状态下不能修改该案例"))
    if request.method == "POST":
        return save(found)
    return editor(found, values_of(found), {})


@bp.get("/cases/<int:case_id>")
@login_required
def case(case_id: int) -> Any:
    found, session = visible_case(case_id), db_session()
    round_ = session.get(Round, found.round_code)
    catalogue = catalogues.get(session, round_.catalogue_version) if round_ else None
    history = session.execute(
        select(AuditEvent, User.email)
        .outerjoin(User, User.id == AuditEvent.actor_id)
        .where(AuditEvent.object_type == "case", AuditEvent.object_id == str(found.id))
        .order_by(AuditEvent.at, AuditEvent.id)
    ).all()
    return render_template(
        "case.html",
        case=found,
        measures=catalogue.measures if catalogue else {},
        files=cases.evidence_of(session, found),
        history=history,
        history_labels=HISTORY,
        can_edit=cases.can_edit(current_user(), found),
        can_review=current_user().role in cases.SUPERVISORS and found.status == "recommended",
    )


@bp.post("/cases/<int:case_id>/recommend")
@scope.roles_required("district")
def recommend(case_id: int) -> Any:
    found = visible_case(case_id)
    try:
        cases.recommend(db_session(), current_user(), found, clock.now())
    except cases.CaseRefused as exc:
        db_session().rollback()
        flash("；".join(exc.problems.values()), "error")
        return redirect(url_for("cases.case", case_id=case_id))
    db_session().commit()
    flash(_("案例已推荐，等待市产改办审核"))
    return redirect(url_for("cases.case", case_id=case_id))


@bp.post("/cases/<int:case_id>/review")
@scope.roles_required("supervisor", "admin")
def review(case_id: int) -> Any:
    found = visible_case(case_id)
    decision, reason = request.form.get("decision", ""), request.form.get("reason", "")
    try:
        cases.review(db_session(), current_user(), found, decision, reason, clock.now())
    except cases.CaseRefused as exc:
        db_session().rollback()
        flash("；".join(exc.problems.values()), "error")
        return redirect(url_for("cases.case", case_id=case_id))
    db_session().commit()
    flash(_("案例已入选，各县（市）区均可查看") if found.status == "selected" else _("案例已退回修改"))
    return redirect(url_for("cases.case", case_id=case_id))


@bp.get("/cases/<int:case_id>/files/<file_id>")
@login_required
def download(case_id: int, file_id: str) -> Any:
    found = visible_case(case_id)
    record = db_session().get(StoredFile, file_id[:32])
    if record is None or record.case_id != found.id or not files.path_for(record.id).exists():
        abort(404)
    return send_file(
        files.path_for(record.id),
        mimetype=record.content_type,
        download_name=record.filename,
        as_attachment=record.content_type == "application/pdf",
    )
