"""Read models of a round, shared by the API, the web pages and the documents: the district table (and
the same figures per batch) with the effectiveness index and its components.

Every figure is computed from the stored submissions, evaluations and findings. A page asks for the same
round's reads several times (the district table, the batch table, the rank change, the hints): each read
is kept for the rest of the session's transaction and forgotten at its first write (`_read_once`).
The index, its components and their weights are the catalogue's (docs/SCORING.md).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from statistics import median
from typing import Any

from sqlalchemy import event, exists, func, select
from sqlalchemy.orm import Session

from services.intake import effectiveness, round_units
from services.intake.round_units import UnitResult
from shared import clock, kept
from shared.catalogue import Catalogue
from shared.catalogue import store as catalogues
from shared.catalogue.schema import DEFAULT_EFFECTIVENESS_INDEX
from shared.models import (
    ACTIVE_STATUSES,
    District,
    Finding,
    PilotBatch,
    PilotUnit,
    Round,
    Submission,
)
from shared.rules.progress import half_of


@dataclass(frozen=True)
class Figures:
    """A group's figures in a round: participation, timeliness, scores, problems and the index."""

    units: int
    reported: int
    on_time: int
    participation_rate: float
    on_time_rate: float
    mean_score: float | None
    median_score: float | None
    share_at_60: float | None
    open_findings_per_unit: float
    rectification_rate: float | None
    median_days_to_rectify: float | None
    verified_closure_rate: float | None
    # 工作推进 and 改革成效 (0–100; None: no comparison yet), and every component with its parts
    progress: float | None
    outcomes: float | None
    components: list[dict[str, Any]]
    # the round the outcomes are compared with (the same half of last year, or the previous round)
    basis_round: str | None
    index: float
    rank: int
    rank_change: int | None


@dataclass(frozen=True)
class DistrictRow(Figures):
    district_code: str
    name_zh: str
    name_en: str


@dataclass(frozen=True)
class BatchRow(Figures):
    batch: int
    name_zh: str
    name_en: str
    joined: str


def previous_round(session: Session, round_: Round) -> Round | None:
    return session.scalars(
        select(Round).where(Round.due_date < round_.due_date).order_by(Round.due_date.desc()).limit(1)
    ).first()


def comparison_round(session: Session, round_: Round, basis: str = "same_half_last_year") -> Round | None:
    """The round outcomes are compared with: the same half of the previous year (同比) where that round
    exists, else the previous round."""
    half = half_of(round_.code)
    if basis == "same_half_last_year" and half is not None:
        same = session.get(Round, f"{half[0] - 1}H{half[1]}")
        if same is not None:
            return same
    return previous_round(session, round_)


READS = "analytics reads"


def _read_once(session: Session, key: tuple[Any, ...], read: Callable[[], Any]) -> Any:
    """`read()`, or what it gave earlier in this transaction of the session with nothing written since."""
    reads: dict[tuple[Any, ...], Any] = session.info.setdefault(READS, {})
    if key not in reads:
        kept.begin_reads(session)  # figures computed from this read are kept under the numbers before it
        reads[key] = read()
    return reads[key]


@event.listens_for(Session, "after_flush")
@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_soft_rollback")
def _forget_reads(session: Session, *_args: Any) -> None:
    session.info.pop(READS, None)


def unit_results(session: Session, round_code: str) -> dict[int, UnitResult]:
    """Per reporting unit: its first submission time, its latest evaluated score and its newest report
    (held by the process and brought up to date with the units a change touched: round_units.py). The
    same for the whole of a session's transaction; never to be changed by the caller."""
    return _read_once(  # type: ignore[no-any-return]
        session, ("unit_results", round_code), lambda: round_units.of_round(session, round_code)
    )


