"""The words for each kind of code, and the office's clock for a stored time."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shared import labels, text
from shared.channels import address, from_webhook


@pytest.mark.parametrize(
    ("label", "code", "zh", "en"),
    [
        (labels.role, "district", "县（市）区填报人员", "District clerk"),
        (labels.round_status, "closed", "已结束", "Closed"),
        (labels.report_state, "not_started", "未报送", "Not reported"),
        (labels.report_state, "problems", "存在待整改问题", "Problems to rectify"),
        (labels.submission_channel, "form", "网页填报", "Web form"),
        (labels.channel_kind, "wecombot", "企业微信群机器人", "WeCom robot"),
        (labels.delivery_outcome, "delivered", "已送达", "Delivered"),
        (labels.category, "完整性", "完整性", "Completeness"),
        (labels.indicator_unit, "万元", "万元", "10,000 yuan"),
        (labels.measure_status, "in_progress", "推进中", "In progress"),
    ],
)
def test_it_has_a_word_for_each_code_in_each_language(label: object, code: str, zh: str, en: str) -> None:
    assert label(code) == zh  # type: ignore[operator]
    assert label(code, "en") == en  # type: ignore[operator]


def test_it_names_a_district_and_leaves_an_unknown_code_as_it_is() -> None:
    names = {"350102": ("鼓楼区", "Gulou")}
    assert labels.district("350102", names) == "鼓楼区"
    assert labels.district("350102", names, "en") == "Gulou"
    assert labels.district(None, names) == ""


def test_it_writes_a_stored_time_in_china_time() -> None:
    assert labels.moment(datetime(2026, 12, 2, 15, 54, tzinfo=UTC), "Asia/Shanghai") == "2026-12-02 23:54"
    assert labels.moment(datetime(2026, 12, 2, 15, 54), "Asia/Shanghai") == "2026-12-02 23:54"
    assert labels.moment(None, "Asia/Shanghai") == ""
    assert labels.round_name("2026H2") == "2026年下半年"


def test_a_text_reads_as_chinese_and_is_shown_in_english_when_asked() -> None:
    said = text.Text("请填写说明", "A comment is required")
    assert str(said) == "请填写说明"
    assert text.say(said, "en") == "A comment is required"
    assert text.say("请填写说明", "en") == "A comment is required"  # a stored copy
    filled = text.Text("第{n}行", "line {n}").format(n=3)
    assert (str(filled), text.say(filled, "en"), text.say(filled, "zh")) == ("第3行", "line 3", "第3行")
    assert text.say("用户输入的说明", "en") == "用户输入的说明"


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc-123", "wecombot://abc-123"),
        ("  https://oapi.dingtalk.com/robot/send?access_token=abc123  ", "dingtalk://abc123/"),
        ("https://open.feishu.cn/open-apis/bot/v2/hook/abc-123", "feishu://abc-123"),
        ("https://open.larksuite.com/open-apis/bot/v2/hook/abc-123", "lark://abc-123"),
        ("https://example.org/hook", "https://example.org/hook"),
        ("mailto://u:p@smtp.example.org?to=a@b.org", "mailto://u:p@smtp.example.org?to=a@b.org"),
    ],
)
def test_it_takes_a_robot_webhook_as_its_apprise_url(given: str, stored: str) -> None:
    assert from_webhook(given) == stored


def test_it_shows_where_a_channel_sends_without_its_secrets() -> None:
    assert address("mailto://u:secret@smtp.example.org?to=gulou@example.org") == "gulou@example.org"
    assert "SECRETKEY" not in address("wecombot://SECRETKEY0123456789")
    assert address("json://hooks.example.org/pilotwatch?token=t0ken") == "hooks.example.org"
