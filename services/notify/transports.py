"""Channels: Apprise-style URLs parsed by Apprise, each kind sent by a small transport class.

Email and JSON webhooks are sent here (group-chat robots in robots.py) so that a failure can be told
apart as temporary (retry) or permanent (stop): Apprise itself only answers true or false. Apprise
parses and masks the URLs (shared/channels.py); registry.py picks the class for a URL.
"""

from __future__ import annotations

import re
import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from typing import Any

import requests

from services.notify import guard
from shared.channels import parse


class TransportError(Exception):
    def __init__(self, message: str, permanent: bool = False):
        super().__init__(message)
        self.message = message
        self.permanent = permanent


@dataclass(frozen=True)
class Message:
    subject: str
    text: str
    markdown: str
    html: str
    data: dict[str, Any]
    # The Markdown per robot dialect (services/notify/markdown.py); messages stored before there
    # were dialects have only `markdown`.
    dialects: dict[str, str] = field(default_factory=dict)
    # What ends the Markdown when a chat service's size limit cuts it (its link, at the end, is cut
    # with it): in the message's language, saying where the rest is. Empty in messages stored before.
    cut_note: str = ""

    def markdown_for(self, dialect: str) -> str:
        return self.dialects.get(dialect, self.markdown)


class Transport:
    def __init__(self, url: str, timeout: float):
        self.url = url
        self.plugin = parse(url)
        self.timeout = timeout

    def notify(self, message: Message, key: str = "") -> str:
        """Send; return a short description of the answer; raise TransportError on failure."""
        raise NotImplementedError


class Email(Transport):
    def notify(self, message: Message, key: str = "") -> str:
        p = self.plugin
        sender = p.from_addr[1]
        recipients = [addr for _, addr in p.targets] or [sender]
        mail = EmailMessage()
        mail["Subject"] = message.subject
        mail["From"] = formataddr((p.from_addr[0] or "Pilotwatch", sender))
        mail["To"] = ", ".join(recipients)
        domain = sender.rsplit("@", 1)[-1]
        # The same delivery sent twice (after a crash) carries the same Message-ID, so mail clients
        # can show it once.
        mail["Message-ID"] = f"<pilotwatch.{key}@{domain}>" if key else make_msgid(domain=domain)
        mail.set_content(message.text)
        mail.add_alternative(message.html, subtype="html")
        port = p.port or (465 if p.secure_mode == "ssl" else 587 if p.secure_mode == "starttls" else 25)
        try:
            if p.secure_mode == "ssl":
                smtp: smtplib.SMTP = guard.CheckedSMTPSSL(
                    p.smtp_host, port, timeout=self.timeout, context=ssl.create_default_context()
                )
            else:
                smtp = guard.CheckedSMTP(p.smtp_host, port, timeout=self.timeout)
            with smtp:
                if p.secure_mode == "starttls":
                    smtp.starttls(context=ssl.create_default_context())
                if p.user and p.password:
                    smtp.login(p.user, p.password)
                refused = smtp.send_message(mail, from_addr=sender, to_addrs=recipients)
        except guard.AddressRefused as exc:
            raise TransportError(str(exc), permanent=True) from None
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            raise TransportError(
                f"SMTP refused every recipient: {codes}", permanent=all(c >= 500 for c in codes)
            ) from None
        except smtplib.SMTPResponseException as exc:
            text = (
                exc.smtp_error.decode(errors="replace")
                if isinstance(exc.smtp_error, bytes)
                else exc.smtp_error
            )
            raise TransportError(f"SMTP {exc.smtp_code} {text}", permanent=exc.smtp_code >= 500) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise TransportError(f"SMTP connection failed: {exc}") from None
        if refused:
            return f"250 accepted, some refused: {sorted(refused)}"
        return f"250 accepted for {len(recipients)} recipient(s)"


class Webhook(Transport):
    """`json://` and `jsons://`: POST a JSON document with the alert's title, text and data."""

    def endpoint(self) -> str:
        p = self.plugin
        scheme = "https" if p.secure else "http"
        port = f":{p.port}" if p.port else ""
        return f"{scheme}://{p.host}{port}{p.fullpath or '/'}"

    def notify(self, message: Message, key: str = "") -> str:
        body = {
            "version": "1.0",
            "title": message.subject,
            "message": message.text,
            "type": "warning",
            **message.data,
        }
        auth = (self.plugin.user, self.plugin.password or "") if self.plugin.user else None
        try:
            headers = {**dict(self.plugin.headers), **({"Idempotency-Key": key} if key else {})}
            with guard.http_session() as session:
                response = session.post(
                    self.endpoint(), json=body, headers=headers, auth=auth, timeout=self.timeout
                )
        except guard.AddressRefused as exc:
            raise TransportError(str(exc), permanent=True) from None
        except requests.RequestException as exc:
            raise TransportError(f"HTTP connection failed: {without_secrets(exc)}") from None
        return check_http(response)


_URL_IN_ERROR = re.compile(r"(with url: )\S+?(?=\s\(Caused by|$)")
_SECRET_PARAM = re.compile(r"((?:key|access_token|token|secret|sign|password)=)[^&\s'\")]+", re.IGNORECASE)


def without_secrets(error: BaseException | str) -> str:
    """An error's text without the request URL and secret parameters (robot keys travel in URLs),
    so it can go to logs and the delivery log."""
    return _SECRET_PARAM.sub(r"\1***", _URL_IN_ERROR.sub(r"\1***", str(error)))


def check_http(response: requests.Response) -> str:
    status = response.status_code
    snippet = response.text[:200]
    if status == 429 or status >= 500:
        raise TransportError(f"HTTP {status}: {snippet}")
    if status >= 400:
        raise TransportError(f"HTTP {status}: {snippet}", permanent=True)
    return f"HTTP {status}"
