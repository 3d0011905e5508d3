"""Channel URLs: which ones Pilotwatch sends to, and how any page, log or listing shows one.

A channel is an Apprise-style URL (`mailto://`, `json://`, `wecombot://KEY`, ...). It carries secrets
(robot keys, tokens, passwords), so it is shown only masked. The administration (pages and CLI)
checks a URL here before storing it; the notifier parses it here again before sending.
"""

from __future__ import annotations

from typing import Any

import apprise

# The kinds the notifier has a transport for (services/notify/registry.py); anything else is refused.
KINDS = ("mailto", "mailtos", "json", "jsons", "wecombot", "dingtalk", "feishu", "lark")


class InvalidChannel(ValueError):
    """The URL is not a channel Pilotwatch can send to."""


def kind_of(url: str) -> str:
    return url.split("://", 1)[0].strip().lower() if "://" in url else ""


def parse(url: str) -> Any:
    """Apprise's plugin object for a channel URL of a supported kind; InvalidChannel otherwise."""
    kind = kind_of(url)
    if kind not in KINDS:
        raise InvalidChannel(
            f"不支持的通知渠道类型 / unsupported channel kind {kind or '?'!r}; use one of {', '.join(KINDS)}"
        )
    plugin = apprise.Apprise.instantiate(url.strip(), suppress_exceptions=True)
    if plugin is None:
        raise InvalidChannel(f"不是有效的通知渠道地址 / not a valid channel URL: {mask(url)}")
    return plugin


def mask(url: str) -> str:
    """The URL with its secrets hidden, as Apprise's privacy mode writes it; unparsable ones show
    their scheme only."""
    plugin = apprise.Apprise.instantiate(url.strip(), suppress_exceptions=True)
    if plugin is None:
        return f"{kind_of(url) or '?'}://***"
    return plugin.url(privacy=True)
