"""The problem ledger: findings with filters, a finding's page with its history, and its actions."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from services.intake import files, scope
from services.intake.auth import current_user, login_required
from services.intake.extensions import celery, db_session
from shared import clock, config, ledger, outbox
from shared.catalogue import SEVERITIES
from shared.models import AuditEvent, District, Finding, Round, StoredFile, User

bp = Blueprint("findings", __name__)
STATUS_LABELS = {
    "open": "待处理",
    "acknowledged": "已确认",
    "rectification_reported": "已报整改",
    "closed": "已核销",
    "resolved": "已自动解决",
}
PAGE = 200


def filtered(user: User, args: Any) -> Any:
    query = (
        scope.findings(user)
        .options(selectinload(Finding.unit))
        .order_by(Finding.opened_at.desc(), Finding.id)
    )
    if args.get("district") and user.role != "district":
        query = query.where(Finding.district_code == args["district"])
    if args.get("round"):
        query = query.where(Finding.round_code == args["round"])
    if args.get("severity") in SEVERITIES:
        query = query.where(Finding.severity == args["severity"])
    if args.get("status") in STATUS_LABELS:
        query = query.where(Finding.status == args["status"])
    elif args.get("status") != "all":
        query = query.where(Finding.active.is_(True))
    if args.get("older", "").isdigit():
        query = query.where(Finding.opened_at <= clock.now() - timedelta(days=int(args["older"])))
    return query


@bp.get("/findings", endpoint="ledger")
@login_required
def ledger_page() -> Any:
    user = current_user()
    rows = list(db_session().scalars(filtered(user, request.args).limit(PAGE + 1)))
    districts = (
        list(db_session().scalars(select(District).order_by(District.code)))
        if user.role != "district"
        else []
    )
    rounds = list(db_session().scalars(select(Round).order_by(Round.due_date.desc())))
    return render_template(
        "findings.html",
        rows=rows[:PAGE],
        more=len(rows) > PAGE,
        filters=request.args,
        districts=districts,
        rounds=rounds,
        severities=SEVERITIES,
        statuses=STATUS_LABELS,
        today=clock.today(),
    )


def visible_finding(finding_id: int) -> Finding:
    finding = db_session().get(Finding, finding_id)
    if finding is None:
        abort(404)
    scope.require_district(current_user(), finding.district_code)
    return finding


@bp.get("/findings/<int:finding_id>")
@login_required
def finding(finding_id: int) -> Any:
    found = visible_finding(finding_id)
    history = (
        db_session()
        .execute(
            select(AuditEvent, User.email)
            .outerjoin(User, User.id == AuditEvent.actor_id)
            .where(AuditEvent.object_type == "finding", AuditEvent.object_id == str(found.id))
            .order_by(AuditEvent.at, AuditEvent.id)
        )
        .all()
    )
    proofs = list(
        db_session().scalars(
            select(StoredFile).where(StoredFile.finding_id == found.id).order_by(StoredFile.uploaded_at)
        )
    )
    return render_template(
        "finding.html",
        finding=found,
        history=history,
        proofs=proofs,
        actions=ledger.allowed(current_user(), found),
        statuses=STATUS_LABELS,
    )


@bp.post("/findings/<int:finding_id>/actions")
@login_required
def act(finding_id: int) -> Any:
    user, found = current_user(), visible_finding(finding_id)
    name, comment, upload = (
        request.form.get("action", ""),
        request.form.get("comment", ""),
        request.files.get("proof"),
    )
    if name not in ledger.ACTIONS:
        abort(400)
    if user.role not in ledger.ACTIONS[name].roles:
        abort(403, description=_("您的角色无权进行此操作"))
    content = None
    try:
        if upload is not None and upload.filename:
            content = files.read_checked(upload.stream, config.current().upload_max_bytes)
        action = ledger.check(user, found, name, comment, 1 if content else 0)
    except (files.FileRejected, ledger.ActionRefused) as exc:
        flash(str(exc), "error")
        return redirect(url_for("findings.finding", finding_id=found.id))
    detail: dict[str, object] = {}
    if content is not None:
        record = files.store(
            db_session(),
            user,
            found.unit,
            found.round_code,
            "proof",
            content[0],
            content[1],
            upload.filename,
            finding_id=found.id,
        )
        detail["proof"] = record.id
    announced = ledger.apply(db_session(), user, found, action, comment, clock.now(), detail)
    db_session().commit()
    outbox.publish(celery(), announced)
    flash(_("已记录：%(action)s", action=_(ACTION_LABELS[action.name])))
    return redirect(url_for("findings.finding", finding_id=found.id))


ACTION_LABELS = {
    "acknowledge": "确认问题",
    "report_rectification": "报告整改",
    "close": "核实并销号",
    "return": "退回重改",
}
