"""Cohort outliers: a unit's per-worker indicator far from the other units of its cohort.

The score is the modified z-score of Iglewicz and Hoaglin, 0.6745 · (x − median) / MAD, which a
few extreme units cannot drag the way a mean and standard deviation can. A cohort smaller than
the rule's `min_cohort`, or whose values are nearly all equal (MAD of 0), says nothing.
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


@dataclass(frozen=True)
class Member:
    """One unit's latest report of the round, as the outlier rule sees it."""

    unit_id: int
    cohort: str
    indicators: dict[str, Any]


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


def check(rule: Rule, members: Iterable[Member], names: dict[str, str]) -> dict[int, Violation]:
    """The violations of one cohort_outlier rule over a round's reports, by unit id."""
    per, threshold = rule.per, rule.threshold
    assert per is not None and threshold is not None
    cohorts: dict[str, list[Member]] = defaultdict(list)
    for member in members:
        cohorts[member.cohort].append(member)
    flagged: dict[int, dict[str, float]] = defaultdict(dict)
    for cohort in cohorts.values():
        if len(cohort) < rule.min_cohort:
            continue
        for code in rule.indicators:
            ratios = {m.unit_id: r for m in cohort if (r := per_worker(m.indicators, code, per)) is not None}
            if len(ratios) < rule.min_cohort:
                continue
            for unit_id, z in robust_z(ratios).items():
                if abs(z) > threshold:
                    flagged[unit_id][code] = round(z, 2)  # type: ignore[index]
    return {unit_id: _violation(rule, scores, names) for unit_id, scores in flagged.items()}


def _violation(rule: Rule, scores: dict[str, float], names: dict[str, str]) -> Violation:
    listed = "、".join(f"{names.get(code, code)}（z={z:+.1f}）" for code, z in sorted(scores.items()))
    texts = {"threshold": f"{rule.threshold:g}", "indicators": listed}
    return Violation(
        rule_code=rule.code,
        severity=rule.severity,
        message_zh=rule.message_zh.format(**texts),
        message_en=rule.message_en.format(
            **{**texts, "indicators": ", ".join(f"{code} (z={z:+.1f})" for code, z in sorted(scores.items()))}
        ),
        action_zh=rule.action_zh,
        source=rule.source,
        evidence={"z_scores": scores, "per": rule.per, "cohort": rule.cohort},
    )
