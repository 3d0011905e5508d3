"""Pending alert items grouped into alerts when their group is ready, leaving muted ones waiting."""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from services.notify import alerts, decide
from shared.models import AlertGroup, AlertItem, MuteWindow, OutboxEvent

log = logging.getLogger(__name__)


class GroupTaken(Exception):
    """Another flush sent some of these items first; this one rolls back and leaves them to it."""


def active_windows(session: Session, now: datetime) -> list[decide.Window]:
    rows = session.scalars(select(MuteWindow).where(MuteWindow.starts_at <= now, MuteWindow.ends_at > now))
    return [decide.Window(w.district_code, w.starts_at, w.ends_at) for w in rows]


def pending_groups(session: Session, now: datetime) -> dict[str, list[AlertItem]]:
    windows = active_windows(session, now)
    groups: dict[str, list[AlertItem]] = defaultdict(list)
    for pending in session.scalars(
        select(AlertItem).where(AlertItem.status == "pending").order_by(AlertItem.id)
    ):
        if not decide.muted(windows, pending.district_code, pending.severity, now):
            key = decide.group_key(pending.district_code, pending.audience, pending.kind, pending.round_code)
            groups[key].append(pending)
    return groups


def send_group(session: Session, key: str, items: list[AlertItem], now: datetime) -> list[OutboxEvent]:
    alert, requests = alerts.make_alert(session, items, now)
    taken = session.execute(
        update(AlertItem)
        .where(
            AlertItem.id.in_([i.id for i in items]),
            AlertItem.status == "pending",
        )
        .values(status="sent", alert_id=alert.id)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != len(items):
        raise GroupTaken(key)
    group = session.get(AlertGroup, key)
    if group is None:
        session.add(AlertGroup(key=key, last_sent_at=now))
    else:
        group.last_sent_at = now
    log.info(
        "alert %s (%s, %d item(s)) with %d delivery request(s)", alert.id, key, len(items), len(requests)
    )
    return requests


def flush(session: Session, now: datetime, timing: decide.Timing) -> list[OutboxEvent]:
    """Make an alert of every group of pending items that is ready."""
    requests: list[OutboxEvent] = []
    pending = pending_groups(session, now)
    # every group's last sending in one query: each look-up below then finds it in the session
    sent = {g.key: g for g in session.scalars(select(AlertGroup).where(AlertGroup.key.in_(list(pending))))}
    for key, items in pending.items():
        group = sent.get(key)
        oldest = min(i.created_at for i in items)
        if decide.group_ready(items[0].kind, oldest, group.last_sent_at if group else None, now, timing):
            requests += send_group(session, key, items, now)
    return requests
