"""Pilot batches: units import the batch they joined with; the API and the dashboard filter the district
table by batch and compare the batches."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from services.intake import registry
from shared import db
from shared.catalogue import Catalogue
from shared.models import PilotBatch, PilotUnit
from tests.support.evaluated import store_and_evaluate
from tests.support.reports import clean_report, open_round, unit_of

GULOU, TAIJIANG = "350102", "350103"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def move_to_batch(credit_code: str, batch: str) -> None:
    with db.transaction() as session:
        unit = session.scalars(select(PilotUnit).where(PilotUnit.credit_code == credit_code)).one()
        registry.import_units(
            session,
            [
                {
                    "credit_code": unit.credit_code,
                    "name": unit.name,
                    "district": unit.district_code,
                    "batch": batch,
                }
            ],
            None,
        )


def batch_of(credit_code: str) -> int:
    with db.transaction() as session:
        return session.scalars(select(PilotUnit.batch).where(PilotUnit.credit_code == credit_code)).one()


def test_it_keeps_the_three_batches_as_data(seeded: dict[str, str]) -> None:
    with db.transaction() as session:
        batches = [
            (b.number, b.name_zh, b.joined)
            for b in session.scalars(select(PilotBatch).order_by(PilotBatch.number))
        ]
    assert batches == [(1, "第一批", "2020"), (2, "第二批", ""), (3, "第三批", "2022/2023")]


@pytest.mark.parametrize(("written", "number"), [("1", 1), ("第二批", 2), ("Third batch", 3)])
def test_it_imports_a_units_batch_by_number_or_name(
    seeded: dict[str, str], written: str, number: int
) -> None:
    unit = unit_of(GULOU)
    move_to_batch(unit, written)
    assert batch_of(unit) == number


def test_it_refuses_an_unknown_batch_and_keeps_the_batch_when_none_is_given(seeded: dict[str, str]) -> None:
    unit = unit_of(GULOU)
    move_to_batch(unit, "1")
    with pytest.raises(registry.RegistryRefused) as refused:
        move_to_batch(unit, "第九批")
    assert "第 2 行" in refused.value.problems[0] and "第九批" in refused.value.problems[0]
    move_to_batch(unit, "")
    assert batch_of(unit) == 1


def test_it_filters_the_district_table_by_batch_and_compares_batches(
    client: Any, tokens: dict[str, str], catalogue: Catalogue
) -> None:
    round_code = open_round()
    first, third = unit_of(GULOU, 0), unit_of(GULOU, 1)
    move_to_batch(first, "1")
    store_and_evaluate(clean_report(catalogue, first, round_code))
    store_and_evaluate(clean_report(catalogue, third, round_code))
    supervisor = bearer(tokens["supervisor"])
    only_first = client.get(f"/api/v1/rounds/{round_code}/districts?batch=1", headers=supervisor).get_json()
    assert only_first["batch"] == 1
    assert [(r["district_code"], r["units"], r["reported"]) for r in only_first["items"]] == [(GULOU, 1, 1)]
    everyone = client.get(f"/api/v1/rounds/{round_code}/districts", headers=supervisor).get_json()
    gulou = next(r for r in everyone["items"] if r["district_code"] == GULOU)
    assert gulou["reported"] == 2 and gulou["units"] > 2
    compared = client.get(f"/api/v1/rounds/{round_code}/batches", headers=supervisor).get_json()
    rows = {r["batch"]: r for r in compared["items"]}
    assert set(rows) == {1, 3} and rows[1]["name_zh"] == "第一批"
    assert (rows[1]["units"], rows[1]["reported"], rows[1]["participation_rate"]) == (1, 1, 1.0)
    assert rows[3]["reported"] == 1 and rows[1]["index"] > rows[3]["index"]
    assert client.get(f"/api/v1/rounds/{round_code}/districts?batch=0", headers=supervisor).status_code == 422


def test_it_shows_a_district_the_batches_of_its_own_units_only(
    client: Any, tokens: dict[str, str], catalogue: Catalogue
) -> None:
    round_code = open_round()
    move_to_batch(unit_of(TAIJIANG), "2")
    own = client.get(f"/api/v1/rounds/{round_code}/batches", headers=bearer(tokens["gulou"])).get_json()
    assert own["district"] == GULOU and [r["batch"] for r in own["items"]] == [3]
    other = client.get(
        f"/api/v1/rounds/{round_code}/batches?district={TAIJIANG}", headers=bearer(tokens["gulou"])
    )
    assert other.status_code == 403


def test_it_filters_the_dashboard_by_batch(auth: Any, catalogue: Catalogue) -> None:
    move_to_batch(unit_of(GULOU), "1")
    page = auth.sign_in("supervisor").get("/dashboard?batch=1").get_data(as_text=True)
    assert 'data-district="350102"' in page and 'data-district="350103"' not in page
    assert 'id="batch-table"' in page and "第一批" in page and "成效指数如何计算" in page
