"""The outbox: events validated by their schema when added, and each queue's events relayed by that
queue's own worker, so one service being down never holds back another's messages."""

from __future__ import annotations

from datetime import timedelta

import pytest
import redis
from marshmallow import ValidationError

from shared import db, events, outbox, tasks
from shared.celery_app import make_celery
from shared.models import OutboxEvent, utcnow


def add_old(event: type[events.Event], **values: object) -> str:
    with db.transaction() as session:
        row = outbox.add(session, event, **values)
        row.created_at = utcnow() - timedelta(minutes=5)
        return row.id


def test_it_refuses_an_event_its_schema_refuses(env: dict[str, str]) -> None:
    with db.transaction() as session, pytest.raises(ValidationError):
        outbox.add(
            session, events.FindingsOpened, district_code="350102", round_code="2026H2", finding_ids=[]
        )


def test_it_binds_every_event_to_the_task_of_its_consumer() -> None:
    assert {tasks.queue_of(name) for name in events.ROUTES.values()} == set(tasks.QUEUES)
    assert events.task_of(events.SubmissionReceived) == tasks.EVALUATE_SUBMISSION


def test_it_relays_only_the_events_addressed_to_the_relaying_queue(env: dict[str, str]) -> None:
    to_notify = add_old(events.DeliveryRequested, delivery_id=7)
    to_evaluation = add_old(
        events.SubmissionReceived,
        submission_id="s1",
        unit_credit_code="91350100611300758B",
        district_code="350102",
        round_code="2026H2",
    )
    assert outbox.relay(make_celery("test"), tasks.NOTIFY_QUEUE) == 1
    with db.transaction() as session:
        assert session.get(OutboxEvent, to_notify).published_at is not None
        assert session.get(OutboxEvent, to_evaluation).published_at is None
    queues = redis.Redis.from_url(env["REDIS_URL"])
    assert (queues.llen(tasks.NOTIFY_QUEUE), queues.llen(tasks.EVALUATION_QUEUE)) == (1, 0)
    assert outbox.relay(make_celery("test"), tasks.EVALUATION_QUEUE) == 1
    assert queues.llen(tasks.EVALUATION_QUEUE) == 1
