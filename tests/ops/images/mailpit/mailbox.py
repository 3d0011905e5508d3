"""A mailbox that answers like Mailpit: SMTP on :1025 keeps every message, and :8025 serves the part
of Mailpit's API v1 that tests read (`GET /api/v1/messages`, `GET /api/v1/message/<ID>`)."""

from __future__ import annotations

import json
import signal
import threading
import uuid
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.headerregistry import Address
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller

SMTP_PORT = 1025
HTTP_PORT = 8025


class Mailbox:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.messages: list[dict[str, Any]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        mail = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(mail, EmailMessage)
        text = mail.get_body(preferencelist=("plain",))
        html = mail.get_body(preferencelist=("html",))
        summary = {
            "ID": uuid.uuid4().hex,
            "MessageID": str(mail.get("Message-ID", "")).strip("<>"),
            "From": person(str(mail.get("From", envelope.mail_from))),
            "To": [person(address) for address in envelope.rcpt_tos],
            "Subject": str(mail.get("Subject", "")),
            "Created": datetime.now(UTC).isoformat(),
            "Size": len(envelope.content),
        }
        full = {
            **summary,
            "Text": text.get_content() if text else "",
            "HTML": html.get_content() if html else "",
        }
        with self.lock:
            self.messages.append(full)
        print(f"mailbox: {summary['Subject']!r} to {', '.join(envelope.rcpt_tos)}", flush=True)
        return "250 OK"

    def listing(self) -> dict[str, Any]:
        with self.lock:
            newest_first = [dict(m) for m in reversed(self.messages)]
        summaries = [{k: v for k, v in m.items() if k not in ("Text", "HTML")} for m in newest_first]
        return {"total": len(summaries), "count": len(summaries), "start": 0, "messages": summaries}

    def message(self, ident: str) -> dict[str, Any] | None:
        with self.lock:
            return next((dict(m) for m in self.messages if m["ID"] == ident), None)


def person(text: str) -> dict[str, str]:
    try:
        address = Address(addr_spec=text.strip().split("<")[-1].rstrip(">"))
    except (ValueError, IndexError):
        return {"Name": "", "Address": text}
    return {"Name": "", "Address": address.addr_spec}


def serve(mailbox: Mailbox) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            if self.path.split("?")[0] == "/api/v1/messages":
                self.answer(200, mailbox.listing())
            elif self.path.startswith("/api/v1/message/"):
                found = mailbox.message(self.path.rsplit("/", 1)[-1])
                self.answer(200 if found else 404, found or {"error": "message not found"})
            elif self.path == "/livez":
                self.answer(200, {"status": "ok"})
            else:
                self.answer(404, {"error": "not found"})

        def answer(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("0.0.0.0", HTTP_PORT), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main() -> None:
    mailbox = Mailbox()
    smtp = Controller(mailbox, hostname="0.0.0.0", port=SMTP_PORT)
    smtp.start()
    http = serve(mailbox)
    print(f"mailbox: SMTP on :{SMTP_PORT}, Mailpit's API on :{HTTP_PORT}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    http.shutdown()
    smtp.stop()


if __name__ == "__main__":
    main()
