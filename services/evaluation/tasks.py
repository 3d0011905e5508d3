"""Thin Celery tasks: validate the event, call the evaluation, publish what it produced."""

from __future__ import annotations

import logging
from typing import Any

from celery import Task, current_app, shared_task
from sqlalchemy.exc import IntegrityError, OperationalError

from services.evaluation import outliers, reevaluate, timeliness
from services.evaluation.evaluate import Lately, evaluate_arrived
from shared import clock, config, db, events, kept, outbox, tasks

log = logging.getLogger(__name__)
# the reports this process's batches evaluated: their own events, queued behind, are done already
lately = Lately()


@shared_task(name=tasks.EVALUATE_SUBMISSION, bind=True, max_retries=10)
def evaluate_submission(self: Task, event: dict[str, Any]) -> None:
    """Evaluate the report the event names and, in the same transaction, up to EVALUATION_BATCH - 1
    others that arrived around it and still wait: a backlog is read and written a batch at a time."""
    data = events.load(events.SubmissionReceived, event)
    own = data["submission_id"]
    if own in lately:
        log.info("submission %s evaluated already, in a batch of this worker", own)
        return
    # a retry was a clash with another worker or a busy database: it takes only its own report
    batch = 1 if self.request.retries else config.current().evaluation_batch
    with kept.raises_held():  # the round's numbers go to Redis with the events' note
        try:
            with db.transaction() as session:
                produced, evaluated = evaluate_arrived(session, own, data["request_id"], clock.now(), batch)
        except (IntegrityError, OperationalError) as exc:
            # Another worker evaluated a racing resubmission, or the database was busy: try again.
            log.warning("evaluation of %s retried: %s", own, exc)
            raise self.retry(countdown=1 + self.request.retries) from exc
        lately.note(evaluated)
        log.info("submission %s evaluated; %d event(s) to publish", own, len(produced))
        outbox.publish(current_app, produced)


@shared_task(name=tasks.RELAY_OUTBOX[tasks.EVALUATION_QUEUE])
def relay_outbox() -> int:
    """Publish the events for this queue that their producer could not (the broker was down)."""
    return outbox.relay(current_app, tasks.EVALUATION_QUEUE)


@shared_task(name=tasks.CHECK_TIMELINESS)
def check_timeliness() -> int:
    """Reminders, then missing reports, as of the clock's now; returns how many events it made."""
    with db.transaction() as session:
        produced = timeliness.check(session, clock.now())
    outbox.publish(current_app, produced)
    return len(produced)


@shared_task(name=tasks.CHECK_OUTLIERS, bind=True, max_retries=5)
def check_outliers(self: Task) -> int:
    """Cohort outliers over every open round's latest reports; returns how many events it made."""
    try:
        with db.transaction() as session:
            produced = outliers.check(session, clock.now())
    except (IntegrityError, OperationalError) as exc:
        raise self.retry(countdown=2 + self.request.retries) from exc
    outbox.publish(current_app, produced)
    return len(produced)


@shared_task(name=tasks.REEVALUATE_CHUNK, bind=True, max_retries=10)
def reevaluate_chunk(self: Task, event: dict[str, Any]) -> int:
    data = events.load(events.ReevaluationRequested, event)
    try:
        with db.transaction() as session:
            produced = reevaluate.run_chunk(
                session, data["job_id"], data["round_code"], data["unit_ids"], clock.now()
            )
    except OperationalError as exc:
        log.warning("re-evaluation chunk of job %s retried: %s", data["job_id"], exc)
        raise self.retry(countdown=1 + self.request.retries) from exc
    outbox.publish(current_app, produced)
    return len(data["unit_ids"])
