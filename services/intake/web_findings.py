"""The problem ledger: findings with filters and traffic lights, a finding's page with its history and
the actions the viewer may take, and problems raised by hand by the city office."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from services.intake import files, lists, paging, registry, rounds, scope, visits
from services.intake.auth import current_user, login_required
from services.intake.extensions import celery, db_session
from services.intake.speech import say
from shared import clock, config, ledger, outbox
from shared.catalogue import SEVERITIES
from shared.catalogue import store as catalogues
from shared.labels import FINDING_STATUSES
from shared.models import AuditEvent, District, Finding, PilotUnit, Round, StoredFile, User

bp = Blueprint("findings", __name__)
ACTION_LABELS = {
    "acknowledge": _l("确认问题"),
    "report_rectification": _l("报告整改"),
    "explain": _l("提交情况说明（不适用）"),
    "request_extension": _l("申请延期"),
    "close": _l("核实并销号"),
    "return": _l("退回重改"),
    "accept_explanation": _l("认定不适用"),
    "reject_explanation": _l("不予认定，退回"),
    "approve_extension": _l("批准延期"),
    "refuse_extension": _l("不予延期"),
}
COMMENT_LABELS = {
    "acknowledge": _l("确认意见"),
    "report_rectification": _l("落实情况说明"),
    "explain": _l("情况说明（为何不适用）"),
    "request_extension": _l("延期理由"),
    "close": _l("核实意见"),
    "return": _l("退回原因"),
    "accept_explanation": _l("认定意见"),
    "reject_explanation": _l("不予认定的理由"),
    "approve_extension": _l("意见"),
    "refuse_extension": _l("不予延期的理由"),
}
HISTORY_LABELS = {
    "finding.raise": _l("交办问题"),
    "finding.cleared": _l("重报后待核实"),
    "finding.shown_again": _l("重报后问题仍存在"),
    **{f"finding.{name}": label for name, label in ACTION_LABELS.items()},
}


@bp.get("/findings", endpoint="ledger")
@login_required
def ledger_page() -> Any:
    user = current_user()
    page = paging.paginate(
        db_session(), lists.findings_query(user, request.args), paging.page_number(request.args.get("page"))
    )
    districts = (
        list(db_session().scalars(select(District).order_by(District.code)))
        if user.role != "district"
        else []
    )
    return render_template(
        "findings.html",
        rows=page.items,
        page=page,
        filters=request.args,
        export_query=paging.query_with(request.args, page=None),
        districts=districts,
        rounds=rounds.all_rounds(db_session()),
        severities=SEVERITIES,
        statuses=FINDING_STATUSES,
        lights=lists.LIGHTS,
        today=clock.local_today(),
        yellow_days=config.current().yellow_light_days,
    )


def visible_finding(finding_id: int) -> Finding:
    finding = db_session().get(Finding, finding_id)
    if finding is None:
        abort(404)
    scope.require_district(current_user(), finding.district_code)
    return finding


def finding_page(
    found: Finding, form: dict[str, str] | None = None, errors: dict[str, str] | None = None
) -> Any:
    """The finding with its history; after a refused action, the form as the person filled it in."""
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
    returned = next(
        (
            event
            for event, _email in reversed(history)
            if event.action in ("finding.return", "finding.reject_explanation")
        ),
        None,
    )
    round_ = db_session().get(Round, found.round_code)
    catalogue = catalogues.get(db_session(), round_.catalogue_version) if round_ else None
    locale = "en" if str(get_locale()) == "en" else "zh"
    return render_template(
        "finding.html",
        finding=found,
        rule_name=catalogue.rule_name(found.rule_code, locale) if catalogue else found.rule_code,
        history=history,
        history_labels=HISTORY_LABELS,
        proofs=proofs,
        actions=ledger.allowed(current_user(), found),
        action_labels=ACTION_LABELS,
        comment_labels=COMMENT_LABELS,
        returned=returned if found.status == "returned" else None,
        light=ledger.light(found, clock.today(), config.current().yellow_light_days),
        today=clock.today(),
        form=form or {},
        errors=errors or {},
    ), (422 if errors else 200)


@bp.get("/findings/<int:finding_id>")
@login_required
def finding(finding_id: int) -> Any:
    return finding_page(visible_finding(finding_id))


def requested_date(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip()) if text.strip() else None
    except ValueError:
        return None


@bp.post("/findings/<int:finding_id>/actions")
@login_required
def act(finding_id: int) -> Any:
    user, found = current_user(), visible_finding(finding_id)
    form = {k: v for k, v in request.form.items() if k != "csrf_token"}
    name, upload = form.get("action", ""), request.files.get("proof")
    if name not in ledger.ACTIONS:
        abort(400)
    if user.role not in ledger.ACTIONS[name].roles:
        abort(403, description=_("您的角色无权进行此操作"))
    version = int(form["version"]) if form.get("version", "").isdigit() else None
    req = ledger.Request(name, version, form.get("comment", ""), requested_date(form.get("until", "")))
    content = None
    try:
        if upload is not None and upload.filename and name == "report_rectification":
            content = files.read_checked(upload.stream, config.current().upload_max_bytes)
            req.proofs = 1
        action = ledger.check(user, found, req, clock.today())
        announced = ledger.apply(db_session(), user, found, action, req, clock.now())
    except ledger.ChangedMeanwhile:
        return changed_meanwhile(found, form)
    except files.FileRejected as exc:
        return finding_page(found, form, {name: str(exc), "field": "proof"})
    except ledger.ActionRefused as exc:
        return finding_page(found, form, {name: say(exc.args[0]), "field": exc.field})
    if content is not None:
        stored = files.store(
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
        latest = ledger.latest_change(db_session(), found)
        if latest is not None:
            latest.detail = {**latest.detail, "proof": stored.id}
    try:
        db_session().commit()
    except Exception:
        db_session().rollback()
        if content is not None:
            files.discard(stored.id)
        raise
    outbox.publish(celery(), announced)
    flash(_("已记录：%(action)s", action=ACTION_LABELS[action.name]))
    return redirect(url_for("findings.finding", finding_id=found.id))


def changed_meanwhile(found: Finding, form: dict[str, str]) -> Any:
    """Someone else acted first: show the finding as it is now, with who changed it, and keep the text."""
    db_session().rollback()
    db_session().refresh(found)
    latest = ledger.latest_change(db_session(), found)
    who = db_session().get(User, latest.actor_id).email if latest and latest.actor_id else _("系统")
    what = str(HISTORY_LABELS.get(latest.action, latest.action)) if latest else ""
    message = _("该问题刚被 %(who)s 处理（%(what)s），以下为最新状态，请查看后再操作。", who=who, what=what)
    form.pop("version", None)
    return finding_page(found, form, {form.get("action", ""): message, "field": "changed"})


# --- problems raised by hand ---------------------------------------------------------------------


@bp.route("/findings/raise", methods=["GET", "POST"])
@scope.roles_required("supervisor", "admin")
def raise_problem() -> Any:
    session, user = db_session(), current_user()
    open_rounds = rounds.open_rounds(session)
    form = {k: v for k, v in request.values.items() if k != "csrf_token"}
    if request.method == "GET":
        form.setdefault("proof", "on")
    round_ = next(
        (r for r in open_rounds if r.code == form.get("round")), open_rounds[0] if open_rounds else None
    )
    if round_ is None:
        return render_template(
            "message.html", title=_("没有本轮督导"), text=_("当前没有开放的督导轮次，无法交办问题。")
        ), 409
    catalogue = catalogues.get(session, round_.catalogue_version)
    unit = registry.unit_by_code(session, form.get("unit", "")) if form.get("unit") else None
    errors: dict[str, str] = {}
    visit = None
    if form.get("visit", "").isdigit():  # raised from an on-site visit: of its round and district
        try:
            visit = visits.for_raising(session, int(form["visit"]), unit, round_.code)
        except visits.VisitRefused as exc:
            errors.update(exc.problems)
    if request.method == "POST" and not errors:
        severity = form.get("severity", "warning")
        if unit is None:
            errors["unit"] = _("请填写有效的统一社会信用代码")
        if severity not in SEVERITIES:
            errors["severity"] = _("请选择问题级别")
        due = requested_date(form.get("due_date", ""))
        if form.get("due_date") and due is None:
            errors["due_date"] = _("日期格式应为 2026-12-31")
        if not errors and unit is not None:
            raised = ledger.Raised(
                unit=unit,
                round_code=round_.code,
                description=form.get("description", ""),
                requirement=form.get("requirement", ""),
                severity=severity,
                due_date=due,
                measure_code=form.get("measure", "") if form.get("measure") in catalogue.measures else "",
                source=form.get("source", ""),
                proof_required=form.get("proof") == "on",
                visit_id=visit.id if visit else None,
            )
            try:
                finding, announced = ledger.raise_finding(session, user, raised, clock.now())
            except ledger.ActionRefused as exc:
                errors[exc.field or "description"] = say(exc.args[0])
            else:
                session.commit()
                outbox.publish(celery(), announced)
                flash(_("问题已交办，并已通知所属县（市）区"))
                if visit is not None:
                    return redirect(url_for("visits.visit", visit_id=visit.id))
                return redirect(url_for("findings.finding", finding_id=finding.id))
    default_due = catalogue.severity_period(
        form.get("severity", "warning"), config.current().rectification_days
    )
    return render_template(
        "raise.html",
        form=form,
        errors=errors,
        rounds=open_rounds,
        round=round_,
        catalogue=catalogue,
        severities=SEVERITIES,
        unit=unit,
        units=visit.units
        if visit
        else list(
            session.scalars(select(PilotUnit).where(PilotUnit.active.is_(True)).order_by(PilotUnit.name))
        ),
        visit=visit,
        default_due=(clock.today() + timedelta(days=default_due)).isoformat() if default_due else "",
    ), (422 if errors else 200)
