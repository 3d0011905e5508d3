"""Properties of the catalogue loader and the rule evaluator over generated input: they answer with
a refusal or a result, never with an unexpected exception."""

from __future__ import annotations

import copy
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.catalogue import Catalogue, CatalogueError, default_file, parse_catalogue
from shared.rules.engine import Report, evaluate
from shared.rules.scoring import score

STARTER: dict[str, Any] = yaml.safe_load(default_file().read_text(encoding="utf-8"))
CATALOGUE = Catalogue(parse_catalogue(copy.deepcopy(STARTER)))

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["aspects", "indicators", "rules", "version", "measure_points"]), json_values)
def test_it_refuses_a_damaged_catalogue_with_messages_or_loads_it(part: str, value: Any) -> None:
    raw = copy.deepcopy(STARTER)
    raw[part] = value
    try:
        parse_catalogue(raw)
    except CatalogueError as exc:
        assert exc.problems and all(isinstance(p, str) and p for p in exc.problems)


@settings(max_examples=150, deadline=None)
@given(
    st.integers(min_value=0, max_value=len(STARTER["rules"]) - 1),
    st.sampled_from(["left", "right", "op", "severity", "missing", "when"]),
    st.text(max_size=30),
)
def test_it_refuses_a_rule_with_any_bad_field_naming_the_rule(index: int, field: str, text: str) -> None:
    raw = copy.deepcopy(STARTER)
    raw["rules"][index][field] = text
    try:
        parse_catalogue(raw)
    except CatalogueError as exc:
        assert any(raw["rules"][index]["code"] in p or "rules" in p for p in exc.problems), exc.problems


indicator_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=0, max_value=10**9),
    st.floats(min_value=0, max_value=1e9, allow_nan=False),
)


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(st.sampled_from(sorted(CATALOGUE.indicators)), indicator_values),
    st.dictionaries(
        st.sampled_from(sorted(CATALOGUE.measures)),
        st.fixed_dictionaries(
            {
                "status": st.sampled_from(["not_started", "in_progress", "implemented", "exemplary"]),
                "note": st.text(max_size=10),
            }
        ),
    ),
)
def test_it_evaluates_any_report_the_schema_lets_through(
    indicators: dict[str, Any], measures: dict[str, Any]
) -> None:
    # The intake checks types against the catalogue; the rules then see numbers where numbers are due.
    typed = {
        code: value
        for code, value in indicators.items()
        if (CATALOGUE.indicators[code]["type"] == "boolean") == isinstance(value, bool)
    }
    scores = score(CATALOGUE, measures)
    assert 0 <= scores.overall <= 100
    violations = evaluate(CATALOGUE, Report(measures, typed, scores.overall))
    codes = [v.rule_code for v in violations]
    assert len(codes) == len(set(codes))
    assert all(v.message_zh and "{" not in v.message_zh for v in violations)
