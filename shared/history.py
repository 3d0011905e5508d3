"""A read model of units' reports across rounds: the latest version of each unit's report in a round,
and the reports of the rounds before it. Evaluation and the rule preview read the same history."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from shared.models import Evaluation, Round, Submission
from shared.rules.engine import PastReport

# How many earlier rounds a report is compared with: enough for a year's stagnation, the same half of
# last year and a rule starting from a unit's third round (shared/catalogue/schema.py MAX_FROM_ROUND).
HISTORY_ROUNDS = 3


def latest_submissions(
    session: Session, round_code: str, unit_ids: Iterable[int] | None = None
) -> list[Submission]:
    """Each unit's newest report of the round (of the given units, or of every unit that reported)."""
    query = (
        select(Submission)
        .where(Submission.round_code == round_code)
        .options(selectinload(Submission.unit), selectinload(Submission.evaluation))
        .order_by(Submission.unit_id, Submission.version)
    )
    if unit_ids is not None:
        query = query.where(Submission.unit_id.in_(list(unit_ids)))
    return list({s.unit_id: s for s in session.scalars(query)}.values())


def earlier_rounds(session: Session, round_: Round, count: int = HISTORY_ROUNDS) -> list[str]:
    """The codes of the `count` rounds due before this one, newest first."""
    return list(
        session.scalars(
            select(Round.code)
            .where(Round.due_date < round_.due_date)
            .order_by(Round.due_date.desc())
            .limit(count)
        )
    )


def history(session: Session, round_: Round, unit_ids: Iterable[int]) -> dict[int, tuple[PastReport, ...]]:
    """Per unit, its latest report of each of the earlier rounds, newest first."""
    earlier = earlier_rounds(session, round_)
    if not earlier:
        return {}
    order = {code: i for i, code in enumerate(earlier)}
    latest: dict[tuple[int, str], PastReport] = {}
    rows = session.execute(
        select(
            Submission.unit_id,
            Submission.round_code,
            Submission.measures,
            Submission.indicators,
            Evaluation.overall_score,
        )
        .outerjoin(Evaluation, Evaluation.submission_id == Submission.id)
        .where(Submission.unit_id.in_(list(unit_ids)), Submission.round_code.in_(earlier))
        .order_by(Submission.version)
    ).all()
    for unit_id, round_code, measures, indicators, score in rows:
        latest[(unit_id, round_code)] = PastReport(round_code, measures, indicators, score)
    out: dict[int, list[PastReport]] = defaultdict(list)
    for (unit_id, _round), past in sorted(latest.items(), key=lambda kv: order[kv[0][1]]):
        out[unit_id].append(past)
    return {unit_id: tuple(pasts) for unit_id, pasts in out.items()}