def round_scores(session: Session, round_code: str) -> list[float]:
    """Every reporting unit's latest evaluated score in the round (kept until its reports change)."""
    return kept.kept(
        session,
        "scores",
        [kept.reports_of(round_code)],
        lambda: [
            r.overall_score for r in unit_results(session, round_code).values() if r.overall_score is not None
        ],
    )


def rule_counts(session: Session, round_code: str, limit: int = 10) -> list[tuple[str, int]]:
    """The rules that found the most in the round, with how many findings each (kept like the tables)."""
    return [
        (code, count)
        for code, count in kept.kept(
            session,
            f"rules:{limit}",
            [round_code],
            lambda: [
                [code, count]
                for code, count in session.execute(
                    select(Finding.rule_code, func.count())
                    .where(Finding.round_code == round_code)
                    .group_by(Finding.rule_code)
                    .order_by(func.count().desc(), Finding.rule_code)
                    .limit(limit)
                )
            ],
        )
    ]


def latest_indicators_of(session: Session, round_code: str, unit_ids: list[int]) -> dict[int, dict[str, Any]]:
    """These units' indicators in their latest report of the round."""
    kept.begin_reads(session)
    return _latest_indicators(session, round_code, unit_ids)


def _latest(round_code: str, unit_ids: list[int] | None = None) -> Any:
    """The units' (every reporting unit's) latest report of the round: a subquery to join."""
    newest = select(Submission.unit_id, func.max(Submission.version).label("version")).where(
        Submission.round_code == round_code
    )
    if unit_ids is not None:
        newest = newest.where(Submission.unit_id.in_(unit_ids))
    newest = newest.group_by(Submission.unit_id).subquery()
    return (
        (Submission.unit_id == newest.c.unit_id)
        & (Submission.version == newest.c.version)
        & (Submission.round_code == round_code)
    ), newest


def _latest_indicators(
    session: Session, round_code: str, unit_ids: list[int] | None = None
) -> dict[int, dict[str, Any]]:
    on, newest = _latest(round_code, unit_ids)
    rows = session.execute(select(Submission.unit_id, Submission.indicators).join(newest, on)).all()
    return {unit_id: indicators or {} for unit_id, indicators in rows}


def _latest_indicators_by_report(session: Session, round_code: str) -> list[Any]:
    on, newest = _latest(round_code)
    return session.execute(select(Submission.id, Submission.indicators).join(newest, on)).all()


def latest_report_ids(session: Session, round_code: str) -> dict[int, str]:
    """Each reporting unit's newest report of the round, by id."""
    return {unit_id: r.latest_id for unit_id, r in unit_results(session, round_code).items()}


# A report's sums for the outcome parts, by (database, report id, the parts' specs): a report is never
# changed once stored, so its sums hold for good and a round's outcomes computed again after a report
# read only the reports not summed yet (at 10,000 units: the new report, instead of 20,000 reports'
# indicators). Emptied whole when full.
_SIDES: dict[tuple[str, str, tuple[effectiveness.Spec, ...]], tuple[effectiveness.Side | None, ...]] = {}
# The pairs made of them, by (database, the two reports' ids, the specs): the same two reports make the
# same pair, complete with its sums, so only the pairs of units that reported since are made again.
_PAIRS: dict[tuple[str, str, str, tuple[effectiveness.Spec, ...]], effectiveness.Pair] = {}
SIDES_KEPT = 200_000
SIDES_CHUNK = 1_000  # report ids per read of the ones not summed yet


