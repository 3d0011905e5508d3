"""The cohort outlier job on a real evaluation worker: opens a finding for the unit far outside its
district, keeps it while the report stays so, resolves it once a resubmission brings it back."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from shared import db, tasks
from shared.catalogue import Catalogue
from shared.celery_app import make_celery
from shared.models import Finding
from tests.support.evaluated import store_and_evaluate
from tests.support.processes import Stack, wait_until
from tests.support.reports import clean_report, open_round, unit_of


def outlier_findings() -> list[tuple[str, str, bool]]:
    with db.transaction() as session:
        return [
            (f.unit.credit_code, f.status, f.active)
            for f in session.scalars(
                select(Finding).where(Finding.rule_code == "cohort_outlier").order_by(Finding.id)
            )
        ]


def report(catalogue: Catalogue, unit: str, round_code: str, training: int) -> dict[str, Any]:
    r = clean_report(catalogue, unit, round_code)
    r["indicators"]["training_person_times"] = training
    return r


def run_job() -> None:
    make_celery("test").send_task(tasks.CHECK_OUTLIERS)


def test_it_flags_and_later_resolves_a_unit_far_outside_its_district(
    stack: Stack, catalogue: Catalogue
) -> None:
    round_code = open_round()
    units = [unit_of("350102", i) for i in range(10)]
    for i, unit in enumerate(units[:-1]):
        store_and_evaluate(report(catalogue, unit, round_code, 1150 + 20 * i))
    store_and_evaluate(report(catalogue, units[-1], round_code, 40000))
    stack.start("evaluation")
    run_job()
    found = wait_until(outlier_findings, 30, "the outlier finding")
    assert found == [(units[-1], "open", True)]
    run_job()  # the same reports again: the same finding, no second one
    store_and_evaluate(report(catalogue, units[-1], round_code, 1200))
    assert outlier_findings() == [(units[-1], "open", True)]  # a report alone does not judge its cohort
    run_job()
    wait_until(lambda: outlier_findings() == [(units[-1], "resolved", False)], 30, "the finding resolved")
