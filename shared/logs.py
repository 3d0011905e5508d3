"""Logging set-up shared by the workers."""

from __future__ import annotations

import logging


def quiet_celery_chatter() -> None:
    """Celery logs every task received and succeeded at INFO; the outbox relay runs every few
    seconds, so that would bury what matters. Our tasks log their own outcome instead."""
    for name in ("celery.app.trace", "celery.worker.strategy"):
        logging.getLogger(name).setLevel(logging.WARNING)
