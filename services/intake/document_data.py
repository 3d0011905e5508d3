"""What goes into the documents the office sends: the round's 督导通报, a district's 问题清单 (整改交办单)
and the round's 案例汇编. Each function gathers the figures (the same read models as the API and the
dashboard) and returns plain values ready to print, for the Word templates and the printable page alike.
Documents are written in Chinese, as the office sends them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from services.intake import analytics, cases, round_summary
from shared import labels
from shared.catalogue.model import MANUAL_NAMES
from shared.models import ACTIVE_STATUSES, District, Finding, Visit

Progress = Callable[[int, str], None]
DASH = "—"


def pct(value: float | None) -> str:
    """A rate as the office prints it: 0.9535 → 95.4%."""
    return f"{value * 100:.1f}%" if value is not None else DASH


def num(value: float | None) -> str:
    """A figure with two decimals at most: 68.09, 100, 57.5."""
    if value is None:
        return DASH
    return f"{value:.2f}".rstrip("0").rstrip(".")


def chinese_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def paragraphs(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _district_names(session: Session) -> dict[str, str]:
    return {d.code: d.name_zh for d in session.scalars(select(District))}


def _index_note(table: list[analytics.DistrictRow]) -> list[dict[str, str]]:
    """How the index is computed, from the components the table was computed with."""
    if not table:
        return []
    return [
        {
            "name": c["name_zh"],
            "weight": num(c["weight"]),
            "parts": "、".join(f"{p['name_zh'] or p['code']}（{num(p['weight'])}）" for p in c["parts"]),
        }
        for c in table[0].components
    ]


def _district_rows(table: list[analytics.DistrictRow]) -> list[dict[str, Any]]:
    return [
        {
            "rank": r.rank,
            "name": r.name_zh,
            "units": r.units,
            "reported": r.reported,
            "participation": pct(r.participation_rate),
            "on_time": pct(r.on_time_rate),
            "progress": num(r.progress),
            "outcomes": num(r.outcomes),
            "index": num(r.index),
            "change": (f"↑{r.rank_change}" if r.rank_change > 0 else f"↓{-r.rank_change}")
            if r.rank_change
            else DASH,
        }
        for r in table
    ]


def _batch_rows(table: list[analytics.BatchRow]) -> list[dict[str, Any]]:
    return [
        {
            "name": r.name_zh + (f"（{r.joined}）" if r.joined else ""),
            "units": r.units,
            "reported": r.reported,
            "participation": pct(r.participation_rate),
            "progress": num(r.progress),
            "outcomes": num(r.outcomes),
            "index": num(r.index),
        }
        for r in table
    ]


def bulletin(
    session: Session,
    round_code: str,
    next_steps: str,
    today: date,
    yellow_days: int,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """The 督导通报 of a round."""
    step = progress or (lambda _percent, _what: None)
    round_ = analytics.require_round(session, round_code)
    catalogue = analytics.round_catalogue(session, round_)
    step(10, "district_table")
    table = analytics.district_table(session, round_code)
    overview = round_summary.overview(session, round_code, table)
    step(40, "problems")

    def rule_name(code: str) -> str:
        if catalogue is not None:
            return catalogue.rule_name(code)
        return MANUAL_NAMES[0] if code == "manual" else code

    problems = round_summary.problems(session, round_code, today, yellow_days, rule_name=rule_name)
    names = _district_names(session)
    step(60, "batches_and_cases")
    basis = table[0].basis_round if table else None
    visits = (
        session.scalar(select(func.count()).select_from(Visit).where(Visit.round_code == round_code)) or 0
    )
    from_visits = (
        session.scalar(
            select(func.count())
            .select_from(Finding)
            .where(Finding.round_code == round_code, Finding.visit_id.is_not(None))
        )
        or 0
    )
    return {
        "title": f"关于{labels.round_name(round_code)}产业工人队伍建设改革试点督导情况的通报",
        "round": round_code,
        "round_name": labels.round_name(round_code),
        "due_date": chinese_date(round_.due_date),
        "date": chinese_date(today),
        "overview": {
            "districts": overview.districts,
            "units": overview.units,
            "reported": overview.reported,
            "on_time": overview.on_time,
            "late": overview.late,
            "missing": overview.missing,
            "participation": pct(overview.participation_rate),
            "on_time_rate": pct(overview.on_time_rate),
            "mean_score": num(overview.mean_score),
            "visits": visits,
            "from_visits": from_visits,
        },
        "basis": labels.round_name(basis) if basis else "",
        "index_note": _index_note(table),
        "districts": _district_rows(table),
        "batches": _batch_rows(analytics.batch_table(session, round_code)),
        "problems": {k: problems[k] for k in ("total", "open", "rectified")},
        "categories": problems["by_category"],
        "typical": [
            dict(t, severity=labels.severity(t["severity"]), example=t["example"])
            for t in problems["typical"]
        ],
        "rectification": [
            dict(r, name=names.get(r["district_code"], r["district_code"])) for r in problems["by_district"]
        ],
        "cases": [
            {
                "title": c.title,
                "unit": c.unit.name,
                "district": names.get(c.district_code, c.district_code),
            }
            for c in cases.selected(session, round_code)
        ],
        "next_steps": paragraphs(next_steps),
    }


def problem_list(
    session: Session, round_code: str, district_code: str, today: date, yellow_days: int
) -> dict[str, Any]:
    """A district's 问题清单 (整改交办单): its open problems with requirement, deadline and state."""
    analytics.require_round(session, round_code)
    names = _district_names(session)
    found = list(
        session.scalars(
            select(Finding)
            .where(
                Finding.round_code == round_code,
                Finding.district_code == district_code,
                Finding.status.in_(ACTIVE_STATUSES),
                Finding.severity != "info",
            )
            .options(selectinload(Finding.unit))
            .order_by(Finding.due_date.is_(None), Finding.due_date, Finding.id)
        )
    )
    rows = []
    for number, finding in enumerate(found, start=1):
        light = round_summary.light_of(finding, today, yellow_days)
        rows.append(
            {
                "no": number,
                "unit": finding.unit.name if finding.unit else DASH,
                "severity": labels.severity(finding.severity),
                "category": finding.category or DASH,
                "problem": finding.message_zh,
                "requirement": finding.action_zh or DASH,
                "deadline": finding.due_date.isoformat() if finding.due_date else "无",
                "state": labels.finding_status(finding.status),
                "light": labels.light(light) if light else DASH,
            }
        )
    return {
        "title": f"{names.get(district_code, district_code)}产改试点督导问题清单（整改交办单）",
        "round": round_code,
        "round_name": labels.round_name(round_code),
        "district": names.get(district_code, district_code),
        "date": chinese_date(today),
        "count": len(rows),
        "red": sum(1 for r in rows if r["light"] == labels.light("red")),
        "yellow": sum(1 for r in rows if r["light"] == labels.light("yellow")),
        "problems": rows,
    }


def case_book(session: Session, round_code: str, today: date) -> dict[str, Any]:
    """The round's 案例汇编: every selected case, by district."""
    round_ = analytics.require_round(session, round_code)
    catalogue = analytics.round_catalogue(session, round_)
    measures = catalogue.measures if catalogue else {}
    names = _district_names(session)
    items = []
    for number, case in enumerate(cases.selected(session, round_code), start=1):
        items.append(
            {
                "no": number,
                "title": case.title,
                "unit": case.unit.name,
                "district": names.get(case.district_code, case.district_code),
                "measures": "、".join(measures.get(code, {}).get("name_zh", code) for code in case.measures),
                "practice": paragraphs(case.practice),
                "results": paragraphs(case.results),
                "figures": case.figures,
            }
        )
    return {
        "title": f"{labels.round_name(round_code)}产改试点典型案例汇编",
        "round": round_code,
        "round_name": labels.round_name(round_code),
        "date": chinese_date(today),
        "count": len(items),
        "cases": items,
    }
