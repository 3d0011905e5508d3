"""The clock jumping past the due date and the grace in one step, every process reading it."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from shared import clock, config, db
from shared.catalogue import Catalogue
from shared.models import Finding, PilotUnit, Round
from tests.support.faults import GULOU, alerted_findings, burst, delivered, evaluated, units_of
from tests.support.processes import Stack, wait_until
from tests.support.reports import open_round
from tests.support.sinks import HttpSink, SmtpSink

pytestmark = pytest.mark.e2e


def tick(path: Path, seconds: float = 3) -> bool:
    """Time goes on after the jump: the group interval of the alerts passes as it would."""
    clock.set_now(path, datetime.fromisoformat(path.read_text()) + timedelta(seconds=seconds))
    return True


def missing(district: str | None = None) -> set[int]:
    with db.transaction() as session:
        query = select(Finding.id).where(Finding.rule_code == "missing_report")
        if district:
            query = query.where(Finding.district_code == district)
        return set(session.scalars(query))


def alertable(district: str) -> set[int]:
    with db.transaction() as session:
        return set(
            session.scalars(
                select(Finding.id).where(Finding.district_code == district, Finding.severity != "info")
            )
        )


def test_it_opens_one_missing_report_finding_per_unit_and_alerts_each_once_after_a_jump(
    faulty: Stack,
    tokens: dict[str, str],
    catalogue: Catalogue,
    sinks: tuple[SmtpSink, HttpSink],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    smtp, hook = sinks
    round_code = open_round()
    with db.transaction() as session:
        round_ = session.get(Round, round_code)
        assert round_ is not None
        due, grace = round_.due_date, round_.grace_days
        units = session.scalar(select(func.count()).select_from(PilotUnit)) or 0
    clock_file = tmp_path / "clock"
    noon = datetime(due.year, due.month, due.day, 4, tzinfo=UTC)
    clock.set_now(clock_file, noon - timedelta(days=10))
    monkeypatch.setenv("PILOTWATCH_CLOCK_FILE", str(clock_file))
    config.reset()
    faulty.env.update(PILOTWATCH_CLOCK_FILE=str(clock_file), TIMELINESS_INTERVAL="0.5")
    faulty.start("intake", "evaluation", "notify", "beat")
    reported = units_of(GULOU, 1)
    ids = burst(faulty.url, tokens["gulou"], catalogue, reported, round_code)
    wait_until(lambda: evaluated(ids) == 1, 60, "the one report evaluated")

    clock.set_now(clock_file, noon + timedelta(days=grace + 1))  # past the due date and the grace at once
    wait_until(lambda: len(missing()) == units - 1, 60, "one missing report finding per unit")
    expected = alertable(GULOU)
    assert missing(GULOU) <= expected
    wait_until(
        lambda: (
            tick(clock_file) and all(set(alerted_findings(u)) == expected for u in (smtp.url(), hook.url()))
        ),
        60,
        "鼓楼区's findings alerted on both channels",
        interval=0.5,
    )
    clock.set_now(clock_file, noon + timedelta(days=grace + 2))  # and on: nothing is opened twice
    for _ in range(6):  # several timeliness runs and flushes while time goes on
        tick(clock_file)
        time.sleep(0.5)
    assert len(missing()) == units - 1
    for url in (smtp.url(), hook.url()):
        assert set(alerted_findings(url)) == expected and set(alerted_findings(url).values()) == {1}
    assert len(smtp.messages) == delivered(smtp.url()) and len(hook.delivered()) == delivered(hook.url())
