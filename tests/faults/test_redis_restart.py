"""Redis stopped and started again in the middle of a burst of reports, every process running."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from ops.redis_server import RedisServer
from shared.catalogue import Catalogue
from tests.faults.conftest import FAULT_ENV
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
BEFORE, DURING, AFTER = 8, 8, 8


def test_it_accepts_every_report_of_a_burst_while_redis_restarts_and_evaluates_each_once(
    seeded: dict[str, str],
    tokens: dict[str, str],
    catalogue: Catalogue,
    tmp_path: Path,
    sinks: tuple[SmtpSink, HttpSink],
) -> None:
    smtp, hook = sinks
    redis = RedisServer(folder=tmp_path / "redis", appendonly=True).start()  # as in production: AOF
    stack = Stack(dict(seeded, REDIS_URL=redis.url, **FAULT_ENV), tmp_path)
    try:
        stack.start("intake", "evaluation", "notify", "beat")
        units, round_code = units_of(GULOU, BEFORE + DURING + AFTER), open_round()
        ids = burst(stack.url, tokens["gulou"], catalogue, units[:BEFORE], round_code)
        redis.stop()
        ids += burst(stack.url, tokens["gulou"], catalogue, units[BEFORE : BEFORE + DURING], round_code)
        redis.start()
        ids += burst(stack.url, tokens["gulou"], catalogue, units[BEFORE + DURING :], round_code)
        wait_until(lambda: evaluated(ids) == len(units), 120, f"all {len(units)} reports evaluated")
        assert active_findings(units) == expected_findings(catalogue, units, round_code)
        wait_until(
            lambda: {u for u in units if any(u in t for t in smtp.texts())} == set(units),
            120,  # a message taken before the restart comes back after the visibility timeout, and a
            # loaded 2-core machine (the whole suite running) has been seen to need more than 60 s
            "every unit in an email",
        )
        time.sleep(3)  # a doubled alert would arrive within this window
        assert counts()["submissions"] == counts()["evaluations"] == len(units)
        assert_each_unit_alerted_once(smtp, hook, units)
    except AssertionError:
        print(stack.logs())
        raise
    finally:
        stack.stop()
        redis.stop()