def report_sides(
    session: Session, round_code: str, specs: tuple[effectiveness.Spec, ...]
) -> dict[int, tuple[str, tuple[effectiveness.Side | None, ...]]]:
    """Each reporting unit's latest report of the round: its id, and its sums for each spec
    (`effectiveness.side_totals`)."""
    database = str(session.get_bind().url)
    latest = latest_report_ids(session, round_code)
    missing = [sid for sid in latest.values() if (database, sid, specs) not in _SIDES]
    if len(_SIDES) + len(missing) > SIDES_KEPT:
        _SIDES.clear()
        missing = list(latest.values())
    if len(missing) > len(latest) // 2:  # most not summed yet: every latest report in one read
        reads = [_latest_indicators_by_report(session, round_code)]
    else:
        reads = [
            session.execute(
                select(Submission.id, Submission.indicators).where(
                    Submission.id.in_(missing[start : start + SIDES_CHUNK])
                )
            ).all()
            for start in range(0, len(missing), SIDES_CHUNK)
        ]
    for rows in reads:
        for sid, indicators in rows:
            _SIDES[(database, sid, specs)] = tuple(
                effectiveness.side_totals(indicators or {}, spec) for spec in specs
            )
    return {unit_id: (sid, _SIDES[(database, sid, specs)]) for unit_id, sid in latest.items()}


def unit_pairs(
    session: Session, round_code: str, basis_code: str, specs: tuple[effectiveness.Spec, ...]
) -> dict[int, effectiveness.Pair]:
    """The units that reported in both rounds, each known by its latest reports' sums for the specs;
    one set per session, so every table of a page adds up the same pairs."""

    def pair_up() -> dict[int, effectiveness.Pair]:
        database = str(session.get_bind().url)
        now, then = report_sides(session, round_code, specs), report_sides(session, basis_code, specs)
        if len(_PAIRS) + len(now) > SIDES_KEPT:
            _PAIRS.clear()
        pairs = {}
        for unit_id in now.keys() & then.keys():
            (now_id, now_sides), (then_id, then_sides) = now[unit_id], then[unit_id]
            key = (database, now_id, then_id, specs)
            pair = _PAIRS.get(key)
            if pair is None:
                pair = _PAIRS[key] = effectiveness.Pair.of_sides(specs, now_sides, then_sides)
            pairs[unit_id] = pair
        return pairs

    return _read_once(session, ("unit_pairs", round_code, basis_code, specs), pair_up)  # type: ignore[no-any-return]


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def problems_by_unit(session: Session, round_code: str) -> dict[int | None, round_units.UnitProblems]:
    """Per unit with problems in the round: its problems counted (round_units.py; the same for the
    whole of a session's transaction, never to be changed by the caller)."""
    return _read_once(  # type: ignore[no-any-return]
        session, ("problems", round_code), lambda: round_units.problems_of_round(session, round_code)
    )


def _empty_stats() -> dict[str, Any]:
    return {"active": 0, "total": 0, "done": 0, "days": [], "verify": 0, "verified": 0}


def _finding_stats(session: Session, round_code: str, group_of: Callable[[str, int], Any]) -> dict[Any, Any]:
    """Per group: open problems, rectified ones (verified and closed, or a data error cleared by a
    corrected report) and their days to rectify, and the problems only a supervisor's verification ends
    with how many were verified and closed. Counted from the round's problems per unit (held by the
    process: round_units.py), by the district answering each problem and its unit's batch."""
    stats: dict[Any, dict[str, Any]] = defaultdict(_empty_stats)
    for problems in problems_by_unit(session, round_code).values():
        for district, status, mode, count in problems.counts:
            key = group_of(district, problems.batch)
            if key is None:
                continue
            entry = stats[key]
            entry["total"] += count
            if mode == "verify":
                entry["verify"] += count
                entry["verified"] += count if status == "closed" else 0
            entry["active" if status in ACTIVE_STATUSES else "done"] += count
        for district, days in problems.rectified:
            key = group_of(district, problems.batch)
            if key is not None:
                stats[key]["days"].append(days)
    return stats


