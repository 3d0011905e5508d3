"""Logging set-up shared by the services: JSON lines with the request id, quieter Celery."""

from __future__ import annotations

import logging
from contextvars import ContextVar, Token

from pythonjsonlogger.json import JsonFormatter


def quiet_celery_chatter() -> None:
    """Celery logs every task received and succeeded at INFO; the outbox relay runs every few
    seconds, so that would bury what matters. Our tasks log their own outcome instead."""
    for name in ("celery.app.trace", "celery.worker.strategy"):
        logging.getLogger(name).setLevel(logging.WARNING)


# --- one JSON object per line, carrying the request id -------------------------------------------

_request_id: ContextVar[str] = ContextVar("request_id", default="")


def set_request_id(value: str) -> Token[str]:
    return _request_id.set(value)


def reset_request_id(token: Token[str]) -> None:
    _request_id.reset(token)


def request_id() -> str:
    return _request_id.get()


class RequestIdFilter(logging.Filter):
    """Stamps every record with the request id of the HTTP request or task being handled."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get()
        return True


def configure(service: str, level: str, fmt: str = "json") -> None:
    """Root logging for a service: JSON lines (or plain text) on stderr, each with its request id."""
    handler = logging.StreamHandler()
    handler.addFilter(RequestIdFilter())
    if fmt == "json":
        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
                static_fields={"service": service},
                json_ensure_ascii=False,
            )
        )
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")
        )
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "pilotwatch", False)]:
        root.removeHandler(old)
    handler.pilotwatch = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
