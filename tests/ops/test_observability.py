"""Metrics and logs through real processes: a real submission, then `/metrics` of the intake and of
both workers, and one request id followed from the HTTP answer into the workers' JSON log lines."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from ops.redis_server import RedisServer
from shared import config, db, events, tasks
from shared.catalogue import Catalogue
from shared.celery_app import make_celery
from shared.models import Channel, Delivery
from tests.support.processes import Stack, wait_until
from tests.support.reports import open_round, problem_report, unit_of
from tests.support.sinks import HttpSink

pytestmark = pytest.mark.e2e
GULOU = "350102"
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(url: str) -> Samples:
    with urllib.request.urlopen(url, timeout=5) as response:
        text = response.read().decode()
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    """Sum of the samples named `name` whose labels include `labels`."""
    wanted = set(labels.items())
    return sum(v for (n, found), v in samples.items() if n == name and wanted <= found)


def names(samples: Samples) -> set[str]:
    return {name for name, _labels in samples}


def metrics_url(stack: Stack, service: str) -> str:
    found = re.search(r'"metrics_port": (\d+)', stack.services[service].output())
    assert found, f"{service} did not log its metrics port:\n{stack.services[service].output()[-2000:]}"
    return f"http://127.0.0.1:{found.group(1)}/metrics"


def log_lines(stack: Stack, service: str) -> list[dict[str, Any]]:
    lines = []
    for line in stack.services[service].output().splitlines():
        if line.startswith("{"):
            lines.append(json.loads(line))
    return lines


@pytest.fixture
def hook() -> Iterator[HttpSink]:
    sink = HttpSink()
    yield sink
    sink.close()


@pytest.fixture
def own_redis() -> Iterator[str]:
    """A Redis of this test alone: messages other tests left in the session's queues would be counted."""
    server = RedisServer().start()
    yield server.url
    server.stop()


@pytest.fixture
def running(own_redis: str, stack: Stack, hook: HttpSink, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    with db.transaction() as session:
        session.add(Channel(district_code=GULOU, kind="json", url=hook.url()))
    monkeypatch.setenv("REDIS_URL", own_redis)
    config.reset()
    stack.env["REDIS_URL"] = own_redis
    yield stack.start("intake", "evaluation", "notify", "beat")
    config.reset()


def submit(stack: Stack, body: dict[str, Any], token: str, **headers: str) -> tuple[int, Any, str]:
    request = urllib.request.Request(
        stack.url + "/api/v1/submissions",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}", **headers},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read()), response.headers.get("X-Request-ID", "")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read()), error.headers.get("X-Request-ID", "")


def delivered() -> bool:
    with db.transaction() as session:
        return any(d.status == "delivered" for d in session.query(Delivery).all())


def test_it_exposes_the_metrics_after_a_submission(
    running: Stack, tokens: dict[str, str], catalogue: Catalogue, hook: HttpSink
) -> None:
    report = problem_report(catalogue, unit_of(GULOU), open_round())
    assert submit(running, report, tokens["gulou"], **{"Idempotency-Key": "k1"})[0] == 202
    assert submit(running, report, tokens["gulou"], **{"Idempotency-Key": "k1"})[0] == 202
    assert submit(running, report, tokens["taijiang"])[0] == 403
    assert (
        submit(
            running,
            {**report, "indicators": {**report["indicators"], "no_such_indicator": 1}},
            tokens["gulou"],
        )[0]
        == 422
    )
    wait_until(delivered, 40, "the alert to be delivered")
    # A task that fails for real: an event that breaks its contract.
    make_celery("test").send_task(tasks.EVALUATE_SUBMISSION, args=[events.envelope()])

    intake = scrape(running.url + "/metrics")
    for outcome in ("accepted", "duplicate", "forbidden", "invalid"):
        assert value(intake, "pilotwatch_submissions_total", outcome=outcome) == 1, outcome
    assert value(intake, "pilotwatch_http_requests_total", endpoint="api.Submissions", status="202") == 2
    assert value(intake, "pilotwatch_http_request_duration_seconds_count", endpoint="api.Submissions") == 4
    assert "pilotwatch_http_request_duration_seconds_bucket" in names(intake)

    evaluation_url = metrics_url(running, "evaluation")
    failed = wait_until(
        lambda: value(
            scrape(evaluation_url), "pilotwatch_task_failures_total", task=tasks.EVALUATE_SUBMISSION
        ),
        20,
        "the failed task to be counted",
    )
    assert failed == 1
    evaluation = scrape(evaluation_url)
    assert value(evaluation, "pilotwatch_tasks_total", task=tasks.EVALUATE_SUBMISSION, state="success") == 1
    assert value(evaluation, "pilotwatch_task_duration_seconds_count", task=tasks.EVALUATE_SUBMISSION) == 2
    assert value(evaluation, "pilotwatch_open_findings") >= 2
    assert {"pilotwatch_outbox_backlog", "pilotwatch_open_findings"} <= names(evaluation)

    notify = scrape(metrics_url(running, "notify"))
    assert value(notify, "pilotwatch_deliveries", channel_kind="json", status="delivered") == 1
    assert value(notify, "pilotwatch_delivery_attempts", channel_kind="json", outcome="delivered") == 1
    assert value(notify, "pilotwatch_dead_letter_deliveries") == 0
    assert value(notify, "pilotwatch_tasks_total", task=tasks.NOTIFY_FINDINGS_OPENED, state="success") >= 1


def test_it_follows_one_request_id_from_the_answer_into_the_workers_logs(
    running: Stack, tokens: dict[str, str], catalogue: Catalogue
) -> None:
    report = problem_report(catalogue, unit_of(GULOU), open_round())
    given = f"ops-{uuid.uuid4().hex[:12]}"
    status, _body, answered = submit(running, report, tokens["gulou"], **{"X-Request-ID": given})
    assert (status, answered) == (202, given)

    def tasks_of(service: str) -> set[str]:
        return {
            line.get("task", "") for line in log_lines(running, service) if line.get("request_id") == given
        }

    assert tasks.EVALUATE_SUBMISSION in wait_until(lambda: tasks_of("evaluation"), 30, "the evaluation's log")
    assert tasks.NOTIFY_FINDINGS_OPENED in wait_until(lambda: tasks_of("notify"), 30, "the notify log")
    intake_lines = [line for line in log_lines(running, "intake") if line.get("request_id") == given]
    assert any(line.get("status") == 202 for line in intake_lines), intake_lines

    status, _body, made = submit(running, report, tokens["gulou"])
    assert status == 202 and re.fullmatch(r"[0-9a-f]{32}", made)
