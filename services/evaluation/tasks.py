"""Thin Celery tasks: validate the event, call the evaluation, publish what it produced."""

from __future__ import annotations

import logging
from typing import Any

from celery import Task, current_app, shared_task
from sqlalchemy.exc import IntegrityError, OperationalError

from services.evaluation.evaluate import evaluate_submission as evaluate
from shared import db, events, outbox, tasks
from shared.models import utcnow

log = logging.getLogger(__name__)


@shared_task(name=tasks.EVALUATE_SUBMISSION, bind=True, max_retries=10)
def evaluate_submission(self: Task, event: dict[str, Any]) -> None:
    data = events.SubmissionReceived().load(event)
    try:
        with db.transaction() as session:
            produced = evaluate(session, data["submission_id"], utcnow(), data["request_id"])
    except (IntegrityError, OperationalError) as exc:
        # Another worker evaluated a racing resubmission, or the database was busy: try again.
        log.warning("evaluation of %s retried: %s", data["submission_id"], exc)
        raise self.retry(countdown=1 + self.request.retries) from exc
    log.info("submission %s evaluated; %d event(s) to publish", data["submission_id"], len(produced))
    outbox.publish(current_app, produced)


@shared_task(name=tasks.RELAY_OUTBOX)
def relay_outbox() -> int:
    return outbox.relay(current_app)
