"""Each unit's report state in a round, for the home page and its filters (a few queries, no N+1)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import Session

from shared import labels
from shared.models import ACTIVE_STATUSES, Draft, Evaluation, Finding, PilotUnit, Round, Submission


def _l(message: str) -> str:
    """Marks a message for the catalogue (`pybabel extract -k _l`); the page translates it when shown."""
    return message


# A unit's report states, in the order the home page adds them up (their words: shared/labels.py).
STATES = labels.REPORT_STATES
REPORTED = ("evaluated", "problems", "submitted")
# The filters that gather several states (services/intake/lists.py): the units a supervisor chases.
GROUPS = {
    "reported": (_l("已报送"), "reported"),
    "unreported": (_l("未报送（含草稿）"), "not reported (drafts too)"),
    "overdue": (_l("逾期未报"), "overdue, not reported"),
}


@dataclass(frozen=True)
class Summary:
    """The home page's counters: those that reported, split by what came of it, and those that did not."""

    units: int
    reported: int
    unreported: int
    drafts: int


def summary(counts: dict[str, int]) -> Summary:
    reported = sum(counts.get(state, 0) for state in REPORTED)
    unreported = counts.get("not_started", 0) + counts.get("draft", 0)
    return Summary(reported + unreported, reported, unreported, counts.get("draft", 0))


@dataclass
class UnitProgress:
    unit: PilotUnit
    state: str
    version: int
    score: float | None
    open_findings: int
    submission_id: str | None


def state_of(version: int, evaluated: bool, open_findings: int, has_draft: bool) -> str:
    if version == 0:
        return "draft" if has_draft else "not_started"
    if not evaluated:
        return "submitted"
    return "problems" if open_findings else "evaluated"


def _facts(
    session: Session, ids: list[int] | Select[Any], round_code: str
) -> tuple[dict[int, tuple[int, str, float | None, bool]], dict[int, int], set[int]]:
    """The units' latest report (version, id, score, evaluated), open problems and drafts of the round;
    `ids` a list of unit ids or a query of them, read in the database."""
    latest: dict[int, tuple[int, str, float | None, bool]] = {}
    rows = session.execute(
        select(
            Submission.unit_id,
            Submission.version,
            Submission.id,
            Evaluation.overall_score,
            Evaluation.id.is_not(None),
        )
        .outerjoin(Evaluation, Evaluation.submission_id == Submission.id)
        .where(Submission.round_code == round_code, Submission.unit_id.in_(ids))
    )
    for unit_id, version, sid, score, evaluated in rows:
        if unit_id not in latest or version > latest[unit_id][0]:
            latest[unit_id] = (version, sid, score, bool(evaluated))
    open_counts = dict(
        session.execute(
            select(Finding.unit_id, func.count())
            .where(
                Finding.round_code == round_code,
                Finding.unit_id.in_(ids),
                Finding.status.in_(ACTIVE_STATUSES),
                Finding.severity != "info",
            )
            .group_by(Finding.unit_id)
        ).all()
    )
    drafts = set(
        session.scalars(select(Draft.unit_id).where(Draft.round_code == round_code, Draft.unit_id.in_(ids)))
    )
    return latest, open_counts, drafts


def unit_progress(session: Session, units: list[PilotUnit], round_code: str) -> list[UnitProgress]:
    ids = [u.id for u in units]
    latest, open_counts, drafts = _facts(session, ids, round_code) if ids else ({}, {}, set())
    out = []
    for unit in units:
        version, sid, score, evaluated = latest.get(unit.id, (0, None, None, False))
        count = open_counts.get(unit.id, 0)
        out.append(
            UnitProgress(
                unit, state_of(version, evaluated, count, unit.id in drafts), version, score, count, sid
            )
        )
    return out


def days_left(due: date, today: date) -> int:
    return (due - today).days


def reported_counts(
    session: Session, units: Select[tuple[PilotUnit]], rounds: list[Round]
) -> dict[str, tuple[int, int]]:
    """Per round: (units of the selection that reported, units of the selection); counted in the
    database, the units not loaded."""
    ids = units.with_only_columns(PilotUnit.id).order_by(None)
    total = session.scalar(select(func.count()).select_from(ids.subquery())) or 0
    out: dict[str, tuple[int, int]] = {}
    for round_ in rounds:
        done = session.scalar(
            select(func.count(func.distinct(Submission.unit_id))).where(
                Submission.round_code == round_.code, Submission.unit_id.in_(ids)
            )
        )
        out[round_.code] = (done or 0, total)
    return out


def state_counts(session: Session, units: Select[tuple[PilotUnit]], round_code: str) -> dict[str, int]:
    """How many of the units (a query) are in each report state of the round (every state, zero
    included), told apart and counted in the database (a province has 10,000 units): `state_of` in SQL."""
    ids = units.with_only_columns(PilotUnit.id).order_by(None).subquery()
    newest = (
        select(Submission.unit_id, func.max(Submission.version).label("version"))
        .where(Submission.round_code == round_code)
        .group_by(Submission.unit_id)
        .subquery()
    )
    with_problems = (
        select(Finding.unit_id)
        .where(
            Finding.round_code == round_code,
            Finding.status.in_(ACTIVE_STATUSES),
            Finding.severity != "info",
        )
        .group_by(Finding.unit_id)
        .subquery()
    )
    drafted = select(Draft.unit_id).where(Draft.round_code == round_code).subquery()
    # one look-up on the unique submission id (a join to evaluations was planned as a hash join over
    # every evaluation of every round: most of the supervisor home's time at 10,000 units)
    evaluated = select(Evaluation.id).where(Evaluation.submission_id == Submission.id).exists()
    state = case(
        (newest.c.version.is_(None), case((drafted.c.unit_id.is_not(None), "draft"), else_="not_started")),
        (~evaluated, "submitted"),
        (with_problems.c.unit_id.is_not(None), "problems"),
        else_="evaluated",
    ).label("state")
    rows = session.execute(
        select(state, func.count())
        .select_from(ids)
        .outerjoin(newest, newest.c.unit_id == ids.c.id)
        .outerjoin(
            Submission,
            (Submission.unit_id == newest.c.unit_id)
            & (Submission.round_code == round_code)
            & (Submission.version == newest.c.version),
        )
        .outerjoin(with_problems, with_problems.c.unit_id == ids.c.id)
        .outerjoin(drafted, drafted.c.unit_id == ids.c.id)
        .group_by(state)
    ).all()
    counts = dict.fromkeys(STATES, 0)
    counts.update({name: count for name, count in rows})
    return counts
