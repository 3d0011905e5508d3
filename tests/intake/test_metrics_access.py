"""The intake's /metrics is not for anyone who can reach the web port: in production it needs the
METRICS_TOKEN bearer token (and without one set it answers no one)."""

from __future__ import annotations

from typing import Any

import pytest

from shared import config

TOKEN = "metrics-token-for-the-test"


def app_with(monkeypatch: pytest.MonkeyPatch, **values: str) -> Any:
    from services.intake.app import create_app

    for name, value in values.items():
        monkeypatch.setenv(name, value)
    config.reset()
    return create_app(test_config={"TESTING": True})


@pytest.mark.parametrize(
    "authorization", [None, "Bearer wrong-token", f"Basic {TOKEN}", "Bearer", f"Bearer {TOKEN}x"]
)
def test_it_refuses_a_scrape_without_the_token_in_production(
    seeded: dict[str, str], monkeypatch: pytest.MonkeyPatch, authorization: str | None
) -> None:
    client = app_with(monkeypatch, PILOTWATCH_ENV="production", METRICS_TOKEN=TOKEN).test_client()
    answer = client.get("/metrics", headers={"Authorization": authorization} if authorization else {})
    assert answer.status_code == 401 and "pilotwatch_" not in answer.get_data(as_text=True)


def test_it_answers_a_scrape_with_the_token(seeded: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    client = app_with(monkeypatch, PILOTWATCH_ENV="production", METRICS_TOKEN=TOKEN).test_client()
    answer = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200 and "pilotwatch_http_requests_total" in answer.get_data(as_text=True)


def test_it_answers_no_one_in_production_without_a_token_set(
    seeded: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    client = app_with(monkeypatch, PILOTWATCH_ENV="production").test_client()
    assert client.get("/metrics").status_code == 401


def test_it_stays_open_on_a_development_machine(
    seeded: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    client = app_with(monkeypatch, PILOTWATCH_ENV="development").test_client()
    assert client.get("/metrics").status_code == 200
