"""The compose file's `monitoring` profile: Flower behind basic authentication, a Celery exporter,
and the workers' own /metrics kept inside each container."""

from __future__ import annotations

import os
import subprocess
from typing import Any

import pytest
import yaml

from tests.ops.test_compose import COMPOSE_FILE, WORKERS, with_defaults

MONITORING = ("flower", "celery-exporter")


@pytest.fixture(scope="module")
def services() -> dict[str, dict[str, Any]]:
    with COMPOSE_FILE.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)["services"]


def test_it_keeps_flower_and_the_exporter_in_the_monitoring_profile(
    services: dict[str, dict[str, Any]],
) -> None:
    for name in MONITORING:
        service = services[name]
        assert service["profiles"] == ["monitoring"], name
        assert service["depends_on"] == {"redis": {"condition": "service_healthy"}}, name
        assert all(str(port).startswith("127.0.0.1:") for port in service["ports"]), name
        assert "container_name" not in service and "env_file" not in service, name
    assert with_defaults(services["flower"]["image"]).startswith("mher/flower:")
    assert with_defaults(services["celery-exporter"]["image"]).startswith("danihodovic/celery-exporter:")
    assert services["celery-exporter"]["environment"]["CE_BROKER_URL"] == "redis://redis:6379/0"


def test_it_takes_flowers_credentials_from_the_env_file(services: dict[str, dict[str, Any]]) -> None:
    flower = services["flower"]
    assert flower["environment"]["FLOWER_USER"] == "${FLOWER_USER:-admin}"
    assert flower["environment"]["FLOWER_PASSWORD"] == "${FLOWER_PASSWORD:-}"
    script = flower["command"][-1]
    assert '--basic-auth="$${FLOWER_USER}:$${FLOWER_PASSWORD}"' in script


def flower_guard(services: dict[str, dict[str, Any]], password: str) -> subprocess.CompletedProcess[str]:
    """Flower's command as its container's shell runs it, with `$$` unescaped as compose does."""
    argv = [word.replace("$$", "$") for word in services["flower"]["command"]]
    assert argv[:2] == ["sh", "-c"]
    env = {"PATH": os.environ.get("PATH", ""), "FLOWER_USER": "admin", "FLOWER_PASSWORD": password}
    return subprocess.run(["/bin/sh", "-c", argv[2]], env=env, capture_output=True, text=True, timeout=30)


def test_it_refuses_to_start_flower_without_a_password(services: dict[str, dict[str, Any]]) -> None:
    result = flower_guard(services, "")
    assert result.returncode == 78
    assert "set FLOWER_PASSWORD in .env" in result.stderr


def test_it_keeps_worker_metrics_inside_each_container(services: dict[str, dict[str, Any]]) -> None:
    for name in WORKERS:
        environment = services[name]["environment"]
        assert environment["METRICS_HOST"] == "0.0.0.0"
        assert environment["METRICS_PORT"] == "9100"
        # Not the shared volume: replicas' processes share pids and would write the same files.
        assert environment["METRICS_DIR"].startswith("/tmp/")
        assert "ports" not in services[name]
