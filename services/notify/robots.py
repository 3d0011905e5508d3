"""Group-chat robots: WeCom (企业微信), DingTalk (钉钉), Feishu (飞书) and Lark.

Apprise parses and masks their URLs, but we send the JSON ourselves: these services answer HTTP 200
even when they refuse a message and put the reason in the body (`errcode`, or `code` for Feishu),
which Apprise's own plugins count as success.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Any
from urllib.parse import quote_plus

import requests

from services.notify.transports import Message, Transport, TransportError, check_http, without_secrets
from shared import config

# Answers that mean "too many messages just now": worth another try later.
RATE_LIMITED = {45009, 130101}
WECOM_MARKDOWN_BYTES = 4096
DINGTALK_MARKDOWN_BYTES = 20000


def truncate(text: str, limit: int, note: str = "") -> str:
    """`text` cut to at most `limit` UTF-8 bytes, ending with a note when cut (the message's own, or
    one in both languages for a message stored without one)."""
    if len(text.encode()) <= limit:
        return text
    note = note or "\n…（内容过长，已截断 / truncated）"
    head = text.encode()[: limit - len(note.encode())].decode(errors="ignore")
    line_end = head.rfind("\n")
    if line_end > len(head) // 2:  # end at a whole line, not in the middle of a unit's name or a link
        head = head[:line_end]
    return head + note


def check_answer(response: requests.Response) -> str:
    """An HTTP error as usual; a 200 whose body says no is a failure too."""
    check_http(response)
    try:
        body: dict[str, Any] = response.json()
    except ValueError:
        raise TransportError(
            f"HTTP {response.status_code} with a body that is not JSON: {response.text[:200]}", permanent=True
        ) from None
    code = body.get("errcode", body.get("code", body.get("StatusCode", 0)))
    if code not in (0, None):
        message = body.get("errmsg") or body.get("msg") or body.get("StatusMessage") or ""
        raise TransportError(
            f"HTTP {response.status_code} errcode {code}: {message}"[:500], permanent=code not in RATE_LIMITED
        )
    return f"HTTP {response.status_code} errcode 0"


class Robot(Transport):
    def post(self, url: str, body: dict[str, Any]) -> str:
        try:
            response = requests.post(url, json=body, timeout=self.timeout)
        except requests.RequestException as exc:
            raise TransportError(f"HTTP connection failed: {without_secrets(exc)}") from None
        return check_answer(response)


class WeComBot(Robot):
    """`wecombot://KEY`: the group robot's webhook key."""

    def notify(self, message: Message, key: str = "") -> str:
        url = f"{config.current().wecom_base_url}/cgi-bin/webhook/send?key={quote_plus(self.plugin.key)}"
        body = {
            "msgtype": "markdown",
            "markdown": {
                "content": truncate(message.markdown_for("wecom"), WECOM_MARKDOWN_BYTES, message.cut_note)
            },
        }
        return self.post(url, body)


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's signature: HMAC-SHA256 of "timestamp\\nsecret" keyed by the secret, base64, URL-encoded."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return quote_plus(base64.b64encode(digest))


class DingTalk(Robot):
    """`dingtalk://TOKEN` or, with signing ("加签"), `dingtalk://SECRET@TOKEN`."""

    def notify(self, message: Message, key: str = "") -> str:
        url = f"{config.current().dingtalk_base_url}/robot/send?access_token={quote_plus(self.plugin.token)}"
        if self.plugin.secret:
            stamp = int(time.time() * 1000)  # wall time on purpose: DingTalk checks it against its own clock
            url += f"&timestamp={stamp}&sign={dingtalk_sign(self.plugin.secret, stamp)}"
        body = {
            "msgtype": "markdown",
            "markdown": {
                "title": message.subject,
                "text": truncate(message.markdown_for("dingtalk"), DINGTALK_MARKDOWN_BYTES, message.cut_note),
            },
        }
        return self.post(url, body)


class Feishu(Robot):
    """`feishu://TOKEN` (Feishu) and `lark://TOKEN` (Lark): a card with the subject and the Markdown."""

    def base_url(self) -> str:
        return config.current().feishu_base_url

    def notify(self, message: Message, key: str = "") -> str:
        url = f"{self.base_url()}/open-apis/bot/v2/hook/{quote_plus(self.plugin.token)}"
        body = {
            "msg_type": "interactive",
            "card": {
                "header": {"title": {"tag": "plain_text", "content": message.subject}},
                "elements": [{"tag": "markdown", "content": message.markdown_for("feishu")}],
            },
        }
        return self.post(url, body)


class Lark(Feishu):
    def base_url(self) -> str:
        return config.current().lark_base_url
