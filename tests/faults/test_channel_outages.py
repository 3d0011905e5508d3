"""SMTP and webhook outages: the channel answers errors (or nothing at all) for a while, then recovers."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from shared import db
from shared.catalogue import Catalogue
from shared.models import Delivery, DeliveryAttempt
from tests.support.faults import (
    GULOU,
    active_findings,
    add_channels,
    assert_each_unit_alerted_once,
    burst,
    evaluated,
    expected_findings,
    units_of,
)
from tests.support.processes import Stack, wait_until
from tests.support.reports import open_round
from tests.support.sinks import HttpSink, SmtpSink

pytestmark = pytest.mark.e2e
REPORTS = 5


def attempts(outcome: str) -> int:
    with db.transaction() as session:
        return (
            session.scalar(
                select(func.count()).select_from(DeliveryAttempt).where(DeliveryAttempt.outcome == outcome)
            )
            or 0
        )


def test_it_delivers_each_alert_once_after_smtp_451s_and_webhook_500s(
    faulty: Stack, tokens: dict[str, str], catalogue: Catalogue
) -> None:
    smtp, hook = SmtpSink(replies=["451 4.3.0 try again later"] * 3), HttpSink(codes=[500, 503, 502])
    add_channels(GULOU, smtp.url(), hook.url())
    try:
        faulty.start("intake", "evaluation", "notify", "beat")
        units, round_code = units_of(GULOU, REPORTS), open_round()
        ids = burst(faulty.url, tokens["gulou"], catalogue, units, round_code)
        wait_until(lambda: evaluated(ids) == REPORTS, 60, "all reports evaluated")
        wait_until(
            lambda: (
                {u for u in units if any(u in t for t in smtp.texts())} == set(units)
                and {u for u in units if any(u in str(b) for b in hook.delivered())} == set(units)
            ),
            90,
            "every unit on both channels",
        )
        time.sleep(3)
        assert active_findings(units) == expected_findings(catalogue, units, round_code)
        assert_each_unit_alerted_once(smtp, hook, units)
        assert attempts("retrying") == 6  # three refusals on each channel, each recorded
        assert len(hook.requests) == len(hook.delivered()) + 3
    finally:
        smtp.close()
        hook.close()


def test_it_records_a_permanent_refusal_once_and_keeps_the_other_channel_apart(
    faulty: Stack, tokens: dict[str, str], catalogue: Catalogue
) -> None:
    smtp, hook = SmtpSink(replies=["550 5.1.1 no such mailbox"] * 50), HttpSink()
    add_channels(GULOU, smtp.url(), hook.url())
    try:
        faulty.start("intake", "evaluation", "notify", "beat")
        units, round_code = units_of(GULOU, 1), open_round()
        burst(faulty.url, tokens["gulou"], catalogue, units, round_code)
        wait_until(lambda: hook.delivered(), 60, "the webhook alert")
        wait_until(lambda: attempts("failed") == 1, 30, "the permanent failure recorded")
        time.sleep(3)  # a retry would be made within this window
        assert attempts("failed") == 1 and attempts("retrying") == 0
        assert len(hook.delivered()) == 1 and smtp.messages == []
        with db.transaction() as session:
            statuses = sorted(session.scalars(select(Delivery.status)).all())
        assert statuses == ["delivered", "failed"]
    finally:
        smtp.close()
        hook.close()


def test_it_delivers_once_a_webhook_that_was_not_listening_comes_up(
    faulty: Stack, tokens: dict[str, str], catalogue: Catalogue
) -> None:
    smtp = SmtpSink()
    hook = HttpSink()
    port = hook.port
    hook.close()  # nothing listens on the channel's port: connection refused
    down = f"json://127.0.0.1:{port}/hook"
    add_channels(GULOU, smtp.url(), down)
    try:
        faulty.start("intake", "evaluation", "notify", "beat")
        units, round_code = units_of(GULOU, 3), open_round()
        burst(faulty.url, tokens["gulou"], catalogue, units, round_code)
        wait_until(lambda: attempts("retrying") >= 1, 60, "a refused attempt")
        hook = HttpSink(port=port)
        wait_until(
            lambda: {u for u in units if any(u in str(b) for b in hook.delivered())} == set(units),
            90,
            "every unit on the webhook once it is up",
        )
        time.sleep(3)
        assert_each_unit_alerted_once(smtp, hook, units)
    finally:
        smtp.close()
        hook.close()
