"""Unit names with control characters, line breaks or bidirectional overrides are refused at import
and when edited: they would break a line of an alert, a CSV row or a robot's Markdown."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from services.intake import registry
from shared import db
from shared.models import PilotUnit

GULOU = "350102"
CODE = "91350102MA2Y0X0A1A"


@pytest.mark.parametrize(
    "name", ["鼓楼\n# 紧急通知", "单位\r名称", "单位\x00", "单位\x1b[31m", "\u202e位单", "单位\u2028名称"]
)
def test_it_refuses_a_unit_name_with_control_characters_at_import(seeded: dict[str, str], name: str) -> None:
    rows = [{"credit_code": CODE, "name": name, "district": GULOU}]
    with db.transaction() as session, pytest.raises(registry.RegistryRefused) as refused:
        registry.import_units(session, rows, None)
    assert "第 2 行" in refused.value.problems[0] and "控制字符" in refused.value.problems[0]


def test_it_refuses_renaming_a_unit_with_a_line_break(seeded: dict[str, str]) -> None:
    with db.transaction() as session:
        unit = session.scalars(select(PilotUnit).where(PilotUnit.district_code == GULOU)).first()
        with pytest.raises(registry.RegistryRefused):
            registry.edit_unit(session, unit, "新名称\n[链接](http://evil.example)", "", True, None)


def test_it_still_takes_names_with_punctuation_and_spaces(seeded: dict[str, str]) -> None:
    rows = [{"credit_code": CODE, "name": "福州 *星* 科技（集团）有限公司 & Co.", "district": GULOU}]
    with db.transaction() as session:
        assert registry.import_units(session, rows, None).added == 1
