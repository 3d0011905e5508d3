from __future__ import annotations

import pytest

from shared.catalogue import Rule
from shared.rules.outliers import Member, check, robust_z

RULE = Rule.from_data(
    {
        "code": "cohort_outlier",
        "kind": "cohort_outlier",
        "indicators": ["training_person_times"],
        "per": "workers_total",
        "cohort": "district",
        "threshold": 3.5,
        "min_cohort": 8,
        "severity": "info",
        "message_zh": "{indicators}",
        "message_en": "far ({threshold}): {indicators}",
        "name_zh": "偏离",
    }
)
NAMES = {"training_person_times": ("培训人次", "Training person-times")}
CITY = Rule.from_data({**RULE.__dict__, "cohorts": ["district", "industry", "city"]})


def cohort(
    training: list[float], district: str = "350102", start: int = 1, industry: str = "装备制造"
) -> list[Member]:
    return [
        Member(start + i, district, industry, {"training_person_times": t, "workers_total": 100})
        for i, t in enumerate(training)
    ]


def test_it_scores_with_median_and_mad() -> None:
    scores = robust_z({"a": 1.0, "b": 2.0, "c": 3.0, "d": 4.0, "e": 100.0})
    assert scores["c"] == 0
    assert scores["e"] == pytest.approx(0.6745 * 97 / 1)


def test_it_says_nothing_when_the_values_barely_differ() -> None:
    assert robust_z({"a": 5.0, "b": 5.0, "c": 5.0, "d": 6.0}) == {}


def test_it_flags_the_unit_far_outside_its_district_in_words_an_office_reads() -> None:
    members = cohort([100, 110, 95, 105, 98, 102, 99, 101, 5000])
    found = check(RULE, members, NAMES)
    assert list(found) == [9]
    assert found[9].message_zh == "人均培训人次明显高于同县（市）区单位中位数，约为中位数的 49.5 倍"
    assert "z" not in found[9].message_zh and "3.5" not in found[9].message_zh
    assert found[9].evidence["indicators"]["training_person_times"]["cohort"] == "district"


@pytest.mark.parametrize("size", [3, 7])
def test_it_waits_for_enough_reports_in_the_cohort(size: int) -> None:
    assert check(RULE, cohort([100] * (size - 1) + [5000]), NAMES) == {}


def test_it_falls_back_from_a_small_district_to_the_industry_then_the_city() -> None:
    # 闽清县 has only 7 units: they are compared with their industry across the city instead.
    small_district = cohort([100, 105, 95, 102, 98, 101, 3000], "350124", start=1, industry="医药")
    same_industry = cohort([100, 110, 95, 105], "350102", start=20, industry="医药")
    found = check(CITY, small_district + same_industry, NAMES)
    assert list(found) == [7]
    assert "同行业单位中位数" in found[7].message_zh
    alone = cohort([100, 105, 95, 102, 98, 101, 3000], "350124", industry="食品加工")
    others = cohort([100, 110], "350102", start=20, industry="医药")
    found = check(CITY, alone + others, NAMES)
    assert list(found) == [7] and "全市单位中位数" in found[7].message_zh


def test_it_compares_units_only_within_their_own_cohort() -> None:
    small = cohort([1, 1.1, 0.9, 1.05, 0.95, 1.02, 0.98, 1.01], "350102")
    large = cohort([900, 1000, 950, 1050, 980, 1020, 990, 1010], "350103", start=100)
    assert check(RULE, small + large, NAMES) == {}


def test_it_skips_units_without_workers_or_values() -> None:
    members = cohort([100, 110, 95, 105, 98, 102, 99, 101])
    members.append(Member(50, "350102", "装备制造", {"training_person_times": 9000, "workers_total": 0}))
    members.append(Member(51, "350102", "装备制造", {"workers_total": 100}))
    assert check(RULE, members, NAMES) == {}
