"""The same event delivered again and again, and one message redelivered past the cap."""

from __future__ import annotations

import time
import uuid

import pytest
from sqlalchemy import select

from shared import db, redelivery, tasks
from shared.catalogue import Catalogue
from shared.celery_app import make_celery
from shared.models import OutboxEvent
from tests.support.faults import (
    GULOU,
    active_findings,
    assert_each_unit_alerted_once,
    burst,
    counts,
    evaluated,
    expected_findings,
    units_of,
)
from tests.support.processes import Stack, wait_until
from tests.support.reports import open_round
from tests.support.sinks import HttpSink, SmtpSink

pytestmark = pytest.mark.e2e
REPORTS = 4


def replay_every_event(times: int) -> int:
    """Publish every event of the outbox again, same event ids: submissions, findings, send requests."""
    with db.transaction() as session:
        stored = [(e.task_name, e.payload) for e in session.scalars(select(OutboxEvent))]
    producer = make_celery("replay")
    for _ in range(times):
        for name, payload in stored:
            producer.send_task(name, args=[payload])
    return len(stored)


def test_it_changes_nothing_when_every_event_is_delivered_twice_more(
    faulty: Stack, tokens: dict[str, str], catalogue: Catalogue, sinks: tuple[SmtpSink, HttpSink]
) -> None:
    smtp, hook = sinks
    faulty.start("intake", "evaluation", "notify", "beat")
    units, round_code = units_of(GULOU, REPORTS), open_round()
    ids = burst(faulty.url, tokens["gulou"], catalogue, units, round_code)
    wait_until(lambda: evaluated(ids) == REPORTS, 60, "all reports evaluated")
    wait_until(
        lambda: (
            {u for u in units if any(u in t for t in smtp.texts())} == set(units)
            and len(hook.delivered()) == len(smtp.messages)
        ),
        60,
        "the alerts",
    )
    before = counts()
    replayed = replay_every_event(2)
    assert replayed >= REPORTS * 2  # the submissions' events, the findings' events and the send requests
    time.sleep(6)  # the replayed events are handled within this window (and a double would show)
    assert counts() == before
    assert active_findings(units) == expected_findings(catalogue, units, round_code)
    assert_each_unit_alerted_once(smtp, hook, units)


def test_it_stops_running_a_message_delivered_more_often_than_the_cap_and_keeps_it(
    faulty: Stack, tokens: dict[str, str], catalogue: Catalogue
) -> None:
    faulty.env.update(MAX_REDELIVERIES="2")
    faulty.start("intake", "evaluation")
    units, round_code = units_of(GULOU, 1), open_round()
    ids = burst(faulty.url, tokens["gulou"], catalogue, units, round_code)
    wait_until(lambda: evaluated(ids) == 1, 60, "the report evaluated")
    with db.transaction() as session:
        payload = session.scalars(
            select(OutboxEvent.payload).where(OutboxEvent.task_name == tasks.EVALUATE_SUBMISSION)
        ).one()
    message_id = f"poison-{uuid.uuid4().hex}"
    producer = make_celery("replay")
    for _ in range(4):  # one message (one task id) delivered four times, as after three crashes
        producer.send_task(tasks.EVALUATE_SUBMISSION, args=[payload], task_id=message_id)
    buried = wait_until(
        lambda: redelivery.dead_letters().get(message_id), 30, "the message in the dead letters"
    )
    wait_until(
        lambda: redelivery.dead_letters()[message_id]["deliveries"] == 4, 30, "the fourth delivery buried"
    )
    assert buried["task"] == tasks.EVALUATE_SUBMISSION and buried["args"] == [payload]
    assert "MAX_REDELIVERIES" in faulty.services["evaluation"].output()
    assert counts()["evaluations"] == 1
