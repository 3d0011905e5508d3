"""The rules: pure functions from a report (and the unit's previous report) to violations.

Expression rules are parsed once per catalogue version and evaluated with simpleeval, never `eval`.
"""

from __future__ import annotations

import ast
import operator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from simpleeval import SimpleEval

from shared.catalogue import STATUSES, Catalogue, expression_names

COMPARE = {"<": operator.lt, "<=": operator.le, "==": operator.eq, "!=": operator.ne,
           ">=": operator.ge, ">": operator.gt}
RANK = {status: i for i, status in enumerate(STATUSES)}
RANK["exemplary"] = RANK["implemented"] + 1


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
class Report:
    """What the rules look at: one report and, when there is one, the unit's previous report."""

    measures: dict[str, dict[str, Any]]
    indicators: dict[str, Any]
    overall_score: float
    previous_measures: dict[str, dict[str, Any]] | None = None


@dataclass(frozen=True)
class CompiledExpression:
    text: str
    tree: ast.AST
    names: frozenset[str]


def _compile(text: str) -> CompiledExpression:
    return CompiledExpression(text, SimpleEval().parse(text), frozenset(expression_names(text)))


@lru_cache(maxsize=4096)
def compiled(text: str) -> CompiledExpression:
    return _compile(text)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return str(value)


def _evaluate(expr: CompiledExpression, values: dict[str, Any]) -> Any:
    return SimpleEval(names=values).eval(expr.text, previously_parsed=expr.tree)


def _violation(rule: dict[str, Any], evidence: dict[str, Any], **fmt: Any) -> Violation:
    texts = {k: _fmt(v) for k, v in fmt.items()}
    return Violation(
        rule_code=rule["code"], severity=rule["severity"],
        message_zh=rule["message_zh"].format_map(_Default(texts)),
        message_en=rule.get("message_en", "").format_map(_Default(texts)),
        action_zh=rule.get("action_zh", ""), source=rule.get("source", ""), evidence=evidence,
    )


class _Default(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def check_expression(rule: dict[str, Any], indicators: dict[str, Any]) -> Violation | None:
    parts = [compiled(rule[k]) for k in ("left", "right")]
    when = compiled(rule["when"]) if rule.get("when") else None
    needed = set().union(*(p.names for p in parts), when.names if when else set())
    missing = sorted(n for n in needed if indicators.get(n) is None)
    if missing:
        if rule.get("missing", "skip") == "skip":
            return None
        return _violation(rule, {"missing": missing}, left="?", right="?")
    if when is not None and not _evaluate(when, indicators):
        return None
    left, right = (_evaluate(p, indicators) for p in parts)
    if COMPARE[rule["op"]](left, right):
        return None
    return _violation(rule, {"left": left, "op": rule["op"], "right": right,
                             "expression": f"{rule['left']} {rule['op']} {rule['right']}"},
                      left=left, right=right)


def _measure_list(catalogue: Catalogue, codes: list[str]) -> str:
    return "、".join(f"{c} {catalogue.measures[c]['name_zh']}" for c in codes)


def check_measures(rule: dict[str, Any], catalogue: Catalogue, report: Report) -> Violation | None:
    kind = rule["kind"]
    if kind == "measure_status":
        codes = [c for c in catalogue.measures if not (report.measures.get(c) or {}).get("status")]
    elif kind == "measure_note":
        statuses = set(rule.get("statuses") or ("implemented", "exemplary"))
        codes = [c for c in catalogue.measures
                 if (report.measures.get(c) or {}).get("status") in statuses
                 and not str((report.measures.get(c) or {}).get("note") or "").strip()]
    elif kind == "status_regression":
        if report.previous_measures is None:
            return None
        codes = [c for c in catalogue.measures
                 if RANK.get((report.measures.get(c) or {}).get("status", ""), -1)
                 < RANK.get((report.previous_measures.get(c) or {}).get("status", ""), -1)]
    else:
        return None
    if not codes:
        return None
    return _violation(rule, {"measures": codes}, measures=_measure_list(catalogue, codes))


def check_score(rule: dict[str, Any], report: Report) -> Violation | None:
    if report.overall_score >= rule["threshold"]:
        return None
    return _violation(rule, {"score": report.overall_score, "threshold": rule["threshold"]},
                      score=report.overall_score, threshold=rule["threshold"])


def evaluate(catalogue: Catalogue, report: Report) -> list[Violation]:
    """Every rule of the catalogue against one report; the violations, in the catalogue's order."""
    found: list[Violation] = []
    for rule in catalogue.rules:
        kind = rule.get("kind", "expression")
        if kind == "expression":
            violation = check_expression(rule, report.indicators)
        elif kind == "overall_score":
            violation = check_score(rule, report)
        else:
            violation = check_measures(rule, catalogue, report)
        if violation is not None:
            found.append(violation)
    return found
