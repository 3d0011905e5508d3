"""A local SMTP server that keeps every message it receives, so alerts are visible without
any outside service: `python -m shared.mailsink --port 8025 --dir instance/mail`."""

from __future__ import annotations

import argparse
import signal
import threading
from datetime import UTC, datetime
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller


class Keeper:
    def __init__(self, folder: Path):
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        (self.folder / f"{stamp}.eml").write_bytes(envelope.original_content or envelope.content)
        mail = message_from_bytes(envelope.content, policy=policy.default)
        print(
            f"mail sink: message to {', '.join(envelope.rcpt_tos)}: {mail['subject']} "
            f"(saved in {self.folder.name}/{stamp}.eml)",
            flush=True,
        )
        return "250 OK"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8025)
    parser.add_argument("--dir", type=Path, default=Path("instance/mail"))
    args = parser.parse_args()
    controller = Controller(Keeper(args.dir), hostname=args.host, port=args.port)
    controller.start()
    print(f"mail sink: listening on smtp {args.host}:{args.port}, keeping messages in {args.dir}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
