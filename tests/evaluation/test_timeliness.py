"""Reminders, late and missing reports, made by the scheduler's job on a real worker with a moved clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from shared import clock, config, db, tasks
from shared.catalogue import Catalogue
from shared.models import Finding, OutboxEvent, PilotUnit, ReminderSent, Round
from tests.support.evaluated import store_and_evaluate, submit_to_worker
from tests.support.processes import Stack, wait_until
from tests.support.reports import clean_report, open_round, unit_of


def move(path: Path, moment: datetime) -> None:
    clock.set_now(path, moment)


def reminders(days: int) -> dict[str, list[str]]:
    with db.transaction() as session:
        sent = session.scalars(select(ReminderSent).where(ReminderSent.days_before == days)).all()
        ids = {r.event_id for r in sent}
        payloads = session.scalars(
            select(OutboxEvent.payload).where(
                OutboxEvent.task_name == tasks.NOTIFY_REPORTS_DUE_SOON, OutboxEvent.id.in_(ids)
            )
        ).all()
        return {p["district_code"]: p["unit_credit_codes"] for p in payloads}


def count_events(task: str) -> int:
    with db.transaction() as session:
        return (
            session.scalar(select(func.count()).select_from(OutboxEvent).where(OutboxEvent.task_name == task))
            or 0
        )


def test_it_reminds_then_records_late_and_missing_reports(
    stack: Stack, tmp_path: Path, catalogue: Catalogue, monkeypatch: pytest.MonkeyPatch
) -> None:
    round_code = open_round()
    with db.transaction() as session:
        round_ = session.get(Round, round_code)
        assert round_ is not None
        due, grace = round_.due_date, round_.grace_days
        session.query(Round).filter(Round.code != round_code).delete()  # only the open round matters here
    clock_file = tmp_path / "clock"
    noon = datetime(due.year, due.month, due.day, 4, tzinfo=UTC)
    move(clock_file, noon - timedelta(days=10))
    monkeypatch.setenv("PILOTWATCH_CLOCK_FILE", str(clock_file))
    config.reset()
    stack.env.update(PILOTWATCH_CLOCK_FILE=str(clock_file), TIMELINESS_INTERVAL="0.3")
    on_time, late = unit_of("350102", 0), unit_of("350102", 1)
    store_and_evaluate(clean_report(catalogue, on_time, round_code), clock.now())
    stack.start("evaluation", "beat")

    move(clock_file, noon - timedelta(days=7))
    week = wait_until(lambda: len(reminders(7)) == 15 and reminders(7), 30, "the 7-day reminders")
    assert on_time not in week["350102"] and late in week["350102"]
    move(clock_file, noon - timedelta(days=1))
    day = wait_until(lambda: len(reminders(1)) == 15 and reminders(1), 30, "the 1-day reminders")
    assert set(day) == set(week)
    assert count_events(tasks.NOTIFY_REPORTS_DUE_SOON) == 30  # once per round, district and threshold

    move(clock_file, noon + timedelta(days=1))
    submit_to_worker(clean_report(catalogue, late, round_code), round_code, clock.now())
    with db.transaction() as session:
        units = session.scalar(select(func.count()).select_from(PilotUnit)) or 0

    def missing() -> list[Finding]:
        with db.transaction() as session:
            return list(
                session.scalars(
                    select(Finding)
                    .options(selectinload(Finding.unit))
                    .where(Finding.rule_code == "missing_report")
                )
            )

    def late_finding() -> Finding | None:
        with db.transaction() as session:
            return session.scalars(
                select(Finding).options(selectinload(Finding.unit)).where(Finding.rule_code == "late_report")
            ).first()

    found = wait_until(late_finding, 30, "the late report's finding")
    assert found.severity == "info" and found.unit.credit_code == late
    assert missing() == []  # still within the grace
    move(clock_file, noon + timedelta(days=grace + 1))
    made = wait_until(lambda: len(missing()) == units - 2 and missing(), 30, "one missing report per unit")
    assert {f.severity for f in made} == {"critical"}
    assert {f.unit.credit_code for f in made}.isdisjoint({on_time, late})
    with db.transaction() as session:
        opened = session.scalars(
            select(OutboxEvent.payload).where(OutboxEvent.task_name == tasks.NOTIFY_FINDINGS_OPENED)
        ).all()
    grouped = [p for p in opened if set(p["finding_ids"]) <= {f.id for f in made}]
    assert sorted(p["district_code"] for p in grouped) == sorted({f.district_code for f in made})
    assert sum(len(p["finding_ids"]) for p in grouped) == len(made)
