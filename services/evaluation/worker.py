"""The evaluation worker: `celery -A services.evaluation.worker worker -Q evaluation`."""

from celery.signals import after_setup_logger

from shared.celery_app import make_celery
from shared.logs import quiet_celery_chatter

app = make_celery("evaluation")
after_setup_logger.connect(lambda **_: quiet_celery_chatter(), weak=False)

from services.evaluation import tasks  # noqa: E402,F401  (registers the tasks on this app)
