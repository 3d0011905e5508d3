"""Administration pages: rounds opened and closed, units imported and deactivated, users, channels."""

from __future__ import annotations

import io
from typing import Any

from sqlalchemy import select

from shared import db
from shared.models import AuditEvent, Channel, PilotUnit, Round
from tests.support.reports import unit_of


def test_it_opens_and_closes_a_round_and_keeps_who_did_it(auth: Any) -> None:
    admin = auth.sign_in("admin")
    admin.post(
        "/admin/rounds",
        data={
            "csrf_token": admin.csrf,
            "code": "2030H1",
            "catalogue": "2017-fz",
            "due_date": "2030-07-15",
            "grace_days": "5",
            "confirm": "1",
        },
    )
    admin.post("/admin/rounds/2030H1/close", data={"csrf_token": admin.csrf, "confirm": "1"})
    with db.transaction() as session:
        assert session.get(Round, "2030H1").status == "closed"
        assert [
            e.action for e in session.scalars(select(AuditEvent).where(AuditEvent.object_id == "2030H1"))
        ] == ["round.open", "round.close"]


def test_it_imports_units_refuses_a_bad_file_whole_and_deactivates_a_unit(auth: Any) -> None:
    admin = auth.sign_in("admin")
    good = "credit_code,name,district\n91350100611300758B,福州示范机械有限公司,350102\n"
    bad = good + "91350100611300758X,坏行,350102\n"

    def send(text: str) -> Any:
        return admin.post(
            "/admin/units/import",
            content_type="multipart/form-data",
            data={"csrf_token": admin.csrf, "file": (io.BytesIO(text.encode()), "units.csv")},
        )

    assert "未导入" in admin.get(send(bad).headers["Location"]).get_data(as_text=True)
    with db.transaction() as session:
        assert session.scalar(select(PilotUnit).where(PilotUnit.credit_code == "91350100611300758B")) is None
    send(good)
    existing = unit_of("350102")
    with db.transaction() as session:
        assert (
            session.scalar(select(PilotUnit).where(PilotUnit.credit_code == "91350100611300758B")).name
            == "福州示范机械有限公司"
        )
        unit = session.scalar(select(PilotUnit).where(PilotUnit.credit_code == existing))
        unit_id, name = unit.id, unit.name
    admin.post(f"/admin/units/{unit_id}", data={"csrf_token": admin.csrf, "name": name, "district": "350102"})
    with db.transaction() as session:
        assert session.get(PilotUnit, unit_id).active is False
    assert existing not in auth.sign_in("gulou").get("/").get_data(as_text=True)


def test_it_adds_a_district_channel_and_refuses_an_unknown_kind(auth: Any) -> None:
    admin = auth.sign_in("admin")
    admin.post("/admin/channels", data={"csrf_token": admin.csrf, "district": "350102", "url": "ftp://x/y"})
    admin.post(
        "/admin/channels",
        data={"csrf_token": admin.csrf, "district": "350102", "url": "mailto://clerk@example.org"},
    )
    with db.transaction() as session:
        assert [(c.district_code, c.kind) for c in session.scalars(select(Channel))] == [("350102", "mailto")]
