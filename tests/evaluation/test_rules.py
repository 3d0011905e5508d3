"""One table per rule: boundaries, and missing values under both strategies."""

from __future__ import annotations

from typing import Any

import pytest

from shared.catalogue import Catalogue
from shared.rules import engine, scoring
from tests.support.reports import clean_report


def report(
    catalogue: Catalogue,
    history: tuple[engine.PastReport, ...] = (),
    late: bool = False,
    measures: dict[str, Any] | None = None,
    **indicators: Any,
) -> engine.Report:
    base = clean_report(catalogue, "u", "r")
    values = {**base["indicators"], **indicators}
    values = {k: v for k, v in values.items() if v is not None}
    statuses = measures if measures is not None else base["measures"]
    overall = scoring.score(catalogue, statuses).overall
    return engine.Report(statuses, values, overall, history, late)


def broken(catalogue: Catalogue, rule_code: str, rep: engine.Report) -> bool:
    rule = catalogue.rule(rule_code)
    return engine.check(rule, catalogue, rep) is not None


def test_it_finds_nothing_in_a_clean_report(catalogue: Catalogue) -> None:
    assert engine.evaluate(catalogue, report(catalogue)) == []


@pytest.mark.parametrize(
    ("payroll", "extracted", "expected"),
    [
        (8000.0, 120.0, False),  # exactly 1.5%
        (8000.0, 119.99, True),  # just below
        (8000.0, 200.0, False),  # 2.5%, allowed
        (None, 10.0, False),  # payroll missing: skipped
        (8000.0, None, False),  # fund missing: skipped
    ],
)
def test_it_checks_the_education_fund_against_payroll(
    catalogue: Catalogue, payroll: float | None, extracted: float | None, expected: bool
) -> None:
    rep = report(catalogue, payroll_total=payroll, education_fund_extracted=extracted)
    assert broken(catalogue, "fund_extraction", rep) is expected


@pytest.mark.parametrize(
    ("used", "frontline", "expected"),
    [
        (100.0, 60.0, False),  # exactly 60%
        (100.0, 59.9, True),
        (100.0, 100.0, False),
        (None, 50.0, False),
    ],
)
def test_it_checks_the_frontline_share_of_the_fund(
    catalogue: Catalogue, used: float | None, frontline: float, expected: bool
) -> None:
    rep = report(catalogue, education_fund_used=used, frontline_training_spend=frontline)
    assert broken(catalogue, "fund_frontline_share", rep) is expected


@pytest.mark.parametrize(
    ("rule", "values", "expected"),
    [
        ("levels_within_total", {"workers_total": 400}, False),  # levels add up to exactly 400
        ("levels_within_total", {"workers_total": 399}, True),
        ("highly_within_skilled", {"highly_skilled_workers": 400}, False),
        ("highly_within_skilled", {"highly_skilled_workers": 401}, True),
        ("frontline_within_total", {"frontline_workers": 800}, False),
        ("frontline_within_total", {"frontline_workers": 801}, True),
        ("proposals_adopted_within_submitted", {"proposals_adopted": 80}, False),
        ("proposals_adopted_within_submitted", {"proposals_adopted": 81}, True),
        ("proposals_adopted_within_submitted", {"proposals_submitted": None}, False),
        ("highly_skilled_share", {"highly_skilled_workers": 140}, False),  # exactly 35% of 400
        ("highly_skilled_share", {"highly_skilled_workers": 139}, True),
        ("congress_representatives", {"worker_representatives": 30}, False),
        ("congress_representatives", {"worker_representatives": 29}, True),
        ("congress_representatives", {"worker_representatives": 29, "congress_held": False}, False),
        ("congress_frontline_share", {"worker_representatives": 60, "frontline_representatives": 30}, False),
        ("congress_frontline_share", {"worker_representatives": 60, "frontline_representatives": 29}, True),
    ],
)
def test_it_checks_arithmetic_and_thresholds(
    catalogue: Catalogue, rule: str, values: dict[str, Any], expected: bool
) -> None:
    assert broken(catalogue, rule, report(catalogue, **values)) is expected


@pytest.mark.parametrize(("held", "expected"), [(True, False), (False, True), (None, True)])
def test_it_treats_a_missing_congress_answer_as_a_finding(
    catalogue: Catalogue, held: bool | None, expected: bool
) -> None:
    rep = report(catalogue, congress_held=held)
    assert broken(catalogue, "congress_held", rep) is expected
    if held is None:
        rule = catalogue.rule("congress_held")
        violation = engine.check(rule, catalogue, rep)
        assert violation is not None and violation.evidence == {"missing": ["congress_held"]}


