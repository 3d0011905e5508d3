"""The scheduler (celery beat): `celery -A shared.scheduler beat`. It only sends tasks by name."""

from shared import config, tasks
from shared.celery_app import make_celery

settings = config.current_or_exit()


def every(seconds: float, task: str, expires: float) -> dict[str, object]:
    return {"task": task, "schedule": seconds, "options": {"expires": expires}}


app = make_celery("scheduler")
app.conf.beat_schedule = {
    "check-timeliness": every(settings.timeliness_interval, tasks.CHECK_TIMELINESS, 60),
    "check-outliers": every(settings.outlier_interval, tasks.CHECK_OUTLIERS, 600),
    "flush-alerts": every(settings.alert_flush_interval, tasks.FLUSH_ALERTS, 30),
    "keep-figures": every(settings.figures_interval, tasks.KEEP_FIGURES, settings.figures_interval),
    **{
        f"relay-outbox-{queue}": every(settings.outbox_relay_interval, task, 30)
        for queue, task in tasks.RELAY_OUTBOX.items()
    },
}
