"""Excel in and out: the report template, a filled-in upload, its error report, and exports."""

from __future__ import annotations

import secrets
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from services.intake import analytics, reports, scope, sheets
from services.intake.auth import current_user, login_required
from services.intake.extensions import celery, db_session
from services.intake.rounds import all_rounds, open_rounds
from shared import clock, config, labels, private
from shared.catalogue import store as catalogues
from shared.models import District, Finding, PilotUnit, Round, Submission, User

bp = Blueprint("sheets", __name__, url_prefix="/sheets")
ERROR_HEADERS = ("行号 row", "统一社会信用代码 unit", "字段 field", "问题 message")


def download(content: bytes, name: str, kind: str) -> Response:
    mimetype = "text/csv; charset=utf-8" if kind == "csv" else sheets.XLSX
    return Response(
        content, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{name}.{kind}"'}
    )


def the_round(code: str | None, open_only: bool = False) -> Round:
    rounds = open_rounds(db_session()) if open_only else all_rounds(db_session())
    if not rounds:
        abort(409, description=_("当前没有开放的督导轮次"))
    return next((r for r in rounds if r.code == code), rounds[0])


@bp.get("/")
@login_required
def index() -> Any:
    return render_template(
        "sheets.html", rounds=all_rounds(db_session()), open_rounds=open_rounds(db_session()), problems=None
    )


@bp.get("/template.xlsx")
@scope.roles_required("district", "admin")
def template() -> Response:
    round_ = the_round(request.args.get("round"), open_only=True)
    units = db_session().scalars(scope.units(current_user()).order_by(PilotUnit.name))
    content = sheets.template(catalogues.get(db_session(), round_.catalogue_version), round_.code, units)
    return download(content, f"report-template-{round_.code}", "xlsx")


@bp.post("/upload")
@scope.roles_required("district", "admin")
def upload() -> Any:
    user, round_ = current_user(), the_round(request.form.get("round"), open_only=True)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash(_("请选择要上传的文件"), "error")
        return redirect(url_for("sheets.index"))
    try:
        rows = sheets.read_rows(upload.stream)
    except sheets.SheetError as exc:
        flash(str(exc), "error")
        return render_template(
            "sheets.html", rounds=[round_], open_rounds=open_rounds(db_session()), problems=None
        ), 422
    catalogue = catalogues.get(db_session(), round_.catalogue_version)
    good, problems = sheets.check_rows(db_session(), user, rows, round_.code, catalogue)
    if problems or not rows:
        token = save_error_report(problems)
        return render_template(
            "sheets.html",
            rounds=[round_],
            open_rounds=open_rounds(db_session()),
            problems=problems,
            token=token,
            rows=len(rows),
        ), 422
    # Every row in one transaction, then their events: all the rows are stored, or none.
    count = len(reports.submit_many(db_session(), celery(), good, user, "xlsx"))
    flash(_("已导入 %(count)d 家单位的报送，正在评估", count=count))
    return redirect(url_for("web.home"))


def save_error_report(problems: list[list[Any]]) -> str:
    token = secrets.token_hex(12)
    folder = config.current().upload_dir / "error-reports"
    private.make_folder(folder)  # a district's rows: kept like the uploads, 0600 in 0700 folders
    private.write_bytes(folder / f"{token}.xlsx", sheets.write(ERROR_HEADERS, problems, "xlsx"))
    session["error_report"] = token
    return token


@bp.get("/errors/<token>.xlsx")
@login_required
def error_report(token: str) -> Response:
    if session.get("error_report") != token or not token.isalnum():
        abort(404)
    path = config.current().upload_dir / "error-reports" / f"{token}.xlsx"
    if not path.exists():
        abort(404)
    return download(path.read_bytes(), "report-errors", "xlsx")


def report_rows(user: User, round_code: str) -> list[list[Any]]:
    latest: dict[int, Submission] = {}
    for item in db_session().scalars(
        scope.submissions(user)
        .where(Submission.round_code == round_code)
        .options(selectinload(Submission.unit), selectinload(Submission.evaluation))
        .order_by(Submission.version)
    ):
        latest[item.unit_id] = item
    return [
        [
            s.unit.district.name_zh,
            s.unit.credit_code,
            s.unit.name,
            s.version,
            labels.moment(s.submitted_at, config.current().time_zone),
            s.evaluation.overall_score if s.evaluation else "",
            ("是" if s.evaluation.late else "否") if s.evaluation else "",
        ]
        for s in latest.values()
    ]


def finding_rows(user: User, round_code: str) -> list[list[Any]]:
    query = (
        scope.findings(user)
        .where(Finding.round_code == round_code)
        .options(selectinload(Finding.unit))
        .order_by(Finding.district_code, Finding.id)
    )
    names = {d.code: d.name_zh for d in db_session().scalars(select(District))}
    round_ = db_session().get(Round, round_code)
    catalogue = catalogues.get(db_session(), round_.catalogue_version) if round_ else None
    return [
        [
            f.id,
            names.get(f.district_code, f.district_code),
            f.unit.credit_code if f.unit else "",
            f.unit.name if f.unit else "",
            catalogue.rule_name(f.rule_code) if catalogue else f.rule_code,
            labels.severity(f.severity),
            labels.finding_status(f.status),
            f.message_zh,
            clock.local(f.opened_at).date().isoformat(),
            f.due_date.isoformat() if f.due_date else "",
        ]
        for f in db_session().scalars(query)
    ]


def league_rows(user: User, round_code: str) -> list[list[Any]]:
    if user.role == "district":
        abort(403, description=_("区县用户不能导出全市排名"))
    return [
        [
            r.rank,
            r.district_code,
            r.name_zh,
            r.units,
            r.reported,
            round(r.participation_rate * 100, 1),
            round(r.on_time_rate * 100, 1),
            r.mean_score,
            r.median_score,
            r.open_findings_per_unit,
            r.rectification_rate,
            r.median_days_to_rectify,
            r.index,
            r.rank_change,
        ]
        for r in analytics.district_table(db_session(), round_code)
    ]


EXPORTS = {
    "reports": (
        ("县（市）区", "统一社会信用代码", "单位名称", "版本", "报送时间", "总分", "逾期"),
        report_rows,
    ),
    "findings": (
        (
            "编号",
            "县（市）区",
            "统一社会信用代码",
            "单位名称",
            "问题类型",
            "级别",
            "状态",
            "问题",
            "发现日期",
            "整改期限",
        ),
        finding_rows,
    ),
    "league": (
        (
            "名次",
            "县（市）区代码",
            "县（市）区",
            "单位数",
            "已报送",
            "报送率%",
            "按时报送率%",
            "平均分",
            "中位分",
            "平均每家单位未销号问题数",
            "整改率",
            "整改天数中位数",
            "成效指数",
            "名次变化",
        ),
        league_rows,
    ),
}


@bp.get("/export/<what>.<kind>")
@login_required
def export(what: str, kind: str) -> Response:
    if what not in EXPORTS or kind not in ("csv", "xlsx"):
        abort(404)
    round_ = the_round(request.args.get("round"))
    headers, rows = EXPORTS[what]
    return download(
        sheets.write(headers, rows(current_user(), round_.code), kind), f"{what}-{round_.code}", kind
    )
