"""The report form (drafts, submit, new versions), a submission's page and its files."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, send_file, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from marshmallow import ValidationError
from sqlalchemy import delete, select
from sqlalchemy.orm import selectinload

from services.intake import drafts, files, precheck, reportforms, reports, schemas, scope
from services.intake.auth import current_user, login_required
from services.intake.extensions import celery, db_session
from services.intake.pages import page_locale
from services.intake.rounds import open_rounds
from shared import clock, config, labels
from shared.catalogue import STATUS_NAMES, Catalogue
from shared.catalogue import store as catalogues
from shared.models import Draft, PilotUnit, Round, StoredFile, Submission, User
from shared.rules import engine

bp = Blueprint("reports", __name__)


def unit_by_code(user: User, code: str) -> PilotUnit | None:
    unit = db_session().scalar(select(PilotUnit).where(PilotUnit.credit_code == code.strip().upper()[:18]))
    if unit is not None:
        scope.require_district(user, unit.district_code)
    return unit


def starting_values(unit: PilotUnit | None, round_code: str) -> tuple[dict[str, str], Draft | None]:
    """A saved draft if there is one, else the last version's answers, else an empty form."""
    values: dict[str, str] = {"unit": unit.credit_code if unit else "", "round": round_code}
    if unit is None:
        return values, None
    draft = drafts.find(db_session(), unit, round_code)
    if draft is not None:
        return {**values, **draft.fields}, draft
    last = db_session().scalar(
        select(Submission)
        .where(Submission.unit_id == unit.id, Submission.round_code == round_code)
        .order_by(Submission.version.desc())
        .limit(1)
    )
    if last is not None:
        values.update(reportforms.report_to_form(last.measures, last.indicators))
    return values, None


def evidence_uploads() -> list[tuple[str, Any]]:
    """(field code, upload) for every evidence file posted with the form (`f.<measure code>`)."""
    return [
        (key[2:], upload)
        for key, upload in request.files.items(multi=True)
        if key.startswith("f.") and upload.filename
    ]


def unknown_evidence(catalogue: Catalogue) -> list[str]:
    """The evidence fields that name no measure of the round's catalogue."""
    return [code[:64] for code, _upload in evidence_uploads() if code not in catalogue.measures]


def store_uploads(user: User, unit: PilotUnit, round_code: str) -> dict[str, str]:
    """Keep every evidence file posted with the form; answer the rejected ones' messages by measure.
    The fields were checked against the catalogue first (unknown_evidence)."""
    errors: dict[str, str] = {}
    limit = config.current().upload_max_bytes
    for code, upload in evidence_uploads():
        try:
            content, content_type = files.read_checked(upload.stream, limit)
        except files.FileRejected as exc:
            errors[code] = str(exc)
            continue
        files.store(
            db_session(),
            user,
            unit,
            round_code,
            "evidence",
            content,
            content_type,
            upload.filename,
            measure=code,
        )
    return errors


def evidence_of(unit: PilotUnit | None, round_code: str) -> dict[str, list[StoredFile]]:
    if unit is None:
        return {}
    grouped: dict[str, list[StoredFile]] = {}
    for item in db_session().scalars(
        select(StoredFile)
        .where(
            StoredFile.unit_id == unit.id,
            StoredFile.round_code == round_code,
            StoredFile.purpose == "evidence",
        )
        .order_by(StoredFile.uploaded_at)
    ):
        grouped.setdefault(item.measure_code, []).append(item)
    return grouped


def posted_revision() -> int | None:
    raw = request.form.get("revision", "")
    return int(raw) if raw.isdigit() else None


def save_draft(user: User, unit: PilotUnit, round_code: str) -> Draft:
    """Save what the form holds as the unit's draft (the caller commits); DraftChanged when another
    save came in since this form loaded the draft."""
    return drafts.save(
        db_session(), user, unit, round_code, drafts.fields_of(request.form), posted_revision()
    )


