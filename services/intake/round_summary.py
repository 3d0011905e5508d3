"""A round at a glance, as the 督导通报 and the API give it: units, reports and timeliness; problems by
category, severity and state; the typical problems; rectification with traffic lights per district.

A problem is counted as the district table counts it: 重大问题, 数据错误 and 一般问题, not records, advice
or findings accepted as not applying (round_units.NOT_COUNTED).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.intake import analytics, round_units
from shared.catalogue import SEVERITIES
from shared.catalogue.model import MANUAL
from shared.models import ACTIVE_STATUSES, Finding

RECTIFIED = ("closed", "resolved")
TYPICAL = 5


@dataclass(frozen=True)
class Overview:
    round: str
    due_date: str
    districts: int
    units: int
    reported: int
    on_time: int
    late: int
    missing: int
    participation_rate: float
    on_time_rate: float
    mean_score: float | None


def overview(session: Session, round_code: str, table: list[analytics.DistrictRow] | None = None) -> Overview:
    """The round over every district of the table: units, who reported, on time, late, missing."""
    round_ = analytics.require_round(session, round_code)
    table = table if table is not None else analytics.district_table(session, round_code)
    units, reported = sum(r.units for r in table), sum(r.reported for r in table)
    on_time = sum(r.on_time for r in table)
    scores = analytics.round_scores(session, round_code)
    return Overview(
        round=round_code,
        due_date=round_.due_date.isoformat(),
        districts=len(table),
        units=units,
        reported=reported,
        on_time=on_time,
        late=reported - on_time,
        missing=max(units - reported, 0),
        participation_rate=round(reported / units, 4) if units else 0.0,
        on_time_rate=round(on_time / units, 4) if units else 0.0,
        mean_score=round(sum(scores) / len(scores), 2) if scores else None,
    )


def counted_problems(session: Session, round_code: str, district: str | None = None) -> list[Finding]:
    query = select(Finding).where(
        Finding.round_code == round_code,
        Finding.severity != "info",
        Finding.status.not_in(round_units.NOT_COUNTED),
    )
    if district is not None:
        query = query.where(Finding.district_code == district)
    return list(session.scalars(query.order_by(Finding.id)))


def light_of(finding: Finding, today: date, yellow_days: int) -> str:
    if finding.status not in ACTIVE_STATUSES or finding.due_date is None:
        return ""
    if today > finding.due_date:
        return "red"
    return "yellow" if today >= finding.due_date - timedelta(days=yellow_days) else "green"


def problems(
    session: Session,
    round_code: str,
    today: date,
    yellow_days: int,
    district: str | None = None,
    rule_name: Any = None,
) -> dict[str, Any]:
    """Problem statistics of the round: by category × severity, by state, per district with lights, and
    the typical problems (the most frequent kinds, with one example each)."""
    found = counted_problems(session, round_code, district)
    by_category: dict[str, Counter[str]] = defaultdict(Counter)
    per_district: dict[str, Counter[str]] = defaultdict(Counter)
    kinds: dict[str, list[Finding]] = defaultdict(list)
    for finding in found:
        by_category[finding.category or "其他"][finding.severity] += 1
        state = "open" if finding.status in ACTIVE_STATUSES else "rectified"
        row = per_district[finding.district_code]
        row["total"] += 1
        row[state] += 1
        row["rectification_reported"] += 1 if finding.status == "rectification_reported" else 0
        light = light_of(finding, today, yellow_days)
        if light:
            row[light] += 1
        kinds[finding.rule_code if finding.rule_code != MANUAL else f"{MANUAL}:{finding.category}"].append(
            finding
        )
    typical = sorted(kinds.items(), key=lambda kv: (-len(kv[1]), kv[0]))[:TYPICAL]
    return {
        "total": len(found),
        "open": sum(1 for f in found if f.status in ACTIVE_STATUSES),
        "rectified": sum(1 for f in found if f.status in RECTIFIED),
        "by_category": [
            {
                "category": category,
                **{severity: counts[severity] for severity in SEVERITIES if severity != "info"},
                "total": sum(counts.values()),
            }
            for category, counts in sorted(by_category.items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))
        ],
        "by_district": [
            {
                "district_code": code,
                **{
                    key: counts[key]
                    for key in (
                        "total",
                        "open",
                        "rectified",
                        "rectification_reported",
                        "red",
                        "yellow",
                        "green",
                    )
                },
            }
            for code, counts in sorted(per_district.items())
        ],
        "typical": [
            {
                "rule_code": items[0].rule_code,
                "name": rule_name(items[0].rule_code) if rule_name else items[0].rule_code,
                "category": items[0].category,
                "severity": items[0].severity,
                "count": len(items),
                "example": items[0].message_zh,
            }
            for _key, items in typical
        ],
    }
