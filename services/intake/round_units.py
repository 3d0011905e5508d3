"""A round's reports and problems summed up per unit, held by each process and brought up to date with
the units a change touched.

The league tables, the score lists, the case hints and the units to chase read, for every unit of a
round, when it first reported, its latest score, its newest report, and its problems counted. At a
province's size that is some 15,000 reports and 50,000 problems of 10,000 units, and reading them all
again after every report or ledger action took most of a dashboard's second. A process holds them per
round under the numbers of shared/kept.py (the register's, the one of every round, and the round's own:
of its reports for the reports, of all its data for the problems): when only the round's number has
moved on, the units the changes since then touched (noted with each raise) are read again, and
nothing else.

They are read whole again when anything else moved, when a raise has no units noted (or its note was
dropped as old), when more than `READ_WHOLE` units were touched, after `kept.KEEP_SECONDS` (a raise lost
to a Redis outage is not held longer than kept figures are), and whenever Redis is not reached or the
session has changes of its own not yet committed (then nothing is held).
"""

from __future__ import annotations

import threading
import time
from collections import Counter, OrderedDict, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from sys import intern
from typing import Any, NamedTuple

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import Session

from shared import caches, config, kept
from shared.models import ACTIVE_STATUSES, Evaluation, Finding, PilotUnit, Submission

HELD_ROUNDS = 8  # rounds held per process and kind (the dashboard: its trend of 6, the comparison rounds)
READ_WHOLE = 2_000  # more units touched than this since the rows held: read whole
READ_CHUNK = 500  # unit ids per read of the touched ones
# Not problems to count against a district: records (a late report counts in timeliness instead),
# advice (提示) and findings accepted as not applying.
NOT_COUNTED = ("recorded", "waived")


class UnitResult(NamedTuple):
    """A unit's reports of a round: when it first reported, its latest evaluated report and score, and
    its newest report (evaluated or not)."""

    unit_id: int
    district_code: str
    first_submitted: datetime
    overall_score: float | None
    submission_id: str | None
    batch: int = 0
    latest_id: str = ""
    latest_evaluated: bool = False


class UnitProblems(NamedTuple):
    """A unit's problems of a round, as the league tables, the case hints and the units to chase count
    them (the unit None: the round's problems of no unit)."""

    batch: int  # the unit's pilot batch (0: none known)
    # its counted problems (more than advice, neither a record nor waived) by the district answering
    # each, its status and its resolution mode: (district, status, mode, how many)
    counts: tuple[tuple[str, str, str, int], ...]
    # the days each rectified problem took, by the district that answered it: (district, days)
    rectified: tuple[tuple[str, float], ...]
    critical: bool  # an active 重大问题 (a unit with one is no case to hint at)
    open: bool  # a problem still to rectify: active and more than advice (a unit to chase)


@dataclass(frozen=True)
class _Held:
    base: tuple[str | None, ...]  # the epoch, the register's number and the number of every round
    number: int  # the round's number the units are up to date with (of its reports, or of all)
    read_at: float  # when they were last read whole (monotonic)
    units: dict[Any, Any]


Reader = Callable[[Session, str, "list[int] | None"], dict[Any, Any]]
_HELD: OrderedDict[tuple[str, str, str], _Held] = OrderedDict()
_LOCK = threading.Lock()


def of_round(session: Session, round_code: str) -> dict[int, UnitResult]:
    """Per reporting unit of the round: its reports summed up. Shared by the sessions of the process:
    read it, never change it."""
    return _held(session, "reports", round_code, kept.reports_of(round_code), _read_reports)


def problems_of_round(session: Session, round_code: str) -> dict[int | None, UnitProblems]:
    """Per unit with problems in the round: its problems counted. Shared like `of_round`."""
    return _held(session, "problems", round_code, round_code, _read_problems)


def _held(session: Session, kind: str, round_code: str, numbered: str, read: Reader) -> dict[Any, Any]:
    """What `read` gives for the round, held under the number `numbered` (of the round's reports, or of
    all its data) and brought up to date by reading again only the units changed since."""
    kept.begin_reads(session)
    noted = kept.noted(session)
    if noted is None or session.new or session.dirty or session.deleted or kept.wrote(session):
        return read(session, round_code, None)
    settings = config.current()
    register, numbers, epoch = noted
    number = int(numbers.get(numbered) or 0)
    base = (epoch, register, numbers.get(kept.ALL))
    key = (caches.namespace(settings), kind, round_code)
    with _LOCK:
        held = _HELD.get(key)
    if held is not None and (
        held.base != base
        or held.number > number
        or not caches.fresh(kept.KEEP_SECONDS, held.read_at, time.monotonic())
    ):
        held = None
    if held is not None and held.number == number:
        return held.units
    touched = kept.touched(settings, numbered, held.number, number) if held is not None else None
    if held is not None and touched is not None and len(touched) <= READ_WHOLE:
        units = dict(held.units)
        for unit_id in touched:
            units.pop(unit_id, None)
        units.update(read(session, round_code, sorted(touched)) if touched else {})
        _hold(key, _Held(base, number, held.read_at, units))
        return units
    units = read(session, round_code, None)
    _hold(key, _Held(base, number, time.monotonic(), units))
    return units


