"""A rule change: tried on a round without storing anything, then applied by re-evaluating the round."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from sqlalchemy import select

from ops.cli import cli
from shared import db
from shared.catalogue import Catalogue, default_file
from shared.models import Finding, OutboxEvent
from tests.support.evaluated import store_and_evaluate, table_counts
from tests.support.processes import Stack
from tests.support.reports import clean_report, open_round, problem_report, unit_of


def changed_catalogue(tmp_path: Path) -> Path:
    """The 1.5% rule raised to 2.5%, and the proposals rule dropped."""
    data = yaml.safe_load(default_file().read_text(encoding="utf-8"))
    data["rules"] = [r for r in data["rules"] if r["code"] != "proposals_adopted_within_submitted"]
    next(r for r in data["rules"] if r["code"] == "fund_extraction")["right"] = "payroll_total * 0.025"
    path = tmp_path / "changed.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def reports(catalogue: Catalogue) -> dict[str, str]:
    round_code = open_round()
    units = {
        "clean_a": unit_of("350102", 0),
        "clean_b": unit_of("350103", 0),
        "problem": unit_of("350102", 1),
    }
    store_and_evaluate(clean_report(catalogue, units["clean_a"], round_code))
    store_and_evaluate(clean_report(catalogue, units["clean_b"], round_code))
    store_and_evaluate(problem_report(catalogue, units["problem"], round_code))
    return units


def findings() -> dict[tuple[str, str], tuple[int, str, str]]:
    with db.transaction() as session:
        rows = session.scalars(select(Finding).order_by(Finding.id)).all()
        return {(f.unit.credit_code, f.rule_code): (f.id, f.status, f.resolution) for f in rows}


def test_it_tries_rules_on_a_round_and_stores_nothing(
    seeded: dict[str, str], catalogue: Catalogue, tmp_path: Path
) -> None:
    reports(catalogue)
    with db.transaction() as session:
        before = table_counts(session)
    result = CliRunner().invoke(
        cli, ["rules", "try", str(changed_catalogue(tmp_path)), "--round", open_round(), "--json"]
    )
    assert result.exit_code == 0, result.output
    counts = json.loads(result.output)
    assert (counts["appear"], counts["disappear"]) == (2, 1)
    assert {(r["district_code"], r["appear"], r["disappear"]) for r in counts["districts"]} == {
        ("350102", 1, 1),
        ("350103", 1, 0),
    }
    with db.transaction() as session:
        assert table_counts(session) == before


def rules_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    return path


RULE = (
    "rules:\n  - {code: big, name_zh: 大数, severity: info, message_zh: x, left: %s, op: '>', right: '0'}\n"
)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (RULE % "'9**9**9'", "rule big: left uses ** (power), which is not allowed: '9**9**9'"),
        (RULE % "\"'x'.ljust(10**9)\"", "rule big: left calls a method (.ljust()), which is not allowed"),
        (RULE % ("'" + "+".join(["workers_total"] * 3000) + "'"), "rule big: left is longer than 500"),
        (RULE % ("'" + "-" * 3000 + "workers_total'"), "rule big: left is longer than 500"),
        ("rules: " + "[" * 20000 + "]" * 20000, "file: nests deeper than 64 levels (line 1)"),
    ],
)
def test_it_refuses_to_try_rules_that_could_never_be_evaluated(
    seeded: dict[str, str], tmp_path: Path, text: str, message: str
) -> None:
    result = CliRunner().invoke(
        cli, ["rules", "try", str(rules_file(tmp_path, text)), "--round", open_round()]
    )
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception  # a message, not a traceback
    assert "the rules were not tried" in result.output and message in result.output


def test_it_reevaluates_a_round_across_the_workers(
    stack: Stack, catalogue: Catalogue, tmp_path: Path
) -> None:
    units = reports(catalogue)
    before = findings()
    assert set(before) == {
        (units["problem"], "fund_extraction"),
        (units["problem"], "proposals_adopted_within_submitted"),
    }
    runner = CliRunner()
    assert runner.invoke(cli, ["catalogue", "load", str(changed_catalogue(tmp_path))]).exit_code == 0
    stack.start("evaluation", "evaluation")
    result = runner.invoke(
        cli, ["rounds", "reevaluate", open_round(), "--chunk-size", "1", "--timeout", "60"]
    )
    assert result.exit_code == 0, result.output
    assert "3 units in 3 chunks" in result.output and "done: 2 findings opened, 1 resolved" in result.output
    after = findings()
    kept = (units["problem"], "fund_extraction")
    assert after[kept] == before[kept]  # untouched: same finding, still open
    assert after[(units["problem"], "proposals_adopted_within_submitted")][1:] == (
        "resolved",
        "resolved_by_reevaluation",
    )
    assert {k for k, v in after.items() if v[1] == "open"} == {
        kept,
        (units["clean_a"], "fund_extraction"),
        (units["clean_b"], "fund_extraction"),
    }
    with db.transaction() as session:
        events: list[dict[str, Any]] = [e.payload for e in session.scalars(select(OutboxEvent))]
    chunks = [e for e in events if "job_id" in e]  # each chunk went through the outbox as an event
    assert sorted(len(e["unit_ids"]) for e in chunks) == [1, 1, 1] and all(
        e["event_version"] == 1 for e in chunks
    )
    resolved = [e for e in events if e.get("reason") == "resolved_by_reevaluation"]
    assert [(e["district_code"], len(e["finding_ids"])) for e in resolved] == [("350102", 1)]
    again = runner.invoke(cli, ["rounds", "reevaluate", open_round(), "--timeout", "60"])
    assert "done: 0 findings opened, 0 resolved" in again.output
    assert findings() == after
