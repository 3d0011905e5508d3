"""Read models of a round, shared by the API and the web pages: the district table and the practices.

Every figure is computed from the stored submissions, evaluations and findings; nothing is cached.
The composite index and its weights are documented in docs/SCORING.md.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from statistics import median
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.catalogue import Catalogue
from shared.catalogue import store as catalogues
from shared.models import ACTIVE_STATUSES, District, Evaluation, Finding, PilotUnit, Round, Submission

# Composite index weights, used when the round's catalogue gives none (`district_index` in the file).
DEFAULT_INDEX_WEIGHTS = {
    "participation": 0.2,
    "on_time": 0.1,
    "score": 0.3,
    "share_at_60": 0.1,
    "rectification": 0.2,
    "findings_burden": 0.1,
}
PRACTICE_MIN_SCORE = 90.0


@dataclass(frozen=True)
class DistrictRow:
    district_code: str
    name_zh: str
    name_en: str
    units: int
    reported: int
    participation_rate: float
    on_time_rate: float
    mean_score: float | None
    median_score: float | None
    share_at_60: float | None
    open_findings_per_unit: float
    rectification_rate: float | None
    median_days_to_rectify: float | None
    index: float
    rank: int
    rank_change: int | None


@dataclass(frozen=True)
class UnitResult:
    """A unit's latest evaluated report of a round and when it first reported."""

    unit_id: int
    district_code: str
    first_submitted: datetime
    overall_score: float | None
    submission_id: str | None


def previous_round(session: Session, round_: Round) -> Round | None:
    return session.scalars(
        select(Round).where(Round.due_date < round_.due_date).order_by(Round.due_date.desc()).limit(1)
    ).first()


def unit_results(session: Session, round_code: str) -> dict[int, UnitResult]:
    """Per reporting unit: its first submission time and its latest evaluated score."""
    rows = session.execute(
        select(
            Submission.unit_id,
            PilotUnit.district_code,
            Submission.id,
            Submission.version,
            Submission.submitted_at,
            Evaluation.overall_score,
        )
        .join(PilotUnit, PilotUnit.id == Submission.unit_id)
        .outerjoin(Evaluation, Evaluation.submission_id == Submission.id)
        .where(Submission.round_code == round_code)
        .order_by(Submission.unit_id, Submission.version)
    ).all()
    first: dict[int, datetime] = {}
    latest: dict[int, tuple[float, str]] = {}
    districts: dict[int, str] = {}
    for unit_id, district, sub_id, _version, submitted_at, score in rows:
        districts[unit_id] = district
        first[unit_id] = min(first.get(unit_id, submitted_at), submitted_at)
        if score is not None:
            latest[unit_id] = (score, sub_id)
    return {
        u: UnitResult(
            u, districts[u], first[u], latest.get(u, (None, None))[0], latest.get(u, (None, None))[1]
        )
        for u in first
    }


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


# Not problems to count against a district: records (a late report counts in timeliness instead),
# advice (提示) and findings accepted as not applying.
NOT_COUNTED = ("recorded", "waived")


def _finding_stats(session: Session, round_code: str) -> dict[str, dict[str, Any]]:
    """Per district: open problems, rectified ones (verified and closed, or a data error cleared by a
    corrected report) and their days to rectify."""
    stats: dict[str, dict[str, Any]] = defaultdict(lambda: {"active": 0, "total": 0, "done": 0, "days": []})
    rows = session.execute(
        select(Finding.district_code, Finding.status, Finding.opened_at, Finding.resolved_at).where(
            Finding.round_code == round_code, Finding.severity != "info", Finding.status.not_in(NOT_COUNTED)
        )
    ).all()
    for district, status, opened_at, resolved_at in rows:
        entry = stats[district]
        entry["total"] += 1
        if status in ACTIVE_STATUSES:
            entry["active"] += 1
        elif resolved_at is not None:
            entry["done"] += 1
            entry["days"].append((resolved_at - opened_at).total_seconds() / 86400)
        else:
            entry["done"] += 1
    return stats


def index_weights(catalogue: Catalogue | None) -> dict[str, float]:
    configured = (catalogue.data.get("district_index") or {}) if catalogue else {}
    return {**DEFAULT_INDEX_WEIGHTS, **configured}


def composite_index(parts: dict[str, float | None], weights: dict[str, float]) -> float:
    """The weighted mean (0–100) of the parts, each in 0..1; a part without a value counts 0."""
    total = sum(weights.values())
    if not total:
        return 0.0
    return round(100 * sum(w * (parts.get(k) or 0.0) for k, w in weights.items()) / total, 2)


def _row_parts(units: int, results: list[UnitResult], due: date, stats: dict[str, Any]) -> dict[str, Any]:
    scores = [r.overall_score for r in results if r.overall_score is not None]
    on_time = sum(1 for r in results if r.first_submitted.date() <= due)
    open_per_unit = round(stats["active"] / units, 4) if units else 0.0
    return {
        "units": units,
        "reported": len(results),
        "participation_rate": _rate(len(results), units) or 0.0,
        "on_time_rate": _rate(on_time, units) or 0.0,
        "mean_score": round(sum(scores) / len(scores), 2) if scores else None,
        "median_score": round(median(scores), 2) if scores else None,
        "share_at_60": _rate(sum(1 for s in scores if s >= 60), len(scores)),
        "open_findings_per_unit": open_per_unit,
        "rectification_rate": _rate(stats["done"], stats["total"]),
        "median_days_to_rectify": round(median(stats["days"]), 1) if stats["days"] else None,
    }