def changed_message(exc: drafts.DraftChanged) -> str:
    if not exc.by:
        return _("该草稿已被提交或删除，本页内容未保存；请刷新页面后再继续。")
    return _(
        "该草稿已由 %(who)s 于 %(time)s 修改，本页内容未覆盖其修改；请刷新页面后再继续。",
        who=exc.by,
        time=clock.local(exc.at).strftime("%H:%M"),
    )


def validate(catalogue: Catalogue) -> tuple[reports.Checked | None, dict[str, Any]]:
    report = reportforms.form_to_report(request.form, catalogue)
    try:
        data = schemas.SubmissionSchema().load(report)
    except ValidationError as exc:
        return None, exc.normalized_messages()
    return reports.check(db_session(), data, complete=True)


def checks_of(checked: reports.Checked) -> precheck.Precheck:
    locale = "en" if str(get_locale()) == "en" else "zh"
    return precheck.precheck(
        db_session(), checked.catalogue, checked.round, checked.unit, checked.data, locale
    )


def error_list(
    catalogue: Catalogue, errors: dict[str, Any], checks: dict[str, list[str]]
) -> list[dict[str, str]]:
    """Every error of the form as a line of the banner: the field's anchor, its name and the message."""
    locale = "en" if str(get_locale()) == "en" else "zh"

    def name_of(kind: str, code: str) -> str:
        table = catalogue.measures if kind == "m" else catalogue.indicators
        spec = table.get(code) or {}
        return (spec.get("name_en") if locale == "en" else None) or spec.get("name_zh") or code

    def said(value: Any) -> str:
        if isinstance(value, dict):
            return "；".join(said(v) for v in value.values())
        if isinstance(value, list):
            return "；".join(said(v) for v in value)
        return str(value)

    lines = []
    for field in ("unit", "round"):
        if errors.get(field):
            lines.append(
                {
                    "anchor": field,
                    "name": _("试点单位") if field == "unit" else _("督导轮次"),
                    "message": said(errors[field]),
                }
            )
    for kind, part in (("m", "measures"), ("i", "indicators")):
        found = errors.get(part) or {}
        for code, message in found.items() if isinstance(found, dict) else ():
            lines.append({"anchor": f"{kind}.{code}", "name": name_of(kind, code), "message": said(message)})
    shown: set[str] = set()
    for field, all_messages in checks.items():
        # A check on several figures is listed once, linked to the first of them.
        messages = [m for m in all_messages if m not in shown]
        if not messages:
            continue
        shown.update(messages)
        kind, _dot, rest = field.partition(".")
        code = rest.rsplit(".", 1)[0] if kind == "m" else rest
        lines.append(
            {
                "anchor": f"{kind}.{code}" if kind in ("m", "i") else "report-checks",
                "name": name_of(kind, code) if kind in ("m", "i") else _("报告"),
                "message": "；".join(messages),
            }
        )
    return lines


