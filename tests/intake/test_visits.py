"""On-site visits: recorded by a supervisor with their files, seen by the visited district only, and the
problems raised from a visit linked to it, on its page and in the district's ledger."""

from __future__ import annotations

import io
import re
from typing import Any

from sqlalchemy import select

from shared import clock, db
from shared.models import AuditEvent, Finding, Visit
from tests.support.reports import open_round, unit_of
from tests.support.web import PNG

GULOU, TAIJIANG = "350102", "350103"


def record(client: Any, units: list[str], **changes: Any) -> Any:
    form = {
        "csrf_token": client.csrf,
        "action": "save",
        "round": open_round(),
        "district": GULOU,
        "units": units,
        "visited_on": clock.today().isoformat(),
        "team": "王明（组长）、李华",
        "methods": ["site", "interview"],
        "summary": "查看了创新工作室和培训台账。",
        "opinion": "培训台账不完整，请 30 日内补齐。",
        "file": (io.BytesIO(PNG), "现场照片.png"),
        **changes,
    }
    return client.post("/visits/new", data=form, content_type="multipart/form-data")


def visit_id(answer: Any) -> int:
    found = re.search(r"/visits/(\d+)$", answer.headers["Location"])
    assert found, answer.headers.get("Location")
    return int(found.group(1))


def test_it_records_a_visit_with_its_units_methods_and_file(auth: Any) -> None:
    supervisor = auth.sign_in("supervisor")
    units = [unit_of(GULOU, 0), unit_of(GULOU, 1)]
    answer = record(supervisor, units)
    assert answer.status_code == 302
    page = supervisor.get(f"/visits/{visit_id(answer)}").get_data(as_text=True)
    assert "实地查看" in page and "座谈访谈" in page and "现场照片.png" in page
    assert "培训台账不完整" in page and "王明（组长）" in page
    with db.transaction() as session:
        visit = session.scalars(select(Visit)).one()
        assert sorted(u.credit_code for u in visit.units) == sorted(units)
        assert (
            session.scalar(select(AuditEvent.action).where(AuditEvent.object_type == "visit"))
            == "visit.record"
        )


def test_it_refuses_a_visit_without_units_a_summary_or_with_another_districts_unit(auth: Any) -> None:
    supervisor = auth.sign_in("supervisor")
    answer = record(supervisor, [unit_of(TAIJIANG)], summary="", methods=[])
    page = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert "不属于所选县（市）区" in page and "请填写检查情况" in page and "请选择检查方式" in page
    with db.transaction() as session:
        assert session.scalars(select(Visit)).first() is None


def test_it_shows_a_district_the_visits_to_its_own_units_only(auth: Any) -> None:
    supervisor = auth.sign_in("supervisor")
    own = visit_id(record(supervisor, [unit_of(GULOU)]))
    gulou, taijiang = auth.sign_in("gulou"), auth.sign_in("taijiang")
    assert "培训台账不完整" in gulou.get(f"/visits/{own}").get_data(as_text=True)
    assert f"/visits/{own}" in gulou.get("/visits").get_data(as_text=True)
    assert taijiang.get(f"/visits/{own}").status_code == 404
    assert f"/visits/{own}" not in taijiang.get("/visits").get_data(as_text=True)
    assert gulou.get("/visits/new").status_code == 403


def test_it_links_a_problem_raised_from_a_visit_and_shows_it_in_the_districts_ledger(auth: Any) -> None:
    supervisor = auth.sign_in("supervisor")
    unit = unit_of(GULOU)
    visit = visit_id(record(supervisor, [unit]))
    form = supervisor.get(f"/findings/raise?visit={visit}&round={open_round()}&unit={unit}").get_data(
        as_text=True
    )
    assert f'name="visit" value="{visit}"' in form and "来自督导检查" in form
    answer = supervisor.post(
        "/findings/raise",
        data={
            "csrf_token": supervisor.csrf,
            "visit": str(visit),
            "round": open_round(),
            "unit": unit,
            "severity": "warning",
            "description": "厂务公开栏三个月未更新",
            "requirement": "按月更新并拍照上传",
        },
    )
    assert answer.status_code == 302 and answer.headers["Location"].endswith(f"/visits/{visit}")
    with db.transaction() as session:
        finding = session.scalars(select(Finding).where(Finding.rule_code == "manual")).one()
        assert (finding.visit_id, finding.district_code, finding.status) == (visit, GULOU, "open")
    assert "厂务公开栏三个月未更新" in supervisor.get(f"/visits/{visit}").get_data(as_text=True)
    ledger = auth.sign_in("gulou").get("/findings").get_data(as_text=True)
    assert f"/findings/{finding.id}" in ledger and "厂务公开栏三个月未更新" in ledger


def test_it_refuses_to_raise_from_a_visit_a_problem_of_another_district(auth: Any) -> None:
    supervisor = auth.sign_in("supervisor")
    visit = visit_id(record(supervisor, [unit_of(GULOU)]))
    answer = supervisor.post(
        "/findings/raise",
        data={
            "csrf_token": supervisor.csrf,
            "visit": str(visit),
            "round": open_round(),
            "unit": unit_of(TAIJIANG),
            "severity": "warning",
            "description": "不应交办",
        },
    )
    assert answer.status_code == 422 and "该单位不属于本次检查的县（市）区" in answer.get_data(as_text=True)
    with db.transaction() as session:
        assert session.scalars(select(Finding).where(Finding.rule_code == "manual")).first() is None
