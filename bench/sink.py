"""A webhook receiver on loopback noting when each unit first reached a district in a delivered alert."""

from __future__ import annotations

import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from ops.redis_server import free_port

CREDIT_CODE = re.compile(rb"[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}")


class AlertSink:
    """Answers every POST with 200 and records, per credit code named in it, the first arrival time."""

    def __init__(self) -> None:
        self.first_seen: dict[str, float] = {}
        self.posts = 0
        self.lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                sink.record(raw, time.time())
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"errcode": 0, "errmsg": "ok"}')

            def log_message(self, *args: Any) -> None:
                pass

        self.port = free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def record(self, raw: bytes, at: float) -> None:
        with self.lock:
            self.posts += 1
            for code in CREDIT_CODE.findall(raw):
                self.first_seen.setdefault(code.decode(), at)

    def url(self) -> str:
        return f"json://127.0.0.1:{self.port}/hook"

    def alerted(self, codes: set[str]) -> dict[str, float]:
        with self.lock:
            return {c: t for c, t in self.first_seen.items() if c in codes}

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