@bp.route("/submissions/new", methods=["GET", "POST"])
@scope.roles_required("district", "admin")
def new_submission() -> Any:
    user = current_user()
    rounds = open_rounds(db_session())
    if not rounds:
        return render_template(
            "message.html", title=_("没有本轮督导"), text=_("当前没有开放的督导轮次，无法报送。")
        ), 409
    round_ = next((r for r in rounds if r.code == request.values.get("round")), rounds[0])
    posted = request.form.get("round") if request.method == "POST" else None
    if posted and posted != round_.code:
        # A post for a closed (or unknown) round is refused, never saved or stored in the open one.
        return render_template(
            "message.html",
            title=_("未保存"),
            text=_(
                "%(round)s督导已结束，不再接收报送，草稿也未保存。",
                round=labels.round_name(posted[:16], page_locale()),
            ),
        ), 422
    catalogue = catalogues.get(db_session(), round_.catalogue_version)
    unit = unit_by_code(user, request.values.get("unit", ""))
    values, draft = starting_values(unit, round_.code)
    errors: dict[str, Any] = {}
    file_errors: dict[str, str] = {}
    found = precheck.Precheck()
    status = 200
    if request.method == "POST":
        values = {**dict(request.form), "round": round_.code}
        # The unit the form is for (not one named in the address): checked for access before any
        # file is stored against it.
        unit = unit_by_code(user, request.form.get("unit", ""))
        unknown = unknown_evidence(catalogue)
        if unknown:
            return render_template(
                "message.html",
                title=_("佐证材料未保存"),
                text=_("以下佐证材料对应的举措不存在：%(codes)s", codes="、".join(unknown[:10])),
            ), 422
        action = request.form.get("action", "submit")
        if unit is None:
            errors = {"unit": [_("请先选择试点单位")]}
            status = 422
        elif action == "carry":
            carried = drafts.carried_over(db_session(), unit, round_)
            if carried:
                values = {"unit": unit.credit_code, "round": round_.code, **carried}
                flash(_("已带入上一轮报告的内容，请逐项核对本期变化后再提交"))
            else:
                flash(_("该单位没有上一轮报告可以带入"), "error")
        else:
            file_errors = store_uploads(user, unit, round_.code)
            try:
                # Every attempt keeps what was typed, whatever the outcome of the submit.
                draft = save_draft(user, unit, round_.code)
                db_session().commit()
            except drafts.DraftChanged as exc:
                db_session().rollback()
                flash(changed_message(exc), "error")
                status = 409
            else:
                if action == "draft":
                    flash(_("草稿已保存，可随时回来继续填写"))
                    if not file_errors:
                        return redirect(
                            url_for("reports.new_submission", unit=unit.credit_code, round=round_.code)
                        )
                else:
                    checked, errors = validate(catalogue)
                    if checked is not None:
                        found = checks_of(checked)
                    confirmed = request.form.get("confirm") == "on"
                    if (
                        checked is not None
                        and not file_errors
                        and not found.errors
                        and (confirmed or not found.warnings)
                    ):
                        return submitted(user, checked)
                    status = 422
    units = list(db_session().scalars(scope.units(user).order_by(PilotUnit.name)))
    checks = {**found.errors, **{k: v for k, v in found.warnings.items() if k not in found.errors}}
    return render_template(
        "submission_form.html",
        user=user,
        units=units,
        rounds=rounds,
        round=round_,
        catalogue=catalogue,
        statuses=STATUS_NAMES,
        values=values,
        errors=errors,
        file_errors=file_errors,
        checks=found,
        error_lines=error_list(catalogue, errors, found.errors) if (errors or found.errors) else [],
        warning_lines=error_list(catalogue, {}, found.warnings)
        if found.warnings and not found.errors
        else [],
        has_checks=bool(checks),
        draft=draft,
        unit=unit,
        carry=bool(unit and drafts.carried_over(db_session(), unit, round_)),
        evidence=evidence_of(unit, round_.code),
    ), status if not file_errors else 422


def submitted(user: User, checked: reports.Checked) -> Any:
    """Store the report, drop its draft in the same transaction, and show it while it is evaluated."""
    unit_id, round_code = checked.unit.id, checked.round.code

    def drop_draft(session: Any, _stored: Any) -> None:
        session.execute(delete(Draft).where(Draft.unit_id == unit_id, Draft.round_code == round_code))

    submission = reports.submit(db_session(), celery(), checked, user, "form", before_commit=drop_draft)
    flash(_("报送成功，正在评估"), "evaluating")
    return redirect(url_for("reports.submission", submission_id=submission.id))


def form_unit(user: User) -> PilotUnit | None:
    unit = unit_by_code(user, request.form.get("unit", ""))
    if unit is None:
        abort(422, description=_("请先选择试点单位"))
    return unit