def _index_parts(row: dict[str, Any]) -> dict[str, float | None]:
    return {
        "participation": row["participation_rate"],
        "on_time": row["on_time_rate"],
        "score": (row["mean_score"] or 0.0) / 100,
        "share_at_60": row["share_at_60"],
        # a district that reported and has no findings at all has nothing left to rectify
        "rectification": (1.0 if row["reported"] else 0.0)
        if row["rectification_rate"] is None
        else row["rectification_rate"],
        "findings_burden": 1 / (1 + row["open_findings_per_unit"]) if row["reported"] else 0.0,
    }


def _ranked(session: Session, round_: Round) -> list[dict[str, Any]]:
    try:
        catalogue: Catalogue | None = catalogues.get(session, round_.catalogue_version)
    except LookupError:
        catalogue = None
    weights = index_weights(catalogue)
    unit_counts = dict(
        session.execute(
            select(PilotUnit.district_code, func.count(PilotUnit.id))
            .where(PilotUnit.active.is_(True))
            .group_by(PilotUnit.district_code)
        ).all()
    )
    by_district: dict[str, list[UnitResult]] = defaultdict(list)
    for result in unit_results(session, round_.code).values():
        by_district[result.district_code].append(result)
    stats = _finding_stats(session, round_.code)
    empty = {"active": 0, "total": 0, "done": 0, "days": []}
    rows = []
    for district in session.scalars(select(District).order_by(District.code)):
        if not unit_counts.get(district.code):
            continue
        row = _row_parts(
            unit_counts[district.code],
            by_district[district.code],
            round_.due_date,
            stats.get(district.code, empty),
        )
        row.update(
            district_code=district.code,
            name_zh=district.name_zh,
            name_en=district.name_en,
            index=composite_index(_index_parts(row), weights),
        )
        rows.append(row)
    rows.sort(key=lambda r: (-r["index"], r["district_code"]))
    for position, row in enumerate(rows, start=1):
        row["rank"] = position
    return rows


def district_table(session: Session, round_code: str) -> list[DistrictRow]:
    """Every district with pilot units, ranked by its composite index, with its change of rank."""
    round_ = session.get(Round, round_code)
    if round_ is None:
        raise LookupError(f"no round {round_code}")
    rows = _ranked(session, round_)
    before = previous_round(session, round_)
    previous = {r["district_code"]: r["rank"] for r in _ranked(session, before)} if before else {}
    return [
        DistrictRow(
            **row,
            rank_change=(previous[row["district_code"]] - row["rank"])
            if row["district_code"] in previous
            else None,
        )
        for row in rows
    ]


def district_row(session: Session, round_code: str, district_code: str) -> DistrictRow | None:
    return next((r for r in district_table(session, round_code) if r.district_code == district_code), None)


def practices(session: Session, round_code: str) -> list[dict[str, Any]]:
    """Candidate replicable practices: overall ≥ 90, no active critical finding, at least one
    `exemplary` measure with a note. Best score first."""
    round_ = session.get(Round, round_code)
    if round_ is None:
        raise LookupError(f"no round {round_code}")
    catalogue = catalogues.get(session, round_.catalogue_version)
    critical = set(
        session.scalars(
            select(Finding.unit_id).where(
                Finding.round_code == round_code, Finding.severity == "critical", Finding.active.is_(True)
            )
        )
    )
    chosen = [
        r
        for r in unit_results(session, round_code).values()
        if r.overall_score is not None and r.overall_score >= PRACTICE_MIN_SCORE and r.unit_id not in critical
    ]
    out = []
    for result in chosen:
        submission = session.get(Submission, result.submission_id)
        assert submission is not None
        measures = [
            {
                "code": code,
                "name_zh": catalogue.measures[code]["name_zh"],
                "name_en": catalogue.measures[code].get("name_en", ""),
                "note": str(m.get("note")).strip(),
            }
            for code, m in submission.measures.items()
            if code in catalogue.measures
            and (m or {}).get("status") == "exemplary"
            and str((m or {}).get("note") or "").strip()
        ]
        if not measures:
            continue
        unit = submission.unit
        out.append(
            {
                "credit_code": unit.credit_code,
                "name": unit.name,
                "district": unit.district_code,
                "overall_score": result.overall_score,
                "exemplary_measures": measures,
            }
        )
    out.sort(key=lambda p: (-p["overall_score"], p["credit_code"]))
    return out


def light_counts(
    session: Session, round_code: str, today: date, yellow_days: int
) -> dict[str, dict[str, int]]:
    """Per district, its open problems whose deadline has passed (red) or is within `yellow_days` (yellow)."""
    out: dict[str, dict[str, int]] = defaultdict(lambda: {"red": 0, "yellow": 0})
    rows = session.execute(
        select(Finding.district_code, Finding.due_date).where(
            Finding.round_code == round_code,
            Finding.status.in_(ACTIVE_STATUSES),
            Finding.due_date.is_not(None),
            Finding.due_date <= today + timedelta(days=yellow_days),
        )
    ).all()
    for district, due in rows:
        out[district]["red" if due < today else "yellow"] += 1
    return out
