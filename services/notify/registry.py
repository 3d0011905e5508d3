"""Which transport class sends which kind of channel URL."""

from __future__ import annotations

from services.notify.robots import DingTalk, Feishu, Lark, WeComBot
from services.notify.transports import AppriseTransport, Email, Transport, Webhook, kind_of

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
    return REGISTRY.get(kind_of(url), AppriseTransport)(url, timeout)
