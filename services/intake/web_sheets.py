"""Excel in and out: the report template, a filled-in upload checked on the intake worker with its
progress and outcome (the reports stored, or the clerk's workbook with each problem marked), and exports."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.intake import analytics, lists, scope, sheet_imports, sheet_template, sheets
from services.intake.auth import current_user, login_required
from services.intake.extensions import celery, db_session
from services.intake.pages import page_locale
from services.intake.rounds import all_rounds, open_rounds
from shared import clock, config, db, labels, outbox
from shared.catalogue import store as catalogues
from shared.models import District, Evaluation, Finding, PilotUnit, Round, SheetImport, Submission, User

bp = Blueprint("sheets", __name__, url_prefix="/sheets")
STALLED_AFTER = 30  # seconds an upload may wait for the intake worker before the page says so


def download(content: bytes | Iterator[bytes], name: str, kind: str) -> Response:
    mimetype = "text/csv; charset=utf-8" if kind == "csv" else sheets.XLSX
    return Response(
        content, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{name}.{kind}"'}
    )


def the_round(code: str | None, open_only: bool = False) -> Round:
    rounds = open_rounds(db_session()) if open_only else all_rounds(db_session())
    if not rounds:
        abort(409, description=_("当前没有开放的督导轮次"))
    return next((r for r in rounds if r.code == code), rounds[0])


def index_page() -> str:
    return render_template(
        "sheets.html",
        rounds=all_rounds(db_session()),
        open_rounds=open_rounds(db_session()),
        max_rows=config.current().sheet_max_rows,
    )


@bp.get("/")
@login_required
def index() -> Any:
    return index_page()


@bp.get("/template.xlsx")
@scope.roles_required("district", "admin")
def template() -> Response:
    round_ = the_round(request.args.get("round"), open_only=True)
    units = db_session().scalars(scope.units(current_user()).order_by(PilotUnit.name))
    catalogue = catalogues.get(db_session(), round_.catalogue_version)
    content = sheet_template.template(
        catalogue, round_.code, units, config.current().sheet_max_rows, page_locale()
    )
    return download(content, f"report-template-{round_.code}", "xlsx")


def refused(message: str) -> tuple[str, int]:
    flash(message, "error")
    return index_page(), 422


@bp.post("/upload")
@scope.roles_required("district", "admin")
def upload() -> Any:
    """Keep the file for the intake worker and show its progress; only what is quick is answered here
    (the round, the file's kind and unpacked size), so that no upload holds up the web service."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash(_("请选择要上传的文件"), "error")
        return redirect(url_for("sheets.index"))
    try:
        job, announced = sheet_imports.request(
            db_session(),
            current_user(),
            request.form.get("round", ""),
            upload.filename,
            upload.read(),
            page_locale(),
            clock.now(),
        )
    except sheets.SheetError as exc:
        db_session().rollback()
        return refused(str(exc))
    db_session().commit()
    outbox.publish(celery(), announced)
    return redirect(url_for("sheets.job", import_id=job.id))


def visible_job(import_id: str) -> SheetImport:
    found = sheet_imports.find(db_session(), current_user(), import_id)
    if found is None:
        abort(404)
    return found


@bp.get("/imports/<import_id>")
@login_required
def job(import_id: str) -> Any:
    found = visible_job(import_id)
    return render_template(
        "sheet_import.html",
        job=found,
        state=labels.sheet_import_state(found.state, page_locale()),
        # Still waiting after this long: the intake worker may be down (the file is kept meanwhile).
        slow=found.state == "queued" and (clock.now() - found.requested_at).total_seconds() > STALLED_AFTER,
        imported=sheet_imports.imported(db_session(), found),
    )


@bp.get("/imports/<import_id>/marked.xlsx")
@login_required
def marked(import_id: str) -> Response:
    """The clerk's own workbook with each problem marked (a refused upload)."""
    found = visible_job(import_id)
    path = sheet_imports.upload_path(found.id, annotated=True)
    if found.state != "refused" or not path.exists():
        abort(404)
    stem, marks = found.filename.rsplit(".", 1)[0] or "report", _("问题标注")
    return send_file(path, mimetype=sheets.XLSX, as_attachment=True, download_name=f"{stem}-{marks}.xlsx")


BATCH = 1000  # rows fetched at a time by a streamed export


def report_rows(
    session: Session, user: User, round_code: str, args: Mapping[str, str]
) -> Iterator[list[Any]]:
    """Each unit's latest report of the round, read as it is written (see `sheets.stream`)."""
    names = {d.code: d.name_zh for d in session.scalars(select(District))}
    zone = config.current().time_zone
    query = (
        lists.unit_filters(scope.submissions(user), user, args)
        .outerjoin(Evaluation, Evaluation.submission_id == Submission.id)
        .where(Submission.round_code == round_code)
        .with_only_columns(
            Submission.unit_id,
            PilotUnit.district_code,
            PilotUnit.credit_code,
            PilotUnit.name,
            Submission.version,
            Submission.submitted_at,
            Evaluation.overall_score,
            Evaluation.late,
            Evaluation.id,
        )
        .order_by(Submission.unit_id, Submission.version.desc())
        .execution_options(yield_per=BATCH)
    )
    last_unit = None
    for unit_id, district, code, name, version, submitted_at, score, late, evaluated in session.execute(
        query
    ):
        if unit_id == last_unit:  # an earlier version of the unit just written
            continue
        last_unit = unit_id
        yield [
            names.get(district, district),
            code,
            name,
            version,
            labels.moment(submitted_at, zone),
            score if evaluated is not None else "",
            ("是" if late else "否") if evaluated is not None else "",
        ]


def finding_rows(
    session: Session, user: User, round_code: str, args: Mapping[str, str]
) -> Iterator[list[Any]]:
    """The ledger as filtered on screen (every round unless one is chosen; the sheets page asks for every
    state of one round), read as it is written."""
    query = (
        lists.findings_query(user, args)
        .outerjoin(PilotUnit, PilotUnit.id == Finding.unit_id)
        .with_only_columns(
            Finding.id,
            Finding.district_code,
            PilotUnit.credit_code,
            PilotUnit.name,
            Finding.round_code,
            Finding.rule_code,
            Finding.severity,
            Finding.status,
            Finding.message_zh,
            Finding.opened_at,
            Finding.due_date,
        )
        .execution_options(yield_per=BATCH)
    )
    names = {d.code: d.name_zh for d in session.scalars(select(District))}
    versions = {r.code: r.catalogue_version for r in session.scalars(select(Round))}
    read = {version: catalogues.get(session, version) for version in set(versions.values())}

    def rule_name(round_code: str, rule_code: str) -> str:
        version = versions.get(round_code)
        return read[version].rule_name(rule_code) if version else rule_code

    for f in session.execute(query):
        yield [
            f.id,
            names.get(f.district_code, f.district_code),
            f.credit_code or "",
            f.name or "",
            rule_name(f.round_code, f.rule_code),
            labels.severity(f.severity),
            labels.finding_status(f.status),
            f.message_zh,
            clock.local(f.opened_at).date().isoformat(),
            f.due_date.isoformat() if f.due_date else "",
        ]


def league_rows(session: Session, user: User, round_code: str, args: Mapping[str, str]) -> list[list[Any]]:
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
        for r in analytics.district_table(session, round_code, lists.batch_of(args))
    ]


Rows = Callable[[Session, User, str, Mapping[str, str]], Iterable[list[Any]]]
EXPORTS: dict[str, tuple[tuple[str, ...], Rows]] = {
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
    # the ledger may span every round; the other lists are of one round
    code = request.args.get("round", "") if what == "findings" else the_round(request.args.get("round")).code
    user = current_user()
    if what == "league" and user.role == "district":
        abort(403, description=_("县（市）区用户不能导出全市排名"))
    headers, rows = EXPORTS[what]
    table = read_while_sent(rows, user, code, request.args.copy())
    return download(sheets.stream(headers, table, kind), f"{what}-{code or 'all'}", kind)


def read_while_sent(rows: Rows, user: User, round_code: str, args: Mapping[str, str]) -> Iterator[list[Any]]:
    """An export's rows read as the file is sent (a round of every unit is tens of thousands of rows),
    in a session of their own: the request's is closed by then."""
    with db.transaction() as session:
        yield from rows(session, user, round_code, args)
