"""The Celery app factory every service uses, with one queue per service."""

from __future__ import annotations

from typing import Any

from celery import Celery
from kombu import Exchange, Queue

from shared import broker_fix, config, tasks
from shared.redelivery import CappedTask

AMQP_SCHEMES = ("amqp://", "amqps://", "pyamqp://")


class RabbitCelery(Celery):
    """On RabbitMQ's quorum queues, Celery delays a task inside the broker in whole seconds and
    refuses a countdown under one ("countdown must be a positive number"): such a task waits 1 s."""

    def send_task(self, name: str, *args: Any, countdown: float | None = None, **options: Any) -> Any:
        if countdown is not None and 0 < countdown < 1:
            countdown = 1
        return super().send_task(name, *args, countdown=countdown, **options)


def make_celery(name: str, settings: config.Settings | None = None) -> Celery:
    settings = settings or config.current()
    broker_fix.apply()
    kind = RabbitCelery if is_rabbitmq(settings) else Celery
    app = kind(name, broker=settings.broker_url, task_cls=CappedTask)
    app.conf.update(
        task_routes=tasks.ROUTES,
        task_queues=queues(settings),
        task_default_queue=tasks.EVALUATION_QUEUE,
        task_default_exchange=tasks.EVALUATION_QUEUE,
        task_default_exchange_type=exchange_type(settings),
        task_default_routing_key=tasks.EVALUATION_QUEUE,
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        # An event is acknowledged only once handled; a worker killed mid-task gets it redelivered.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        # Quorum queues refuse a global prefetch limit: Celery sees them and sets it per consumer.
        worker_detect_quorum_queues=True,
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


def is_rabbitmq(settings: config.Settings) -> bool:
    return settings.broker_url.startswith(AMQP_SCHEMES)


def exchange_type(settings: config.Settings) -> str:
    # Celery delays a countdown on quorum queues inside RabbitMQ (native delayed delivery), which
    # routes through topic exchanges only; Redis emulates exchanges and keeps direct ones.
    return "topic" if is_rabbitmq(settings) else "direct"


def queues(settings: config.Settings) -> list[Queue]:
    """One queue per service; on RabbitMQ, quorum queues (replicated, and a message held by a worker
    that dies is redelivered at once). See docs/OPERATIONS.md, "RabbitMQ as the broker"."""
    arguments = {"x-queue-type": "quorum"} if is_rabbitmq(settings) else None
    return [
        Queue(name, Exchange(name, type=exchange_type(settings)), routing_key=name, queue_arguments=arguments)
        for name in tasks.QUEUES
    ]


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
    elif is_rabbitmq(settings):
        options = {"confirm_publish": True}
    return options
