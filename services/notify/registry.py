"""Which transport class sends which kind of channel URL."""

from __future__ import annotations

from services.notify.robots import DingTalk, Feishu, Lark, WeComBot
from services.notify.transports import Email, Transport, Webhook
from shared.channels import InvalidChannel, kind_of

REGISTRY: dict[str, type[Transport]] = {
    "mailto": Email,
    "mailtos": Email,
    "json": Webhook,
    "jsons": Webhook,
    "wecombot": WeComBot,
    "dingtalk": DingTalk,
    "feishu": Feishu,
    "lark": Lark,
}


def transport_for(url: str, timeout: float) -> Transport:
    """The transport of a channel URL; InvalidChannel when its kind has none."""
    transport = REGISTRY.get(kind_of(url))
    if transport is None:
        raise InvalidChannel(f"unsupported channel kind {kind_of(url)!r}")
    return transport(url, timeout)
