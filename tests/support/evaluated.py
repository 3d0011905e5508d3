"""Reports stored and evaluated in the test's own process, for tests of what is read from them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.evaluation.evaluate import evaluate_submission
from shared import db, events, tasks
from shared.celery_app import make_celery
from shared.models import Base, PilotUnit, Submission, utcnow


def store_and_evaluate(report: dict[str, Any], at: datetime | None = None) -> str:
    """Store `report` (as the API takes it) as the unit's next version and evaluate it at once."""
    at = at or utcnow()
    with db.transaction() as session:
        unit = session.scalars(select(PilotUnit).where(PilotUnit.credit_code == report["unit"])).one()
        version = (
            session.scalar(
                select(func.max(Submission.version)).where(
                    Submission.unit_id == unit.id, Submission.round_code == report["round"]
                )
            )
            or 0
        )
        submission = Submission(
            unit_id=unit.id,
            round_code=report["round"],
            version=version + 1,
            measures=report["measures"],
            indicators=report["indicators"],
            submitted_at=at,
        )
        session.add(submission)
        session.flush()
        evaluate_submission(session, submission.id, at)
        return submission.id


def submit_to_worker(report: dict[str, Any], round_code: str, at: datetime) -> str:
    """Store `report` as the unit's next version, submitted at `at`, and send its event to the
    evaluation queue, as intake does: a real worker evaluates it."""
    submission_id, payload = store_for_worker(report, round_code, at)
    send_to_worker(payload)
    return submission_id


def store_for_worker(report: dict[str, Any], round_code: str, at: datetime) -> tuple[str, dict[str, Any]]:
    """Store `report` as the unit's next version; return its id and the event intake would send."""
    with db.transaction() as session:
        unit = session.scalars(select(PilotUnit).where(PilotUnit.credit_code == report["unit"])).one()
        version = (
            session.scalar(
                select(func.max(Submission.version)).where(
                    Submission.unit_id == unit.id, Submission.round_code == round_code
                )
            )
            or 0
        )
        submission = Submission(
            unit_id=unit.id,
            round_code=round_code,
            version=version + 1,
            submitted_at=at,
            measures=report["measures"],
            indicators=report["indicators"],
        )
        session.add(submission)
        session.flush()
        payload = events.load(
            events.SubmissionReceived,
            events.envelope(
                submission_id=submission.id,
                unit_credit_code=unit.credit_code,
                district_code=unit.district_code,
                round_code=round_code,
            ),
        )
    return submission.id, payload


def send_to_worker(payload: dict[str, Any]) -> None:
    make_celery("test").send_task(tasks.EVALUATE_SUBMISSION, args=[payload])


def table_counts(session: Session) -> dict[str, int]:
    """The number of rows in every table: a test compares it before and after to prove nothing was stored."""
    return {
        t.name: session.scalar(select(func.count()).select_from(t)) or 0 for t in Base.metadata.sorted_tables
    }