def _hold(key: tuple[str, str, str], held: _Held) -> None:
    with _LOCK:
        current = _HELD.get(key)
        if current is not None and current.base == held.base and current.number > held.number:
            return  # another thread of the process brought them further meanwhile
        _HELD[key] = held
        _HELD.move_to_end(key)
        while len(_HELD) > 2 * HELD_ROUNDS:
            _HELD.popitem(last=False)


def read(session: Session, round_code: str, unit_ids: Iterable[int] | None = None) -> dict[int, UnitResult]:
    """The round's reports summed up per unit, read from the database: of every unit, or of these."""
    return _read_reports(session, round_code, sorted(unit_ids) if unit_ids is not None else None)


def read_problems(session: Session, round_code: str) -> dict[int | None, UnitProblems]:
    """The round's problems counted per unit, read from the database."""
    return _read_problems(session, round_code, None)


def _rows(session: Session, query: Select[Any], unit: Any, unit_ids: list[int] | None) -> list[Any]:
    """The rows of `query`: all of them, or those whose `unit` column is one of `unit_ids` (read
    `READ_CHUNK` ids at a time)."""
    if unit_ids is None:
        return list(session.execute(query).all())
    rows = []
    for start in range(0, len(unit_ids), READ_CHUNK):
        rows.extend(session.execute(query.where(unit.in_(unit_ids[start : start + READ_CHUNK]))).all())
    return rows


def _read_reports(session: Session, round_code: str, unit_ids: list[int] | None) -> dict[int, UnitResult]:
    query = (
        select(
            Submission.unit_id,
            PilotUnit.district_code,
            PilotUnit.batch,
            Submission.id,
            Submission.version,
            Submission.submitted_at,
            Evaluation.overall_score,
        )
        .join(PilotUnit, PilotUnit.id == Submission.unit_id)
        .outerjoin(Evaluation, Evaluation.submission_id == Submission.id)
        .where(Submission.round_code == round_code)
        .order_by(Submission.unit_id, Submission.version)
    )
    return _summed(_rows(session, query, Submission.unit_id, unit_ids))


def _summed(rows: list[Any]) -> dict[int, UnitResult]:
    """Rows of reports by unit and version, summed up per unit: the first time, the latest score, the
    newest report."""
    out: dict[int, UnitResult] = {}
    first: datetime | None = None
    scored: tuple[float | None, str | None] = (None, None)
    for at, (unit_id, district, batch, report_id, _version, submitted_at, score) in enumerate(rows):
        if at == 0 or rows[at - 1][0] != unit_id:
            first, scored = submitted_at, (None, None)
        first = min(first, submitted_at)  # type: ignore[type-var]
        if score is not None:
            scored = (score, report_id)
        if at + 1 == len(rows) or rows[at + 1][0] != unit_id:  # the unit's newest report
            out[unit_id] = UnitResult(
                unit_id, intern(district), first, scored[0], scored[1], batch, report_id, score is not None
            )
    return out


def _read_problems(
    session: Session, round_code: str, unit_ids: list[int] | None
) -> dict[int | None, UnitProblems]:
    query = (
        select(
            Finding.unit_id,
            PilotUnit.batch,
            Finding.district_code,
            Finding.status,
            Finding.resolution_mode,
            Finding.severity,
            Finding.active,
            Finding.opened_at,
            Finding.resolved_at,
        )
        .outerjoin(PilotUnit, PilotUnit.id == Finding.unit_id)
        .where(
            Finding.round_code == round_code,
            or_(
                and_(Finding.severity != "info", Finding.status.not_in(NOT_COUNTED)),
                and_(Finding.severity == "critical", Finding.active.is_(True)),
            ),
        )
    )
    batches: dict[int | None, int] = {}
    counts: dict[int | None, Counter[tuple[str, str, str]]] = defaultdict(Counter)
    rectified: dict[int | None, list[tuple[str, float]]] = defaultdict(list)
    critical: set[int | None] = set()
    troubled: set[int | None] = set()
    for unit_id, batch, district, status, mode, severity, active, opened_at, resolved_at in _rows(
        session, query, Finding.unit_id, unit_ids
    ):
        batches[unit_id] = batch or 0
        if severity == "critical" and active:
            critical.add(unit_id)
        if severity == "info" or status in NOT_COUNTED:
            continue
        counts[unit_id][(intern(district), intern(status), intern(mode))] += 1
        if status in ACTIVE_STATUSES:
            troubled.add(unit_id)
        elif resolved_at is not None:
            rectified[unit_id].append((intern(district), (resolved_at - opened_at).total_seconds() / 86400))
    return {
        unit_id: UnitProblems(
            batch,
            tuple((*key, n) for key, n in counts[unit_id].items()),
            tuple(rectified[unit_id]),
            unit_id in critical,
            unit_id in troubled,
        )
        for unit_id, batch in batches.items()
    }