def _report_figures(units: int, results: list[UnitResult], due: date) -> dict[str, Any]:
    """A group's figures of its reports: how many reported, on time, and their scores."""
    scores = [r.overall_score for r in results if r.overall_score is not None]
    on_time = sum(1 for r in results if clock.local(r.first_submitted).date() <= due)
    return {
        "units": units,
        "reported": len(results),
        "on_time": on_time,
        "participation_rate": _rate(len(results), units) or 0.0,
        "on_time_rate": _rate(on_time, units) or 0.0,
        "mean_score": round(sum(scores) / len(scores), 2) if scores else None,
        "median_score": round(median(scores), 2) if scores else None,
        "share_at_60": _rate(sum(1 for s in scores if s >= 60), len(scores)),
    }


def _problem_figures(units: int, stats: dict[str, Any]) -> dict[str, Any]:
    """A group's figures of its problems: how many are open per unit, and how they were rectified."""
    return {
        "open_findings_per_unit": round(stats["active"] / units, 4) if units else 0.0,
        "rectification_rate": _rate(stats["done"], stats["total"]),
        "median_days_to_rectify": round(median(stats["days"]), 1) if stats["days"] else None,
        "verified_closure_rate": _rate(stats["verified"], stats["verify"]),
    }


def round_catalogue(session: Session, round_: Round) -> Catalogue | None:
    try:
        return catalogues.get(session, round_.catalogue_version)
    except LookupError:
        return None


def index_of(catalogue: Catalogue | None) -> dict[str, Any]:
    return catalogue.effectiveness_index if catalogue else DEFAULT_EFFECTIVENESS_INDEX


GroupOf = Callable[[str, int], Any]
# Rows per district (of one batch, or of all: None) or per batch (of one district, or of all: None).
Grouping = tuple[str, Any]


def _by_district(batch: int | None) -> GroupOf:
    return lambda district, unit_batch: district if batch is None or unit_batch == batch else None


def _by_batch(district: str | None) -> GroupOf:
    return lambda unit_district, batch: batch if district is None or unit_district == district else None


def _group_of(grouping: Grouping) -> GroupOf:
    kind, only = grouping
    return _by_district(only) if kind == "district" else _by_batch(only)


def _ranked(session: Session, round_: Round, grouping: Grouping) -> list[dict[str, Any]]:
    """The groups' figures, components and index, ranked (equal indexes share a rank, listed by group
    key); keyed by `group`. Kept until the round, its comparison round or the register changes
    (shared/kept.py)."""
    index = index_of(round_catalogue(session, round_))
    basis = comparison_round(session, round_, index.get("basis", "same_half_last_year"))
    return kept.kept(
        session,
        f"ranked:{grouping[0]}:{grouping[1]}",
        [round_.code, *([basis.code] if basis is not None else [])],
        lambda: _compute_ranked(session, round_, grouping, index, basis),
    )


def active_units(session: Session) -> list[Any]:
    """Every active unit's id, district and batch (read once per session's transaction)."""
    return _read_once(  # type: ignore[no-any-return]
        session,
        ("active_units",),
        lambda: session.execute(
            select(PilotUnit.id, PilotUnit.district_code, PilotUnit.batch).where(PilotUnit.active.is_(True))
        ).all(),
    )


def _active_units(session: Session, group_of: GroupOf) -> tuple[dict[Any, int], dict[int, Any]]:
    """How many active units each group has, and each active unit's group."""
    unit_counts: dict[Any, int] = defaultdict(int)
    unit_group: dict[int, Any] = {}
    for unit_id, district, batch in active_units(session):
        key = group_of(district, batch)
        if key is not None:
            unit_counts[key] += 1
            unit_group[unit_id] = key
    return unit_counts, unit_group


def _grouped_results(
    session: Session, round_code: str, group_of: GroupOf, unit_group: dict[int, Any]
) -> dict[Any, list[UnitResult]]:
    """The round's reporting units by group; a unit no longer active joins its group in `unit_group`."""
    by_group: dict[Any, list[UnitResult]] = defaultdict(list)
    for result in unit_results(session, round_code).values():
        key = group_of(result.district_code, result.batch)
        if key is not None:
            by_group[key].append(result)
            unit_group.setdefault(result.unit_id, key)
    return by_group


