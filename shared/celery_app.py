"""The Celery app factory every service uses, with one queue per service."""

from __future__ import annotations

from celery import Celery
from kombu import Exchange, Queue

from shared import broker_fix, config, tasks
from shared.redelivery import CappedTask


def make_celery(name: str, settings: config.Settings | None = None) -> Celery:
    settings = settings or config.current()
    broker_fix.apply()
    app = Celery(name, broker=settings.broker_url, task_cls=CappedTask)
    app.conf.update(
        task_routes=tasks.ROUTES,
        task_queues=[Queue(q, Exchange(q, type="direct"), routing_key=q) for q in tasks.QUEUES],
        task_default_queue=tasks.EVALUATION_QUEUE,
        task_default_exchange=tasks.EVALUATION_QUEUE,
        task_default_routing_key=tasks.EVALUATION_QUEUE,
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        # An event is acknowledged only once handled; a worker killed mid-task gets it redelivered.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_transport_options=transport_options(settings),
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=2,
        worker_hijack_root_logger=False,
        # Flower and the Celery exporter of the `monitoring` profile read task events.
        worker_send_task_events=settings.task_events,
        task_send_sent_event=settings.task_events,
        timezone="UTC",
        enable_utc=True,
    )
    return app


def transport_options(settings: config.Settings) -> dict[str, object]:
    """Redis (plain or Sentinel) or RabbitMQ, picked by the broker URL alone."""
    # Longer than any countdown we use (config refuses less), so a scheduled retry is not redelivered
    # early; a message held by a worker that died comes back after it. See docs/CELERY.md.
    timeout = settings.broker_visibility_timeout
    options: dict[str, object] = {
        "visibility_timeout": timeout,
        "socket_timeout": 5,
        "socket_connect_timeout": 2,
        "unacked_restore_interval": min(10.0, timeout / 4),
        "unacked_restore_throttle": 1,
    }
    if settings.broker_url.startswith("sentinel://"):
        options["master_name"] = settings.sentinel_master
    elif settings.broker_url.startswith(("amqp://", "amqps://", "pyamqp://")):
        options = {"confirm_publish": True}
    return options
