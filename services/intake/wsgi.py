"""The WSGI entry point: `gunicorn services.intake.wsgi:app`."""

import os

from shared import config, metrics

config.current_or_exit()

# gunicorn imports this in each of its worker processes: they share one metrics folder, named
# after the master, so that any of them answers /metrics with the sum over all of them.
metrics.prepare("intake", os.getppid())

from services.intake.app import create_app, settled  # noqa: E402

app = settled(create_app())
