"""Administration: rounds, the pilot units registry, users and district channels."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from openpyxl import load_workbook
from sqlalchemy import select

from services.intake import scope
from services.intake.auth import current_user
from services.intake.extensions import db_session
from shared import accounts, channel_urls, clock
from shared.credit_code import normalise, problem
from shared.models import AuditEvent, CatalogueVersion, Channel, District, PilotUnit, Round, User

bp = Blueprint("admin", __name__, url_prefix="/admin")
admin_only = scope.roles_required("admin")
CHANNEL_SCHEMES = ("mailto", "mailtos", "json", "jsons", "wecombot", "dingtalk", "form", "forms")


def audit(action: str, kind: str, object_id: str, detail: dict[str, Any] | None = None) -> None:
    db_session().add(
        AuditEvent(
            at=clock.now(),
            actor_id=current_user().id,
            action=action,
            object_type=kind,
            object_id=object_id,
            detail=detail or {},
        )
    )


def masked(url: str) -> str:
    return channel_urls.mask(url)


@bp.get("/")
@admin_only
def index() -> Any:
    session = db_session()
    return render_template(
        "admin.html",
        rounds=list(session.scalars(select(Round).order_by(Round.due_date.desc()))),
        users=list(session.scalars(select(User).order_by(User.role, User.email))),
        channels=list(session.scalars(select(Channel).order_by(Channel.district_code))),
        districts=list(session.scalars(select(District).order_by(District.code))),
        catalogues=list(session.scalars(select(CatalogueVersion.code))),
        masked=masked,
        units=list(
            session.scalars(
                select(PilotUnit)
                .where(
                    PilotUnit.credit_code.like(f"%{request.args.get('q', '').strip()}%")
                    | PilotUnit.name.like(f"%{request.args.get('q', '').strip()}%")
                )
                .order_by(PilotUnit.district_code, PilotUnit.name)
                .limit(50)
            )
        )
        if request.args.get("q")
        else [],
    )


def back(message: str, category: str = "message") -> Any:
    flash(message, category)
    return redirect(url_for("admin.index", q=request.form.get("q", "")))


@bp.post("/rounds")
@admin_only
def save_round() -> Any:
    form = request.form
    code = form.get("code", "").strip()[:16]
    try:
        due, grace = date.fromisoformat(form.get("due_date", "")), int(form.get("grace_days", "5"))
    except ValueError:
        return back(_("日期或宽限天数格式不正确"), "error")
    if not code or db_session().get(CatalogueVersion, form.get("catalogue", "")) is None:
        return back(_("请填写轮次代码并选择目录版本"), "error")
    round_ = db_session().get(Round, code) or Round(code=code, catalogue_version=form["catalogue"])
    round_.due_date, round_.grace_days, round_.status = due, grace, "open"
    db_session().add(round_)
    audit("round.open", "round", code, {"due_date": due.isoformat(), "grace_days": grace})
    db_session().commit()
    return back(_("轮次 %(code)s 已开放", code=code))


@bp.post("/rounds/<code>/close")
@admin_only
def close_round(code: str) -> Any:
    round_ = db_session().get(Round, code) or abort(404)
    round_.status, round_.closed_at = "closed", clock.now()
    audit("round.close", "round", code)
    db_session().commit()
    return back(_("轮次 %(code)s 已关闭", code=code))


def import_rows(upload: Any) -> list[dict[str, str]]:
    raw = upload.read()
    if raw[:2] == b"PK":
        headers_rows = (
            load_workbook(io.BytesIO(raw), read_only=True).worksheets[0].iter_rows(values_only=True)
        )
        rows = [[str(c or "").strip() for c in row] for row in headers_rows]
        return [dict(zip(rows[0], row, strict=False)) for row in rows[1:]] if rows else []
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig", errors="replace"))))


@bp.post("/units/import")
@admin_only
def import_units() -> Any:
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return back(_("请选择要上传的文件"), "error")
    districts = set(db_session().scalars(select(District.code)))
    problems, count = [], 0
    for line, row in enumerate(import_rows(upload), start=2):
        code = normalise(row.get("credit_code") or "")
        error = problem(code) or ("" if (row.get("name") or "").strip() else "name")
        if error or (row.get("district") or "").strip() not in districts:
            problems.append(f"{line}: {error or 'district'}")
            continue
        unit = db_session().scalar(select(PilotUnit).where(PilotUnit.credit_code == code)) or PilotUnit(
            credit_code=code
        )
        unit.name, unit.district_code = row["name"].strip(), row["district"].strip()
        unit.industry, unit.active = (row.get("industry") or "").strip(), True
        db_session().add(unit)
        count += 1
    if problems:
        db_session().rollback()
        return back(_("未导入，以下行有误：") + "；".join(problems[:20]), "error")
    audit("units.import", "registry", "units", {"rows": count})
    db_session().commit()
    return back(_("已导入 %(count)d 家单位", count=count))


@bp.post("/units/<int:unit_id>")
@admin_only
def edit_unit(unit_id: int) -> Any:
    unit = db_session().get(PilotUnit, unit_id) or abort(404)
    form = request.form
    if form.get("name", "").strip():
        unit.name = form["name"].strip()[:200]
    if form.get("district") and db_session().get(District, form["district"]) is not None:
        unit.district_code = form["district"]
    unit.active = form.get("active") == "on"
    audit("unit.edit", "unit", unit.credit_code, {"active": unit.active, "district": unit.district_code})
    db_session().commit()
    return back(_("已保存 %(name)s", name=unit.name))


@bp.post("/users")
@admin_only
def create_user() -> Any:
    form = request.form
    try:
        user = accounts.create_user(
            db_session(),
            form.get("email", ""),
            form.get("role", ""),
            form.get("district") or None,
            form.get("password") or None,
        )
    except accounts.AccountError as exc:
        db_session().rollback()
        return back(str(exc), "error")
    audit("user.create", "user", str(user.id), {"role": user.role})
    db_session().commit()
    return back(_("已创建用户 %(email)s", email=user.email))


@bp.post("/users/<int:user_id>/active")
@admin_only
def toggle_user(user_id: int) -> Any:
    user = db_session().get(User, user_id) or abort(404)
    if user.id == current_user().id:
        return back(_("不能停用自己的账号"), "error")
    user.active = not user.active
    audit("user.activate" if user.active else "user.deactivate", "user", str(user.id))
    db_session().commit()
    return back(_("已更新 %(email)s", email=user.email))


@bp.post("/channels")
@admin_only
def add_channel() -> Any:
    url, district = request.form.get("url", "").strip(), request.form.get("district") or None
    scheme = urlsplit(url).scheme.lower()
    if scheme not in CHANNEL_SCHEMES or (district and db_session().get(District, district) is None):
        return back(_("渠道地址无效，应以 %(schemes)s 开头", schemes=", ".join(CHANNEL_SCHEMES)), "error")
    db_session().add(
        Channel(
            district_code=district,
            audience="district" if district else "supervisor",
            kind=scheme,
            url=url,
            label=request.form.get("label", "")[:200],
        )
    )
    audit("channel.add", "channel", district or "supervisors", {"kind": scheme})
    db_session().commit()
    return back(_("已添加渠道"))


@bp.post("/channels/<int:channel_id>/delete")
@admin_only
def delete_channel(channel_id: int) -> Any:
    channel = db_session().get(Channel, channel_id) or abort(404)
    audit("channel.delete", "channel", str(channel.id), {"district": channel.district_code})
    db_session().delete(channel)
    db_session().commit()
    return back(_("已删除渠道"))
