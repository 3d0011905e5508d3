"""The Celery settings docs/CELERY.md describes, as the app factory applies them."""

from __future__ import annotations

import pytest

from shared import config
from shared.celery_app import make_celery
from shared.redelivery import CappedTask


def test_it_acknowledges_late_rejects_lost_work_and_prefetches_one() -> None:
    app = make_celery("test", config.load({"BROKER_VISIBILITY_TIMEOUT": "600"}))
    assert app.conf.task_acks_late and app.conf.task_reject_on_worker_lost
    assert app.conf.worker_prefetch_multiplier == 1
    assert app.conf.broker_transport_options["visibility_timeout"] == 600
    assert app.conf.broker_connection_retry_on_startup and app.conf.broker_connection_timeout == 2
    assert issubclass(app.Task, CappedTask)


@pytest.mark.parametrize(
    "env",
    [
        {"BROKER_VISIBILITY_TIMEOUT": "10"},  # shorter than an evaluation retry
        {
            "BROKER_VISIBILITY_TIMEOUT": "60",
            "GROUP_WAIT": "120",
        },  # shorter than the flush after the group wait
        {
            "BROKER_VISIBILITY_TIMEOUT": "100",
            "DELIVERY_BACKOFF": "10",
            "DELIVERY_MAX_ATTEMPTS": "5",
        },  # last retry 100 s
    ],
)
def test_it_refuses_a_visibility_timeout_shorter_than_the_longest_countdown(env: dict[str, str]) -> None:
    with pytest.raises(config.ConfigError, match="BROKER_VISIBILITY_TIMEOUT must be longer"):
        config.load(env)


def test_it_refuses_a_cap_on_redeliveries_below_one() -> None:
    with pytest.raises(config.ConfigError, match="MAX_REDELIVERIES"):
        config.load({"MAX_REDELIVERIES": "0"})
