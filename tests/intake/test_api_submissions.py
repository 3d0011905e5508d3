"""The submissions API through the Flask test client: validation, access, idempotency, storage."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from shared import db
from shared.catalogue import Catalogue
from shared.models import OutboxEvent, Round, Submission
from tests.support.reports import clean_report, open_round, problem_report, unit_of


def post(client: Any, body: Any, token: str | None, **headers: str) -> Any:
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return client.post("/api/v1/submissions", json=body, headers=headers)


def stored() -> int:
    with db.transaction() as session:
        return session.scalar(select(func.count()).select_from(Submission))


@pytest.fixture
def report(tokens: dict[str, str], catalogue: Catalogue) -> dict[str, Any]:
    return clean_report(catalogue, unit_of("350102"), open_round())


def test_it_accepts_a_report_with_202_and_stores_it_with_its_event(
    client: Any, tokens: dict[str, str], report: dict[str, Any]
) -> None:
    answer = post(client, report, tokens["gulou"])
    assert answer.status_code == 202
    body = answer.get_json()
    assert body["url"].endswith(f"/api/v1/submissions/{body['id']}") and body["version"] == 1
    with db.transaction() as session:
        event = session.scalars(select(OutboxEvent)).one()
        assert event.payload["submission_id"] == body["id"] and event.payload["event_version"] == 1
    shown = client.get(body["url"], headers={"Authorization": f"Bearer {tokens['gulou']}"}).get_json()
    assert shown["state"] == "received" and shown["evaluation"] is None


def test_it_keeps_each_resubmission_as_a_new_version(
    client: Any, tokens: dict[str, str], report: dict[str, Any]
) -> None:
    versions = [post(client, report, tokens["gulou"]).get_json()["version"] for _ in range(3)]
    assert versions == [1, 2, 3]


def test_it_answers_a_retried_post_with_the_first_submission(
    client: Any, tokens: dict[str, str], report: dict[str, Any]
) -> None:
    first = post(client, report, tokens["gulou"], **{"Idempotency-Key": "k-1"}).get_json()
    again = post(client, report, tokens["gulou"], **{"Idempotency-Key": "k-1"}).get_json()
    assert first["id"] == again["id"] and stored() == 1


def broken(report: dict[str, Any], catalogue: Catalogue, case: str) -> tuple[dict[str, Any], list[str]]:
    """A copy of the report with one mistake, and the path of the field the answer must name."""
    r = {**report, "measures": dict(report["measures"]), "indicators": dict(report["indicators"])}
    if case == "checksum":
        r["unit"] = r["unit"][:-1] + ("A" if r["unit"][-1] != "A" else "B")
        return r, ["unit"]
    if case == "unknown unit":
        first17 = "91350102MA0000000"
        from shared.credit_code import check_character

        r["unit"] = first17 + check_character(first17)
        return r, ["unit"]
    if case == "unknown round":
        r["round"] = "1999H1"
        return r, ["round"]
    if case == "closed round":
        with db.transaction() as session:
            r["round"] = session.scalars(select(Round.code).where(Round.status == "closed")).first()
        return r, ["round"]
    if case == "unknown measure":
        r["measures"]["P9-M9"] = {"status": "implemented", "note": "x"}
        return r, ["measures", "P9-M9"]
    if case == "unknown indicator":
        r["indicators"]["robots"] = 3
        return r, ["indicators", "robots"]
    if case == "bad status":
        r["measures"]["P1-M1"] = {"status": "done", "note": ""}
        return r, ["measures", "P1-M1"]
    if case == "negative count":
        r["indicators"]["workers_total"] = -1
        return r, ["indicators", "workers_total"]
    if case == "text for a number":
        r["indicators"]["payroll_total"] = "lots"
        return r, ["indicators", "payroll_total"]
    if case == "fraction for a count":
        r["indicators"]["workers_total"] = 10.5
        return r, ["indicators", "workers_total"]
    if case == "number for yes/no":
        r["indicators"]["congress_held"] = 1
        return r, ["indicators", "congress_held"]
    if case == "unknown field":
        r["colour"] = "red"
        return r, ["colour"]
    raise AssertionError(case)


@pytest.mark.parametrize(
    "case",
    [
        "checksum",
        "unknown unit",
        "unknown round",
        "closed round",
        "unknown measure",
        "unknown indicator",
        "bad status",
        "negative count",
        "text for a number",
        "fraction for a count",
        "number for yes/no",
        "unknown field",
    ],
)
def test_it_refuses_bad_input_with_422_naming_the_field_and_stores_nothing(
    client: Any, tokens: dict[str, str], report: dict[str, Any], catalogue: Catalogue, case: str
) -> None:
    body, path = broken(report, catalogue, case)
    answer = post(client, body, tokens["gulou"])
    assert answer.status_code == 422
    errors = answer.get_json()["errors"]["json"]
    for key in path:
        errors = errors[key]
    assert errors
    assert stored() == 0


@pytest.mark.parametrize("payload", [b"{not json", b"[]", b'"text"', b"null"])
def test_it_refuses_malformed_json_with_a_4xx(client: Any, tokens: dict[str, str], payload: bytes) -> None:
    answer = client.post(
        "/api/v1/submissions",
        data=payload,
        content_type="application/json",
        headers={"Authorization": f"Bearer {tokens['gulou']}"},
    )
    assert 400 <= answer.status_code < 500


def test_it_refuses_another_districts_unit_and_anonymous_callers(
    client: Any, tokens: dict[str, str], report: dict[str, Any]
) -> None:
    assert post(client, report, tokens["taijiang"]).status_code == 403
    assert post(client, report, None).status_code == 401
    assert post(client, report, "pw_not-a-token").status_code == 401
    assert stored() == 0


def test_it_lets_a_supervisor_submit_for_any_district(
    client: Any, tokens: dict[str, str], report: dict[str, Any]
) -> None:
    assert post(client, report, tokens["supervisor"]).status_code == 202


def test_it_hides_another_districts_submission(
    client: Any, tokens: dict[str, str], report: dict[str, Any], catalogue: Catalogue
) -> None:
    url = post(
        client, problem_report(catalogue, report["unit"], report["round"]), tokens["gulou"]
    ).get_json()["url"]
    assert client.get(url, headers={"Authorization": f"Bearer {tokens['taijiang']}"}).status_code == 403
    assert client.get(url, headers={"Authorization": f"Bearer {tokens['supervisor']}"}).status_code == 200


def test_it_scopes_the_units_list_to_the_callers_district(client: Any, tokens: dict[str, str]) -> None:
    auth = {"Authorization": f"Bearer {tokens['gulou']}"}
    mine = client.get("/api/v1/units", headers=auth).get_json()["items"]
    assert mine and {u["district"] for u in mine} == {"350102"}
    assert client.get("/api/v1/units?district=350103", headers=auth).status_code == 403
    everyone = client.get(
        "/api/v1/units", headers={"Authorization": f"Bearer {tokens['supervisor']}"}
    ).get_json()
    assert everyone["total"] == 428
    filtered = client.get(
        "/api/v1/units?district=350103", headers={"Authorization": f"Bearer {tokens['supervisor']}"}
    ).get_json()["items"]
    assert filtered and {u["district"] for u in filtered} == {"350103"}


def test_it_describes_the_catalogue_rounds_and_the_api(client: Any, tokens: dict[str, str]) -> None:
    auth = {"Authorization": f"Bearer {tokens['gulou']}"}
    catalogue = client.get("/api/v1/catalogue", headers=auth).get_json()
    assert len(catalogue["aspects"]) == 5 and sum(len(a["measures"]) for a in catalogue["aspects"]) == 25
    payroll = next(i for i in catalogue["indicators"] if i["code"] == "payroll_total")
    assert payroll["unit"] == "万元" and payroll["name_zh"] == "工资总额"
    rounds = client.get("/api/v1/rounds", headers=auth).get_json()["items"]
    assert {r["status"] for r in rounds} == {"open", "closed"}
    spec = client.get("/api/v1/openapi.json").get_json()
    assert "/api/v1/submissions" in spec["paths"]
    assert "SubmissionSchema" in str(spec["components"]["schemas"]) or "Submission" in str(spec["components"])
