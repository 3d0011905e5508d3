"""Channel URLs: which ones Pilotwatch sends to, where they may point, and how any page, log or
listing shows one.

A channel is an Apprise-style URL (`mailto://`, `json://`, `wecombot://KEY`, ...). It carries secrets
(robot keys, tokens, passwords, header values, path tokens), so it is shown only masked. The
administration (pages and CLI) checks a URL here before storing it; the notifier parses it here
again before sending, and checks the address it actually connected to against the same policy.

Where a channel may point: an administrator must not be able to make the notifier post, with its
credentials, to the office's own network (Redis, a database, a cloud metadata service). Addresses
that are not public (loopback, private, link-local, multicast, reserved) are refused unless the
setting CHANNEL_ALLOWED_INTERNAL lists the host or a network holding the address.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import apprise

from shared.text import Text

# Apprise writes the URLs and keys it cannot parse to its own logger, in clear. We learn its verdict
# from what it returns, so none of its log lines are needed in ours.
_apprise_log = logging.getLogger("apprise")
_apprise_log.addHandler(logging.NullHandler())
_apprise_log.propagate = False
_apprise_log.setLevel(logging.CRITICAL + 1)

# The kinds the notifier has a transport for (services/notify/registry.py); anything else is refused.
KINDS = ("mailto", "mailtos", "json", "jsons", "wecombot", "dingtalk", "feishu", "lark")
# Robots are reached at the base URL an operator configures (WECOM_BASE_URL, ...): their URL holds
# only keys, no address.
ROBOTS = ("wecombot", "dingtalk", "feishu", "lark")
# Query parameters whose values are shown; every other value is masked.
SHOWN_PARAMETERS = frozenset(
    {"to", "from", "cc", "bcc", "smtp", "mode", "name", "format", "method", "lang", "user", "reply"}
)
# The first path segment is shown when it is a plain lower-case word ("hooks", "pilotwatch"); every
# other segment may be a token and is hidden.
PLAIN_SEGMENT = re.compile(r"[a-z][a-z_-]{0,23}")
HIDDEN = "****"


class InvalidChannel(ValueError):
    """The URL is not a channel Pilotwatch can send to (or may not point where it points)."""


# A group robot's webhook as WeCom, DingTalk and Feishu (Lark) hand it out, and the Apprise URL it
# is stored as (the formats of Apprise's own plugins: wecombot, dingtalk, feishu, lark).
ROBOT_WEBHOOKS = (
    (re.compile(r"https://qyapi\.weixin\.qq\.com/cgi-bin/webhook/send/?\?(?:.*&)?key=([\w-]+)(?:&.*)?", re.I), "wecombot://{}"),
    (re.compile(r"https://oapi\.dingtalk\.com/robot/send/?\?(?:.*&)?access_token=(\w+)(?:&.*)?", re.I), "dingtalk://{}/"),
    (re.compile(r"https://open\.feishu\.cn/open-apis/bot/v2/hook/([\w-]+)/?", re.I), "feishu://{}"),
    (re.compile(r"https://open\.larksuite\.com/open-apis/bot/v2/hook/([\w-]+)/?", re.I), "lark://{}"),
)  # fmt: skip


def from_webhook(url: str) -> str:
    """A robot's https webhook as its Apprise URL (wecombot://KEY, ...); any other URL as it is."""
    text = url.strip()
    for pattern, scheme in ROBOT_WEBHOOKS:
        found = pattern.fullmatch(text)
        if found:
            return scheme.format(found.group(1))
    return text


def kind_of(url: str) -> str:
    return url.split("://", 1)[0].strip().lower() if "://" in url else ""


def parse(url: str) -> Any:
    """Apprise's plugin object for a channel URL of a supported kind; InvalidChannel otherwise."""
    kind = kind_of(url)
    if kind not in KINDS:
        raise InvalidChannel(
            Text(
                "不支持的通知渠道类型：{kind}；可用的有 {kinds}，或企业微信、钉钉、飞书机器人的 https 地址",
                "Unsupported channel kind {kind}; use one of {kinds}, or a WeCom, DingTalk or Feishu "
                "robot's https URL",
            ).format(kind=kind or "?", kinds=", ".join(KINDS))
        )
    plugin = apprise.Apprise.instantiate(url.strip(), suppress_exceptions=True)
    if plugin is None:
        raise InvalidChannel(
            Text("不是有效的通知渠道地址：{url}", "Not a valid channel URL: {url}").format(url=mask(url))
        )
    return plugin


# --- masking -------------------------------------------------------------------------------------


def _hint(secret: str) -> str:
    """A long key as its first and last character (enough to tell two apart), a short one hidden."""
    return f"{secret[0]}…{secret[-1]}" if len(secret) >= 12 else HIDDEN


def parameters(query: str) -> list[tuple[str, str]]:
    """A query's (name, value) pairs; `+` stays a plus (Apprise's `+Header=value` sets a header)."""
    pairs = []
    for item in query.split("&"):
        if item:
            key, _, value = item.partition("=")
            pairs.append((unquote(key), unquote(value)))
    return pairs


