"""The pipeline on RabbitMQ (BROKER_URL=amqp://...) with quorum queues, through real processes: a
burst evaluated and alerted once each, two evaluation workers sharing the queue as an office adds a
second machine, and a worker SIGKILLed mid-task whose message RabbitMQ hands out again at once.
Each test has a throwaway virtual host; without RabbitMQ they skip and say why."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest
from kombu.transport.native_delayed_delivery import (
    bind_queue_to_native_delayed_delivery_exchange,
    declare_native_delayed_delivery_exchanges_and_queues,
)

from shared import config, events, tasks
from shared.catalogue import Catalogue
from shared.celery_app import make_celery
from tests.support import rabbitmq
from tests.support.faults import (
    GULOU,
    active_findings,
    assert_each_unit_alerted_once,
    burst,
    counts,
    database_held,
    evaluated,
    expected_findings,
    units_of,
)
from tests.support.processes import Stack, wait_until
from tests.support.reports import open_round
from tests.support.sinks import HttpSink, SmtpSink

pytestmark = pytest.mark.e2e
BURST = 12
EVALUATED = re.compile(r"task finished: evaluation\.evaluate_submission SUCCESS")
READY = re.compile(r"(evaluation-\d+@\S+) ready\.")


@pytest.fixture
def broker_url() -> Iterator[str]:
    reason = rabbitmq.unavailable()
    if reason:
        pytest.skip(reason)
    with rabbitmq.throwaway_vhost() as url:
        yield url


@pytest.fixture
def on_rabbitmq(broker_url: str, stack: Stack) -> Stack:
    """The test's processes with RabbitMQ as their broker; Redis stays for login throttles."""
    stack.env["BROKER_URL"] = broker_url
    return stack


def settle(smtp: SmtpSink, hook: HttpSink, units: list[str]) -> None:
    wait_until(lambda: len(smtp.messages) and len(hook.requests), 60, "the alerts")
    time.sleep(3)  # a doubled alert would arrive within this window
    assert_each_unit_alerted_once(smtp, hook, units)


def test_it_evaluates_a_burst_on_quorum_queues_and_alerts_each_unit_once(
    on_rabbitmq: Stack, tokens: dict[str, str], catalogue: Catalogue, sinks: tuple[SmtpSink, HttpSink]
) -> None:
    on_rabbitmq.start("intake", "evaluation", "notify", "beat")
    units, round_code = units_of(GULOU, BURST), open_round()
    ids = burst(on_rabbitmq.url, tokens["gulou"], catalogue, units, round_code)
    wait_until(lambda: evaluated(ids) == BURST, 60, f"all {BURST} reports evaluated")
    assert active_findings(units) == expected_findings(catalogue, units, round_code)
    settle(*sinks, units)
    assert counts()["evaluations"] == counts()["submissions"] == BURST
    queues = rabbitmq.queues(on_rabbitmq.env["BROKER_URL"])
    assert queues["evaluation"]["type"] == queues["notify"]["type"] == "quorum"


def test_it_shares_the_evaluation_queue_between_two_workers(
    on_rabbitmq: Stack, tokens: dict[str, str], catalogue: Catalogue, sinks: tuple[SmtpSink, HttpSink]
) -> None:
    on_rabbitmq.start("intake", "evaluation", "evaluation", "notify", "beat")
    workers = [on_rabbitmq.services[key] for key in on_rabbitmq.services if key.startswith("evaluation")]
    names = {name for worker in workers for name in READY.findall(worker.output())}
    assert len(names) == 2, names  # two node names, as on two machines
    wait_until(
        lambda: rabbitmq.queues(on_rabbitmq.env["BROKER_URL"])["evaluation"]["consumers"] == "2",
        15,
        "two consumers on the evaluation queue",
    )
    units, round_code = units_of(GULOU, BURST), open_round()
    ids = burst(on_rabbitmq.url, tokens["gulou"], catalogue, units, round_code)
    wait_until(lambda: evaluated(ids) == BURST, 60, f"all {BURST} reports evaluated")

    def handled() -> list[int]:
        return [len(EVALUATED.findall(worker.output())) for worker in workers]

    # every event handled once (a worker takes waiting reports with its own, whose events then find
    # them evaluated), and by both workers
    wait_until(lambda: sum(handled()) == BURST, 30, f"all {BURST} events handled: {handled()}")
    assert min(handled()) > 0, f"events per worker: {handled()}"
    assert active_findings(units) == expected_findings(catalogue, units, round_code)
    settle(*sinks, units)
    assert counts()["evaluations"] == BURST


def test_it_hands_a_killed_workers_task_to_the_next_worker_at_once(
    on_rabbitmq: Stack, tokens: dict[str, str], catalogue: Catalogue, sinks: tuple[SmtpSink, HttpSink]
) -> None:
    # RabbitMQ needs no visibility timeout: it requeues when the dead worker's connection drops, long
    # before the default timeout (five minutes) used with Redis.
    assert config.load(on_rabbitmq.env).broker_visibility_timeout == 300
    on_rabbitmq.start("intake", "notify")
    units, round_code = units_of(GULOU, 6), open_round()
    ids = burst(on_rabbitmq.url, tokens["gulou"], catalogue, units, round_code)
    with database_held(on_rabbitmq.env["DATABASE_URL"]):  # the worker's first write waits: it is mid-task
        on_rabbitmq.start("evaluation")
        wait_until(
            lambda: (
                "task started: evaluation.evaluate_submission" in on_rabbitmq.services["evaluation"].output()
            ),
            30,
            "the evaluation worker to take a report",
        )
        on_rabbitmq.services["evaluation"].kill()
        on_rabbitmq.services["evaluation"].process.wait(timeout=10)
    assert evaluated(ids) == 0
    wait_until(
        lambda: rabbitmq.queues(on_rabbitmq.env["BROKER_URL"])["evaluation"]["ready"] == str(len(ids)),
        10,
        "the killed worker's report back in the queue",
    )
    started = time.monotonic()
    on_rabbitmq.start("evaluation", "beat")
    wait_until(lambda: evaluated(ids) == len(ids), 30, "all reports evaluated, well before any timeout")
    assert time.monotonic() - started < 30
    assert active_findings(units) == expected_findings(catalogue, units, round_code)
    settle(*sinks, units)
    assert counts()["evaluations"] == len(ids)


def test_it_delivers_a_sub_second_countdown_after_a_second(broker_url: str) -> None:
    app = make_celery("test", config.load({"PILOTWATCH_ENV": "test", "BROKER_URL": broker_url}))
    queue = app.amqp.queues[tasks.NOTIFY_QUEUE]
    with app.connection_for_write() as connection:  # what a notify worker declares when it starts
        queue(connection.default_channel).declare()
        declare_native_delayed_delivery_exchanges_and_queues(connection, "quorum")
        bind_queue_to_native_delayed_delivery_exchange(connection, queue)
    # Celery alone refuses this on quorum queues ("countdown must be a positive number").
    app.send_task(tasks.FLUSH_ALERTS, args=[events.envelope()], countdown=0.3)
    wait_until(
        lambda: rabbitmq.queues(broker_url)[tasks.NOTIFY_QUEUE]["ready"] == "1",
        15,
        "the task in the notify queue once its second has passed",
    )
