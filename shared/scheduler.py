"""The scheduler (celery beat): `celery -A shared.scheduler beat`. It only sends tasks by name."""

from shared import config, tasks
from shared.celery_app import make_celery

config.current_or_exit()

app = make_celery("scheduler")
app.conf.beat_schedule = {
    "check-timeliness": {
        "task": tasks.CHECK_TIMELINESS,
        "schedule": config.current().timeliness_interval,
        "options": {"expires": 60},
    },
    "check-outliers": {
        "task": tasks.CHECK_OUTLIERS,
        "schedule": config.current().outlier_interval,
        "options": {"expires": 600},
    },
    "relay-outbox": {
        "task": tasks.RELAY_OUTBOX,
        "schedule": config.current().outbox_relay_interval,
        "options": {"expires": 30},
    },
    "flush-alerts": {
        "task": tasks.FLUSH_ALERTS,
        "schedule": config.current().alert_flush_interval,
        "options": {"expires": 30},
    },
}
