"""Workers SIGKILLed in the middle of a task: every report evaluated once, every alert sent once."""

from __future__ import annotations

import time

import pytest

from shared.catalogue import Catalogue
from tests.support.faults import (
    GULOU,
    HeldSmtpSink,
    active_findings,
    add_channels,
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
REPORTS = 6


def test_it_evaluates_each_report_once_after_the_evaluation_worker_is_killed_mid_task(
    faulty: Stack, tokens: dict[str, str], catalogue: Catalogue, sinks: tuple[SmtpSink, HttpSink]
) -> None:
    smtp, hook = sinks
    faulty.start("intake", "notify")
    units, round_code = units_of(GULOU, REPORTS), open_round()
    ids = burst(faulty.url, tokens["gulou"], catalogue, units, round_code)
    with database_held(faulty.env["DATABASE_URL"]):  # the worker's first write waits: it is mid-task
        faulty.start("evaluation")
        wait_until(
            lambda: "evaluation.evaluate_submission" in faulty.services["evaluation"].output(),
            30,
            "the evaluation worker to take a report",
        )
        faulty.services["evaluation"].kill()
    assert evaluated(ids) == 0
    faulty.start("evaluation", "beat")
    wait_until(lambda: evaluated(ids) == REPORTS, 90, f"all {REPORTS} reports evaluated")
    assert active_findings(units) == expected_findings(catalogue, units, round_code)
    wait_until(lambda: len(smtp.messages) and len(hook.requests), 30, "the alerts")
    time.sleep(3)  # a doubled alert would arrive within this window
    assert counts()["evaluations"] == counts()["submissions"] == REPORTS
    assert_each_unit_alerted_once(smtp, hook, units)


def test_it_sends_each_alert_once_after_the_notify_worker_is_killed_mid_send(
    faulty: Stack, tokens: dict[str, str], catalogue: Catalogue
) -> None:
    smtp, hook = HeldSmtpSink(), HttpSink()
    add_channels(GULOU, smtp.url(), hook.url())
    try:
        faulty.start("intake", "evaluation", "notify", "beat")
        units, round_code = units_of(GULOU, REPORTS), open_round()
        ids = burst(faulty.url, tokens["gulou"], catalogue, units, round_code)
        assert smtp.arrived.wait(60), "no email was started"
        faulty.services["notify"].kill()  # killed while the SMTP server holds the recipient
        smtp.release()
        faulty.start("notify")
        wait_until(lambda: evaluated(ids) == REPORTS, 60, "all reports evaluated")
        wait_until(lambda: smtp.messages and hook.requests, 60, "the alerts after the restart")
        time.sleep(4)  # a doubled alert would arrive within this window
        assert counts()["evaluations"] == REPORTS
        assert active_findings(units) == expected_findings(catalogue, units, round_code)
        assert_each_unit_alerted_once(smtp, hook, units)
    finally:
        smtp.close()
        hook.close()
