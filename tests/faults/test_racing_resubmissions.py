"""Two resubmissions of one unit racing through intake and two evaluation workers."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from shared import db
from shared.catalogue import Catalogue
from shared.models import Finding, PilotUnit
from tests.support.faults import (
    GULOU,
    active_findings,
    alerted_findings,
    counts,
    delivered,
    evaluated,
    expected_findings,
    submit,
    units_of,
)
from tests.support.processes import Stack, wait_until
from tests.support.reports import clean_report, open_round, problem_report
from tests.support.sinks import HttpSink, SmtpSink

pytestmark = pytest.mark.e2e


def active_ids(units: list[str]) -> set[int]:
    with db.transaction() as session:
        return set(
            session.scalars(
                select(Finding.id)
                .join(Finding.unit)
                .where(PilotUnit.credit_code.in_(units), Finding.active.is_(True), Finding.severity != "info")
            )
        )


UNITS = 4


def test_it_keeps_both_versions_and_the_findings_of_the_last_when_resubmissions_race(
    faulty: Stack, tokens: dict[str, str], catalogue: Catalogue, sinks: tuple[SmtpSink, HttpSink]
) -> None:
    smtp, hook = sinks
    faulty.start("intake", "evaluation", "evaluation", "notify", "beat")
    units, round_code = units_of(GULOU, UNITS), open_round()
    reports = [
        r
        for u in units
        for r in (problem_report(catalogue, u, round_code), clean_report(catalogue, u, round_code))
    ]
    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(pool.map(lambda r: submit(faulty.url, tokens["gulou"], r), reports))
    assert [status for status, _, _ in answers] == [202] * len(reports), answers
    versions = {}
    for _, body, _ in answers:
        versions.setdefault(body["unit"], []).append(body["version"])
    assert {unit: sorted(v) for unit, v in versions.items()} == {unit: [1, 2] for unit in units}
    ids = [body["id"] for _, body, _ in answers]
    wait_until(lambda: evaluated(ids) == len(ids), 60, "every version evaluated")
    assert active_findings(units) == expected_findings(catalogue, units, round_code)
    # A finding resolved by the racing version before its group was sent is dropped from the alert;
    # every finding still active is alerted, and none twice.
    active = active_ids(units)
    wait_until(
        lambda: all(active <= set(alerted_findings(url)) for url in (smtp.url(), hook.url())),
        60,
        "every active finding alerted on both channels",
    )
    time.sleep(3)
    for url in (smtp.url(), hook.url()):
        assert set(alerted_findings(url).values()) <= {1}
    assert len(smtp.messages) == delivered(smtp.url()) and len(hook.delivered()) == delivered(hook.url())
    assert counts()["submissions"] == counts()["evaluations"] == len(ids)


def test_it_stores_one_report_when_the_same_idempotency_key_races(
    faulty: Stack, tokens: dict[str, str], catalogue: Catalogue
) -> None:
    faulty.start("intake", "evaluation")
    unit, round_code = units_of(GULOU, 1)[0], open_round()
    report = problem_report(catalogue, unit, round_code)
    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(
            pool.map(lambda _: submit(faulty.url, tokens["gulou"], report, key="clerk-retry-1"), range(4))
        )
    assert {status for status, _, _ in answers} == {202}
    assert len({body["id"] for _, body, _ in answers}) == 1
    wait_until(lambda: counts()["evaluations"] == 1, 30, "the one report evaluated")
    time.sleep(1)
    assert counts()["submissions"] == counts()["evaluations"] == 1
