"""The scenario of scenario.yaml through a real evaluation worker, compared with the hand-written expectations."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import func, select

from ops.demo import credit_code
from services.intake import analytics
from shared import db
from shared.catalogue import DEFAULT_VERSION, Catalogue, default_file, read_file
from shared.catalogue import store as catalogues
from shared.models import District, Evaluation, Finding, PilotUnit, Round, Submission
from tests.support.evaluated import submit_to_worker
from tests.support.processes import Stack, wait_until
from tests.support.reports import clean_report

SCENARIO = yaml.safe_load((Path(__file__).parent / "scenario.yaml").read_text(encoding="utf-8"))


def build(catalogue: Catalogue, profile: dict[str, Any], unit: str, round_code: str) -> dict[str, Any]:
    report = clean_report(catalogue, unit, round_code)
    report["indicators"].update(profile.get("indicators", {}))
    report["indicators"] = {k: v for k, v in report["indicators"].items() if v is not None}
    for code, measure in catalogue.measures.items():
        status = profile.get("all") or profile.get("aspects", {}).get(measure["aspect"])
        status = profile.get("statuses", {}).get(code, status)
        if status:
            report["measures"][code]["status"] = status
    return report


def set_up() -> dict[str, str]:
    """The districts, units (named A1 … C10 in the file) and rounds; returns name -> credit code."""
    rng = random.Random(7)
    codes: dict[str, str] = {}
    with db.transaction() as session:
        catalogues.save(session, read_file(default_file()))
        for d in SCENARIO["districts"]:
            session.add(District(code=d["code"], name_zh=d["name_zh"], name_en=d["name_en"]))
        for r in SCENARIO["rounds"]:
            session.add(
                Round(code=r["code"], catalogue_version=DEFAULT_VERSION, due_date=r["due"], status="closed")
            )
        session.flush()
        for name, unit in SCENARIO["units"].items():
            codes[name] = credit_code(rng, "350100")
            session.add(
                PilotUnit(
                    credit_code=codes[name],
                    name=f"测试单位{name}",
                    district_code=unit["district"],
                    kind=unit.get("kind", "enterprise"),
                )
            )
    return codes


def send(codes: dict[str, str], name: str, round_code: str, report: dict[str, Any], at: datetime) -> None:
    submit_to_worker(dict(report, unit=codes[name]), round_code, at)


def all_evaluated() -> bool:
    with db.transaction() as session:
        stored = session.scalar(select(func.count()).select_from(Submission))
        return stored == session.scalar(select(func.count()).select_from(Evaluation))


def run_round(codes: dict[str, str], catalogue: Catalogue, round_: dict[str, Any]) -> None:
    due: date = round_["due"]
    on_time = datetime(due.year, due.month, due.day, tzinfo=UTC) - timedelta(days=3)
    for step in ("report", "then"):
        for name, unit in SCENARIO["units"].items():
            plan = unit[round_["code"]]
            if plan.get(step):
                at = on_time + timedelta(days=5 if plan.get("late") else 0, hours=1 if step == "then" else 0)
                profile = SCENARIO["profiles"][plan[step]]
                send(codes, name, round_["code"], build(catalogue, profile, codes[name], round_["code"]), at)
        wait_until(all_evaluated, 60, f"the {step} reports of {round_['code']} to be evaluated")


@pytest.fixture
def evaluation(env: dict[str, str], tmp_path: Path) -> Iterator[Stack]:
    stack = Stack(env, tmp_path)
    try:
        yield stack
    finally:
        stack.stop()


def test_it_matches_the_hand_written_scenario(evaluation: Stack, catalogue: Catalogue) -> None:
    codes = set_up()
    names = {code: name for name, code in codes.items()}
    evaluation.start("evaluation")
    for round_ in SCENARIO["rounds"]:
        run_round(codes, catalogue, round_)
    with db.transaction() as session:
        found: dict[tuple[str, str], dict[str, str]] = {}
        for finding in session.scalars(select(Finding)):
            key = (names[finding.unit.credit_code], finding.round_code)
            found.setdefault(key, {})[finding.rule_code] = finding.status
        for round_ in SCENARIO["rounds"]:
            for name, unit in SCENARIO["units"].items():
                expected = unit[round_["code"]].get("findings", {})
                assert found.get((name, round_["code"]), {}) == expected, (name, round_["code"])
            table = analytics.district_table(session, round_["code"])
            got = [
                {
                    "district": r.district_code,
                    "rank": r.rank,
                    "rank_change": r.rank_change,
                    "index": r.index,
                    "progress": r.progress,
                    "outcomes": r.outcomes,
                    "basis_round": r.basis_round,
                    "mean_score": r.mean_score,
                    "participation_rate": r.participation_rate,
                }
                for r in table
            ]
            assert got == SCENARIO["ranking"][round_["code"]], round_["code"]
