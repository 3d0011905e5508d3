"""Unit names, district names and rule messages arrive in the robots' Markdown as text: no link, no
heading, no bold and no new line of their own, in each robot's dialect."""

from __future__ import annotations

import re
from collections.abc import Iterator
from types import SimpleNamespace

import pytest

from services.notify import markdown
from services.notify.messages import alert_context, render
from services.notify.registry import transport_for
from shared import config
from tests.support.chat import ChatServer

HOSTILE = "**[中奖领取](http://evil.example)**\n# 紧急通知 <@all> `x` ~~y~~ _z_"
LEDGER = "http://pilotwatch.test/findings?district=350102&round=2026H2"


def context() -> dict[str, object]:
    district = SimpleNamespace(code="350102", name_zh="鼓楼区", name_en="Gulou")
    finding = {
        "id": 1,
        "credit_code": "91350102MA0000001X",
        "unit_name": HOSTILE,
        "rule_code": "fund_extraction",
        "rule_name": "职工教育经费 [提取](http://evil.example)",
        "rule_name_en": "Education fund",
        "severity": "warning",
        "category": "政策落实",
        "message_zh": "提取比例低于 1.5%\n## 伪造标题",
        "message_en": "below 1.5%",
        "action_zh": "",
        "source": "",
        "status": "open",
        "due_date": "2027-01-31",
        "age_days": 0,
        "overdue_days": 0,
        "light": "green",
    }
    return alert_context("opened", "district", district, "2026H2", [finding], [], LEDGER)


def links(text: str) -> list[str]:
    return re.findall(r"\]\(([^)]*)\)", text)


@pytest.mark.parametrize("dialect", markdown.DIALECTS)
def test_it_leaves_only_our_own_link_heading_and_bold_in_each_dialect(dialect: str) -> None:
    body = render(context()).markdown_for(dialect)
    assert links(body) == [LEDGER]
    headings = [line for line in body.splitlines() if line.lstrip().startswith("#")]
    assert len(headings) == 1 and headings[0].startswith("### 【产改督导】")
    assert "**[" not in body and "<@all>" not in body and "http://evil" not in body
    assert "中奖领取" in body and "紧急通知" in body  # the words themselves still arrive


def test_it_renders_each_dialect_differently() -> None:
    message = render(context())
    assert "＊＊［中奖领取］" in message.markdown_for("wecom")
    assert "&#42;&#42;&#91;中奖领取&#93;" in message.markdown_for("feishu")
    assert "\\*\\*\\[中奖领取\\]" in message.markdown_for("commonmark")


def test_it_keeps_the_plain_text_body_as_written() -> None:
    assert "**[中奖领取](http://evil.example)**" in render(context()).text


@pytest.fixture
def chat(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[ChatServer]:
    server = ChatServer(dingtalk_secret="SECgood123")
    for name in ("WECOM_BASE_URL", "DINGTALK_BASE_URL", "FEISHU_BASE_URL"):
        monkeypatch.setenv(name, server.base_url)
    config.reset()
    yield server
    server.close()


def test_it_sends_each_robot_its_own_dialect(chat: ChatServer) -> None:
    message = render(context())
    for url in ("wecombot://key789", "dingtalk://SECgood123@tok123", "feishu://tokfeishu1"):
        transport_for(url, 5).notify(message)
    sent = {r["path"]: r["body"] for r in chat.requests}
    assert sent["/cgi-bin/webhook/send"]["markdown"]["content"] == message.markdown_for("wecom")
    assert sent["/robot/send"]["markdown"]["text"] == message.markdown_for("dingtalk")
    card = sent["/open-apis/bot/v2/hook/tokfeishu1"]["card"]
    assert card["elements"][0]["content"] == message.markdown_for("feishu")
