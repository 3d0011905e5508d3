"""Images from any registry: every image of the compose file comes from a variable with a pinned
default, and the Dockerfile takes its base image and package index as build arguments."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.ops.test_compose import (
    BUILD_VARIABLES,
    COMPOSE_FILE,
    DOCKERFILE,
    ENV_EXAMPLE,
    IMAGE_VARIABLES,
    ROOT,
    compose_program,
)

_IMAGE = re.compile(r"^\$\{(?P<name>[A-Z_]+_IMAGE):-(?P<default>[^}]+)\}$")
ELSEWHERE = {
    "PILOTWATCH_IMAGE": "harbor.example.gov.cn/pilotwatch/pilotwatch:0.1.0",
    "REDIS_IMAGE": "harbor.example.gov.cn/library/redis:7-alpine",
    "POSTGRES_IMAGE": "harbor.example.gov.cn/library/postgres:16-alpine",
    "MAILPIT_IMAGE": "docker.m.example.cn/axllent/mailpit:v1.31.4",
    "FLOWER_IMAGE": "docker.m.example.cn/mher/flower:2.0",
    "CELERY_EXPORTER_IMAGE": "docker.m.example.cn/danihodovic/celery-exporter:0.12.2",
}


@pytest.fixture(scope="module")
def services() -> dict[str, dict[str, Any]]:
    with COMPOSE_FILE.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)["services"]


def image_defaults(services: dict[str, dict[str, Any]]) -> dict[str, str]:
    """Each image variable and its default, as the compose file writes them."""
    found: dict[str, str] = {}
    for name, service in services.items():
        match = _IMAGE.match(service["image"])
        assert match, f"{name}'s image is not ${{SOMETHING_IMAGE:-default}}: {service['image']!r}"
        assert name in IMAGE_VARIABLES[match["name"]], f"{name} takes its image from {match['name']}"
        assert found.setdefault(match["name"], match["default"]) == match["default"], match["name"]
    return found


def test_it_takes_every_image_from_a_variable_with_a_pinned_default(
    services: dict[str, dict[str, Any]],
) -> None:
    defaults = image_defaults(services)
    assert set(defaults) == set(IMAGE_VARIABLES)
    for variable, image in defaults.items():
        name, _, tag = image.rpartition(":")
        assert name and "/" not in tag, f"{variable}'s default {image!r} has no tag"
        assert tag != "latest", f"{variable}'s default {image!r} is not pinned"


def test_it_tags_the_pilotwatch_image_with_the_projects_version(
    services: dict[str, dict[str, Any]],
) -> None:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["version"]
    assert image_defaults(services)["PILOTWATCH_IMAGE"] == f"pilotwatch:{version}"


def test_it_names_each_images_default_in_env_example(services: dict[str, dict[str, Any]]) -> None:
    lines = ENV_EXAMPLE.read_text("utf-8").splitlines()
    for variable, image in image_defaults(services).items():
        index = lines.index(f"{variable}=")  # empty: the compose file's default applies
        assert f"(default {image})" in lines[index - 1], f"the comment above {variable}= lacks {image}"


def test_it_passes_the_base_image_and_package_index_to_the_build(
    services: dict[str, dict[str, Any]],
) -> None:
    args = services["intake"]["build"]["args"]
    assert args == {
        "BASE_IMAGE": "${BASE_IMAGE:-python:3.11-slim}",
        "PIP_INDEX_URL": "${PIP_INDEX_URL:-https://pypi.org/simple}",
        "PIP_TRUSTED_HOST": "${PIP_TRUSTED_HOST:-}",
    }
    text = DOCKERFILE.read_text("utf-8")
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]
    start = lines.index("FROM ${BASE_IMAGE}")
    assert "ARG BASE_IMAGE=python:3.11-slim" in lines[:start]
    # Declared after FROM, so the RUN lines see them; as ARG, never ENV, so the image does not keep them.
    assert "ARG PIP_INDEX_URL=https://pypi.org/simple" in lines[start:]
    assert "ARG PIP_TRUSTED_HOST=" in lines[start:]
    assert not re.search(r"^ENV\b.*\bPIP_(INDEX_URL|TRUSTED_HOST)", text, re.MULTILINE)
    assert lines.index("ARG PIP_INDEX_URL=https://pypi.org/simple") < lines.index(
        next(line for line in lines if line.startswith("RUN ") and "pip install" in line)
    )


def compose_config(folder: Path, environment: dict[str, str]) -> dict[str, Any]:
    program = compose_program()
    if program is None:
        pytest.skip("neither a docker-compose binary nor a working `docker compose` plugin is on PATH")
    ours = {*IMAGE_VARIABLES, *BUILD_VARIABLES}  # only what the test sets, never the caller's own
    env = {key: value for key, value in os.environ.items() if key not in ours}
    env.update(environment, SECRET_KEY="a-secret-for-checking-the-compose-file")
    result = subprocess.run(
        [*program, "--profile", "demo", "--profile", "monitoring", "config"],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)


def without_images(config: dict[str, Any], variables: set[str]) -> dict[str, Any]:
    """The configuration with each service's image removed, and the given variables from their environment."""
    services = {}
    for name, service in config["services"].items():
        service = {key: value for key, value in service.items() if key != "image"}
        if "environment" in service:
            service["environment"] = {
                key: value for key, value in service["environment"].items() if key not in variables
            }
        services[name] = service
    return {**config, "services": services}


@pytest.mark.parametrize("where", ["environment", "env-file"])
def test_it_shows_the_other_registrys_names_in_docker_compose_config_and_changes_nothing_else(
    tmp_path: Path, where: str
) -> None:
    shutil.copy(COMPOSE_FILE, tmp_path / "docker-compose.yml")
    shutil.copy(ENV_EXAMPLE, tmp_path / ".env")
    before = compose_config(tmp_path, {})
    if where == "environment":
        after = compose_config(tmp_path, ELSEWHERE)
    else:  # as an operator does: the names written into .env
        text = (tmp_path / ".env").read_text("utf-8")
        for variable, image in ELSEWHERE.items():
            text = text.replace(f"\n{variable}=\n", f"\n{variable}={image}\n")
        (tmp_path / ".env").write_text(text, "utf-8")
        after = compose_config(tmp_path, {})
    for variable, names in IMAGE_VARIABLES.items():
        for name in names:
            assert after["services"][name]["image"] == ELSEWHERE[variable], name
            assert before["services"][name]["image"] != ELSEWHERE[variable], name
    # The app services receive .env as their environment, so there the variables show up too.
    assert without_images(after, set(ELSEWHERE)) == without_images(before, set(ELSEWHERE))
    if where == "environment":
        assert without_images(after, set()) == without_images(before, set())
