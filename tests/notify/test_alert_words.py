"""Alerts in the office's words: signed by 市产改办, the round by its name, and in English what to do
and the category in English."""

from __future__ import annotations

from types import SimpleNamespace

from services.notify.messages import alert_context, render


def context() -> dict[str, object]:
    district = SimpleNamespace(code="350102", name_zh="鼓楼区", name_en="Gulou")
    finding = {
        "id": 1,
        "credit_code": "91350102MA0000001X",
        "unit_name": "福州示范机械有限公司",
        "rule_code": "fund_extraction",
        "rule_name": "职工教育经费提取比例",
        "rule_name_en": "Education fund set aside",
        "severity": "warning",
        "category": "政策落实",
        "category_en": "Policy implementation",
        "message_zh": "职工教育经费提取额低于工资总额的 1.5%",
        "message_en": "The education fund set aside is below 1.5% of payroll",
        "action_zh": "按规定足额提取职工教育经费。",
        "action_en": "Set aside the education fund in full.",
        "source": "国发〔2002〕16号",
        "status": "open",
        "due_date": "2027-01-31",
        "age_days": 0,
        "overdue_days": 0,
        "light": "green",
    }
    return alert_context("opened", "district", district, "2026H2", [finding], [], "http://pilotwatch.test/")


def test_it_signs_a_chinese_alert_as_the_city_office_and_names_the_round() -> None:
    message = render(context(), "zh")
    assert "2026年下半年" in message.subject and "2026H2" not in message.subject
    assert "市产改办" in message.text and "类别：政策落实" in message.text


def test_it_writes_an_english_alert_without_chinese_words_of_its_own() -> None:
    message = render(context(), "en")
    assert "To do: Set aside the education fund in full." in message.text
    assert "Category: Policy implementation" in message.text
    assert "City reform office" in message.text
    assert "政策落实" not in message.text and "按规定" not in message.text
