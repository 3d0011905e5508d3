"""The supervisors' dashboard: completeness and timeliness, the league table with the effectiveness
index's components (filtered by batch) and how it is computed, the batches compared, charts, case hints."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _

from services.intake import analytics, case_hints, cases, charts, figures, lists, scope
from services.intake.auth import current_user
from services.intake.extensions import db_session
from services.intake.rounds import all_rounds
from shared import clock, config, labels
from shared.models import Round

bp = Blueprint("dashboard", __name__)


def chosen_round() -> Round:
    rounds = all_rounds(db_session())
    if not rounds:
        abort(404, description=_("还没有督导轮次"))
    return next((r for r in rounds if r.code == request.args.get("round")), None) or default_round(rounds)


def default_round(rounds: list[Round]) -> Round:
    """The round the dashboard opens on: the open one due first (a round just opened has no reports
    yet and would show 0% everywhere), the newest when none is open. `rounds`: newest first."""
    open_ones = sorted((r for r in rounds if r.status == "open"), key=lambda r: r.due_date)
    return open_ones[0] if open_ones else rounds[0]


def trend(rounds: list[Round]) -> list[tuple[str, float | None]]:
    points = []
    for round_ in figures.trend_rounds(rounds):
        scores = analytics.round_scores(db_session(), round_.code)
        points.append((round_.code, sum(scores) / len(scores) if scores else None))
    return points


@bp.get("/dashboard")
@scope.roles_required("supervisor", "admin")
def dashboard() -> Any:
    round_ = chosen_round()
    batch = lists.batch_of(request.args)
    table = analytics.district_table(db_session(), round_.code, batch)
    english = str(get_locale()) == "en"
    names = [(row.name_en if english and row.name_en else row.name_zh) for row in table]
    scores = analytics.round_scores(db_session(), round_.code)
    by_rule = analytics.rule_counts(db_session(), round_.code)
    rounds = all_rounds(db_session())
    catalogue = analytics.round_catalogue(db_session(), round_)
    locale = "en" if english else "zh"

    def rule_name(code: str) -> str:
        return catalogue.rule_name(code, locale) if catalogue else code

    figures = {
        "index": charts.hbars(list(zip(names, [r.index for r in table], strict=True)), _("成效指数")),
        "participation": charts.hbars(
            list(zip(names, [r.participation_rate * 100 for r in table], strict=True)), _("报送率")
        ),
        "scores": charts.columns(charts.histogram(scores), _("得分分布")),
        "rules": charts.hbars(
            [(rule_name(code), n) for code, n in by_rule],
            _("问题分类统计"),
            maximum=max([n for _code, n in by_rule] + [1]),
            label_width=220,
        ),
        "trend": charts.line(
            [(labels.round_name(code, locale), v) for code, v in trend(rounds)], _("各轮次平均得分")
        ),
    }
    lights = analytics.light_counts(
        db_session(), round_.code, clock.today(), config.current().yellow_light_days
    )
    return render_template(
        "dashboard.html",
        lights=lights,
        chase=lists.district_counts(db_session(), round_, clock.today(), batch),
        past_deadline=lists.overdue(round_, clock.today()),
        round=round_,
        rounds=rounds,
        table=table,
        figures=figures,
        today=clock.today(),
        batch=batch,
        **office_panels(round_),
    )


def office_panels(round_: Round) -> dict[str, Any]:
    """How the index is computed, the batches compared, and the case hints with the cases to review."""
    session = db_session()
    catalogue = analytics.round_catalogue(session, round_)
    return {
        "index_spec": analytics.index_of(catalogue),
        "indicator_names": catalogue.indicators if catalogue else {},
        "basis": analytics.comparison_round(
            session, round_, analytics.index_of(catalogue).get("basis", "same_half_last_year")
        ),
        "batches": analytics.batches(session),
        "batch_table": analytics.batch_table(session, round_.code),
        "hints": case_hints.hints(session, round_.code, limit=figures.HINTS),
        "to_review": len(cases.library(session, current_user(), round_.code, status="recommended")),
    }