@bp.post("/submissions/draft")
@scope.roles_required("district", "admin")
def autosave() -> Any:
    """The form's autosave: the draft saved as it stands, or 409 when another save came in meanwhile."""
    user = current_user()
    round_ = next((r for r in open_rounds(db_session()) if r.code == request.form.get("round")), None)
    if round_ is None:
        return jsonify(message=_("该督导轮次已关闭，草稿未保存")), 409
    unit = form_unit(user)
    try:
        draft = save_draft(user, unit, round_.code)
        db_session().commit()
    except drafts.DraftChanged as exc:
        db_session().rollback()
        return jsonify(message=changed_message(exc)), 409
    return jsonify(
        revision=draft.revision,
        message=_("已自动保存 %(time)s", time=clock.local(draft.saved_at).strftime("%H:%M")),
    )


@bp.post("/submissions/check")
@scope.roles_required("district", "admin")
def check() -> Any:
    """The catalogue's checks on what the form holds now, by field; nothing is stored."""
    round_ = next((r for r in open_rounds(db_session()) if r.code == request.form.get("round")), None)
    if round_ is None:
        abort(409)
    form_unit(current_user())
    checked, _errors = validate(catalogues.get(db_session(), round_.catalogue_version))
    if checked is None:  # the form's own messages come with the submit
        return jsonify(errors={}, warnings={})
    found = checks_of(checked)
    db_session().rollback()
    return jsonify(errors=found.errors, warnings=found.warnings)


@bp.get("/submissions/<submission_id>/state")
@login_required
def state(submission_id: str) -> Any:
    found = db_session().get(Submission, submission_id[:64])
    if found is None:
        abort(404)
    scope.require_district(current_user(), found.unit.district_code)
    return jsonify(state="evaluated" if found.evaluation else "received")


@bp.get("/submissions/<submission_id>")
@login_required
def submission(submission_id: str) -> Any:
    found = reports.with_evaluation(db_session(), submission_id)
    if found is None:
        abort(404)
    scope.require_district(current_user(), found.unit.district_code)
    round_ = db_session().get(Round, found.round_code)
    catalogue = catalogues.get(db_session(), round_.catalogue_version)
    versions = list(
        db_session().scalars(
            select(Submission)
            .where(Submission.unit_id == found.unit_id, Submission.round_code == found.round_code)
            .options(selectinload(Submission.evaluation))
            .order_by(Submission.version.desc())
        )
    )
    previous = next((v for v in versions if v.version == found.version - 1), None)
    changes = reportforms.differences(
        {"measures": previous.measures, "indicators": previous.indicators} if previous else None,
        {"measures": found.measures, "indicators": found.indicators},
        catalogue,
    )
    locale = "en" if str(get_locale()) == "en" else "zh"
    skipped = [
        (catalogue.rule_name(code, locale), engine.describe(reason, catalogue, locale))
        for code, reason in (found.evaluation.skipped if found.evaluation else {}).items()
    ]
    return render_template(
        "submission.html",
        submission=found,
        hide_evaluating=found.evaluation is not None,
        skipped=skipped,
        catalogue=catalogue,
        statuses=STATUS_NAMES,
        versions=versions,
        changes=changes,
        previous=previous,
        round=round_,
        evidence=evidence_of(found.unit, found.round_code),
        rule_error_label=rule_error_label,
    )


def rule_error_label(reason: str) -> str:
    """Why a rule could not be evaluated on a report (a reason code of `shared.rules.expressions`)."""
    labels = {
        "refused": _("规则表达式不被允许"),
        "division_by_zero": _("除数为零"),
        "too_large": _("计算结果过大"),
        "time_limit": _("超出评估时限"),
    }
    return labels.get(reason) or _("无法计算")


@bp.get("/files/<file_id>")
@login_required
def download(file_id: str) -> Any:
    record = db_session().get(StoredFile, file_id[:32])
    if record is None:
        abort(404)
    scope.require_district(current_user(), record.unit.district_code)
    path = files.path_for(record.id)
    if not path.exists():
        abort(404)
    return send_file(
        path,
        mimetype=record.content_type,
        download_name=files.name_for(record.filename, record.content_type),
        as_attachment=record.content_type == "application/pdf",
    )
