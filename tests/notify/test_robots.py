"""The chat robots against a loopback server that checks what WeCom, DingTalk and Feishu check."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.notify.messages import alert_context, channel_test_message, render
from services.notify.registry import transport_for
from services.notify.robots import WECOM_MARKDOWN_BYTES, dingtalk_sign, truncate
from services.notify.transports import TransportError
from shared import config
from tests.notify.test_alert_words import context as one_finding_context
from tests.support.chat import ChatServer, dingtalk_signature_ok


@pytest.fixture
def chat(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[ChatServer]:
    server = ChatServer(
        dingtalk_secret="SECgood123",
        script={"/cgi-bin/webhook/send": [(503, {})], "/open-apis/bot/v2/hook/busy": [(429, {})]},
    )
    for name in ("WECOM_BASE_URL", "DINGTALK_BASE_URL", "FEISHU_BASE_URL", "LARK_BASE_URL"):
        monkeypatch.setenv(name, server.base_url)
    config.reset()
    yield server
    server.close()


def test_it_signs_dingtalk_requests_as_dingtalk_checks_them(chat: ChatServer) -> None:
    detail = transport_for("dingtalk://SECgood123@tok123", 5).notify(channel_test_message())
    assert detail == "HTTP 200 errcode 0"
    (sent,) = chat.requests
    assert sent["query"]["access_token"] == ["tok123"] and dingtalk_signature_ok(sent["query"], "SECgood123")
    assert sent["body"]["markdown"]["title"] == "【产改督导】测试消息"


def test_it_counts_a_200_with_a_non_zero_errcode_as_a_permanent_failure(chat: ChatServer) -> None:
    with pytest.raises(TransportError) as caught:
        transport_for("dingtalk://SECwrong99@tok123", 5).notify(channel_test_message())
    assert caught.value.permanent and "310000" in caught.value.message


def test_it_retries_server_errors_and_rate_limits(chat: ChatServer) -> None:
    for url in ("wecombot://key789", "feishu://busy"):
        with pytest.raises(TransportError) as caught:
            transport_for(url, 5).notify(channel_test_message())
        assert not caught.value.permanent
    assert transport_for("wecombot://key789", 5).notify(channel_test_message("en")) == "HTTP 200 errcode 0"
    assert chat.requests[-1]["body"]["markdown"]["content"].startswith("### [Pilotwatch] Test message")


def test_it_fails_temporarily_when_nothing_listens(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FEISHU_BASE_URL", "http://127.0.0.1:9")
    config.reset()
    with pytest.raises(TransportError) as caught:
        transport_for("feishu://tokfeishu1", 2).notify(channel_test_message())
    assert not caught.value.permanent


def test_it_url_encodes_the_signature() -> None:
    sign = dingtalk_sign("SEC" + "x" * 40, 1_700_000_000_000)
    assert "+" not in sign and "/" not in sign and "=" not in sign


@given(st.text(max_size=3000), st.integers(min_value=80, max_value=5000))
def test_it_truncates_to_the_byte_limit(text: str, limit: int) -> None:
    cut = truncate(text, limit)
    assert len(cut.encode()) <= max(limit, len(text.encode()) if len(text.encode()) <= limit else limit)
    assert cut == text or cut.endswith("truncated）")


def many_findings(count: int) -> dict:
    """An alert about `count` units' problems: longer than WeCom takes."""
    context = one_finding_context()
    finding = context["findings"][0]  # type: ignore[index]
    findings = [
        dict(finding, id=i, unit_name=f"福州示范机械{i:03d}有限公司", credit_code=f"91350102MA0000{i:03d}X")
        for i in range(count)
    ]
    district = SimpleNamespace(code="350102", name_zh="鼓楼区", name_en="Gulou")
    ledger = "http://pilotwatch.test/findings?district=350102&round=2026H2"
    return alert_context("opened", "district", district, "2026H2", findings, [], ledger)


@pytest.mark.parametrize(
    ("locale", "says"),
    [("zh", "全部问题请在[问题台账]("), ("en", "every problem is in the [problem ledger](")],
)
def test_a_message_cut_to_wecoms_limit_ends_at_a_line_with_where_the_rest_is(
    chat: ChatServer, locale: str, says: str
) -> None:
    message = render(many_findings(60), locale)
    assert len(message.markdown_for("wecom").encode()) > WECOM_MARKDOWN_BYTES
    with pytest.raises(TransportError):  # the chat server's first answer is a 503 (scripted)
        transport_for("wecombot://key789", 5).notify(message)
    transport_for("wecombot://key789", 5).notify(message)
    content = chat.requests[-1]["body"]["markdown"]["content"]
    assert len(content.encode()) <= WECOM_MARKDOWN_BYTES
    kept, note = content.rsplit("\n\n", 1)
    assert message.markdown_for("wecom").startswith(kept + "\n")  # whole lines only
    assert says in note and "/findings?district=350102&round=2026H2)" in note


def test_it_has_a_transport_for_every_kind_the_administration_accepts() -> None:
    from services.notify.registry import REGISTRY
    from shared.channels import KINDS

    assert set(REGISTRY) == set(KINDS)
