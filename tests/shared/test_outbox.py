"""The outbox: events validated by their schema when added, and each queue's events relayed by that
queue's own worker, so one service being down never holds back another's messages."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import redis
from marshmallow import ValidationError
from sqlalchemy import select

from ops.redis_server import free_port
from shared import config, db, events, metrics_queries, outbox, tasks
from shared.catalogue import Catalogue
from shared.celery_app import make_celery
from shared.models import Evaluation, OutboxEvent, utcnow
from tests.support.processes import Stack, wait_until
from tests.support.reports import clean_report, open_round, unit_of


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


def fresh_event() -> OutboxEvent:
    with db.transaction() as session:
        return outbox.add(session, events.DeliveryRequested, delivery_id=7)


def published_at(event_id: str) -> object:
    with db.transaction() as session:
        return session.get(OutboxEvent, event_id).published_at


def age(event_id: str) -> None:
    """As if the event had been stored five minutes ago: old enough for the relay to re-send it."""
    with db.transaction() as session:
        session.get(OutboxEvent, event_id).created_at = utcnow() - timedelta(minutes=5)


def test_it_notes_what_it_sent_and_the_relay_marks_it_published_without_sending_it_again(
    env: dict[str, str],
) -> None:
    queues = redis.Redis.from_url(env["REDIS_URL"])
    sent, lost = fresh_event(), fresh_event()
    assert outbox.publish(make_celery("test"), [sent]) == 1
    assert queues.llen(tasks.NOTIFY_QUEUE) == 1
    # the request made one transaction: the mark waits for the relay, noted in Redis
    assert published_at(sent.id) is None and outbox.noted(config.current()) == 1
    with db.transaction() as session:
        assert metrics_queries.outbox_backlog(session).samples[0].value == 1  # `lost` only
    age(sent.id)
    age(lost.id)
    assert outbox.relay(make_celery("test"), tasks.NOTIFY_QUEUE) == 1  # `lost` alone is sent
    assert published_at(sent.id) is not None and published_at(lost.id) is not None
    assert queues.llen(tasks.NOTIFY_QUEUE) == 2 and outbox.noted(config.current()) == 0


def test_it_marks_the_sent_event_itself_when_redis_takes_no_note(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # the queues stay on the working Redis (BROKER_URL); the notes go to one that does not answer
    monkeypatch.setenv("BROKER_URL", env["REDIS_URL"])
    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")
    config.reset()
    event = fresh_event()
    assert outbox.publish(make_celery("test"), [event]) == 1
    assert published_at(event.id) is not None


def test_the_relay_of_a_running_worker_marks_an_api_report_published(
    stack: Stack, client: Any, tokens: dict[str, str], catalogue: Catalogue
) -> None:
    stack.start("evaluation", "beat")
    report = clean_report(catalogue, unit_of("350102"), open_round())
    answer = client.post(
        "/api/v1/submissions", json=report, headers={"Authorization": f"Bearer {tokens['gulou']}"}
    )
    assert answer.status_code == 202
    with db.transaction() as session:
        event = session.scalars(select(OutboxEvent)).one()
    wait_until(lambda: published_at(event.id) is not None, 30, "the relay's mark")
    wait_until(lambda: evaluated(answer.get_json()["id"]), 30, "the evaluation")
    assert outbox.noted(config.current()) == 0


def evaluated(submission_id: str) -> bool:
    with db.transaction() as session:
        return (
            session.scalar(select(Evaluation.id).where(Evaluation.submission_id == submission_id)) is not None
        )
