"""The database-backed gauges of `shared.metrics`, one query each."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared import config, outbox
from shared.models import ACTIVE_STATUSES, Channel, Delivery, DeliveryAttempt, Finding, OutboxEvent


def outbox_backlog(session: Session) -> GaugeMetricFamily:
    unmarked = session.scalar(
        select(func.count()).select_from(OutboxEvent).where(OutboxEvent.published_at.is_(None))
    )
    # Events already sent but not yet marked by the relay (noted in Redis) are not backlog.
    count = max((unmarked or 0) - outbox.noted(config.current()), 0)
    return GaugeMetricFamily(
        "pilotwatch_outbox_backlog", "Events stored but not yet published to the broker", value=count
    )


def dead_letters(session: Session) -> GaugeMetricFamily:
    count = session.scalar(select(func.count()).select_from(Delivery).where(Delivery.status == "failed"))
    return GaugeMetricFamily(
        "pilotwatch_dead_letter_deliveries",
        "Deliveries given up after their last attempt (see the delivery log)",
        value=count or 0,
    )


def deliveries(session: Session) -> GaugeMetricFamily:
    family = GaugeMetricFamily(
        "pilotwatch_deliveries",
        "Deliveries by channel kind and current status",
        labels=["channel_kind", "status"],
    )
    rows = session.execute(
        select(Channel.kind, Delivery.status, func.count())
        .join(Channel, Delivery.channel)
        .group_by(Channel.kind, Delivery.status)
    )
    for kind, status, count in rows:
        family.add_metric([kind, status], count)
    return family


def delivery_attempts(session: Session) -> GaugeMetricFamily:
    family = GaugeMetricFamily(
        "pilotwatch_delivery_attempts",
        "Delivery attempts by channel kind and outcome",
        labels=["channel_kind", "outcome"],
    )
    rows = session.execute(
        select(Channel.kind, DeliveryAttempt.outcome, func.count())
        .join(Delivery, DeliveryAttempt.delivery_id == Delivery.id)
        .join(Channel, Delivery.channel_id == Channel.id)
        .group_by(Channel.kind, DeliveryAttempt.outcome)
    )
    for kind, outcome, count in rows:
        family.add_metric([kind, outcome], count)
    return family


def open_findings(session: Session) -> GaugeMetricFamily:
    family = GaugeMetricFamily(
        "pilotwatch_open_findings", "Findings not yet resolved, by severity", labels=["severity"]
    )
    rows = session.execute(
        select(Finding.severity, func.count())
        .where(Finding.status.in_(ACTIVE_STATUSES))
        .group_by(Finding.severity)
    )
    for severity, count in rows:
        family.add_metric([severity], count)
    return family


QUERIES: dict[str, Callable[[Session], GaugeMetricFamily]] = {
    "outbox_backlog": outbox_backlog,
    "dead_letters": dead_letters,
    "deliveries": deliveries,
    "delivery_attempts": delivery_attempts,
    "open_findings": open_findings,
}
