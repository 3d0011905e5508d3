"""The language of expression rules: what it accepts, what it refuses and why, and how evaluation is
bounded, in the pure module and the engine."""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from simpleeval import SimpleEval

from shared.catalogue import Catalogue, CatalogueError, default_file, parse_catalogue
from shared.rules import engine, expressions
from shared.rules.engine import Report
from tests.support import expressions as generated

STARTER: dict[str, Any] = yaml.safe_load(default_file().read_text(encoding="utf-8"))
CATALOGUE = Catalogue(parse_catalogue(copy.deepcopy(STARTER)))
STARTER_EXPRESSIONS = sorted(
    {r[part] for r in STARTER["rules"] for part in ("left", "right", "when") if r.get(part)}
)


@dataclass
class Judged:
    violations: list[engine.Violation]
    errors: list[expressions.RuleError]


def judged(catalogue: Catalogue, report: Report, budget: float = engine.TIME_BUDGET) -> Judged:
    """Every report rule against the report: its violations and the rules it could not evaluate."""
    outcomes = engine.explain(catalogue, report, budget)
    return Judged([v for o in outcomes for v in o.violations], engine.errors(outcomes))


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("payroll_total * 0.015", {"payroll_total"}),
        ("a + b - c * d / e", {"a", "b", "c", "d", "e"}),
        ("a < b <= c and not d or e != 1", {"a", "b", "c", "d", "e"}),
        ("-(a + +b)", {"a", "b"}),
        ("max(a, b * 2) + min(1, c, 3) - abs(d)", {"a", "b", "c", "d"}),
        ("min(a, b) + min", {"a", "b", "min"}),
        ("True", set()),
        ("  30  ", set()),
    ],
)
def test_it_accepts_the_arithmetic_and_comparisons_rules_need(text: str, names: set[str]) -> None:
    assert expressions.check(text).names == names


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "is empty"),
        ("a +", "does not parse (invalid syntax)"),
        ("a; b", "does not parse"),
        ("a\x00", "does not parse"),
        ("2 ** 3", "uses ** (power), which is not allowed"),
        ("a // 2", "uses //, which is not allowed"),
        ("a % 2", "uses %, which is not allowed"),
        ("1 << 100000", "uses <<, which is not allowed"),
        ("~a", "uses ~, which is not allowed"),
        ("a in b", "uses in, which is not allowed"),
        ("a is b", "uses is, which is not allowed"),
        ("'x' == a", "holds text, which is not allowed"),
        ("b'x' == a", "holds text, which is not allowed"),
        ("None", "holds None, which is not allowed"),
        ("1j", "holds 1j, which is not allowed"),
        ("a.real", "uses attribute access (.real), which is not allowed"),
        ("a.bit_length()", "calls a method (.bit_length()), which is not allowed"),
        ("str(a)", "calls str(), which is not allowed (only abs(), min(), max())"),
        ("(lambda: 1)()", "calls the value of an expression, which is not allowed"),
        ("min(a)", "gives min() 1 values; it takes 2 to 10 values"),
        ("abs(a, b)", "gives abs() 2 values; it takes one value"),
        ("max(*a)", "gives max() named or starred arguments"),
        ("max(a, b, key=c)", "gives max() named or starred arguments"),
        ("[a, b]", "uses a list, which is not allowed"),
        ("a[0]", "uses indexing ([...]), which is not allowed"),
        ("a if b else c", "uses if … else, which is not allowed"),
        ("(a := 1)", "uses :=, which is not allowed"),
        ("[x for x in a]", "uses a comprehension, which is not allowed"),
        ("f'{a}'", "uses text, which is not allowed"),
        ("a" + " + a" * 300, "is longer than 500 characters"),
        ("-" * 100 + "a", "nests deeper than 40 levels"),
        (" + ".join(["a"] * 60), "nests deeper than 40 levels"),
    ],
)
def test_it_refuses_what_a_rule_may_not_say_with_the_reason(text: str, reason: str) -> None:
    with pytest.raises(expressions.ExpressionRefused) as refused:
        expressions.check(text)
    assert refused.value.detail.startswith(reason), refused.value.detail
    assert refused.value.reason == "refused"