def _groups(
    session: Session, round_code: str, grouping: Grouping
) -> tuple[dict[Any, int], dict[int, Any], dict[Any, list[UnitResult]]]:
    """How many active units each group has, each unit's group (a unit taken out of the pilot since it
    reported still counts in the group it reported in) and each group's reporting units: once per
    session for the outcomes and the report figures alike."""

    def read() -> tuple[dict[Any, int], dict[int, Any], dict[Any, list[UnitResult]]]:
        group_of = _group_of(grouping)
        unit_counts, unit_group = _active_units(session, group_of)
        return unit_counts, unit_group, _grouped_results(session, round_code, group_of, unit_group)

    return _read_once(session, ("groups", round_code, grouping), read)  # type: ignore[no-any-return]


def _group_outcomes(
    session: Session, round_: Round, grouping: Grouping, index: dict[str, Any], basis: Round | None
) -> dict[Any, dict[str, effectiveness.Outcome]]:
    """Each group's outcome parts, measured over its units that reported in both rounds. They read
    the two rounds' reports alone: kept under those rounds' report numbers, so a change to a problem
    does not compute them again (the heaviest part of a table: every unit's indicators, both rounds)."""
    if basis is None:
        return {}

    def compute() -> list[Any]:
        _counts, unit_group, _results = _groups(session, round_.code, grouping)
        pairs: dict[Any, list[effectiveness.Pair]] = defaultdict(list)
        specs = effectiveness.specs_of(index)
        for unit_id, pair in unit_pairs(session, round_.code, basis.code, specs).items():
            if unit_id in unit_group:
                pairs[unit_group[unit_id]].append(pair)
        return [
            [key, {part: [o.units, o.now, o.then, o.change] for part, o in measured.items()}]
            for key, group_pairs in pairs.items()
            for measured in [effectiveness.measure_outcomes(index, group_pairs)]
        ]

    kept_value = kept.kept(
        session,
        f"outcomes:{grouping[0]}:{grouping[1]}",
        [kept.reports_of(round_.code), kept.reports_of(basis.code)],
        compute,
    )
    return {
        key: {part: effectiveness.Outcome(*values) for part, values in parts.items()}
        for key, parts in kept_value
    }


def _group_reports(session: Session, round_: Round, grouping: Grouping) -> list[Any]:
    """Each group with active units (by group) and its figures of reports; kept under the round's
    report number, like the outcomes."""

    def compute() -> list[Any]:
        unit_counts, _unit_group, by_group = _groups(session, round_.code, grouping)
        return [
            [key, _report_figures(unit_counts[key], by_group[key], round_.due_date)]
            for key in sorted(k for k, count in unit_counts.items() if count)
        ]

    return kept.kept(  # type: ignore[no-any-return]
        session, f"reports:{grouping[0]}:{grouping[1]}", [kept.reports_of(round_.code)], compute
    )


def _compute_ranked(
    session: Session, round_: Round, grouping: Grouping, index: dict[str, Any], basis: Round | None
) -> list[dict[str, Any]]:
    outcomes = _group_outcomes(session, round_, grouping, index, basis)
    stats = _finding_stats(session, round_.code, _group_of(grouping))
    rows = []
    for key, figures in _group_reports(session, round_, grouping):
        row = {**figures, **_problem_figures(figures["units"], stats.get(key, _empty_stats()))}
        scored = effectiveness.evaluate(index, row, outcomes=outcomes.get(key, {}))
        values = {c["code"]: c["value"] for c in scored["components"]}
        row.update(
            group=key,
            components=scored["components"],
            progress=values.get("progress"),
            outcomes=values.get("outcomes"),
            basis_round=basis.code if basis is not None else None,
            index=scored["index"],
        )
        rows.append(row)
    rows.sort(key=lambda r: (-r["index"], str(r["group"])))
    for row, rank in zip(rows, shared_ranks([r["index"] for r in rows]), strict=True):
        row["rank"] = rank
    return rows


