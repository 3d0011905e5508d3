"""District effectiveness, practices and rule preview through the API, with district access rules."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from shared import db
from shared.catalogue import Catalogue
from tests.support import expressions as generated
from tests.support.evaluated import store_and_evaluate, table_counts
from tests.support.reports import clean_report, open_round, problem_report, unit_of


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def some_reports(catalogue: Catalogue) -> str:
    round_code = open_round()
    good = clean_report(catalogue, unit_of("350102", 0), round_code)
    good["measures"]["P2-M4"] = {"status": "exemplary", "note": "技能竞赛覆盖全部一线班组。"}
    store_and_evaluate(good)
    store_and_evaluate(problem_report(catalogue, unit_of("350102", 1), round_code))
    store_and_evaluate(clean_report(catalogue, unit_of("350103", 0), round_code))
    return round_code


def test_it_ranks_districts_for_supervisors_and_shows_a_district_its_own_row(
    client: Any, tokens: dict[str, str], catalogue: Catalogue
) -> None:
    round_code = some_reports(catalogue)
    body = client.get(f"/api/v1/rounds/{round_code}/districts", headers=auth(tokens["supervisor"])).get_json()
    rows = {r["district_code"]: r for r in body["items"]}
    assert body["total"] == 15
    assert rows["350102"]["reported"] == 2 and rows["350102"]["open_findings_per_unit"] > 0
    assert rows["350103"]["reported"] == 1 and rows["350103"]["mean_score"] == 100.0
    # districts with the same index share a rank (1, 2, 3, 3, 3 …), the next one skipping as many
    ranks = [r["rank"] for r in body["items"]]
    indexes = [round(r["index"], 1) for r in body["items"]]
    assert ranks[0] == 1 and ranks == sorted(ranks)
    for position, (rank, index) in enumerate(zip(ranks, indexes, strict=True), start=1):
        assert rank == (ranks[position - 2] if position > 1 and index == indexes[position - 2] else position)
    own = client.get(f"/api/v1/rounds/{round_code}/districts", headers=auth(tokens["gulou"])).get_json()
    assert [r["district_code"] for r in own["items"]] == ["350102"]
    assert own["items"][0] == rows["350102"]


def test_it_refuses_another_districts_detail(
    client: Any, tokens: dict[str, str], catalogue: Catalogue
) -> None:
    round_code = some_reports(catalogue)
    mine = client.get(f"/api/v1/rounds/{round_code}/districts/350102", headers=auth(tokens["gulou"]))
    assert mine.status_code == 200 and mine.get_json()["district_code"] == "350102"
    other = client.get(f"/api/v1/rounds/{round_code}/districts/350103", headers=auth(tokens["gulou"]))
    assert other.status_code == 403
    assert (
        client.get(
            f"/api/v1/rounds/{round_code}/districts/350103", headers=auth(tokens["supervisor"])
        ).status_code
        == 200
    )
    assert (
        client.get("/api/v1/rounds/1999H1/districts", headers=auth(tokens["supervisor"])).status_code == 404
    )


def test_it_lists_candidate_practices_for_supervisors(
    client: Any, tokens: dict[str, str], catalogue: Catalogue
) -> None:
    round_code = some_reports(catalogue)
    response = client.get(f"/api/v1/rounds/{round_code}/practices", headers=auth(tokens["supervisor"]))
    items = response.get_json()["items"]
    assert [(p["credit_code"], [m["code"] for m in p["exemplary_measures"]]) for p in items] == [
        (unit_of("350102", 0), ["P2-M4"])
    ]
    assert (
        client.get(f"/api/v1/rounds/{round_code}/practices", headers=auth(tokens["gulou"])).status_code == 403
    )


def test_it_previews_a_rule_change_and_stores_nothing(
    client: Any, tokens: dict[str, str], catalogue: Catalogue
) -> None:
    round_code = some_reports(catalogue)
    rules = [dict(r) for r in catalogue.data["rules"] if r["code"] != "proposals_adopted_within_submitted"]
    fund = next(r for r in rules if r["code"] == "fund_extraction")
    fund["right"] = "payroll_total * 0.025"  # clean reports set aside exactly 2%: two more findings
    with db.transaction() as session:
        before = table_counts(session)
    response = client.post(
        "/api/v1/rules/preview",
        json={"round": round_code, "rules": rules},
        headers=auth(tokens["supervisor"]),
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["appear"], body["disappear"]) == (2, 1)
    assert {(r["rule_code"], r["appear"], r["disappear"]) for r in body["rules"]} == {
        ("fund_extraction", 2, 0),
        ("proposals_adopted_within_submitted", 0, 1),
    }
    assert {(r["district_code"], r["appear"], r["disappear"]) for r in body["districts"]} == {
        ("350102", 1, 1),
        ("350103", 1, 0),
    }
    with db.transaction() as session:
        assert table_counts(session) == before
    assert (
        client.post(
            "/api/v1/rules/preview", json={"round": round_code, "rules": rules}, headers=auth(tokens["gulou"])
        ).status_code
        == 403
    )


def test_it_refuses_a_rule_naming_an_unknown_indicator(client: Any, tokens: dict[str, str]) -> None:
    rules = [
        {
            "code": "x",
            "name_zh": "x",
            "severity": "info",
            "message_zh": "x",
            "left": "nothing_known",
            "op": ">=",
            "right": "1",
        }
    ]
    response = client.post(
        "/api/v1/rules/preview",
        json={"round": open_round(), "rules": rules},
        headers=auth(tokens["supervisor"]),
    )
    assert response.status_code == 422
    assert "rule x: left names unknown indicators: nothing_known" in response.get_json()["errors"]["json"]


def bad_rule(code: str, left: str) -> dict[str, Any]:
    return {
        "code": code,
        "name_zh": code,
        "severity": "info",
        "message_zh": "x",
        "left": left,
        "op": ">",
        "right": "0",
    }


def test_it_refuses_rules_that_could_never_be_evaluated_with_each_rule_and_reason(
    client: Any, tokens: dict[str, str], catalogue: Catalogue
) -> None:
    round_code = some_reports(catalogue)
    rules = [
        bad_rule("power", "9**9**9"),
        bad_rule("method", "'x'.ljust(2000) == 'y'"),
        bad_rule("attribute", "().__class__"),
        bad_rule("deep", " + ".join(["workers_total"] * 3000)),
        bad_rule("minus", "-" * 300 + "workers_total"),
        bad_rule("fine", "workers_total"),
    ]
    response = client.post(
        "/api/v1/rules/preview",
        json={"round": round_code, "rules": rules},
        headers=auth(tokens["supervisor"]),
    )
    assert response.status_code == 422, response.get_json()
    problems = response.get_json()["errors"]["json"]
    for start in (
        "rule power: left uses ** (power), which is not allowed",
        "rule method: left calls a method (.ljust()), which is not allowed",
        "rule attribute: left uses attribute access (.__class__), which is not allowed",
        "rule deep: left is longer than 500 characters",
        "rule minus: left nests deeper than 40 levels",
    ):
        assert any(p.startswith(start) for p in problems), (start, problems)
    assert len(problems) == 5 and not any("rule fine" in p for p in problems)


def test_it_answers_a_json_body_nested_too_deeply_with_a_400(client: Any, tokens: dict[str, str]) -> None:
    deep = '{"round": "2026H2", "catalogue": ' + "[" * 100000 + "]" * 100000 + "}"
    for path in ("/api/v1/rules/preview", "/api/v1/submissions"):
        response = client.post(
            path,
            data=deep,
            content_type="application/json",
            headers=auth(tokens["supervisor" if "rules" in path else "gulou"]),
        )
        assert response.status_code == 400, (path, response.status_code)
        assert "JSON 嵌套过深" in str(response.get_json()["errors"]), response.get_json()


@pytest.fixture
def reported_round(tokens: dict[str, str], catalogue: Catalogue) -> str:
    return some_reports(catalogue)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=generated.expressions)
def test_it_previews_any_generated_rule_or_refuses_it_naming_the_rule(
    client: Any, tokens: dict[str, str], reported_round: str, text: str
) -> None:
    response = client.post(
        "/api/v1/rules/preview",
        json={"round": reported_round, "rules": [bad_rule("generated", text)]},
        headers=auth(tokens["supervisor"]),
    )
    assert response.status_code in (200, 422), response.status_code
    body = response.get_json()
    if response.status_code == 422:
        assert body["errors"]["json"], body
        assert all(p.startswith("rule generated: left ") for p in body["errors"]["json"]), body
    else:
        assert body["reports"] == 3
        assert all(e["rule_code"] == "generated" and e["reports"] for e in body["errors"]), body


def test_it_describes_the_new_endpoints_in_openapi(client: Any) -> None:
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path in (
        "/api/v1/rounds/{round_code}/districts",
        "/api/v1/rounds/{round_code}/districts/{district_code}",
        "/api/v1/rounds/{round_code}/practices",
        "/api/v1/rules/preview",
    ):
        assert path in paths
