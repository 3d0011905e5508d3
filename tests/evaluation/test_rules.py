"""One table per rule: its boundaries, where it applies (kind, half, baseline, validity, guard) and
what a blank value does. A skipped rule says why."""

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
    kind: str = "enterprise",
    round_code: str = "2026H2",
    **indicators: Any,
) -> engine.Report:
    base = clean_report(catalogue, "u", "r")
    values = {**base["indicators"], **indicators}
    values = {k: v for k, v in values.items() if v is not None}
    statuses = measures if measures is not None else base["measures"]
    overall = scoring.score(catalogue, statuses).overall
    year, half = int(round_code[:4]), round_code[-1]
    end = f"{year}-06-30" if half == "1" else f"{year}-12-31"
    return engine.Report(statuses, values, overall, history, late, kind, round_code, end)


def outcome(catalogue: Catalogue, rule_code: str, rep: engine.Report) -> engine.Outcome:
    rule = catalogue.rule(rule_code)
    assert rule is not None, rule_code
    return engine.check(rule, catalogue, rep)


def broken(catalogue: Catalogue, rule_code: str, rep: engine.Report) -> bool:
    return outcome(catalogue, rule_code, rep).result == "broken"


def skipped_because(catalogue: Catalogue, rule_code: str, rep: engine.Report) -> str:
    skip = outcome(catalogue, rule_code, rep).skip
    return engine.describe({"reason": skip.reason, **skip.detail}, catalogue) if skip else ""


def test_it_finds_nothing_in_a_clean_report(catalogue: Catalogue) -> None:
    assert engine.evaluate(catalogue, report(catalogue)) == []
    assert engine.evaluate(catalogue, report(catalogue, kind="institution", round_code="2025H1")) == []


@pytest.mark.parametrize(
    ("payroll", "extracted", "expected"),
    [
        (8000.0, 120.0, False),  # exactly 1.5%
        (8000.0, 119.99, True),  # just below
        (8000.0, 200.0, False),  # 2.5%, allowed
        (None, 10.0, False),  # payroll blank: skipped (the completeness rule reports the blank)
        (8000.0, None, False),  # fund blank: skipped
    ],
)
def test_it_checks_the_education_fund_against_payroll(
    catalogue: Catalogue, payroll: float | None, extracted: float | None, expected: bool
) -> None:
    rep = report(catalogue, payroll_total=payroll, education_fund_extracted=extracted)
    assert broken(catalogue, "fund_extraction", rep) is expected


def test_it_binds_the_education_fund_rules_to_enterprises_only(catalogue: Catalogue) -> None:
    low = {"payroll_total": 8000.0, "education_fund_extracted": 10.0, "frontline_training_spend": 10.0}
    assert broken(catalogue, "fund_extraction", report(catalogue, **low))
    institution = report(catalogue, kind="institution", **low)
    for code in ("fund_extraction", "fund_frontline_share"):
        assert outcome(catalogue, code, institution).result == "skipped"
        assert skipped_because(catalogue, code, institution) == "仅适用于企业"


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


# The clean report: levels 20 + 100 + 130 + 100 + 30 + 15 + 4 + 1 = 400 (level 5 up: 380, level 3 up:
# 150), 800 workers, 400 skilled, 150 highly skilled, 60 representatives of whom 35 frontline.
@pytest.mark.parametrize(
    ("rule", "values", "expected"),
    [
        ("levels_within_total", {"workers_total": 400}, False),
        ("levels_within_total", {"workers_total": 399}, True),
        ("levels_within_skilled", {"skilled_workers": 380}, False),
        ("levels_within_skilled", {"skilled_workers": 379}, True),
        ("highly_skilled_matches_levels", {"highly_skilled_workers": 150}, False),
        ("highly_skilled_matches_levels", {"highly_skilled_workers": 151}, True),
        ("highly_skilled_matches_levels", {"level_chief": 2}, True),
        ("highly_within_skilled", {"highly_skilled_workers": 401}, True),
        ("skilled_within_total", {"skilled_workers": 800}, False),
        ("skilled_within_total", {"skilled_workers": 801}, True),
        ("frontline_within_total", {"frontline_workers": 800}, False),
        ("frontline_within_total", {"frontline_workers": 801}, True),
        ("representatives_within_total", {"worker_representatives": 801}, True),
        ("frontline_representatives_within", {"frontline_representatives": 60}, False),
        ("frontline_representatives_within", {"frontline_representatives": 61}, True),
        ("frontline_spend_within_used", {"frontline_training_spend": 150.0}, False),
        ("frontline_spend_within_used", {"frontline_training_spend": 150.5}, True),
        ("proposals_adopted_within_submitted", {"proposals_adopted": 80}, False),
        ("proposals_adopted_within_submitted", {"proposals_adopted": 81}, True),
        ("proposals_adopted_within_submitted", {"proposals_submitted": None}, False),
        ("congress_representatives", {"worker_representatives": 30}, False),
        ("congress_representatives", {"worker_representatives": 29, "frontline_representatives": 20}, True),
        ("congress_representatives", {"worker_representatives": 29, "congress_held": False}, False),
        ("congress_frontline_share", {"worker_representatives": 60, "frontline_representatives": 30}, False),
        ("congress_frontline_share", {"worker_representatives": 60, "frontline_representatives": 29}, True),
    ],
)
def test_it_checks_arithmetic_and_thresholds(
    catalogue: Catalogue, rule: str, values: dict[str, Any], expected: bool
) -> None:
    assert broken(catalogue, rule, report(catalogue, **values)) is expected


