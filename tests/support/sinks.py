"""Real servers on loopback that record what the notifier sends: SMTP (aiosmtpd) and HTTP."""

from __future__ import annotations

import json
import threading
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope

from ops.redis_server import free_port


class SmtpSink:
    """An SMTP server keeping every accepted message; `replies` scripts the answers (e.g. 451 then 250)."""

    def __init__(self, replies: list[str] | None = None):
        self.messages: list[EmailMessage] = []
        self.replies = list(replies or [])
        self.lock = threading.Lock()
        sink = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Envelope) -> str:  # noqa: N802
                with sink.lock:
                    reply = sink.replies.pop(0) if sink.replies else "250 OK"
                    if reply.startswith("250"):
                        sink.messages.append(message_from_bytes(envelope.content, policy=policy.default))
                return reply

        self.port = free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def url(self, to: str = "clerk@example.org") -> str:
        return (
            f"mailto://127.0.0.1:{self.port}?smtp=127.0.0.1&from=alerts@pilotwatch.example&to={to}"
            "&mode=insecure"
        )

    def texts(self) -> list[str]:
        out = []
        for m in self.messages:
            body = m.get_body(preferencelist=("plain",))
            out.append(f"{m['subject']}\n{body.get_content() if body else ''}")
        return out

    def close(self) -> None:
        self.controller.stop()


class HttpSink:
    """An HTTP server recording each POST; `codes` scripts the status codes (e.g. 500, 500, 200)."""

    def __init__(
        self, codes: list[int] | None = None, body: dict[str, Any] | None = None, port: int | None = None
    ):
        self.requests: list[dict[str, Any]] = []
        self.codes = list(codes or [])
        self.body = body or {"errcode": 0, "errmsg": "ok"}
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                code = sink.codes.pop(0) if sink.codes else 200
                sink.requests.append(
                    {"path": self.path, "body": raw, "status": code, "headers": dict(self.headers)}
                )
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(json.dumps(sink.body).encode())

            def log_message(self, *args: Any) -> None:
                pass

        self.port = port or free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str = "/hook") -> str:
        return f"json://127.0.0.1:{self.port}{path}"

    def delivered(self) -> list[dict[str, Any]]:
        return [json.loads(r["body"]) for r in self.requests if r["status"] < 300]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
