"""Administration as an office writes it: a units sheet with Chinese headers and districts by name,
the units template, robot webhooks as WeCom, DingTalk and Feishu hand them out, messages written for
the page, and the API answering in the language asked for."""

from __future__ import annotations

import io
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from services.intake import channels, registry
from shared import db
from shared.models import Channel, PilotUnit

CODE = "91350102MA2Y0X0A1A"


def test_it_imports_a_sheet_with_chinese_headers_and_a_district_by_name(seeded: dict[str, str]) -> None:
    rows = [
        {
            "统一社会信用代码": CODE,
            "单位名称": "福州示范机械有限公司",
            "所属县(市)区": "鼓楼区",
            "单位类型": "企业",
        }
    ]
    with db.transaction() as session:
        assert registry.import_units(session, rows, None).added == 1
    with db.transaction() as session:
        unit = session.scalar(select(PilotUnit).where(PilotUnit.credit_code == CODE))
        assert (unit.district_code, unit.kind) == ("350102", "enterprise")


def test_it_names_the_district_it_does_not_know(seeded: dict[str, str]) -> None:
    rows = [{"统一社会信用代码": CODE, "单位名称": "福州示范机械有限公司", "所属县（市）区": "东城区"}]
    with db.transaction() as session, pytest.raises(registry.RegistryRefused) as refused:
        registry.import_units(session, rows, None)
    assert refused.value.problems == ["第 2 行：未知县（市）区：东城区"]


def test_it_offers_the_units_template_that_the_import_reads_back(auth: Any) -> None:
    admin = auth.sign_in("admin")
    assert "下载单位名录模板" in admin.get("/admin/").get_data(as_text=True)
    answer = admin.get("/admin/units/template.xlsx")
    assert answer.status_code == 200
    book = load_workbook(io.BytesIO(answer.data))
    headers = [c.value for c in book.active[1]]
    assert headers == list(registry.HEADERS)
    assert ["鼓楼区", "350102"] in [[c.value for c in row] for row in book["县（市）区"].iter_rows(min_row=2)]
    book.active.append([CODE, "福州示范机械有限公司", "鼓楼区", "机械制造", "企业", "3"])
    out = io.BytesIO()
    book.save(out)
    with db.transaction() as session:
        assert registry.import_units(session, registry.read_rows(out.getvalue()), None).added == 1


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa",
         "wecombot://693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"),
        ("https://oapi.dingtalk.com/robot/send?access_token=6e2a0b4c8d", "dingtalk://6e2a0b4c8d/"),
        ("https://open.feishu.cn/open-apis/bot/v2/hook/0a1b2c3d-4e5f-6789", "feishu://0a1b2c3d-4e5f-6789"),
    ],
)  # fmt: skip
def test_it_stores_a_robot_webhook_as_its_apprise_url(
    seeded: dict[str, str], given: str, stored: str
) -> None:
    with db.transaction() as session:
        channel = channels.add_channel(session, given, "350102", "专班群", None)
        assert (channel.url, channel.kind) == (stored, stored.split("://")[0])


def test_it_writes_the_refusals_of_the_page_for_the_page(auth: Any) -> None:
    admin = auth.sign_in("admin")
    answer = admin.post(
        "/admin/users",
        data={
            "csrf_token": admin.csrf,
            "email": "new@example.org",
            "role": "district",
            "password": "long-pass-2026",
        },
    )
    page = admin.get(answer.headers["Location"]).get_data(as_text=True)
    assert "县（市）区填报人员须选择所属县（市）区" in page
    assert "--district" not in page and "None" not in page


def test_the_api_answers_in_the_language_asked_for(client: Any, tokens: dict[str, str]) -> None:
    def message(language: str | None) -> str:
        headers = {"Authorization": f"Bearer {tokens['gulou']}"}
        if language:
            headers["Accept-Language"] = language
        answer = client.post("/api/v1/submissions", json={"unit": "x"}, headers=headers)
        assert answer.status_code == 422
        return answer.get_json()["message"]

    assert message(None) == "输入有误，请按字段提示修改"
    assert message("zh-CN,zh;q=0.9") == "输入有误，请按字段提示修改"
    assert message("en-GB,en;q=0.8") == "The input has errors, see each field"
    assert message("fr") == "输入有误，请按字段提示修改"


def test_channels_are_listed_by_label_kind_and_address(auth: Any) -> None:
    with db.transaction() as session:
        session.add(
            Channel(
                district_code="350102",
                kind="mailto",
                url="mailto://u:secret@smtp.example.org?to=gulou@example.org",
                label="鼓楼区专班",
            )
        )
    page = auth.sign_in("admin").get("/admin/").get_data(as_text=True)
    assert "电子邮件" in page and "gulou@example.org" in page and "secret" not in page


def test_the_api_says_why_a_credit_code_is_refused_in_the_language_asked_for(
    client: Any, tokens: dict[str, str]
) -> None:
    def said(language: str) -> str:
        headers = {"Authorization": f"Bearer {tokens['gulou']}", "Accept-Language": language}
        answer = client.post("/api/v1/submissions", json={"unit": "91350100611300758A"}, headers=headers)
        return str(answer.get_json()["errors"]["json"]["unit"])

    assert "校验位不正确" in said("zh")
    assert "check character is wrong" in said("en")
