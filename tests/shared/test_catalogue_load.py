"""`pilotwatch catalogue load`: a good file is stored as its version; a bad one is refused whole."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from sqlalchemy import select

from ops.cli import cli
from shared import db
from shared.catalogue import default_file
from shared.models import CatalogueVersion


def starter() -> dict[str, Any]:
    return yaml.safe_load(default_file().read_text(encoding="utf-8"))


def stored() -> dict[str, str]:
    with db.transaction() as session:
        return dict(session.execute(select(CatalogueVersion.code, CatalogueVersion.checksum)).all())


def write(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "catalogue.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def rule(data: dict[str, Any], code: str) -> dict[str, Any]:
    return next(r for r in data["rules"] if r["code"] == code)


def test_it_loads_the_starter_catalogue(env: dict[str, str]) -> None:
    result = CliRunner().invoke(cli, ["catalogue", "load", str(default_file())])
    assert result.exit_code == 0, result.output
    assert "catalogue 2017-fz loaded: 25 measures" in result.output
    assert list(stored()) == ["2017-fz"]


def _unknown_indicator(d: dict[str, Any]) -> None:
    rule(d, "fund_extraction")["right"] = "payrol_total * 0.015"


def _unparsable(d: dict[str, Any]) -> None:
    rule(d, "fund_frontline_share")["left"] = "frontline_training_spend *"


def _bounds(d: dict[str, Any]) -> None:
    d["indicators"][0].update(min=10, max=5)


def _duplicate(d: dict[str, Any]) -> None:
    d["aspects"][1]["measures"][0]["code"] = "P1-M1"


def _weights(d: dict[str, Any]) -> None:
    for measure in d["aspects"][2]["measures"]:
        measure["weight"] = 0


def _kind(d: dict[str, Any]) -> None:
    rule(d, "lagging_score")["kind"] = "vibes"


def _severity(d: dict[str, Any]) -> None:
    rule(d, "congress_held")["severity"] = "urgent"


def _drop_unknown(d: dict[str, Any]) -> None:
    rule(d, "activity_drop")["indicators"] = ["training_person_times", "certificates"]


def _threshold(d: dict[str, Any]) -> None:
    del rule(d, "score_drop")["threshold"]


@pytest.mark.parametrize(
    ("spoil", "message"),
    [
        (_unknown_indicator, "rule fund_extraction: right names unknown indicators: payrol_total"),
        (_unparsable, "rule fund_frontline_share: left does not parse"),
        (_bounds, "indicator workers_total: min 10 is greater than max 5"),
        (_duplicate, "measure P1-M1: the code appears twice"),
        (_weights, "aspect P3: its measures' weights add up to 0"),
        (_kind, "rule lagging_score (rules.20) kind: Must be one of"),
        (_severity, "rule congress_held (rules.15) severity: Must be one of"),
        (_drop_unknown, "rule activity_drop: names unknown indicators: certificates"),
        (_threshold, "rule score_drop: a score_drop rule needs threshold"),
    ],
)
def test_it_refuses_a_bad_file_whole_naming_the_entry(
    env: dict[str, str], tmp_path: Path, spoil: Any, message: str
) -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["catalogue", "load", str(default_file())]).exit_code == 0
    before = stored()
    data = starter()
    data["title_zh"] = "改过的目录"  # a change that would show if anything of the file were stored
    spoil(data)
    result = runner.invoke(cli, ["catalogue", "load", str(write(tmp_path, data))])
    assert result.exit_code == 1
    assert "the catalogue was not loaded" in result.output
    assert message in result.output
    assert stored() == before


def test_it_refuses_a_file_that_is_not_yaml(env: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("version: [unclosed", encoding="utf-8")
    result = CliRunner().invoke(cli, ["catalogue", "load", str(path)])
    assert result.exit_code == 1 and "file: not valid YAML" in result.output
    assert stored() == {}


DEEP_SUM = " + ".join(["workers_total"] * 3000)


@pytest.mark.parametrize(
    ("left", "reason"),
    [
        ("9**9**9", "uses ** (power), which is not allowed"),
        ("'a'*10**9", "holds text, which is not allowed"),
        ("().__class__", "uses attribute access (.__class__), which is not allowed"),
        ("4000**2000 < 0", "uses ** (power), which is not allowed"),
        ("3999999**3999999", "uses ** (power), which is not allowed"),
        ("'x'.ljust(1000000000)", "calls a method (.ljust()), which is not allowed"),
        ("__import__('os')", "calls __import__(), which is not allowed"),
        ("payroll_total // 2", "uses //, which is not allowed"),
        (DEEP_SUM, "is longer than 500 characters"),
        ("-" * 3000 + "workers_total", "is longer than 500 characters"),
        ("-" * 300 + "workers_total", "nests deeper than 40 levels"),
    ],
)
def test_it_refuses_an_expression_that_could_never_be_evaluated_naming_the_rule(
    env: dict[str, str], tmp_path: Path, left: str, reason: str
) -> None:
    data = starter()
    rule(data, "fund_extraction")["left"] = left
    result = CliRunner().invoke(cli, ["catalogue", "load", str(write(tmp_path, data))])
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception  # a message, not a traceback
    assert f"rule fund_extraction: left {reason}" in result.output
    assert stored() == {}


def test_it_refuses_a_yaml_file_nested_too_deeply(env: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text("version: " + "[" * 20000 + "]" * 20000, encoding="utf-8")
    result = CliRunner().invoke(cli, ["catalogue", "load", str(path)])
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert "file: nests deeper than 64 levels (line 1)" in result.output
    assert stored() == {}


def test_it_still_loads_every_rule_of_the_starter_catalogue_with_functions_allowed(
    env: dict[str, str], tmp_path: Path
) -> None:
    data = starter()
    data["version"] = "2017-fz-b"
    rule(data, "fund_extraction")["right"] = "max(payroll_total * 0.015, abs(-1)) + min(1, 2) - 1"
    rule(data, "fund_extraction")["when"] = "payroll_total > 0 and not (workers_total < 1)"
    result = CliRunner().invoke(cli, ["catalogue", "load", str(write(tmp_path, data))])
    assert result.exit_code == 0, result.output
    assert list(stored()) == ["2017-fz-b"]
