"""The pipeline end to end through real processes: intake on gunicorn, both workers, the scheduler,
a real Redis, a real SMTP server and a real webhook server."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from sqlalchemy import func, select

from ops.redis_server import RedisServer
from shared import db, events, tasks
from shared.catalogue import Catalogue
from shared.celery_app import make_celery
from shared.models import Alert, Channel, Delivery, Evaluation, Submission
from tests.support.processes import Stack, json_request, wait_until
from tests.support.reports import open_round, problem_report, unit_of
from tests.support.sinks import HttpSink, SmtpSink

pytestmark = pytest.mark.e2e
GULOU = "350102"


@pytest.fixture
def sinks() -> Iterator[tuple[SmtpSink, HttpSink]]:
    smtp, hook = SmtpSink(), HttpSink()
    yield smtp, hook
    smtp.close()
    hook.close()


def add_channels(district: str, *urls: str) -> None:
    with db.transaction() as session:
        for url in urls:
            session.add(Channel(district_code=district, kind=url.split("://")[0], url=url))


def findings_of(url: str, sid: str, token: str) -> list[dict[str, Any]]:
    status, body = json_request("GET", f"{url}/api/v1/submissions/{sid}", token=token)
    assert status == 200, body
    return (body.get("evaluation") or {}).get("findings") or []


def counts() -> dict[str, int]:
    with db.transaction() as session:
        return {
            name: session.scalar(select(func.count()).select_from(model))
            for name, model in (
                ("submissions", Submission),
                ("evaluations", Evaluation),
                ("alerts", Alert),
                ("deliveries", Delivery),
            )
        }


def assert_one_alert_each(smtp: SmtpSink, hook: HttpSink, unit: str) -> None:
    wait_until(lambda: smtp.messages and hook.requests, 30, "the email and the webhook alert")
    time.sleep(2)  # a duplicate would arrive within this window
    assert len(smtp.messages) == 1
    assert len(hook.requests) == 1
    for text in (smtp.texts()[0], str(hook.delivered()[0])):
        assert unit in text
        assert "职工教育经费" in text and "1.5%" in text
        assert "合理化建议采纳数" in text


def test_it_evaluates_an_api_report_and_alerts_each_channel_once(
    stack: Stack, tokens: dict[str, str], catalogue: Catalogue, sinks: tuple[SmtpSink, HttpSink]
) -> None:
    smtp, hook = sinks
    add_channels(GULOU, smtp.url("gulou@example.org"), hook.url())
    stack.start("intake", "evaluation", "notify", "beat")
    unit = unit_of(GULOU)
    status, body = json_request(
        "POST",
        stack.url + "/api/v1/submissions",
        problem_report(catalogue, unit, open_round()),
        token=tokens["gulou"],
    )
    assert status == 202, body
    found = wait_until(lambda: findings_of(stack.url, body["id"], tokens["gulou"]), 30, "the evaluation")
    rules = {f["rule"] for f in found}
    assert {"fund_extraction", "proposals_adopted_within_submitted"} <= rules
    assert_one_alert_each(smtp, hook, unit)


def test_it_gives_the_same_result_for_the_html_form(
    stack: Stack, seeded: dict[str, str], catalogue: Catalogue, sinks: tuple[SmtpSink, HttpSink]
) -> None:
    smtp, hook = sinks
    add_channels(GULOU, smtp.url(), hook.url())
    stack.start("intake", "evaluation", "notify")
    unit, round_code = unit_of(GULOU), open_round()
    browser = requests.Session()
    page = browser.get(stack.url + "/login", timeout=10).text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    answer = browser.post(
        stack.url + "/login",
        data={"csrf_token": csrf, "email": "gulou@pilotwatch.example", "password": "pilotwatch-demo"},
        timeout=10,
    )
    assert answer.status_code == 200 and "gulou@pilotwatch.example" in answer.text
    page = browser.get(stack.url + "/submissions/new", timeout=10).text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    report = problem_report(catalogue, unit, round_code)
    form = {"csrf_token": csrf, "unit": unit, "round": round_code}
    for code, entry in report["measures"].items():
        form[f"m.{code}.status"], form[f"m.{code}.note"] = entry["status"], entry["note"]
    for code, value in report["indicators"].items():
        form[f"i.{code}"] = str(value).lower() if isinstance(value, bool) else str(value)
    # The form catches the typing slip (more proposals adopted than submitted) before it becomes a
    # finding: the report is refused with the message next to the field, and nothing is evaluated.
    refused = browser.post(stack.url + "/submissions/new", data=form, timeout=10)
    assert refused.status_code == 422 and "合理化建议采纳数" in refused.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', refused.text).group(1)
    form.update({"csrf_token": csrf, "i.proposals_adopted": "3", "confirm": "on"})
    answer = browser.post(stack.url + "/submissions/new", data=form, timeout=10)
    assert answer.status_code == 200 and "/submissions/" in answer.url
    page = wait_until(
        lambda: (t := browser.get(answer.url, timeout=10).text) and 'id="findings"' in t and t,
        30,
        "the evaluation on the page",
    )
    assert "职工教育经费提取额" in page and "合理化建议采纳数" not in page.split('id="findings"')[1]
    wait_until(lambda: smtp.messages and hook.requests, 30, "the email and the webhook alert")
    time.sleep(2)  # a duplicate would arrive within this window
    assert len(smtp.messages) == 1 and len(hook.requests) == 1
    for text in (smtp.texts()[0], str(hook.delivered()[0])):
        assert unit in text and "职工教育经费" in text and "1.5%" in text
        assert "合理化建议采纳数" not in text


def test_it_accepts_reports_while_redis_is_down_and_evaluates_them_when_it_returns(
    seeded: dict[str, str], tokens: dict[str, str], catalogue: Catalogue, tmp_path: Any
) -> None:
    own = RedisServer().start()
    stack = Stack(dict(seeded, REDIS_URL=own.url), tmp_path)
    try:
        stack.start("intake")
        own.stop()
        unit, round_code = unit_of(GULOU), open_round()
        ids = []
        for _ in range(20):
            started = time.monotonic()
            status, body = json_request(
                "POST",
                stack.url + "/api/v1/submissions",
                problem_report(catalogue, unit, round_code),
                token=tokens["gulou"],
            )
            assert status == 202, body
            assert time.monotonic() - started < 2
            ids.append(body["id"])
        assert counts()["evaluations"] == 0
        own.start()
        stack.start("evaluation", "notify", "beat")
        wait_until(lambda: counts()["evaluations"] == 20, 60, "all 20 reports evaluated")
        assert counts()["submissions"] == 20
    finally:
        stack.stop()
        own.stop()


def test_it_evaluates_and_alerts_once_when_the_same_event_arrives_twice(
    stack: Stack, tokens: dict[str, str], catalogue: Catalogue, sinks: tuple[SmtpSink, HttpSink]
) -> None:
    smtp, hook = sinks
    add_channels(GULOU, smtp.url(), hook.url())
    stack.start("intake")
    unit = unit_of(GULOU)
    status, body = json_request(
        "POST",
        stack.url + "/api/v1/submissions",
        problem_report(catalogue, unit, open_round()),
        token=tokens["gulou"],
    )
    assert status == 202
    with db.transaction() as session:
        event = session.scalar(select(Submission).where(Submission.id == body["id"]))
        payload = events.envelope(
            submission_id=event.id, unit_credit_code=unit, district_code=GULOU, round_code=event.round_code
        )
    producer = make_celery("test")
    for _ in range(2):  # the very same event (same event id) published twice more
        producer.send_task(tasks.EVALUATE_SUBMISSION, args=[payload])
    stack.start("evaluation", "notify")
    assert_one_alert_each(smtp, hook, unit)
    wait_until(lambda: counts()["evaluations"] == 1, 10, "the evaluation")
    time.sleep(1)
    assert counts() == {"submissions": 1, "evaluations": 1, "alerts": 1, "deliveries": 2}


def test_it_refuses_bad_input_strangers_and_anonymous_callers_and_stores_nothing(
    stack: Stack, tokens: dict[str, str], catalogue: Catalogue
) -> None:
    stack.start("intake")
    unit = unit_of(GULOU)
    report = problem_report(catalogue, unit, open_round())
    bad = dict(
        report,
        unit=unit[:-1] + ("A" if unit[-1] != "A" else "B"),
        indicators=dict(report["indicators"], payroll_total=-5),
    )
    status, body = json_request("POST", stack.url + "/api/v1/submissions", bad, token=tokens["gulou"])
    assert status == 422
    assert "校验位" in str(body["errors"]["json"]["unit"])
    status, body = json_request(
        "POST",
        stack.url + "/api/v1/submissions",
        dict(report, indicators=dict(report["indicators"], payroll_total=-5)),
        token=tokens["gulou"],
    )
    assert status == 422 and "payroll_total" in body["errors"]["json"]["indicators"]
    assert json_request("POST", stack.url + "/api/v1/submissions", report, token=tokens["taijiang"])[0] == 403
    assert json_request("POST", stack.url + "/api/v1/submissions", report)[0] == 401
    assert counts()["submissions"] == 0
