"""The effectiveness index and the case hints as catalogue data: defaults for older catalogues, and
files refused when an outcome names what does not exist."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from shared.catalogue import Catalogue, CatalogueError, default_file, parse_catalogue, read_file
from shared.catalogue.schema import DEFAULT_CASE_HINTS, DEFAULT_EFFECTIVENESS_INDEX


@pytest.fixture
def raw() -> dict[str, Any]:
    import yaml

    return yaml.safe_load(default_file().read_text(encoding="utf-8"))


def test_it_ships_the_split_index_in_the_starter_catalogue() -> None:
    data = read_file(default_file())
    components = data["effectiveness_index"]["components"]
    assert [c["name_zh"] for c in components] == ["工作推进", "改革成效"]
    assert [p["code"] for p in components[0]["parts"]] == [
        "participation",
        "on_time",
        "rectification",
        "verified_closures",
    ]
    assert {p["kind"] for p in components[1]["parts"]} == {"share", "growth"}


def test_it_gives_a_catalogue_of_the_old_kind_the_defaults(raw: dict[str, Any]) -> None:
    old = {k: v for k, v in raw.items() if k not in ("effectiveness_index", "case_hints")}
    old["district_index"] = {"participation": 0.2, "score": 0.8}
    data = parse_catalogue(old)
    assert data["effectiveness_index"] == DEFAULT_EFFECTIVENESS_INDEX
    stored_before_the_split = {
        k: v for k, v in data.items() if k not in ("effectiveness_index", "case_hints")
    }
    catalogue = Catalogue(stored_before_the_split)
    assert catalogue.effectiveness_index == DEFAULT_EFFECTIVENESS_INDEX
    assert catalogue.case_hints == DEFAULT_CASE_HINTS


def test_it_refuses_an_outcome_naming_an_unknown_indicator(raw: dict[str, Any]) -> None:
    changed = copy.deepcopy(raw)
    changed["effectiveness_index"]["components"][1]["parts"][0]["per"] = ["robots"]
    with pytest.raises(CatalogueError) as refused:
        parse_catalogue(changed)
    assert (
        "effectiveness_index part highly_skilled_share: names unknown indicators: robots"
        in refused.value.problems
    )


def test_it_refuses_a_growth_without_a_target_and_weights_adding_up_to_zero(raw: dict[str, Any]) -> None:
    changed = copy.deepcopy(raw)
    del changed["effectiveness_index"]["components"][1]["parts"][1]["target"]
    for part in changed["effectiveness_index"]["components"][0]["parts"]:
        part["weight"] = 0
    with pytest.raises(CatalogueError) as refused:
        parse_catalogue(changed)
    assert "effectiveness_index part certificates: a growth outcome needs target" in refused.value.problems
    assert "effectiveness_index progress: its parts' weights add up to 0" in refused.value.problems


def test_it_refuses_case_hints_on_unknown_indicators(raw: dict[str, Any]) -> None:
    changed = copy.deepcopy(raw)
    changed["case_hints"]["indicators"] = ["new_certificates", "smiles"]
    with pytest.raises(CatalogueError) as refused:
        parse_catalogue(changed)
    assert "case_hints: names unknown indicators: smiles" in refused.value.problems