def test_it_asks_for_representatives_only_from_100_workers_up(catalogue: Catalogue) -> None:
    small = report(catalogue, workers_total=80, worker_representatives=10, frontline_representatives=4)
    assert outcome(catalogue, "congress_representatives", small).result == "skipped"
    assert "职工总数 >= 100" in skipped_because(catalogue, "congress_representatives", small)


@pytest.mark.parametrize(
    ("skilled", "highly", "round_code", "result"),
    [
        (400, 140, "2025H2", "held"),  # exactly 35%
        (400, 139, "2025H2", "broken"),
        (400, 139, "2026H2", "skipped"),  # the 2025 target is no longer the current one
        (400, 139, "2021H2", "skipped"),
    ],
)
def test_it_compares_with_a_target_only_in_the_years_it_is_valid_for(
    catalogue: Catalogue, skilled: int, highly: int, round_code: str, result: str
) -> None:
    values = {"skilled_workers": skilled, "highly_skilled_workers": highly, "level_3": highly - 50}
    rep = report(catalogue, round_code=round_code, **values)
    found = outcome(catalogue, "highly_skilled_share", rep)
    assert found.result == result
    if result == "broken":
        assert "2025 年目标" in found.violations[0].message_zh and found.violations[0].severity == "info"


@pytest.mark.parametrize(
    ("held", "round_code", "kind", "result"),
    [
        (True, "2026H2", "enterprise", "held"),
        (False, "2026H2", "enterprise", "broken"),
        (False, "2026H1", "enterprise", "skipped"),  # the congress may still come later in the year
        (None, "2026H2", "enterprise", "skipped"),  # a blank is 未填报, never "not held"
        (False, "2026H2", "institution", "skipped"),
    ],
)
def test_it_asks_for_the_years_congress_in_the_second_half_of_enterprises(
    catalogue: Catalogue, held: bool | None, round_code: str, kind: str, result: str
) -> None:
    rep = report(catalogue, congress_held=held, round_code=round_code, kind=kind)
    assert outcome(catalogue, "congress_held", rep).result == result


def test_it_reports_blank_required_indicators_as_their_own_finding(catalogue: Catalogue) -> None:
    rep = report(catalogue, congress_held=None, payroll_total=None)
    [violation] = outcome(catalogue, "indicator_completeness", rep).violations
    assert violation.evidence == {"indicators": ["payroll_total", "congress_held"]}
    assert violation.message_zh == "以下指标未填报：工资总额、报告年度内是否已召开职工代表大会（职工大会）"
    assert violation.severity == "error" and violation.category == "完整性"
    assert "尚未召开" not in " ".join(v.message_zh for v in engine.evaluate(catalogue, rep))


def test_it_gives_a_report_with_nothing_filled_in_more_than_two_findings(catalogue: Catalogue) -> None:
    blank = {code: {"status": "in_progress", "note": ""} for code in catalogue.measures}
    rep = engine.Report(blank, {}, scoring.score(catalogue, blank).overall, round_code="2026H2")
    assert {v.rule_code for v in engine.evaluate(catalogue, rep)} == {"indicator_completeness"}
    [violation] = engine.evaluate(catalogue, rep)
    assert len(violation.evidence["indicators"]) == len(catalogue.required_indicators) == 22


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


