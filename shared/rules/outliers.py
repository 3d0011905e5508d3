"""Cohort outliers: a unit's per-worker indicator far from the other units it is compared with.

The score is the modified z-score of Iglewicz and Hoaglin, 0.6745 · (x − median) / MAD, which a
few extreme units cannot drag the way a mean and standard deviation can. A unit is compared with the
first of its cohorts (by default the same district, then the same industry, then the whole city)
that has at least `min_cohort` values and whose values are not nearly all equal (MAD of 0). The
finding says it in an office's words: "明显高于同行业单位中位数，约为中位数的 3.2 倍".
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from statistics import median
from typing import Any

from shared.catalogue import Rule
from shared.rules.engine import Violation

CONSISTENCY = 0.6745
COHORT_WORDS = {
    "district": ("同县（市）区", "in the same district"),
    "industry": ("同行业", "in the same industry"),
    "city": ("全市", "across the city"),
}


@dataclass(frozen=True)
class Member:
    """One unit's latest report of the round, as the outlier rule sees it."""

    unit_id: int
    district: str
    industry: str
    indicators: dict[str, Any]

    def cohort(self, kind: str) -> str:
        return {"district": self.district, "industry": self.industry}.get(kind, "city")


@dataclass(frozen=True)
class Far:
    """One indicator of one unit far from its cohort: which cohort, the unit's value and the median."""

    code: str
    cohort: str
    value: float
    median: float
    z: float


def robust_z(values: dict[Hashable, float]) -> dict[Hashable, float]:
    """Modified z-score of each value against all of them; empty when the MAD is 0."""
    if not values:
        return {}
    middle = median(values.values())
    mad = median(abs(v - middle) for v in values.values())
    if mad == 0:
        return {}
    return {key: CONSISTENCY * (v - middle) / mad for key, v in values.items()}


def per_worker(indicators: dict[str, Any], code: str, per: str) -> float | None:
    value, base = indicators.get(code), indicators.get(per)
    if isinstance(value, bool) or isinstance(base, bool) or value is None or not base:
        return None
    return float(value) / float(base)


def check(rule: Rule, members: Iterable[Member], names: dict[str, tuple[str, str]]) -> dict[int, Violation]:
    """The violations of one cohort_outlier rule over a round's reports, by unit id."""
    members = list(members)
    per, threshold = rule.per, rule.threshold
    assert per is not None and threshold is not None
    flagged: dict[int, list[Far]] = defaultdict(list)
    for code in rule.indicators:
        ratios = {m.unit_id: r for m in members if (r := per_worker(m.indicators, code, per)) is not None}
        decided: set[int] = set()
        for kind in rule.cohort_order:
            # every member's cohort (`cohorts`) and the undecided ones' (`groups`), in one pass
            groups: dict[str, dict[Hashable, float]] = defaultdict(dict)
            cohorts: dict[str, dict[Hashable, float]] = defaultdict(dict)
            for m in members:
                if m.unit_id in ratios:
                    key = m.cohort(kind)
                    cohorts[key][m.unit_id] = ratios[m.unit_id]
                    if m.unit_id not in decided:
                        groups[key][m.unit_id] = ratios[m.unit_id]
            for cohort_key, values in groups.items():
                whole = cohorts[cohort_key]
                scores = robust_z(whole) if len(whole) >= rule.min_cohort else {}
                if not scores:
                    continue  # too small or all alike: these units fall back to the next cohort
                middle = median(whole.values())
                for unit_id in values:
                    decided.add(unit_id)  # type: ignore[arg-type]
                    if abs(scores[unit_id]) > threshold:
                        flagged[unit_id].append(  # type: ignore[index]
                            Far(code, kind, ratios[unit_id], middle, round(scores[unit_id], 2))  # type: ignore[index]
                        )
    return {unit_id: violation(rule, fars, names) for unit_id, fars in flagged.items()}


def _said(far: Far, names: dict[str, tuple[str, str]], zh: bool) -> str:
    name = names.get(far.code, (far.code, far.code))[0 if zh else 1]
    where = COHORT_WORDS[far.cohort][0 if zh else 1]
    higher = far.value > far.median
    if far.median > 0:
        times = far.value / far.median
        size = f"约为中位数的 {times:.1f} 倍" if zh else f"about {times:.1f} times the median"
    else:
        size = "中位数为 0" if zh else "the median is 0"
    if zh:
        return f"人均{name}明显{'高于' if higher else '低于'}{where}单位中位数，{size}"
    return f"{name} per worker is far {'above' if higher else 'below'} the median of units {where} ({size})"


def violation(rule: Rule, fars: list[Far], names: dict[str, tuple[str, str]]) -> Violation:
    texts_zh = {
        "threshold": f"{rule.threshold:g}",
        "indicators": "；".join(_said(f, names, True) for f in fars),
    }
    texts_en = {**texts_zh, "indicators": "; ".join(_said(f, names, False) for f in fars)}
    return Violation(
        rule_code=rule.code,
        severity=rule.severity,
        message_zh=rule.message_zh.format(**texts_zh),
        message_en=rule.message_en.format(**texts_en),
        action_zh=rule.action_zh,
        source=rule.source,
        evidence={
            "per": rule.per,
            "indicators": {
                f.code: {
                    "cohort": f.cohort,
                    "value": round(f.value, 4),
                    "median": round(f.median, 4),
                    "z": f.z,
                }
                for f in fars
            },
        },
        category=rule.category,
        action_en=rule.action_en,
    )
