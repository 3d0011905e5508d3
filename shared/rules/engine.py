"""The rules: pure functions from a report (and the unit's earlier reports) to violations.

Each report rule first says whether it applies to the report at all (the unit's kind, the half of
the year, the unit's first round being a baseline, a target's validity, a guard on the report's own
values, values left blank); a rule that does not apply is skipped with its reason, never read as a
finding. Expression rules are checked and parsed once per catalogue version (`shared.rules.expressions`)
and evaluated with simpleeval, never `eval`. A rule that cannot be evaluated on a report is an error of
that report's outcome; the other rules are evaluated all the same.
"""

from __future__ import annotations

import operator
import re
import time
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from shared.catalogue import STATUS_NAMES, Catalogue, Rule
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
UNIT_KIND_NAMES = {"enterprise": ("企业", "enterprises"), "institution": ("事业单位", "institutions")}


@dataclass(frozen=True)
class Violation:
    rule_code: str
    severity: str
    message_zh: str
    message_en: str
    action_zh: str
    source: str
    evidence: dict[str, Any] = field(default_factory=dict)
    # What the finding is about within the rule (a measure), when one rule makes several findings.
    subject: str = ""
    category: str = ""
    action_en: str = ""


@dataclass(frozen=True)
class Skip:
    """Why a rule did not apply to a report: a reason and its values (`describe` tells it in words).

    Reasons: kind, half, round, validity, guard, blank, no_comparison."""

    reason: str
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    """What one rule made of one report: broken (with its violations), held, skipped (with why), or
    not evaluated (an error: the rule failed on this report, or the report's time ran out)."""

    rule_code: str
    violations: tuple[Violation, ...] = ()
    skip: Skip | None = None
    error: RuleError | None = None

    @property
    def result(self) -> str:
        if self.error:
            return "error"
        return "skipped" if self.skip else ("broken" if self.violations else "held")


@dataclass(frozen=True)
class PastReport:
    """A unit's latest report of an earlier round."""

    round_code: str
    measures: dict[str, dict[str, Any]]
    indicators: dict[str, Any]
    overall_score: float | None


@dataclass(frozen=True)
class Report:
    """What the rules look at: one report, whether it came late, the unit's earlier reports (newest
    first, one per round), the unit's kind, the round and the last day of the period it covers."""

    measures: dict[str, dict[str, Any]]
    indicators: dict[str, Any]
    overall_score: float
    history: tuple[PastReport, ...] = ()
    late: bool = False
    unit_kind: str = "enterprise"
    round_code: str = ""
    period_end: str | None = None  # ISO date


# Seconds of rule checks one report may take; the rules not reached by then are its errors.
TIME_BUDGET = 2.0


@lru_cache(maxsize=4096)
def compiled(text: str) -> expressions.Checked:
    """The checked expression; raises `ExpressionRefused` (not cached) for a text the language refuses."""
    return expressions.check(text)


def _evaluate(expr: expressions.Checked, values: dict[str, Any]) -> Any:
    return expressions.evaluate(expr, values)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return str(value)


