"""Thin Celery tasks for alerts and deliveries."""

from __future__ import annotations

import logging
from typing import Any

from celery import Task, current_app, shared_task
from marshmallow import fields
from sqlalchemy.exc import OperationalError

from services.notify import alerts
from services.notify.transports import TransportError, transport_for
from shared import config, db, events, outbox, tasks
from shared.models import Delivery, utcnow

log = logging.getLogger(__name__)


class DeliveryRequested(events.Event):
    """Internal to the notify service: send one delivery."""

    delivery_id = fields.Integer(required=True)


@shared_task(name=tasks.NOTIFY_FINDINGS_OPENED, bind=True, max_retries=10)
def findings_opened(self: Task, event: dict[str, Any]) -> None:
    data = events.FindingsOpened().load(event)
    try:
        with db.transaction() as session:
            produced = alerts.open_alert(session, data)
    except OperationalError as exc:
        raise self.retry(countdown=1 + self.request.retries) from exc
    log.info("alert for %s: %d delivery request(s)", data["district_code"], len(produced))
    outbox.publish(current_app, produced)


@shared_task(name=tasks.SEND_DELIVERY, bind=True, max_retries=None)
def send_delivery(self: Task, event: dict[str, Any]) -> str:
    data = DeliveryRequested().load(event)
    settings = config.current()
    with db.transaction() as session:
        delivery = alerts.claim(session, data["delivery_id"], self.request.id)
        if delivery is None:
            return "already handled"
        url, message = delivery.channel.url, alerts.message_of(delivery)
    try:
        detail = transport_for(url, settings.http_timeout).notify(message)
    except TransportError as error:
        with db.transaction() as session:
            delivery = session.get(Delivery, data["delivery_id"])
            retry = alerts.record_failure(session, delivery, error, utcnow(), settings.delivery_max_attempts)
            attempts = delivery.attempts
        log.warning("delivery %s failed (%s): %s", data["delivery_id"],
                    "will retry" if retry else "permanent" if error.permanent else "gave up", error.message)
        if retry:
            raise self.retry(countdown=alerts.backoff(attempts, settings.delivery_backoff)) from None
        return "failed"
    with db.transaction() as session:
        alerts.record_success(session, session.get(Delivery, data["delivery_id"]), detail, utcnow())
    log.info("delivery %s delivered: %s", data["delivery_id"], detail)
    return "delivered"