def statuses(catalogue: Catalogue, status: str, note: str = "有台账。") -> dict[str, Any]:
    return {code: {"status": status, "note": note} for code in catalogue.measures}


@pytest.mark.parametrize(
    ("status", "note", "rule", "expected"),
    [
        ("implemented", "", "measure_note", True),
        ("exemplary", "  ", "measure_note", True),
        ("in_progress", "", "measure_note", False),
        ("implemented", "有台账。", "measure_note", False),
        ("", "", "measure_completeness", True),
    ],
)
def test_it_checks_statuses_and_notes(
    catalogue: Catalogue, status: str, note: str, rule: str, expected: bool
) -> None:
    rep = report(catalogue, measures=statuses(catalogue, status, note))
    assert broken(catalogue, rule, rep) is expected


@pytest.mark.parametrize(("score", "expected"), [(60.0, False), (59.99, True), (100.0, False)])
def test_it_flags_a_lagging_score_below_60(catalogue: Catalogue, score: float, expected: bool) -> None:
    base = report(catalogue)
    rep = engine.Report(base.measures, base.indicators, score)
    assert broken(catalogue, "lagging_score", rep) is expected


def past(
    catalogue: Catalogue, status: str = "implemented", score: float | None = 100.0, **indicators: Any
) -> engine.PastReport:
    base = clean_report(catalogue, "u", "r")
    return engine.PastReport(
        "earlier", statuses(catalogue, status), {**base["indicators"], **indicators}, score
    )


@pytest.mark.parametrize(
    ("before", "now", "expected"),
    [
        ("exemplary", "implemented", True),
        ("implemented", "in_progress", True),
        ("in_progress", "implemented", False),
        ("implemented", "implemented", False),
    ],
)
def test_it_flags_a_status_that_went_down(
    catalogue: Catalogue, before: str, now: str, expected: bool
) -> None:
    rep = report(catalogue, (past(catalogue, before),), measures=statuses(catalogue, now))
    assert broken(catalogue, "status_regression", rep) is expected
    assert (
        broken(catalogue, "status_regression", report(catalogue, measures=statuses(catalogue, now))) is False
    )


@pytest.mark.parametrize(
    ("before", "now", "expected"),
    [
        ("in_progress", "in_progress", True),  # nothing moved for two rounds, not implemented
        ("implemented", "implemented", False),  # nothing moved, but all implemented
        ("not_started", "in_progress", False),  # moved
    ],
)
def test_it_flags_two_rounds_without_movement(
    catalogue: Catalogue, before: str, now: str, expected: bool
) -> None:
    rep = report(catalogue, (past(catalogue, before),), measures=statuses(catalogue, now))
    assert broken(catalogue, "measure_stagnation", rep) is expected


@pytest.mark.parametrize(
    ("previous", "current", "expected"),
    [
        (1200, 600, False),  # exactly half: not more than half
        (1200, 599, True),
        (0, 0, False),
        (None, 10, False),
    ],
)
def test_it_flags_a_sharp_fall_in_training(
    catalogue: Catalogue, previous: int | None, current: int, expected: bool
) -> None:
    rep = report(catalogue, (past(catalogue, training_person_times=previous),), training_person_times=current)
    assert broken(catalogue, "activity_drop", rep) is expected


@pytest.mark.parametrize(
    ("previous", "current", "expected"),
    [
        (80.0, 70.0, True),  # exactly 10 points
        (80.0, 70.01, False),
        (None, 10.0, False),  # the previous report was never scored
    ],
)
def test_it_flags_a_fall_of_10_points(
    catalogue: Catalogue, previous: float | None, current: float, expected: bool
) -> None:
    base = report(catalogue)
    rep = engine.Report(base.measures, base.indicators, current, (past(catalogue, score=previous),))
    assert broken(catalogue, "score_drop", rep) is expected
    assert broken(catalogue, "score_drop", engine.Report(base.measures, base.indicators, current)) is False


@pytest.mark.parametrize(("late", "expected"), [(True, True), (False, False)])
def test_it_flags_a_late_report(catalogue: Catalogue, late: bool, expected: bool) -> None:
    assert broken(catalogue, "late_report", report(catalogue, late=late)) is expected


def test_it_leaves_round_rules_to_the_round_jobs(catalogue: Catalogue) -> None:
    codes = {r.code for r in catalogue.report_rules}
    assert "missing_report" not in codes and "cohort_outlier" not in codes
