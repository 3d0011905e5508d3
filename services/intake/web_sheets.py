"""Excel in and out: the report template, a filled-in upload, its error report, and exports."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from services.intake import analytics, lists, reports, scope, sheets
from services.intake.auth import current_user, login_required
from services.intake.extensions import celery, db_session
from services.intake.rounds import all_rounds, open_rounds
from shared import config, private
from shared.catalogue import store as catalogues
from shared.models import PilotUnit, Round, Submission, User

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


def report_rows(user: User, round_code: str, args: Mapping[str, str]) -> list[list[Any]]:
    latest: dict[int, Submission] = {}
    for item in db_session().scalars(
        lists.unit_filters(scope.submissions(user), user, args)
        .where(Submission.round_code == round_code)
        .options(selectinload(Submission.unit), selectinload(Submission.evaluation))
        .order_by(Submission.version)
    ):
        latest[item.unit_id] = item
    return [
        [
            s.unit.district_code,
            s.unit.credit_code,
            s.unit.name,
            s.version,
            s.submitted_at.strftime("%Y-%m-%d %H:%M"),
            s.evaluation.overall_score if s.evaluation else "",
            ("是" if s.evaluation.late else "否") if s.evaluation else "",
        ]
        for s in latest.values()
    ]


def finding_rows(user: User, round_code: str, args: Mapping[str, str]) -> list[list[Any]]:
    """The ledger as filtered on screen (every round unless one is chosen; the sheets page asks for every
    state of one round)."""
    query = lists.findings_query(user, args)
    return [
        [
            f.id,
            f.district_code,
            f.unit.credit_code if f.unit else "",
            f.unit.name if f.unit else "",
            f.rule_code,
            f.severity,
            f.status,
            f.message_zh,
            f.opened_at.strftime("%Y-%m-%d"),
            f.due_date.isoformat() if f.due_date else "",
        ]
        for f in db_session().scalars(query)
    ]


def league_rows(user: User, round_code: str, args: Mapping[str, str]) -> list[list[Any]]:
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
        for r in analytics.district_table(db_session(), round_code, batch_of(args))
    ]


def batch_of(args: Mapping[str, str]) -> int | None:
    batch = args.get("batch") or ""
    return int(batch) if batch.isdigit() and len(batch) < 4 else None


EXPORTS = {
    "reports": (("区县", "统一社会信用代码", "单位名称", "版本", "报送时间", "总分", "逾期"), report_rows),
    "findings": (
        (
            "编号",
            "区县",
            "统一社会信用代码",
            "单位名称",
            "规则",
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
            "区县代码",
            "区县",
            "单位数",
            "已报送",
            "报送率%",
            "按时率%",
            "平均分",
            "中位分",
            "每单位未结问题",
            "整改率",
            "整改天数中位数",
            "效能指数",
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
    # the ledger may span every round; the other lists are of one round
    code = request.args.get("round", "") if what == "findings" else the_round(request.args.get("round")).code
    headers, rows = EXPORTS[what]
    content = sheets.write(headers, rows(current_user(), code, request.args), kind)
    return download(content, f"{what}-{code or 'all'}", kind)
