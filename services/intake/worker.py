"""The intake's own worker: `celery -A services.intake.worker worker -Q intake`.

It runs the long jobs a page asks for (the office's Word documents, uploaded report spreadsheets) so that
no request waits for them, keeps the dashboard's figures ready (services/intake/figures.py) and relays
the outbox events addressed to its queue.
"""

from shared import config, worker_observe

config.current_or_exit()

worker_observe.prepare("intake-worker")  # before prometheus-client is imported anywhere in this process

from shared.celery_app import make_celery  # noqa: E402

app = make_celery("intake-worker")
worker_observe.instrument("intake-worker", ())

from services.intake import tasks  # noqa: E402,F401  (registers the tasks on this app)