def shown(key: str, value: str) -> str:
    return quote(value, safe="@.") if key.lower() in SHOWN_PARAMETERS else HIDDEN


def mask(url: str) -> str:
    """The URL with every credential part hidden: passwords, robot keys and secrets, path tokens,
    header values and every query value not known to be harmless. Built from the URL's own text, so
    it holds for a URL that no longer parses too."""
    kind = kind_of(url)
    if not kind:
        return f"?://{HIDDEN}"
    try:
        parts = urlsplit(url.strip())
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return f"{kind}://{HIDDEN}"
    host, userinfo = parts.hostname or "", ""
    host = f"[{host}]" if ":" in host else host
    if parts.username is not None or parts.password is not None:
        user = unquote(parts.username or "")
        userinfo = (
            HIDDEN if kind in ROBOTS else (quote(user, safe="") + (f":{HIDDEN}" if parts.password else ""))
        )
        userinfo += "@"
    if kind in ROBOTS:
        host = _hint(unquote(parts.netloc.rsplit("@", 1)[-1]))
        port = ""
        segments = [HIDDEN for segment in parts.path.split("/") if segment]
    else:
        segments = [s for s in parts.path.split("/") if s]
        segments = [s if i == 0 and PLAIN_SEGMENT.fullmatch(s) else HIDDEN for i, s in enumerate(segments)]
    path = "/" + "/".join(segments) if segments else ""
    query = "&".join(f"{quote(key, safe='+-')}={shown(key, value)}" for key, value in parameters(parts.query))
    return f"{kind}://{userinfo}{host}{port}{path}" + (f"?{query}" if query else "")


def address(url: str) -> str:
    """Where a channel sends, as a person tells channels apart: an email's recipients, a webhook's
    host, a robot's key hint; never a secret."""
    kind = kind_of(url)
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return mask(url)
    if kind in ("mailto", "mailtos"):
        to = [value for key, value in parameters(parts.query) if key.lower() == "to"]
        user = unquote(parts.username or "")
        return ", ".join(to) or (f"{user}@{parts.hostname}" if user else parts.hostname or "")
    if kind in ROBOTS:
        return _hint(unquote(parts.netloc.rsplit("@", 1)[-1]))
    return parts.hostname or mask(url)


# --- where a channel may point -------------------------------------------------------------------


@dataclass(frozen=True)
class Allowed:
    """The internal hosts and networks an office lets its channels reach (CHANNEL_ALLOWED_INTERNAL)."""

    hosts: frozenset[str]
    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]

    @classmethod
    def of(cls, entries: Iterable[str]) -> Allowed:
        hosts, networks = set(), []
        for entry in entries:
            try:
                networks.append(ipaddress.ip_network(entry.strip(), strict=False))
            except ValueError:
                hosts.add(entry.strip().lower().rstrip("."))
        return cls(frozenset(hosts), tuple(networks))


def destination(url: str) -> tuple[str, int] | None:
    """The host and port a channel connects to; None for the robots (their address is a setting)."""
    kind = kind_of(url)
    if kind in ROBOTS:
        return None
    plugin = parse(url)
    if kind in ("mailto", "mailtos"):
        mode = plugin.secure_mode
        default = 465 if mode == "ssl" else 587 if mode == "starttls" else 25
        return plugin.smtp_host.strip("[]"), int(plugin.port or default)
    return plugin.host.strip("[]"), int(plugin.port or (443 if plugin.secure else 80))


def refusal(host: str, address: str, allowed: Allowed) -> str | None:
    """Why a channel may not reach `address` (resolved from `host`), or None when it may."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return Text(
            "{host} 的地址无法识别（{address}）",
            "{host} resolves to an address that cannot be read ({address})",
        ).format(host=host, address=address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if host.lower().rstrip(".") in allowed.hosts or any(ip in network for network in allowed.networks):
        return None
    if ip.is_global and not ip.is_multicast:
        return None
    zh, en = (
        ("本机回环地址", "a loopback address")
        if ip.is_loopback
        else ("链路本地地址", "a link-local address")
        if ip.is_link_local
        else ("组播地址", "a multicast address")
        if ip.is_multicast
        else ("内网地址", "a private or reserved address")
    )
    return Text(
        "{host}（{ip}）是{zh}，不允许作为通知渠道，如确需使用请在 CHANNEL_ALLOWED_INTERNAL 中列出",
        "{host} is {ip}, {en}: channels may not reach it unless CHANNEL_ALLOWED_INTERNAL lists it",
    ).format(host=host, ip=ip, zh=zh, en=en)


Resolver = Callable[[str, int], list[str]]


def resolve(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


def check_destination(url: str, allowed: Allowed, resolver: Resolver = resolve) -> None:
    """Refuse a channel whose host resolves to an address it may not reach (InvalidChannel says
    why). A host that does not resolve now is let through: the notifier checks the address it
    connects to at every send, which also defeats a name that resolves elsewhere later."""
    found = destination(url)
    if found is None:
        return
    host, port = found
    try:
        addresses = resolver(host, port)
    except (OSError, UnicodeError):
        return
    for address in addresses:
        problem = refusal(host, address, allowed)
        if problem:
            raise InvalidChannel(problem)
