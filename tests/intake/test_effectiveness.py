"""The effectiveness index as pure functions: outcomes measured over the same units, parts and
components left out when they have no comparison, the index from the components."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from services.intake.effectiveness import Pair, evaluate, measure, outcome_value, side_totals, specs_of
from shared.catalogue.schema import DEFAULT_EFFECTIVENESS_INDEX

SHARE = {
    "code": "hs",
    "kind": "share",
    "indicators": ["highly"],
    "per": ["skilled"],
    "target": 0.02,
    "weight": 1,
}
GROWTH = {"code": "c", "kind": "growth", "indicators": ["a", "b"], "target": 0.2, "weight": 1}


def row(**values: Any) -> dict[str, Any]:
    base = {
        "units": 10,
        "reported": 10,
        "participation_rate": 1.0,
        "on_time_rate": 1.0,
        "mean_score": 80.0,
        "share_at_60": 1.0,
        "open_findings_per_unit": 0.0,
        "rectification_rate": None,
        "verified_closure_rate": None,
    }
    return {**base, **values}


def test_it_measures_a_share_over_the_sums_of_the_paired_units() -> None:
    pairs = [
        Pair({"highly": 30, "skilled": 100}, {"highly": 20, "skilled": 100}),
        Pair({"highly": 10, "skilled": 100}, {"highly": 10, "skilled": 100}),
    ]
    measured = measure(SHARE, pairs)
    assert (measured.units, measured.now, measured.then) == (2, 0.2, 0.15)
    assert measured.change == pytest.approx(0.05)


def test_it_leaves_out_a_unit_with_a_blank_indicator_either_time() -> None:
    pairs = [
        Pair({"a": 12, "b": 0}, {"a": 10, "b": 0}),
        Pair({"a": 99, "b": None}, {"a": 1, "b": 1}),
        Pair({"a": 99, "b": 1}, {"a": True, "b": 1}),
    ]
    measured = measure(GROWTH, pairs)
    assert measured.units == 1 and measured.change == pytest.approx(0.2)


@pytest.mark.parametrize(
    ("change", "value"), [(None, None), (0.0, 0.5), (0.2, 1.0), (0.5, 1.0), (-0.1, 0.25), (-0.4, 0.0)]
)
def test_it_scores_a_change_against_its_target(change: float | None, value: float | None) -> None:
    assert outcome_value(change, 0.2) == value


def test_it_leaves_out_outcomes_without_a_comparison_and_uses_progress_alone() -> None:
    scored = evaluate(DEFAULT_EFFECTIVENESS_INDEX, row(participation_rate=0.8, on_time_rate=0.5), [])
    progress, outcomes = scored["components"]
    assert outcomes["value"] is None and all(p["value"] is None for p in outcomes["parts"])
    # 0.3 x 0.8 + 0.2 x 0.5 + 0.3 x 1 (nothing to rectify) + 0.2 x 1 (nothing to verify) = 0.84
    assert progress["value"] == 84.0 and scored["index"] == 84.0


def test_it_shares_the_weight_of_a_part_without_a_value_among_the_others() -> None:
    index = copy.deepcopy(DEFAULT_EFFECTIVENESS_INDEX)
    index["components"][1]["parts"] = [SHARE | {"weight": 0.5}, GROWTH | {"weight": 0.5}]
    # the share rose 2 points (full mark); the growth has no base (no value): outcomes = 1.0
    pairs = [
        Pair({"highly": 22, "skilled": 100, "a": 5, "b": 0}, {"highly": 20, "skilled": 100, "a": 0, "b": 0})
    ]
    scored = evaluate(index, row(participation_rate=0.5, on_time_rate=0.5, rectification_rate=0.0), pairs)
    assert scored["components"][1]["value"] == 100.0
    # progress 0.3 x 0.5 + 0.2 x 0.5 + 0 + 0.2 x 1 = 0.45; index 0.5 x 0.45 + 0.5 x 1 = 0.725
    assert scored["components"][0]["value"] == 45.0 and scored["index"] == 72.5


def test_it_counts_nothing_for_a_district_that_reported_nothing() -> None:
    empty = row(reported=0, participation_rate=0.0, on_time_rate=0.0, mean_score=None, share_at_60=None)
    assert evaluate(DEFAULT_EFFECTIVENESS_INDEX, empty, [])["index"] == 0.0


def test_a_pair_known_by_its_reports_sums_adds_up_as_one_made_of_its_indicators() -> None:
    specs = specs_of({"components": [{"code": "o", "parts": [SHARE, GROWTH, dict(GROWTH, code="d")]}]})
    assert specs == ((("highly",), ("skilled",)), (("a", "b"), ()))  # one spec per distinct sum
    reports = [
        ({"highly": 30, "skilled": 100, "a": 1, "b": 2}, {"highly": 20, "skilled": 100, "a": 1, "b": 1}),
        ({"highly": 30, "skilled": None, "a": 1, "b": 2}, {"highly": 20, "skilled": 100, "a": True, "b": 1}),
    ]
    for now, then in reports:
        whole = Pair(now, then)
        summed = Pair.of_sides(
            specs, [side_totals(now, spec) for spec in specs], [side_totals(then, spec) for spec in specs]
        )
        assert [summed.totals(*spec) for spec in specs] == [whole.totals(*spec) for spec in specs]
    assert side_totals({"a": 1, "b": 2}, (("a", "b"), ())) == (3.0, 1.0)
    assert side_totals({"highly": 3}, (("highly",), ("skilled",))) is None