def shared_ranks(values: list[float], places: int = 1) -> list[int]:
    """Ranks of values sorted from best to worst, equal values (as shown, to `places`) sharing a rank
    and the next rank skipping as many: 1, 2, 2, 4."""
    ranks: list[int] = []
    for position, value in enumerate(values, start=1):
        same = bool(ranks) and round(value, places) == round(values[position - 2], places)
        ranks.append(ranks[-1] if same else position)
    return ranks


def _with_rank_change(session: Session, round_: Round, grouping: Grouping) -> list[dict[str, Any]]:
    rows = _ranked(session, round_, grouping)
    before = previous_round(session, round_)
    previous = {r["group"]: r["rank"] for r in _ranked(session, before, grouping)} if before else {}
    for row in rows:
        row["rank_change"] = previous[row["group"]] - row["rank"] if row["group"] in previous else None
    return rows


def require_round(session: Session, round_code: str) -> Round:
    round_ = session.get(Round, round_code)
    if round_ is None:
        raise LookupError(f"no round {round_code}")
    return round_


def district_table(session: Session, round_code: str, batch: int | None = None) -> list[DistrictRow]:
    """Every district with pilot units (of one batch, if given), ranked by its effectiveness index,
    with its change of rank."""
    round_ = require_round(session, round_code)
    names = {d.code: d for d in session.scalars(select(District))}
    if batch is not None and not session.scalar(select(exists().where(PilotUnit.batch == batch))):
        return []  # no unit in that batch (and nothing kept under a number anyone may send)
    out = []
    for row in _with_rank_change(session, round_, ("district", batch)):
        district = names[row.pop("group")]
        out.append(
            DistrictRow(
                **row, district_code=district.code, name_zh=district.name_zh, name_en=district.name_en
            )
        )
    return out


def district_row(
    session: Session, round_code: str, district_code: str, batch: int | None = None
) -> DistrictRow | None:
    return next(
        (r for r in district_table(session, round_code, batch) if r.district_code == district_code), None
    )


def batch_table(session: Session, round_code: str, district: str | None = None) -> list[BatchRow]:
    """The same figures per pilot batch (of one district's units, if given), ranked alike."""
    round_ = require_round(session, round_code)
    batches = {b.number: b for b in session.scalars(select(PilotBatch))}
    if district is not None and session.get(District, district) is None:
        return []  # no such district (and nothing kept under a code anyone may send)
    out = []
    for row in _with_rank_change(session, round_, ("batch", district)):
        number = row.pop("group")
        known = batches.get(number)
        out.append(
            BatchRow(
                **row,
                batch=number,
                name_zh=known.name_zh if known else f"第{number}批",
                name_en=known.name_en if known else f"Batch {number}",
                joined=known.joined if known else "",
            )
        )
    return out


def batches(session: Session) -> list[PilotBatch]:
    return list(session.scalars(select(PilotBatch).order_by(PilotBatch.number)))


def light_counts(
    session: Session, round_code: str, today: date, yellow_days: int, district: str | None = None
) -> dict[str, dict[str, int]]:
    """Per district (or of one), its open problems whose deadline has passed (red) or is within
    `yellow_days` (yellow)."""
    out: dict[str, dict[str, int]] = defaultdict(lambda: {"red": 0, "yellow": 0})
    query = select(Finding.district_code, Finding.due_date).where(
        Finding.round_code == round_code,
        Finding.status.in_(ACTIVE_STATUSES),
        Finding.due_date.is_not(None),
        Finding.due_date <= today + timedelta(days=yellow_days),
    )
    if district is not None:
        query = query.where(Finding.district_code == district)
    rows = session.execute(query).all()
    for district, due in rows:
        out[district]["red" if due < today else "yellow"] += 1
    return out
