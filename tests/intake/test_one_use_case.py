"""Each administration use case is one function that the pages and the CLI both call: where the two
used to disagree, both now follow the stricter rule (units import, rounds, channels)."""

from __future__ import annotations

import io
from typing import Any

import pytest
from click.testing import CliRunner, Result
from openpyxl import Workbook
from sqlalchemy import select

from ops.cli import cli
from shared import db
from shared.models import AuditEvent, Channel, PilotUnit, Round
from tests.support.reports import unit_of

GULOU = "350102"
NEW_UNIT = "91350100611300758B"


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def xlsx(rows: list[list[str]]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def audited(action: str) -> list[AuditEvent]:
    with db.transaction() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def admin_post(auth: Any, path: str, **data: Any) -> str:
    admin = auth.sign_in("admin")
    answer = admin.post(path, data={"csrf_token": admin.csrf, **data}, content_type="multipart/form-data")
    return admin.get(answer.headers["Location"]).get_data(as_text=True)


def test_it_imports_units_from_an_xlsx_on_the_command_line_reactivating_and_auditing(
    seeded: dict, tmp_path: Any
) -> None:
    existing = unit_of(GULOU)
    assert run("units", "deactivate", existing).exit_code == 0
    path = tmp_path / "units.xlsx"
    path.write_bytes(
        xlsx(
            [
                ["credit_code", "name", "district", "industry"],
                [NEW_UNIT, "福州示范机械有限公司", GULOU, "装备制造"],
                [existing, "回到试点的单位", GULOU, "轻工"],
            ]
        )
    )
    result = run("units", "import", str(path))
    assert result.exit_code == 0, result.output
    assert "1 new and 1 updated" in result.output and "1 back in the pilot" in result.output
    with db.transaction() as session:
        back = session.scalar(select(PilotUnit).where(PilotUnit.credit_code == existing))
        assert back.active and back.name == "回到试点的单位"
    [event] = audited("units.import")
    assert event.detail == {"added": 1, "updated": 1, "reactivated": 1}


def test_it_reactivates_an_imported_unit_from_the_page_too(auth: Any) -> None:
    existing = unit_of(GULOU)
    assert run("units", "deactivate", existing).exit_code == 0
    page = admin_post(
        auth,
        "/admin/units/import",
        file=(
            io.BytesIO(f"credit_code,name,district\n{existing},回到试点的单位,{GULOU}\n".encode()),
            "u.csv",
        ),
    )
    assert "已导入 1 家单位" in page
    with db.transaction() as session:
        assert session.scalar(select(PilotUnit.active).where(PilotUnit.credit_code == existing)) is True


@pytest.mark.parametrize("grace", ["-1", "91", "400"])
def test_it_refuses_grace_days_outside_0_to_90_from_the_page_and_the_cli(auth: Any, grace: str) -> None:
    page = admin_post(
        auth, "/admin/rounds", code="2030H1", catalogue="2017-fz", due_date="2030-07-15", grace_days=grace
    )
    assert "宽限天数应在 0–90 之间" in page
    result = run("rounds", "open", "2030H1", "--due", "2030-07-15", "--grace-days", grace)
    assert result.exit_code != 0 and "宽限天数应在 0–90 之间" in result.output
    with db.transaction() as session:
        assert session.get(Round, "2030H1") is None


def test_it_closes_a_round_from_the_cli_as_the_page_does(seeded: dict) -> None:
    assert run("rounds", "open", "2030H1", "--due", "2030-07-15").exit_code == 0
    assert run("rounds", "close", "2030H1").exit_code == 0
    with db.transaction() as session:
        round_ = session.get(Round, "2030H1")
        assert round_.status == "closed" and round_.closed_at is not None
    assert [e.object_id for e in audited("round.close")] == ["2030H1"]
    assert [e.object_id for e in audited("round.open")] == ["2030H1"]


@pytest.mark.parametrize(
    ("url", "accepted"),
    [
        ("feishu://FEISHUTOKEN0123456789", True),
        ("lark://LARKTOKEN0123456789", True),
        ("wecombot://WECOMKEY0123456789", True),
        ("form://hooks.example.org/pilotwatch", False),
        ("ftp://files.example.org/", False),
        ("mailto://", False),
    ],
)
def test_it_accepts_the_same_channels_from_the_page_and_the_cli(auth: Any, url: str, accepted: bool) -> None:
    admin_post(auth, "/admin/channels", district=GULOU, url=url)
    with db.transaction() as session:
        from_page = session.scalar(select(Channel.id).where(Channel.url == url))
        if from_page is not None:
            session.delete(session.get(Channel, from_page))
    result = run("channels", "add", "--district", GULOU, url)
    with db.transaction() as session:
        from_cli = session.scalar(select(Channel.id).where(Channel.url == url))
    assert (from_page is not None, from_cli is not None) == (accepted, accepted), result.output
    assert (result.exit_code == 0) is accepted
