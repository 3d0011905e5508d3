"""A channel that cannot be loaded is a permanent failure, recorded once, not a delivery stuck in
"sending"; a disabled channel gets no new alerts. Through a real notify worker and scheduler."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import select

from shared import db
from shared.models import Channel, Delivery, DeliveryAttempt
from tests.support.findings import add_channel, add_findings, opened
from tests.support.processes import Stack, wait_until
from tests.support.reports import open_round
from tests.support.sinks import HttpSink

pytestmark = pytest.mark.e2e
GULOU = "350102"
BROKEN = "wecombot://key!!cannot-load"


def test_it_records_an_unloadable_channel_as_a_permanent_failure_and_skips_disabled_ones(
    seeded: dict[str, str], tmp_path: Path
) -> None:
    good, disabled = HttpSink(), HttpSink()
    add_channel(good.url(), GULOU)
    add_channel(disabled.url(), GULOU)
    add_channel(BROKEN, GULOU)
    with db.transaction() as session:
        session.scalars(select(Channel).where(Channel.url == disabled.url())).one().enabled = False
    stack = Stack(seeded, tmp_path)
    try:
        stack.start("notify", "beat")
        opened(GULOU, open_round(), add_findings(GULOU, open_round(), 2))

        def settled() -> dict[str, tuple[str, int, str]]:
            with db.transaction() as session:
                rows = session.execute(
                    select(Channel.url, Delivery.status, Delivery.attempts, Delivery.last_error).join(
                        Delivery, Delivery.channel_id == Channel.id
                    )
                ).all()
            found = {url: (status, attempts, error) for url, status, attempts, error in rows}
            return (
                found
                if len(found) == 2 and all(s in ("delivered", "failed") for s, _, _ in found.values())
                else {}
            )

        outcome = wait_until(settled, 60, "both deliveries settled")
        time.sleep(1)  # a retry would be recorded within this window
        assert outcome[good.url()][:2] == ("delivered", 1) and len(good.requests) == 1
        status, attempts, error = outcome[BROKEN]
        assert (status, attempts) == ("failed", 1) and "渠道无法加载" in error
        assert "cannot-load" not in error  # the key stays masked
        assert disabled.url() not in outcome and disabled.requests == []
        with db.transaction() as session:
            attempts_logged = session.scalars(
                select(DeliveryAttempt.outcome).join(Delivery).join(Channel).where(Channel.url == BROKEN)
            ).all()
        assert attempts_logged == ["failed"]
    finally:
        stack.stop()
        good.close()
        disabled.close()