class _Default(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _violation(rule: Rule, evidence: dict[str, Any], subject: str = "", **fmt: Any) -> Violation:
    """A violation of `rule`, its messages filled in; a value given as (zh, en) fills each language."""
    zh = {k: _fmt(v[0] if isinstance(v, tuple) else v) for k, v in fmt.items()}
    en = {k: _fmt(v[1] if isinstance(v, tuple) else v) for k, v in fmt.items()}
    return Violation(
        rule_code=rule.code,
        severity=rule.severity,
        message_zh=rule.message_zh.format_map(_Default(zh)),
        message_en=rule.message_en.format_map(_Default(en)),
        action_zh=rule.action_zh,
        source=rule.source,
        evidence=evidence,
        subject=subject,
        category=rule.category,
        action_en=rule.action_en,
    )


def _names(catalogue: Catalogue, codes: list[str], kind: str) -> tuple[str, str]:
    """Measure or indicator titles, listed in each language."""
    table = catalogue.measures if kind == "measure" else catalogue.indicators
    zh = "、".join(table[c]["name_zh"] for c in codes)
    en = "; ".join(table[c].get("name_en") or table[c]["name_zh"] for c in codes)
    return zh, en


# --- where a rule applies ------------------------------------------------------------------------


def applicability(rule: Rule, report: Report) -> Skip | None:
    """Why the rule does not apply to this report, or None when it does."""
    kinds = tuple(rule.applies_to.get("kind") or ())
    if kinds and report.unit_kind not in kinds:
        return Skip("kind", {"kinds": list(kinds)})
    if rule.halves:
        half = progress.half_of(report.round_code)
        if half is None or f"H{half[1]}" not in rule.halves:
            return Skip("half", {"halves": list(rule.halves)})
    if len(report.history) + 1 < rule.from_round:
        return Skip("round", {"from_round": rule.from_round, "reports": len(report.history) + 1})
    if (rule.valid_from or rule.valid_until) and not _within(rule, report.period_end):
        return Skip("validity", {"valid_from": rule.valid_from, "valid_until": rule.valid_until})
    if rule.when:
        guard = compiled(rule.when)
        blank = sorted(n for n in guard.names if report.indicators.get(n) is None)
        if blank:
            return Skip("blank", {"indicators": blank})
        if not _evaluate(guard, report.indicators):
            return Skip("guard", {"when": rule.when})
    return None


def _within(rule: Rule, period_end: str | None) -> bool:
    if period_end is None:
        return False
    return (rule.valid_from or "") <= period_end and period_end <= (rule.valid_until or "9999-12-31")


# --- the checks, by kind: a list of violations (empty: the rule holds), or why it was skipped -----


def check_expression(rule: Rule, report: Report) -> list[Violation] | Skip:
    assert rule.left is not None and rule.op is not None and rule.right is not None
    indicators = report.indicators
    parts = [compiled(rule.left), compiled(rule.right)]
    missing = sorted(n for n in set().union(*(p.names for p in parts)) if indicators.get(n) is None)
    if missing:
        if rule.missing == "skip":
            return Skip("blank", {"indicators": missing})
        return [_violation(rule, {"missing": missing}, left="?", right="?")]
    left, right = (_evaluate(p, indicators) for p in parts)
    if COMPARE[rule.op](left, right):
        return []
    evidence = {
        "left": left,
        "op": rule.op,
        "right": right,
        "expression": f"{rule.left} {rule.op} {rule.right}",
    }
    return [_violation(rule, evidence, left=left, right=right)]


def check_completeness(rule: Rule, catalogue: Catalogue, report: Report) -> list[Violation] | Skip:
    blank = [c for c in catalogue.required_indicators if report.indicators.get(c) is None]
    if not blank:
        return []
    return [_violation(rule, {"indicators": blank}, indicators=_names(catalogue, blank, "indicator"))]


def check_measures(rule: Rule, catalogue: Catalogue, report: Report) -> list[Violation] | Skip:
    if rule.kind == "measure_status":
        codes = [c for c in catalogue.measures if not (report.measures.get(c) or {}).get("status")]
    elif rule.kind == "measure_note":
        statuses = set(rule.statuses or ("implemented", "exemplary"))
        codes = [
            c
            for c in catalogue.measures
            if (report.measures.get(c) or {}).get("status") in statuses
            and not str((report.measures.get(c) or {}).get("note") or "").strip()
        ]
    else:
        found = progress.regressed(catalogue, report)
        if found is None:
            return Skip("no_comparison", {"compare": "previous"})
        codes = found
    if not codes:
        return []
    return [_violation(rule, {"measures": codes}, measures=_names(catalogue, codes, "measure"))]


def check_stagnation(rule: Rule, catalogue: Catalogue, report: Report) -> list[Violation] | Skip:
    """One finding per measure whose status has not moved for `rounds` half-years."""
    codes = progress.stagnant(rule, catalogue, report)
    if codes is None:
        return Skip("no_comparison", {"compare": "previous", "rounds": rule.rounds})
    out = []
    for code in codes:
        status = STATUS_NAMES.get(str((report.measures.get(code) or {}).get("status")), ("", ""))
        out.append(
            _violation(
                rule,
                {
                    "measure": code,
                    "status": (report.measures.get(code) or {}).get("status"),
                    "rounds": rule.rounds,
                },
                subject=code,
                measure=_names(catalogue, [code], "measure"),
                status=status,
                rounds=rule.rounds,
            )
        )
    return out


def check_drop(rule: Rule, catalogue: Catalogue, report: Report) -> list[Violation] | Skip:
    before = progress.compared_with(rule, report)
    if before is None:
        return Skip("no_comparison", {"compare": rule.compare})
    falls = progress.dropped(rule, report, before)
    if not falls:
        return []
    zh = "、".join(
        f"{catalogue.indicators[f['indicator']]['name_zh']} {_fmt(f['previous'])}→{_fmt(f['current'])}"
        for f in falls
    )
    en = "; ".join(
        f"{catalogue.indicators[f['indicator']].get('name_en') or f['indicator']} "
        f"{_fmt(f['previous'])}→{_fmt(f['current'])}"
        for f in falls
    )
    return [_violation(rule, {"falls": falls}, indicators=(zh, en), compared_with=before.round_code)]


def check_score_fall(rule: Rule, report: Report) -> list[Violation] | Skip:
    if not report.history or report.history[0].overall_score is None:
        return Skip("no_comparison", {"compare": "previous"})
    fall = progress.score_fall(rule, report)
    if fall is None:
        return []
    evidence = {"previous": fall[0], "score": fall[1], "threshold": rule.threshold}
    return [_violation(rule, evidence, previous=fall[0], score=fall[1], threshold=rule.threshold)]


def check_late(rule: Rule, report: Report) -> list[Violation] | Skip:
    return [_violation(rule, {"late": True})] if report.late else []


def check_score(rule: Rule, report: Report) -> list[Violation] | Skip:
    assert rule.threshold is not None
    if report.overall_score >= rule.threshold:
        return []
    evidence = {"score": report.overall_score, "threshold": rule.threshold}
    return [_violation(rule, evidence, score=report.overall_score, threshold=rule.threshold)]


def check(rule: Rule, catalogue: Catalogue, report: Report) -> Outcome:
    """One report rule against one report."""
    skip = applicability(rule, report)
    if skip is None:
        kind = rule.kind
        if kind == "expression":
            found = check_expression(rule, report)
        elif kind == "indicator_completeness":
            found = check_completeness(rule, catalogue, report)
        elif kind == "overall_score":
            found = check_score(rule, report)
        elif kind == "measure_stagnation":
            found = check_stagnation(rule, catalogue, report)
        elif kind in ("measure_status", "measure_note", "status_regression"):
            found = check_measures(rule, catalogue, report)
        elif kind == "indicator_drop":
            found = check_drop(rule, catalogue, report)
        elif kind == "score_drop":
            found = check_score_fall(rule, report)
        elif kind == "late_report":
            found = check_late(rule, report)
        else:
            found = []
        if isinstance(found, Skip):
            skip = found
        else:
            return Outcome(rule.code, tuple(found))
    return Outcome(rule.code, skip=skip)


def explain(catalogue: Catalogue, report: Report, budget: float = TIME_BUDGET) -> list[Outcome]:
    """Every report rule of the catalogue against one report, in the catalogue's order, within
    `budget` seconds; a rule that fails, or is not reached in time, is an error and the others run."""
    deadline = time.monotonic() + budget
    outcomes = []
    for rule in catalogue.report_rules:
        if time.monotonic() >= deadline:
            error = RuleError(rule.code, expressions.TIME_LIMIT, f"not reached within {budget:g} s")
            outcomes.append(Outcome(rule.code, error=error))
            continue
        try:
            outcomes.append(check(rule, catalogue, report))
        except expressions.ExpressionError as exc:
            outcomes.append(Outcome(rule.code, error=RuleError(rule.code, exc.reason, exc.explained())))
    return outcomes


def evaluate(catalogue: Catalogue, report: Report) -> list[Violation]:
    """The violations of every report rule, in the catalogue's order."""
    return [v for outcome in explain(catalogue, report) for v in outcome.violations]


def errors(outcomes: list[Outcome]) -> list[RuleError]:
    """The rules that could not be evaluated on the report."""
    return [o.error for o in outcomes if o.error]


def skipped(outcomes: list[Outcome]) -> dict[str, dict[str, Any]]:
    """The skipped rules' reasons by rule code, as stored with an evaluation."""
    return {o.rule_code: {"reason": o.skip.reason, **o.skip.detail} for o in outcomes if o.skip}


# --- telling a skip in words ---------------------------------------------------------------------


def readable(expression: str, catalogue: Catalogue, locale: str = "zh") -> str:
    """An expression with its indicator codes written as the indicators' names."""

    def name(match: re.Match[str]) -> str:
        spec = catalogue.indicators.get(match.group(0))
        if spec is None:
            return (
                {"and": "且", "or": "或", "not": "非"}.get(match.group(0), match.group(0))
                if locale == "zh"
                else match.group(0)
            )
        return spec["name_zh"] if locale == "zh" else (spec.get("name_en") or spec["name_zh"])

    return re.sub(r"[A-Za-z_][A-Za-z0-9_]*", name, expression)


def describe(skip: dict[str, Any], catalogue: Catalogue, locale: str = "zh") -> str:
    """Why a rule was skipped, in words (from the stored `{"reason": ..., ...}`)."""
    zh = locale != "en"
    reason = skip.get("reason")
    if reason == "kind":
        kinds = [UNIT_KIND_NAMES.get(k, (k, k))[0 if zh else 1] for k in skip.get("kinds", [])]
        return f"仅适用于{'、'.join(kinds)}" if zh else f"applies to {' and '.join(kinds)} only"
    if reason == "half":
        halves = skip.get("halves", [])
        words = {"H1": ("上半年", "first-half"), "H2": ("下半年", "second-half")}
        said = [words.get(h, (h, h))[0 if zh else 1] for h in halves]
        return f"仅在{'、'.join(said)}督导中检查" if zh else f"checked in the {' and '.join(said)} round only"
    if reason == "round":
        n = skip.get("from_round", 2)
        return (
            f"本轮为该单位首轮报告（基线），从第 {n} 轮起适用"
            if zh
            else f"the unit's first report is its baseline; applies from its round {n}"
        )
    if reason == "validity":
        start, end = skip.get("valid_from") or "…", skip.get("valid_until") or "…"
        return (
            f"目标有效期为 {start} 至 {end}，不含本轮"
            if zh
            else f"the target is valid from {start} to {end}, not this round"
        )
    if reason == "guard":
        when = readable(str(skip.get("when", "")), catalogue, locale)
        return f"适用条件不满足：{when}" if zh else f"its condition does not hold: {when}"
    if reason == "blank":
        names = [
            (catalogue.indicators.get(c) or {}).get("name_zh" if zh else "name_en") or c
            for c in skip.get("indicators", [])
        ]
        return f"所需指标未填报：{'、'.join(names)}" if zh else f"needs values left blank: {', '.join(names)}"
    if reason == "no_comparison":
        if skip.get("compare") == "same_half_last_year":
            return "没有上年同期报告可比" if zh else "no report of the same half of last year to compare with"
        return "没有足够的往期报告可比" if zh else "not enough earlier reports to compare with"
    return str(reason)
