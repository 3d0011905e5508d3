"""The notify worker: `celery -A services.notify.worker worker -Q notify`."""

from shared import config, worker_observe

config.current_or_exit()

worker_observe.prepare("notify")  # before prometheus-client is imported anywhere in this process

from shared.celery_app import make_celery  # noqa: E402

app = make_celery("notify")
worker_observe.instrument("notify", ("deliveries", "delivery_attempts", "dead_letters"))

from services.notify import tasks  # noqa: E402,F401  (registers the tasks on this app)
