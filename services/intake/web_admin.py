"""Administration: rounds, the pilot units registry, users and district channels. Each action calls the
same use case as the CLI (services/intake/rounds.py, registry.py, channels.py, accounts.py)."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from services.intake import accounts, audit, channels, lists, paging, registry, rounds, scope
from services.intake.auth import current_user
from services.intake.extensions import db_session
from services.intake.pages import page_locale
from shared import labels
from shared.channels import address, mask
from shared.models import CatalogueVersion, District, PilotUnit, User

bp = Blueprint("admin", __name__, url_prefix="/admin")
admin_only = scope.roles_required("admin")


@bp.get("/")
@admin_only
def index() -> Any:
    session, args = db_session(), request.args
    channel_list = channels.list_channels(session)
    user_filters = {key: args.get(f"user_{key}", "") for key in ("q", "role", "district")}
    searching = bool(args.get("q", "").strip() or args.get("unit_district"))
    return render_template(
        "admin.html",
        rounds=rounds.all_rounds(session),
        users=paging.paginate(
            session, lists.users_query(user_filters), paging.page_number(args.get("users_page"))
        ),
        roles=lists.ROLES,
        channels=channel_list,
        districts=list(session.scalars(select(District).order_by(District.code))),
        catalogues=list(session.scalars(select(CatalogueVersion.code))),
        catalogue_titles={
            c.code: c.data.get("title_en" if page_locale() == "en" else "title_zh") or c.code
            for c in session.scalars(select(CatalogueVersion))
        },
        masked=mask,
        channel_address=address,
        broken=channels.broken(session, channel_list),
        units=paging.paginate(
            session,
            lists.registry_query({"q": args.get("q", ""), "district": args.get("unit_district", "")}),
            paging.page_number(args.get("units_page")),
        )
        if searching
        else None,
    )


def password_message(refused: accounts.PasswordRefused) -> str:
    """The password rule that was broken, in the page's language."""
    if refused.rule == "too_short":
        return _("密码至少需要 %(count)d 个字符", count=accounts.MIN_PASSWORD_LENGTH)
    return _("该密码过于常见或与邮箱相同，请换一个")


def confirm(title: str, text: str, action: str, fields: dict[str, str], button: str) -> Any:
    """A page asking the administrator to confirm what the form asked, repeating its fields."""
    return render_template(
        "confirm.html",
        title=title,
        text=text,
        action=action,
        fields=fields,
        button=button,
        back=url_for("admin.index"),
    )


def back(message: str, category: str = "message") -> Any:
    flash(message, category)
    return redirect(url_for("admin.index", q=request.form.get("q", "")))


@bp.post("/rounds")
@admin_only
def save_round() -> Any:
    form = request.form
    try:
        due, grace = date.fromisoformat(form.get("due_date", "")), int(form.get("grace_days", "5"))
    except ValueError:
        return back(_("日期或宽限天数格式不正确"), "error")
    try:
        rounds.check_opening(db_session(), form.get("code", ""), grace, form.get("catalogue", ""))
    except rounds.RoundRefused as exc:
        return back(str(exc), "error")
    others = rounds.others_open(db_session(), form.get("code", ""))
    if others and form.get("confirm") != "1":
        names = _("、").join(
            _("%(round)s（截止 %(day)s）", round=labels.round_name(r.code, page_locale()), day=r.due_date)
            for r in others
        )
        return confirm(
            _("确认同时开放多个轮次"),
            _(
                "已有开放的督导轮次：%(names)s。再开放 %(code)s 后将有多个轮次同时开放，各县（市）区首页将分别显示每个轮次的报送情况。确定开放吗？",
                names=names,
                code=labels.round_name(form.get("code", ""), page_locale()),
            ),
            url_for("admin.save_round"),
            {k: v for k, v in form.items() if k != "csrf_token"},
            _("确定开放"),
        )
    try:
        round_ = rounds.open_round(
            db_session(), form.get("code", ""), due, grace, form.get("catalogue", ""), current_user().id
        )
    except rounds.RoundRefused as exc:
        db_session().rollback()
        return back(str(exc), "error")
    db_session().commit()
    return back(_("%(round)s督导已开放", round=labels.round_name(round_.code, page_locale())))


