"""The report form (drafts, submit, new versions), a submission's page and its files."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from marshmallow import ValidationError
from sqlalchemy import delete, select
from sqlalchemy.orm import selectinload

from services.intake import files, reportforms, reports, schemas, scope
from services.intake.auth import current_user, login_required
from services.intake.extensions import celery, db_session
from services.intake.rounds import open_rounds
from shared import clock, config
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
    draft = db_session().scalar(select(Draft).where(Draft.unit_id == unit.id, Draft.round_code == round_code))
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


def save_draft(user: User, unit: PilotUnit, round_code: str) -> None:
    draft = db_session().scalar(select(Draft).where(Draft.unit_id == unit.id, Draft.round_code == round_code))
    if draft is None:
        draft = Draft(unit_id=unit.id, round_code=round_code)
        db_session().add(draft)
    draft.fields, draft.saved_by, draft.saved_at = (
        reportforms.draft_fields(request.form),
        user.id,
        clock.now(),
    )
    db_session().commit()


def validate(catalogue: Catalogue) -> tuple[reports.Checked | None, dict[str, Any]]:
    report = reportforms.form_to_report(request.form, catalogue)
    try:
        data = schemas.SubmissionSchema().load(report)
    except ValidationError as exc:
        return None, exc.normalized_messages()
    return reports.check(db_session(), data, complete=True)


@bp.route("/submissions/new", methods=["GET", "POST"])
@scope.roles_required("district", "admin")
def new_submission() -> Any:
    user = current_user()
    rounds = open_rounds(db_session())
    if not rounds:
        return render_template(
            "message.html", title=_("没有开放的督导轮次"), text=_("当前没有开放的督导轮次，无法报送。")
        ), 409
    round_ = next((r for r in rounds if r.code == request.values.get("round")), rounds[0])
    catalogue = catalogues.get(db_session(), round_.catalogue_version)
    unit = unit_by_code(user, request.values.get("unit", ""))
    values, draft = starting_values(unit, round_.code)
    errors: dict[str, Any] = {}
    file_errors: dict[str, str] = {}
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
        file_errors = store_uploads(user, unit, round_.code) if unit else {}
        if request.form.get("action") == "draft":
            if unit is None:
                errors = {"unit": [_("保存草稿前请选择试点单位")]}
            else:
                save_draft(user, unit, round_.code)
                flash(_("草稿已保存，可随时回来继续填写"))
                if not file_errors:
                    return redirect(
                        url_for("reports.new_submission", unit=unit.credit_code, round=round_.code)
                    )
        else:
            checked, errors = validate(catalogue)
            if checked is not None and not file_errors:
                scope.require_district(user, checked.unit.district_code)
                unit_id = checked.unit.id

                def drop_draft(session: Any) -> None:
                    session.execute(
                        delete(Draft).where(Draft.unit_id == unit_id, Draft.round_code == round_.code)
                    )

                submission = reports.submit(
                    db_session(), celery(), checked, user, "form", before_commit=drop_draft
                )
                flash(_("报送成功，正在评估"))
                return redirect(url_for("reports.submission", submission_id=submission.id))
            db_session().commit()  # the evidence files that were accepted stay
    units = list(db_session().scalars(scope.units(user).order_by(PilotUnit.name)))
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
        draft=draft,
        unit=unit,
        evidence=evidence_of(unit, round_.code),
    ), (422 if errors or file_errors else 200)


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
