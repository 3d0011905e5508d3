"""A loopback HTTP server playing WeCom, DingTalk and Feishu robots and plain webhooks.

It records each POST, answers from a script (status and JSON body), checks DingTalk's signature the
way DingTalk does (answering errcode 310000 on a mismatch) and can hold requests until released."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ops.redis_server import free_port

OK = (200, {"errcode": 0, "errmsg": "ok"})


def dingtalk_signature_ok(query: dict[str, list[str]], secret: str) -> bool:
    stamp, sign = query.get("timestamp", [""])[0], query.get("sign", [""])[0]
    expected = base64.b64encode(
        hmac.new(secret.encode(), f"{stamp}\n{secret}".encode(), hashlib.sha256).digest()
    )
    # parse_qs already URL-decoded the sign once, as DingTalk's server does.
    return bool(stamp) and hmac.compare_digest(sign.encode(), expected)


class ChatServer:
    def __init__(
        self, script: dict[str, list[tuple[int, dict[str, Any]]]] | None = None, dingtalk_secret: str = ""
    ):
        """`script` maps a path to its answers in order; once used up, a path answers 200 errcode 0."""
        self.requests: list[dict[str, Any]] = []
        self.script = {path: list(answers) for path, answers in (script or {}).items()}
        self.dingtalk_secret = dingtalk_secret
        self.gate = threading.Event()
        self.gate.set()
        self.arrived = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                server.arrived.set()
                server.gate.wait(30)
                status, body = server.answer(self.path)
                parts = urlsplit(self.path)
                server.requests.append(
                    {
                        "path": parts.path,
                        "query": parse_qs(parts.query),
                        "raw_query": parts.query,
                        "body": json.loads(raw or b"{}"),
                        "status": status,
                        "answer": body,
                        "headers": dict(self.headers),
                    }
                )
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.end_headers()
                    self.wfile.write(json.dumps(body).encode())
                except OSError:
                    pass  # the sender is gone (killed mid-request)

            def log_message(self, *args: Any) -> None:
                pass

        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def answer(self, path: str) -> tuple[int, dict[str, Any]]:
        parts = urlsplit(path)
        if parts.path == "/robot/send" and self.dingtalk_secret:
            if not dingtalk_signature_ok(parse_qs(parts.query), self.dingtalk_secret):
                return 200, {"errcode": 310000, "errmsg": "sign not match"}
        answers = self.script.get(parts.path) or []
        return answers.pop(0) if answers else OK

    def to(self, path: str) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["path"] == path]

    def accepted(self, path: str) -> list[dict[str, Any]]:
        return [r for r in self.to(path) if r["status"] == 200 and not r["answer"].get("errcode")]

    def close(self) -> None:
        self.gate.set()
        self.server.shutdown()
        self.server.server_close()