@bp.post("/rounds/<code>/close")
@admin_only
def close_round(code: str) -> Any:
    if request.form.get("confirm") != "1":
        missing = rounds.unreported(db_session(), code)
        return confirm(
            _("确认关闭轮次"),
            _(
                "%(name)s督导尚有 %(n)d 家单位未报送。关闭后将不再接受报送，未报送单位的问题仍保留。确定关闭吗？",
                name=labels.round_name(code, page_locale()),
                n=missing,
            ),
            url_for("admin.close_round", code=code),
            {},
            _("确定关闭"),
        )
    try:
        rounds.close_round(db_session(), code, current_user().id)
    except rounds.RoundRefused:
        abort(404)
    db_session().commit()
    return back(_("%(round)s督导已关闭", round=labels.round_name(code, page_locale())))


@bp.post("/units/import")
@admin_only
def import_units() -> Any:
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return back(_("请选择要上传的文件"), "error")
    try:
        done = registry.import_units(db_session(), registry.read_rows(upload.read()), current_user().id)
    except registry.RegistryRefused as exc:
        db_session().rollback()
        return back(_("未导入，以下行有误：%(rows)s", rows=_("；").join(exc.problems[:20])), "error")
    db_session().commit()
    return back(_("已导入 %(count)d 家单位", count=done.added + done.updated))


@bp.get("/units/template.xlsx")
@admin_only
def units_template() -> Any:
    """The units template: the Chinese column headers the import reads, and the districts."""
    return send_file(
        io.BytesIO(registry.template_workbook(db_session())),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        as_attachment=True,
        download_name="试点单位名录模板.xlsx",
    )


@bp.post("/units/<int:unit_id>")
@admin_only
def edit_unit(unit_id: int) -> Any:
    unit = db_session().get(PilotUnit, unit_id) or abort(404)
    form = request.form
    try:
        registry.edit_unit(
            db_session(),
            unit,
            form.get("name", ""),
            form.get("district", ""),
            form.get("active") == "on",
            current_user().id,
            form.get("kind", ""),
        )
    except registry.RegistryRefused as exc:
        db_session().rollback()
        return back(str(exc), "error")
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
    except accounts.PasswordRefused as exc:
        db_session().rollback()
        return back(password_message(exc), "error")
    except accounts.AccountError as exc:
        db_session().rollback()
        return back(str(exc), "error")
    audit.record(db_session(), current_user().id, "user.create", "user", str(user.id), {"role": user.role})
    db_session().commit()
    return back(_("已创建用户 %(email)s", email=user.email))


@bp.post("/users/<int:user_id>/active")
@admin_only
def toggle_user(user_id: int) -> Any:
    user = db_session().get(User, user_id) or abort(404)
    if user.id == current_user().id:
        return back(_("不能停用自己的账号"), "error")
    accounts.set_active(db_session(), user, not user.active, current_user().id)
    db_session().commit()
    return back(_("已更新 %(email)s", email=user.email))


@bp.post("/channels")
@admin_only
def add_channel() -> Any:
    form = request.form
    try:
        channels.add_channel(
            db_session(),
            form.get("url", ""),
            form.get("district") or None,
            form.get("label", ""),
            current_user().id,
        )
    except channels.ChannelRefused as exc:
        db_session().rollback()
        return back(str(exc), "error")
    db_session().commit()
    return back(_("已添加渠道"))


@bp.post("/channels/<int:channel_id>/delete")
@admin_only
def delete_channel(channel_id: int) -> Any:
    try:
        done = channels.remove_channel(db_session(), channel_id, current_user().id)
    except channels.ChannelRefused as exc:
        db_session().rollback()
        return back(str(exc), "error")
    db_session().commit()
    if done == "disabled":
        return back(_("该渠道已有投递记录，已停用并保留记录"))
    return back(_("已删除渠道"))


@bp.post("/channels/<int:channel_id>/enabled")
@admin_only
def toggle_channel(channel_id: int) -> Any:
    enabled = request.form.get("enabled") == "1"
    try:
        channels.set_enabled(db_session(), channel_id, enabled, current_user().id)
    except channels.ChannelRefused:
        abort(404)
    db_session().commit()
    return back(_("已启用渠道") if enabled else _("已停用渠道"))
