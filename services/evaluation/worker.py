"""The evaluation worker: `celery -A services.evaluation.worker worker -Q evaluation`."""

from shared import config, worker_observe

config.current_or_exit()

worker_observe.prepare("evaluation")  # before prometheus-client is imported anywhere in this process

from shared.celery_app import make_celery  # noqa: E402

app = make_celery("evaluation")
worker_observe.instrument("evaluation", ("outbox_backlog", "open_findings"))

from services.evaluation import tasks  # noqa: E402,F401  (registers the tasks on this app)
