"""Thin Celery tasks of the intake's worker: validate the event, call the use case."""

from __future__ import annotations

import logging
from typing import Any

from celery import Task, current_app, shared_task
from sqlalchemy.exc import OperationalError

from services.intake import documents, figures, sheet_imports
from shared import db, events, outbox, tasks

log = logging.getLogger(__name__)


@shared_task(name=tasks.GENERATE_DOCUMENT, bind=True, max_retries=5)
def generate_document(self: Task, event: dict[str, Any]) -> str:
    data = events.load(events.DocumentRequested, event)
    try:
        state = documents.generate(data["job_id"])
    except OperationalError as exc:  # the database was busy or away: try again
        log.warning("document %s retried: %s", data["job_id"], exc)
        raise self.retry(countdown=1 + self.request.retries) from exc
    log.info("document %s: %s", data["job_id"], state)
    return state


@shared_task(name=tasks.IMPORT_SHEET, bind=True, max_retries=5)
def import_sheet(self: Task, event: dict[str, Any]) -> str:
    data = events.load(events.SheetUploaded, event)
    try:
        state = sheet_imports.run(data["import_id"], current_app)
    except OperationalError as exc:  # the database was busy or away: try again
        log.warning("sheet %s retried: %s", data["import_id"], exc)
        raise self.retry(countdown=1 + self.request.retries) from exc
    log.info("sheet %s: %s", data["import_id"], state)
    return state


@shared_task(name=tasks.RELAY_OUTBOX[tasks.INTAKE_QUEUE])
def relay_outbox() -> int:
    """Publish the events for this queue that their producer could not (the broker was down)."""
    return outbox.relay(current_app, tasks.INTAKE_QUEUE)


@shared_task(name=tasks.KEEP_FIGURES)
def keep_figures() -> dict[str, float]:
    """Compute again the figures a supervisor opens first, where their rounds changed."""
    with db.transaction() as session:
        return figures.keep(session)
