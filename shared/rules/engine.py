"""The rules: pure functions from a report (and the unit's earlier reports) to violations.

Expression rules are checked and parsed once per catalogue version (`shared.rules.expressions`) and
evaluated with simpleeval, never `eval`. A rule that cannot be evaluated on a report is an error of
that report's outcome; the other rules are evaluated all the same.
"""

from __future__ import annotations

import operator
import time
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from shared.catalogue import Catalogue, Rule
from shared.rules import expressions, progress
from shared.rules.expressions import RuleError

COMPARE = {
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
    ">=": operator.ge,
    ">": operator.gt,
}


@dataclass(frozen=True)
class Violation:
    rule_code: str
    severity: str
    message_zh: str
    message_en: str
    action_zh: str
    source: str
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PastReport:
    """A unit's latest report of an earlier round."""

    round_code: str
    measures: dict[str, dict[str, Any]]
    indicators: dict[str, Any]
    overall_score: float | None


@dataclass(frozen=True)
class Report:
    """What the rules look at: one report, whether it came late, and the unit's earlier reports
    (newest first, one per round)."""

    measures: dict[str, dict[str, Any]]
    indicators: dict[str, Any]
    overall_score: float
    history: tuple[PastReport, ...] = ()
    late: bool = False


# Seconds of rule checks one report may take; the rules not reached by then are its errors.
TIME_BUDGET = 2.0


@lru_cache(maxsize=4096)
def compiled(text: str) -> expressions.Checked:
    """The checked expression; raises `ExpressionRefused` (not cached) for a text the language refuses."""
    return expressions.check(text)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return str(value)


def _evaluate(expr: expressions.Checked, values: dict[str, Any]) -> Any:
    return expressions.evaluate(expr, values)


def _violation(rule: Rule, evidence: dict[str, Any], **fmt: Any) -> Violation:
    texts = {k: _fmt(v) for k, v in fmt.items()}
    return Violation(
        rule_code=rule.code,
        severity=rule.severity,
        message_zh=rule.message_zh.format_map(_Default(texts)),
        message_en=rule.message_en.format_map(_Default(texts)),
        action_zh=rule.action_zh,
        source=rule.source,
        evidence=evidence,
    )


class _Default(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def check_expression(rule: Rule, indicators: dict[str, Any]) -> Violation | None:
    assert rule.left is not None and rule.op is not None and rule.right is not None
    parts = [compiled(rule.left), compiled(rule.right)]
    when = compiled(rule.when) if rule.when else None
    needed = set().union(*(p.names for p in parts), when.names if when else set())
    missing = sorted(n for n in needed if indicators.get(n) is None)
    if missing:
        if rule.missing == "skip":
            return None
        return _violation(rule, {"missing": missing}, left="?", right="?")
    if when is not None and not _evaluate(when, indicators):
        return None
    left, right = (_evaluate(p, indicators) for p in parts)
    if COMPARE[rule.op](left, right):
        return None
    return _violation(
        rule,
        {
            "left": left,
            "op": rule.op,
            "right": right,
            "expression": f"{rule.left} {rule.op} {rule.right}",
        },
        left=left,
        right=right,
    )


def _measure_list(catalogue: Catalogue, codes: list[str]) -> str:
    return "、".join(f"{c} {catalogue.measures[c]['name_zh']}" for c in codes)


def check_measures(rule: Rule, catalogue: Catalogue, report: Report) -> Violation | None:
    kind = rule.kind
    codes: list[str] | None
    if kind == "measure_status":
        codes = [c for c in catalogue.measures if not (report.measures.get(c) or {}).get("status")]
    elif kind == "measure_note":
        statuses = set(rule.statuses or ("implemented", "exemplary"))
        codes = [
            c
            for c in catalogue.measures
            if (report.measures.get(c) or {}).get("status") in statuses
            and not str((report.measures.get(c) or {}).get("note") or "").strip()
        ]
    elif kind == "status_regression":
        codes = progress.regressed(catalogue, report)
    else:
        codes = progress.stagnant(rule, catalogue, report)
    if not codes:
        return None
    return _violation(rule, {"measures": codes}, measures=_measure_list(catalogue, codes))


def check_drop(rule: Rule, catalogue: Catalogue, report: Report) -> Violation | None:
    falls = progress.dropped(rule, report)
    if not falls:
        return None
    text = "、".join(
        f"{catalogue.indicators[f['indicator']]['name_zh']} {_fmt(f['previous'])}→{_fmt(f['current'])}"
        for f in falls
    )
    return _violation(rule, {"falls": falls}, indicators=text)


def check_score_fall(rule: Rule, report: Report) -> Violation | None:
    fall = progress.score_fall(rule, report)
    if fall is None:
        return None
    return _violation(
        rule,
        {"previous": fall[0], "score": fall[1], "threshold": rule.threshold},
        previous=fall[0],
        score=fall[1],
        threshold=rule.threshold,
    )


def check_late(rule: Rule, report: Report) -> Violation | None:
    return _violation(rule, {"late": True}) if report.late else None


def check_score(rule: Rule, report: Report) -> Violation | None:
    assert rule.threshold is not None
    if report.overall_score >= rule.threshold:
        return None
    return _violation(
        rule,
        {"score": report.overall_score, "threshold": rule.threshold},
        score=report.overall_score,
        threshold=rule.threshold,
    )


MEASURE_KINDS = ("measure_status", "measure_note", "status_regression", "measure_stagnation")


def check(rule: Rule, catalogue: Catalogue, report: Report) -> Violation | None:
    kind = rule.kind
    if kind == "expression":
        return check_expression(rule, report.indicators)
    if kind == "overall_score":
        return check_score(rule, report)
    if kind in MEASURE_KINDS:
        return check_measures(rule, catalogue, report)
    if kind == "indicator_drop":
        return check_drop(rule, catalogue, report)
    if kind == "score_drop":
        return check_score_fall(rule, report)
    if kind == "late_report":
        return check_late(rule, report)
    return None


@dataclass(frozen=True)
class Outcome:
    """The violations of one report, and the rules that could not be evaluated on it."""

    violations: list[Violation]
    errors: list[RuleError]


def outcome(catalogue: Catalogue, report: Report, budget: float = TIME_BUDGET) -> Outcome:
    """Every report rule of the catalogue against one report, in the catalogue's order, within
    `budget` seconds; a rule that fails, or is not reached in time, is an error and the others run."""
    deadline = time.monotonic() + budget
    violations: list[Violation] = []
    errors: list[RuleError] = []
    for rule in catalogue.report_rules:
        if time.monotonic() >= deadline:
            errors.append(RuleError(rule.code, expressions.TIME_LIMIT, f"not reached within {budget:g} s"))
            continue
        try:
            found = check(rule, catalogue, report)
        except expressions.ExpressionError as exc:
            errors.append(RuleError(rule.code, exc.reason, exc.explained()))
            continue
        if found is not None:
            violations.append(found)
    return Outcome(violations, errors)


def evaluate(catalogue: Catalogue, report: Report) -> list[Violation]:
    """Every report rule of the catalogue against one report; the violations, in the catalogue's order."""
    return outcome(catalogue, report).violations
