"""Delivery errors go to logs and the delivery log: they must not carry a channel's secrets."""

from __future__ import annotations

import pytest
import requests

from ops.redis_server import free_port
from services.notify.registry import transport_for
from services.notify.transports import Message, TransportError, without_secrets

MESSAGE = Message(subject="主题", text="正文", markdown="正文", html="<p>正文</p>", data={})


def test_it_keeps_the_request_url_out_of_a_connection_error() -> None:
    port = free_port()  # nothing listens there
    with pytest.raises(TransportError) as caught:
        transport_for(f"json://127.0.0.1:{port}/hook/s3cr3t-path?token=abc123", 2).notify(MESSAGE)
    assert "s3cr3t-path" not in caught.value.message and "abc123" not in caught.value.message
    assert "connection failed" in caught.value.message


@pytest.mark.parametrize(
    "text",
    [
        "HTTPConnectionPool(host='x', port=1): Max retries exceeded with url: /cgi-bin/webhook/send?key=K123 "
        "(Caused by NewConnectionError('refused'))",
        "Invalid URL 'https://oapi.dingtalk.com/robot/send?access_token=K123&sign=K123'",
    ],
)
def test_it_masks_keys_tokens_and_signatures(text: str) -> None:
    cleaned = without_secrets(requests.ConnectionError(text))
    assert "K123" not in cleaned
