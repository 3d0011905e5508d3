"""Re-evaluation of a whole round, in chunks spread over the evaluation workers, with its progress."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from services.evaluation.evaluate import reevaluate_units
from shared import events, outbox
from shared.models import OutboxEvent, ReevaluationJob, Submission


def chunks(session: Session, round_code: str, size: int) -> list[list[int]]:
    """The ids of the units with a report in the round, in chunks of `size`."""
    ids = sorted(set(session.scalars(select(Submission.unit_id).where(Submission.round_code == round_code))))
    return [ids[i : i + size] for i in range(0, len(ids), size)]


def start(session: Session, round_code: str, size: int) -> tuple[ReevaluationJob, list[OutboxEvent]]:
    """Record a job and one ReevaluationRequested event per chunk, in the caller's transaction."""
    parts = chunks(session, round_code, size)
    job = ReevaluationJob(round_code=round_code, total=sum(len(p) for p in parts), chunks=len(parts))
    session.add(job)
    session.flush()
    requests = [
        outbox.add(session, events.ReevaluationRequested, job_id=job.id, round_code=round_code, unit_ids=part)
        for part in parts
    ]
    return job, requests


def run_chunk(
    session: Session, job_id: str, round_code: str, unit_ids: list[int], now: datetime
) -> list[OutboxEvent]:
    produced = reevaluate_units(session, round_code, unit_ids, now)
    opened = sum(
        len(e.payload["finding_ids"])
        for e in produced
        if e.task_name == events.task_of(events.FindingsOpened)
    )
    resolved = sum(
        len(e.payload["finding_ids"])
        for e in produced
        if e.task_name == events.task_of(events.FindingsResolved)
    )
    session.execute(
        update(ReevaluationJob)
        .where(ReevaluationJob.id == job_id)
        .values(
            done=ReevaluationJob.done + len(unit_ids),
            chunks_done=ReevaluationJob.chunks_done + 1,
            opened=ReevaluationJob.opened + opened,
            resolved=ReevaluationJob.resolved + resolved,
        )
    )
    session.execute(
        update(ReevaluationJob)
        .where(ReevaluationJob.id == job_id, ReevaluationJob.chunks_done >= ReevaluationJob.chunks)
        .values(finished_at=now)
    )
    return produced