def past(
    catalogue: Catalogue,
    status: str = "implemented",
    score: float | None = 100.0,
    round_code: str = "2026H1",
    **indicators: Any,
) -> engine.PastReport:
    base = clean_report(catalogue, "u", "r")
    return engine.PastReport(
        round_code, statuses(catalogue, status), {**base["indicators"], **indicators}, score
    )


@pytest.mark.parametrize(("score", "expected"), [(60.0, False), (59.99, True), (100.0, False)])
def test_it_flags_a_lagging_score_below_60_from_the_second_round(
    catalogue: Catalogue, score: float, expected: bool
) -> None:
    base = report(catalogue)
    second = engine.Report(base.measures, base.indicators, score, (past(catalogue),), round_code="2026H2")
    assert broken(catalogue, "lagging_score", second) is expected
    first = engine.Report(base.measures, base.indicators, score, round_code="2026H2")
    assert outcome(catalogue, "lagging_score", first).result == "skipped"
    assert (
        skipped_because(catalogue, "lagging_score", first) == "本轮为该单位首轮报告（基线），从第 2 轮起适用"
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
    first = report(catalogue, measures=statuses(catalogue, now))
    assert outcome(catalogue, "status_regression", first).result == "skipped"


def test_it_flags_each_measure_that_has_not_moved_for_a_year(catalogue: Catalogue) -> None:
    codes = list(catalogue.measures)
    now = statuses(catalogue, "implemented")
    for code in codes[:3]:
        now[code] = {"status": "in_progress", "note": ""}
    earlier = [
        past(catalogue, "in_progress", round_code="2026H1"),
        past(catalogue, "in_progress", round_code="2025H2"),
    ]
    found = outcome(catalogue, "measure_stagnation", report(catalogue, tuple(earlier), measures=now))
    assert [v.subject for v in found.violations] == codes[
        :3
    ]  # one finding per measure: moving one hides none
    name = catalogue.measures[codes[0]]["name_zh"]
    assert found.violations[0].message_zh == f"「{name}」已连续 2 个半年度处于“推进中”状态，未见进展"


def test_it_does_not_call_one_unchanged_half_year_stagnation(catalogue: Catalogue) -> None:
    rep = report(catalogue, (past(catalogue, "in_progress"),), measures=statuses(catalogue, "in_progress"))
    assert outcome(catalogue, "measure_stagnation", rep).result == "skipped"
    moved = report(
        catalogue,
        (past(catalogue, "in_progress"), past(catalogue, "not_started", round_code="2025H2")),
        measures=statuses(catalogue, "in_progress"),
    )
    assert outcome(catalogue, "measure_stagnation", moved).result == "held"


@pytest.mark.parametrize(
    ("same_half_last_year", "previous_half", "current", "result"),
    [
        (1200, 300, 599, "broken"),  # more than half below the same half of last year
        (1200, 300, 600, "held"),  # exactly half: not more than half
        (500, 3000, 300, "held"),  # a seasonal fall from the previous half is no drop
        (None, 3000, 300, "skipped"),  # no report of a year ago to compare with
    ],
)
def test_it_compares_training_with_the_same_half_of_last_year(
    catalogue: Catalogue, same_half_last_year: int | None, previous_half: int, current: int, result: str
) -> None:
    earlier = [past(catalogue, round_code="2026H1", training_person_times=previous_half)]
    if same_half_last_year is not None:
        earlier.append(past(catalogue, round_code="2025H2", training_person_times=same_half_last_year))
    rep = report(catalogue, tuple(earlier), training_person_times=current)
    assert outcome(catalogue, "activity_drop", rep).result == result


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
def test_it_records_a_late_report(catalogue: Catalogue, late: bool, expected: bool) -> None:
    assert broken(catalogue, "late_report", report(catalogue, late=late)) is expected
    assert (
        catalogue.rule("late_report").record
        and catalogue.period_days(catalogue.rule("late_report"), 30) is None
    )


def test_it_gives_each_severity_its_rectification_period(catalogue: Catalogue) -> None:
    periods = {
        code: catalogue.period_days(catalogue.rule(code), 99)
        for code in ("missing_report", "levels_within_total", "fund_extraction", "highly_skilled_share")
    }
    assert periods == {
        "missing_report": 15,
        "levels_within_total": 30,
        "fund_extraction": 60,
        "highly_skilled_share": None,
    }


def test_it_leaves_round_rules_to_the_round_jobs(catalogue: Catalogue) -> None:
    codes = {r.code for r in catalogue.report_rules}
    assert "missing_report" not in codes and "cohort_outlier" not in codes
