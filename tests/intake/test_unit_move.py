"""A unit moved to another district takes its open findings along: the new district sees them, answers
them and is alerted about them; the old one no longer does; the move is audited."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from services.notify import collect
from shared import db
from shared.models import AlertItem, AuditEvent, Finding, PilotUnit
from tests.support.web import add_report

GULOU, TAIJIANG = "350102", "350103"


def move_on_the_admin_page(auth: Any, credit_code: str, district: str) -> None:
    with db.transaction() as session:
        unit = session.scalars(select(PilotUnit).where(PilotUnit.credit_code == credit_code)).one()
        unit_id, name = unit.id, unit.name
    admin = auth.sign_in("admin")
    answer = admin.post(
        f"/admin/units/{unit_id}",
        data={"csrf_token": admin.csrf, "name": name, "district": district, "active": "on"},
    )
    assert answer.status_code == 302


def test_it_moves_the_open_findings_and_their_access_with_the_unit(auth: Any) -> None:
    report = add_report(GULOU)
    move_on_the_admin_page(auth, report["unit"], TAIJIANG)
    with db.transaction() as session:
        assert session.get(Finding, report["finding"]).district_code == TAIJIANG
    taijiang, gulou = auth.sign_in("taijiang"), auth.sign_in("gulou")
    assert taijiang.get(f"/findings/{report['finding']}").status_code == 200
    assert taijiang.get(f"/submissions/{report['submission']}").status_code == 200
    assert gulou.get(f"/findings/{report['finding']}").status_code == 403
    assert f'/findings/{report["finding"]}"' not in gulou.get("/findings").get_data(as_text=True)
    assert f'/findings/{report["finding"]}"' in taijiang.get("/findings").get_data(as_text=True)


def test_it_alerts_the_new_district_about_a_moved_units_findings(auth: Any) -> None:
    report = add_report(GULOU)
    move_on_the_admin_page(auth, report["unit"], TAIJIANG)
    with db.transaction() as session:
        event = {"event_id": "e-moved", "finding_ids": [report["finding"]], "district_code": GULOU}
        collect.record_opened(session, event, datetime.now(UTC))
        session.flush()
        districts = session.scalars(select(AlertItem.district_code)).all()
    assert districts == [TAIJIANG]


def test_it_audits_the_move_with_both_districts_and_the_findings_moved(auth: Any) -> None:
    report = add_report(GULOU)
    move_on_the_admin_page(auth, report["unit"], TAIJIANG)
    with db.transaction() as session:
        moved = session.scalars(select(AuditEvent).where(AuditEvent.action == "unit.move")).one()
        assert moved.object_id == report["unit"]
        assert moved.detail == {"from": GULOU, "to": TAIJIANG, "findings": 1}


def test_it_leaves_closed_findings_where_they_were_handled(auth: Any) -> None:
    report = add_report(GULOU, status="closed")
    with db.transaction() as session:
        session.get(Finding, report["finding"]).active = False
    move_on_the_admin_page(auth, report["unit"], TAIJIANG)
    with db.transaction() as session:
        assert session.get(Finding, report["finding"]).district_code == GULOU
