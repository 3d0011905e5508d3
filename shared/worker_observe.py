"""What every Celery worker reports: JSON logs carrying the request id, task metrics, `/metrics`.

A worker module calls `prepare(service)` before anything else (prometheus-client must see its
multiprocess folder at import), then `instrument(service, gauges)`. The worker's main process
serves `/metrics` on METRICS_HOST:METRICS_PORT (0: any free port, written to the log) with the
sum over its pool processes and the database gauges this service owns.
"""

from __future__ import annotations

import logging
import os
import time
from contextvars import Token
from typing import Any

from celery import signals

from shared import config, logs, metrics

log = logging.getLogger("pilotwatch.tasks")
_started: dict[str, tuple[float, Token[str]]] = {}


def prepare(service: str) -> None:
    """Metrics folder of this worker instance (fresh: the pool's processes are its children)."""
    metrics.prepare(service, os.getpid(), fresh=True)


def request_id_of(args: Any) -> str:
    """Every event carries the request id that caused it (empty for scheduled work)."""
    if args and isinstance(args[0], dict):
        return str(args[0].get("request_id") or "")
    return ""


def on_prerun(task_id: str, task: Any, args: Any = None, **_: Any) -> None:
    token = logs.set_request_id(request_id_of(args))
    _started[task_id] = (time.perf_counter(), token)
    log.info("task started: %s", task.name, extra={"task": task.name, "task_id": task_id})


def on_postrun(task_id: str, task: Any, state: str | None = None, **_: Any) -> None:
    from shared import task_metrics

    began, token = _started.pop(task_id, (time.perf_counter(), None))
    elapsed = time.perf_counter() - began
    task_metrics.DURATION.labels(task.name).observe(elapsed)
    task_metrics.TASKS.labels(task.name, (state or "unknown").lower()).inc()
    log.info(
        "task finished: %s %s in %.3fs",
        task.name,
        state,
        elapsed,
        extra={"task": task.name, "task_id": task_id, "state": state, "duration": round(elapsed, 4)},
    )
    if token is not None:
        logs.reset_request_id(token)


def on_failure(sender: Any = None, exception: BaseException | None = None, **_: Any) -> None:
    from shared import task_metrics

    name = getattr(sender, "name", "unknown")
    task_metrics.FAILURES.labels(name, type(exception).__name__).inc()


def on_retry(sender: Any = None, reason: Any = None, **_: Any) -> None:
    from shared import task_metrics

    task_metrics.RETRIES.labels(getattr(sender, "name", "unknown")).inc()


def serve_metrics(service: str, gauges: tuple[str, ...]) -> None:
    from prometheus_client import start_http_server

    settings = config.current()
    server, _thread = start_http_server(
        settings.metrics_port,
        settings.metrics_host,
        registry=metrics.registry(metrics.DatabaseGauges(*gauges)),
    )
    log.info(
        "metrics of %s on http://%s:%d/metrics",
        service,
        settings.metrics_host,
        server.server_port,
        extra={"metrics_port": server.server_port},
    )


def configure_logging(service: str, settings: config.Settings) -> None:
    logs.configure(service, settings.log_level, settings.log_format)
    logs.quiet_celery_chatter()


def instrument(service: str, gauges: tuple[str, ...]) -> None:
    settings = config.current()
    handlers: list[tuple[Any, Any]] = [
        # A receiver of setup_logging replaces Celery's own logging set-up with ours.
        (signals.setup_logging, lambda **_: configure_logging(service, settings)),
        (signals.task_prerun, on_prerun),
        (signals.task_postrun, on_postrun),
        (signals.task_failure, on_failure),
        (signals.task_retry, on_retry),
        # In the main process before the pool and the consumer start: served from worker_ready,
        # the server kept a worker from restoring messages that a killed worker had reserved.
        (
            signals.worker_init,
            lambda **_: (configure_logging(service, settings), serve_metrics(service, gauges)),
        ),
        (signals.worker_process_shutdown, lambda pid=None, **_: metrics.process_ended(pid or os.getpid())),
    ]
    for signal, handler in handlers:
        signal.connect(handler, weak=False)
