"""A rule that cannot be evaluated on a report is an error recorded on the report's evaluation; the
report is evaluated by its other rules and never stays `received`.

The round's catalogue here was stored as an older Pilotwatch loaded it, before its expressions were
checked: the rules below could never be loaded today."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from sqlalchemy import select

from services.evaluation.evaluate import reevaluate_units
from shared import db, preview
from shared.catalogue import DEFAULT_VERSION, Catalogue, checksum
from shared.catalogue import store as catalogues
from shared.models import CatalogueVersion, Evaluation, Finding, Submission, utcnow
from tests.support import expressions as generated
from tests.support.evaluated import store_and_evaluate, submit_to_worker
from tests.support.processes import Stack, wait_until
from tests.support.reports import open_round, problem_report, unit_of


def expression_rule(code: str, left: str, right: str = "0") -> dict[str, Any]:
    return {
        "code": code,
        "kind": "expression",
        "name_zh": f"规则{code}",
        "name_en": f"Rule {code}",
        "severity": "info",
        "missing": "skip",
        "message_zh": "x",
        "left": left,
        "op": ">=",
        "right": right,
    }


SPOILED = [
    expression_rule("power", "9**9**9"),
    expression_rule("text", "'a'*10**9"),
    expression_rule("attribute", "().__class__"),
    expression_rule("per_worker", "payroll_total / workers_total"),
]


def spoil_the_round_catalogue(rules: list[dict[str, Any]] = SPOILED) -> None:
    """Add `rules` to the stored catalogue of the open round, as an older version let them in."""
    with db.transaction() as session:
        row = session.get(CatalogueVersion, DEFAULT_VERSION)
        assert row is not None
        data = {**row.data, "rules": [r for r in row.data["rules"] if r["code"] != "generated"] + rules}
        row.data, row.checksum = data, checksum(data)


def no_workers(catalogue: Catalogue) -> dict[str, Any]:
    """The classic problem report (fund below 1.5%, more proposals adopted than submitted), with a
    workers total of 0, so `payroll_total / workers_total` divides by zero."""
    report = problem_report(catalogue, unit_of("350102"), open_round())
    report["indicators"]["workers_total"] = 0
    return report


def evaluation_of(submission_id: str) -> Evaluation | None:
    with db.transaction() as session:
        return session.scalar(select(Evaluation).where(Evaluation.submission_id == submission_id))


EXPECTED_ERRORS = {
    ("power", "refused", "uses ** (power), which is not allowed: '9**9**9'"),
    ("text", "refused", "holds text, which is not allowed (rules compare numbers): \"'a'*10**9\""),
    ("attribute", "refused", "uses attribute access (.__class__), which is not allowed: '().__class__'"),
    ("per_worker", "division_by_zero", "division by zero: 'payroll_total / workers_total'"),
}


def test_it_records_the_rules_that_fail_and_evaluates_the_report_by_the_others(
    seeded: dict[str, str], catalogue: Catalogue
) -> None:
    spoil_the_round_catalogue()
    submission_id = store_and_evaluate(no_workers(catalogue))
    evaluation = evaluation_of(submission_id)
    assert evaluation is not None
    assert {(e["rule_code"], e["reason"], e["detail"]) for e in evaluation.errors} == EXPECTED_ERRORS
    with db.transaction() as session:
        found = {f.rule_code for f in session.get(Submission, submission_id).evaluation.findings}
    assert {"fund_extraction", "proposals_adopted_within_submitted"} <= found
    assert not found & {r["code"] for r in SPOILED}


def test_it_keeps_a_finding_open_when_its_rule_cannot_be_evaluated_on_the_next_version(
    seeded: dict[str, str], catalogue: Catalogue
) -> None:
    # Pay per worker at least 20 (10,000 yuan): 1,000 / 800 breaks it; a version with no workers
    # cannot say whether it still does, so the finding stays as it was.
    spoil_the_round_catalogue([expression_rule("per_worker", "payroll_total / workers_total", "20")])
    first = problem_report(catalogue, unit_of("350102"), open_round())
    store_and_evaluate(first)
    second = store_and_evaluate(no_workers(catalogue))
    with db.transaction() as session:
        finding = session.scalars(select(Finding).where(Finding.rule_code == "per_worker")).one()
        assert (finding.status, finding.active, finding.resolution) == ("open", True, "")
        proposals = session.scalars(
            select(Finding).where(Finding.rule_code == "proposals_adopted_within_submitted")
        ).one()
        assert proposals.active  # still broken in the second version
    assert [e["rule_code"] for e in evaluation_of(second).errors] == ["per_worker"]
    with db.transaction() as session:
        unit_id = session.get(Submission, second).unit_id
        reevaluate_units(session, open_round(), [unit_id], utcnow())
    with db.transaction() as session:
        finding = session.scalars(select(Finding).where(Finding.rule_code == "per_worker")).one()
        assert (finding.status, finding.active) == ("open", True)
        counts = preview.preview(session, open_round(), catalogues.get(session, DEFAULT_VERSION))
    assert (counts["appear"], counts["disappear"]) == (0, 0)
    assert [(e["rule_code"], e["reason"], e["reports"]) for e in counts["errors"]] == [
        ("per_worker", "division_by_zero", 1)
    ]


def test_it_never_leaves_a_report_received_and_shows_its_errors_to_supervisors(
    stack: Stack, app: Any, auth: Any, tokens: dict[str, str], catalogue: Catalogue
) -> None:
    spoil_the_round_catalogue()
    stack.start("evaluation")
    report = no_workers(catalogue)
    submission_id = submit_to_worker(report, report["round"], utcnow() - timedelta(minutes=1))
    wait_until(lambda: evaluation_of(submission_id), 30, "the report evaluated by a real worker")

    body = app.test_client().get(
        f"/api/v1/submissions/{submission_id}", headers={"Authorization": f"Bearer {tokens['gulou']}"}
    )
    assert body.status_code == 200
    data = body.get_json()
    assert data["state"] == "evaluated"
    assert {
        (e["rule_code"], e["reason"], e["detail"]) for e in data["evaluation"]["errors"]
    } == EXPECTED_ERRORS
    assert {"fund_extraction", "proposals_adopted_within_submitted"} <= {
        f["rule"] for f in data["evaluation"]["findings"]
    }

    page = auth.sign_in("supervisor").get(f"/submissions/{submission_id}").get_data(as_text=True)
    assert 'id="rule-errors"' in page and "未能评估的规则" in page
    for code, label in (("power", "规则表达式不被允许"), ("per_worker", "除数为零")):
        assert f"规则{code}" in page and label in page
    assert "division by zero: &#39;payroll_total / workers_total&#39;" in page


@pytest.fixture
def unit(seeded: dict[str, str]) -> str:
    return unit_of("350103")


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=generated.expressions)
def test_it_evaluates_every_report_whatever_expression_the_stored_catalogue_holds(
    unit: str, catalogue: Catalogue, text: str
) -> None:
    spoil_the_round_catalogue([expression_rule("generated", text)])
    submission_id = store_and_evaluate(problem_report(catalogue, unit, open_round()))
    evaluation = evaluation_of(submission_id)
    assert evaluation is not None
    with db.transaction() as session:
        found = {f.rule_code for f in session.get(Submission, submission_id).evaluation.findings}
    assert {"fund_extraction", "proposals_adopted_within_submitted"} <= found
    assert all(e["rule_code"] == "generated" and e["detail"] for e in evaluation.errors)