@pytest.mark.parametrize(
    ("text", "values", "reason", "detail"),
    [
        ("a / b", {"a": 1, "b": 0}, "division_by_zero", "division by zero: 'a / b'"),
        ("a * a * a", {"a": 10**11}, "too_large", "a value exceeds 1e+30: 'a * a * a'"),
        ("a * 10", {"a": 1e308}, "too_large", "a value is not a finite number: 'a * 10'"),
        ("a / 3", {"a": 10**4000}, "too_large", "a value is too large: 'a / 3'"),
        ("-a", {"a": 10**40}, "too_large", "a value exceeds 1e+30: '-a'"),
    ],
)
def test_it_stops_a_value_that_cannot_be_computed_with_the_reason(
    text: str, values: dict[str, Any], reason: str, detail: str
) -> None:
    with pytest.raises(expressions.EvaluationFailed) as failed:
        expressions.evaluate(expressions.check(text), values)
    assert (failed.value.reason, failed.value.explained()) == (reason, detail)


def test_it_accepts_every_expression_of_the_starter_catalogue() -> None:
    assert len(STARTER_EXPRESSIONS) >= 10
    for text in STARTER_EXPRESSIONS:
        expressions.check(text)


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(sorted(CATALOGUE.indicators)),
        st.one_of(
            st.booleans(),
            st.integers(min_value=0, max_value=10**9),
            st.floats(min_value=0, max_value=1e9, allow_nan=False),
        ),
        min_size=len(CATALOGUE.indicators),
    )
)
def test_it_evaluates_the_starter_expressions_as_plain_simpleeval_did(values: dict[str, Any]) -> None:
    for text in STARTER_EXPRESSIONS:
        before = SimpleEval(names=values).eval(text)
        assert expressions.evaluate(expressions.check(text), values) == before, text


def test_it_records_the_rules_not_reached_within_the_time_budget() -> None:
    report = Report({}, {"workers_total": 10, "frontline_workers": 20}, 80.0)
    within = judged(CATALOGUE, report)
    assert within.errors == [] and "frontline_within_total" in {v.rule_code for v in within.violations}
    spent = judged(CATALOGUE, report, budget=0)
    assert spent.violations == []
    assert [(e.rule_code, e.reason) for e in spent.errors] == [
        (r.code, "time_limit") for r in CATALOGUE.report_rules
    ]


def test_it_evaluates_the_other_rules_when_one_fails() -> None:
    raw = copy.deepcopy(STARTER)
    fund = next(r for r in raw["rules"] if r["code"] == "fund_extraction")
    per_worker = dict(fund, code="per_worker", left="payroll_total / workers_total", right="0")
    raw["rules"].insert(0, per_worker)
    catalogue = Catalogue(parse_catalogue(raw))
    indicators = {
        "workers_total": 0,
        "frontline_workers": 5,
        "payroll_total": 100,
        "education_fund_extracted": 0,
    }
    result = judged(catalogue, Report({}, indicators, 80.0))
    assert result.errors == [
        expressions.RuleError(
            "per_worker", "division_by_zero", "division by zero: 'payroll_total / workers_total'"
        )
    ]
    assert {"fund_extraction", "frontline_within_total"} <= {v.rule_code for v in result.violations}


report_values = st.dictionaries(
    st.sampled_from(generated.INDICATORS),
    st.one_of(
        st.booleans(),
        st.integers(min_value=-(10**40), max_value=10**40),
        st.floats(allow_nan=True, allow_infinity=True),
    ),
)


@settings(max_examples=400, deadline=None)
@given(generated.expressions, st.sampled_from(["left", "right", "when"]), report_values)
def test_it_refuses_a_generated_expression_at_load_or_evaluates_it_within_the_time_bound(
    text: str, part: str, indicators: dict[str, Any]
) -> None:
    raw = copy.deepcopy(STARTER)
    next(r for r in raw["rules"] if r["code"] == "fund_extraction")[part] = text
    report = Report({}, indicators, 80.0)
    try:
        catalogue = Catalogue(parse_catalogue(copy.deepcopy(raw)))
    except CatalogueError as exc:
        assert exc.problems and all(p.startswith(f"rule fund_extraction: {part} ") for p in exc.problems)
        catalogue = Catalogue(raw)  # as a catalogue stored before expressions were checked
    started = time.monotonic()
    result = judged(catalogue, report)
    assert time.monotonic() - started < engine.TIME_BUDGET
    codes = [v.rule_code for v in result.violations] + [e.rule_code for e in result.errors]
    assert len(codes) == len(set(codes))
    assert all(e.reason != "time_limit" for e in result.errors)
