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


def test_it_refuses_a_visibility_timeout_shorter_than_an_event_retry() -> None:
    with pytest.raises(config.ConfigError, match="BROKER_VISIBILITY_TIMEOUT must be longer"):
        config.load({"BROKER_VISIBILITY_TIMEOUT": "10"})


def test_it_refuses_a_visibility_timeout_shorter_than_the_prompt_flush() -> None:
    with pytest.raises(config.ConfigError, match="BROKER_VISIBILITY_TIMEOUT must be longer"):
        config.load({"BROKER_VISIBILITY_TIMEOUT": "12", "GROUP_WAIT": "12"})


def test_it_keeps_a_dying_worker_to_minutes_by_default() -> None:
    assert config.load({}).broker_visibility_timeout <= 300


@pytest.mark.parametrize(
    "env",
    [
        {"GROUP_WAIT": "600"},  # a long group wait: the periodic flush sends the group when due
        {"DELIVERY_BACKOFF": "60", "DELIVERY_MAX_ATTEMPTS": "8"},  # retries wait in the database
    ],
)
def test_it_holds_no_countdown_longer_than_a_short_visibility_timeout_whatever_the_timing(
    env: dict[str, str],
) -> None:
    settings = config.load({**env, "BROKER_VISIBILITY_TIMEOUT": "20"})  # refused before: 600.5 s, 800 s
    assert settings.longest_countdown < 20


def test_it_refuses_a_cap_on_redeliveries_below_one() -> None:
    with pytest.raises(config.ConfigError, match="MAX_REDELIVERIES"):
        config.load({"MAX_REDELIVERIES": "0"})
