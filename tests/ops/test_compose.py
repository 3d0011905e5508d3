"""The operators' files: docker-compose.yml (its structure, and each app service's command started
for real as a local process), the Dockerfile and .env.example."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from ops.redis_server import RedisServer, free_port
from shared import config

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
ENV_EXAMPLE = ROOT / ".env.example"
BIN = Path(sys.executable).parent

INFRASTRUCTURE = ("redis", "postgres", "mailpit", "flower", "celery-exporter")
APP_SERVICES = ("migrate", "intake", "intake-worker", "evaluation", "notify", "beat")
LONG_RUNNING = ("intake", "intake-worker", "evaluation", "notify", "beat")
WORKERS = ("intake-worker", "evaluation", "notify")
NO_PORTS = ("migrate", "intake-worker", "evaluation", "notify", "beat")
IMAGE_VARIABLES = {
    "PILOTWATCH_IMAGE": APP_SERVICES,
    "REDIS_IMAGE": ("redis",),
    "POSTGRES_IMAGE": ("postgres",),
    "MAILPIT_IMAGE": ("mailpit",),
    "FLOWER_IMAGE": ("flower",),
    "CELERY_EXPORTER_IMAGE": ("celery-exporter",),
}
BUILD_VARIABLES = ("BASE_IMAGE", "PIP_INDEX_URL", "PIP_TRUSTED_HOST")
COMPOSE_VARIABLES = (
    *IMAGE_VARIABLES,
    *BUILD_VARIABLES,
    "POSTGRES_PASSWORD",
    "INTAKE_PORT",
    "MAILPIT_SMTP_PORT",
    "MAILPIT_WEB_PORT",
    "FLOWER_USER",
    "FLOWER_PASSWORD",
    "FLOWER_PORT",
    "CELERY_EXPORTER_PORT",
)
INSTANCE = "/var/lib/pilotwatch"

START_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0
BEAT_ALIVE_FOR = 5.0

_VARIABLE = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")


# --- reading the compose file -------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    with COMPOSE_FILE.open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    assert isinstance(data, dict), "docker-compose.yml is not a mapping"
    return data


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


def with_defaults(text: str) -> str:
    """Interpolate like compose would with an empty environment: `${VAR:-default}` becomes `default`."""

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, operator, default = match.groups()
        if operator not in ("-", ":-"):
            raise AssertionError(f"${{{name}}} has no default in {text!r}")
        return default

    return _VARIABLE.sub(replace, text)


def command_of(service: dict[str, Any]) -> list[str]:
    """The service's command as argv, its program taken from this virtualenv."""
    command = service["command"]
    if isinstance(command, str):
        words = shlex.split(with_defaults(command))
    else:
        words = [with_defaults(str(word)) for word in command]
    program = BIN / words[0]
    assert program.exists(), f"{words[0]} is not installed in {BIN}"
    return [str(program), *words[1:]]


def replace_argument(argv: list[str], old: str, new: str) -> list[str]:
    assert old in argv, f"{old!r} is not in {argv}"
    return [new if word == old else word for word in argv]


def option_value(argv: list[str], option: str) -> str:
    assert option in argv, f"{option} is not in {argv}"
    return argv[argv.index(option) + 1]


def healthcheck_test(service: dict[str, Any]) -> str:
    test = service["healthcheck"]["test"]
    return " ".join(test) if isinstance(test, list) else str(test)


def config_variables() -> list[str]:
    """Every variable shared/config.py declares."""
    return list(config.variables().values())


# --- the compose file's structure ---------------------------------------------------------------


def test_it_defines_the_services(services: dict[str, dict[str, Any]]) -> None:
    assert set(services) == {*INFRASTRUCTURE, *APP_SERVICES}


def test_it_checks_the_health_of_redis_postgres_and_intake(services: dict[str, dict[str, Any]]) -> None:
    assert "redis-cli ping" in healthcheck_test(services["redis"])
    assert "pg_isready" in healthcheck_test(services["postgres"])
    assert "/readyz" in healthcheck_test(services["intake"])
    for name in NO_PORTS:  # the image's check probes the intake's port, which these don't serve
        assert services[name]["healthcheck"] == {"disable": True}, name


def test_it_writes_health_checks_that_podman_runs_unchanged(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        test = service.get("healthcheck", {}).get("test")
        if isinstance(test, list) and test[0] == "CMD":  # podman's Docker API re-splits these at spaces
            assert not any(" " in str(word) for word in test), f"{name}: use CMD-SHELL for {test}"


def test_it_starts_app_services_once_their_dependencies_are_ready(
    services: dict[str, dict[str, Any]],
) -> None:
    assert services["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert services["migrate"]["restart"] == "no"
    for name in LONG_RUNNING:
        assert services[name]["depends_on"] == {
            "redis": {"condition": "service_healthy"},
            "postgres": {"condition": "service_healthy"},
            "migrate": {"condition": "service_completed_successfully"},
        }, name
        assert services[name]["restart"] == "unless-stopped", name


def test_it_shares_one_image_and_the_settings_between_app_services(
    services: dict[str, dict[str, Any]],
) -> None:
    images = {services[name]["image"] for name in APP_SERVICES}
    assert len(images) == 1
    for name in APP_SERVICES:
        service = services[name]
        assert service["build"]["context"] == "."
        assert set(service["build"]["args"]) == set(BUILD_VARIABLES)
        assert service["env_file"] == ".env"
        environment = service["environment"]
        assert environment["DATABASE_URL"].startswith("postgresql://pilotwatch:")
        assert environment["DATABASE_URL"].endswith("@postgres:5432/pilotwatch")
        assert environment["REDIS_URL"] == "redis://redis:6379/0"
        assert environment["SECRET_KEY"].startswith("${SECRET_KEY:?")
        assert environment["PILOTWATCH_ENV"] == "${PILOTWATCH_ENV:-production}"
        assert {"PUBLIC_URL", "SMTP_FROM"} <= set(environment)
        assert any(str(volume).endswith(f":{INSTANCE}") for volume in service["volumes"]), name


def test_it_lets_workers_scale(compose: dict[str, Any], services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        assert "container_name" not in service, name
    for name in NO_PORTS:
        assert "ports" not in services[name], name
    assert services["intake"]["ports"] == ["${INTAKE_PORT:-8000}:8000"]


def test_it_keeps_redis_append_only_without_eviction(services: dict[str, dict[str, Any]]) -> None:
    redis = services["redis"]
    command = redis["command"]
    words = shlex.split(command) if isinstance(command, str) else [str(word) for word in command]
    assert option_value(words, "--appendonly") == "yes"
    assert option_value(words, "--maxmemory-policy") == "noeviction"
    assert with_defaults(redis["image"]) == "redis:7-alpine"
    assert any(str(volume).endswith(":/data") for volume in redis["volumes"])


def test_it_keeps_mailpit_for_the_demo_only(services: dict[str, dict[str, Any]]) -> None:
    mailpit = services["mailpit"]
    assert with_defaults(mailpit["image"]).startswith("axllent/mailpit:")
    assert mailpit["profiles"] == ["demo"]
    assert {str(port).rsplit(":", 1)[-1] for port in mailpit["ports"]} == {"1025", "8025"}
    for name in (*APP_SERVICES, "redis", "postgres"):
        assert "profiles" not in services[name], name


def compose_program() -> list[str] | None:
    found = shutil.which("docker-compose")
    if found:
        return [found]
    docker = shutil.which("docker")
    if docker:
        probe = subprocess.run([docker, "compose", "version"], capture_output=True, timeout=30)
        if probe.returncode == 0:
            return [docker, "compose"]
    return None


def test_it_passes_docker_compose_config(tmp_path: Path) -> None:
    program = compose_program()
    if program is None:
        pytest.skip("neither a docker-compose binary nor a working `docker compose` plugin is on PATH")
    # As an operator does: the compose file beside a .env copied from .env.example.
    shutil.copy(COMPOSE_FILE, tmp_path / "docker-compose.yml")
    shutil.copy(ROOT / ".env.example", tmp_path / ".env")
    env = {**os.environ, "SECRET_KEY": "a-secret-for-checking-the-compose-file"}
    result = subprocess.run(
        [*program, "-f", str(tmp_path / "docker-compose.yml"), "config", "-q"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


# --- each app service's command, run as a local process -----------------------------------------


@dataclass
class Process:
    name: str
    argv: list[str]
    popen: subprocess.Popen[bytes]
    log: Path
    started: float = field(default_factory=time.monotonic)

    def output(self) -> str:
        return self.log.read_text("utf-8", errors="replace") if self.log.exists() else ""

    def describe(self) -> str:
        state = "running" if self.popen.poll() is None else f"exited with {self.popen.returncode}"
        return f"{self.name} ({state}): {shlex.join(self.argv)}\n--- output ---\n{self.output()[-6000:]}"


@dataclass
class LocalStack:
    folder: Path
    database: Path
    intake_port: int
    migrate: subprocess.CompletedProcess[str]
    processes: dict[str, Process]

    def process(self, name: str) -> Process:
        if self.migrate.returncode != 0:
            pytest.fail(
                f"migrate failed, so {name} was not started:\n{self.migrate.stdout}{self.migrate.stderr}"
            )
        return self.processes[name]


def start(name: str, argv: list[str], env: dict[str, str], folder: Path) -> Process:
    log = folder / f"{name}.log"
    with log.open("wb") as handle:  # the child keeps its own copy of the descriptor
        popen = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Process(name, argv, popen, log)


def kill_group(popen: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    try:
        os.killpg(popen.pid, sig)  # the process was started in its own session: group id == its pid
    except (ProcessLookupError, PermissionError):
        pass


def stop(processes: Iterable[Process]) -> None:
    """SIGTERM to each main process, then SIGKILL to whatever of its group is left."""
    processes = list(processes)
    for process in processes:
        if process.popen.poll() is None:
            process.popen.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    for process in processes:
        try:
            process.popen.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            pass
        kill_group(process.popen, signal.SIGKILL)
        if process.popen.poll() is None:
            process.popen.wait(timeout=STOP_TIMEOUT)


def wait_for(condition: Callable[[], bool], process: Process, timeout: float = START_TIMEOUT) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        if process.popen.poll() is not None:
            return condition()
        time.sleep(0.25)
    return condition()


def local_environment(folder: Path, redis_url: str, database: Path) -> dict[str, str]:
    """This process's environment without any Pilotwatch setting, then the test's own."""
    settings = set(config_variables())
    env = {key: value for key, value in os.environ.items() if key not in settings}
    env.update(
        DATABASE_URL=f"sqlite:///{database}",
        REDIS_URL=redis_url,
        PILOTWATCH_ENV="development",
        PILOTWATCH_INSTANCE=str(folder / "instance"),
        SECRET_KEY="ops-test-secret",
        PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        PYTHONUNBUFFERED="1",
    )
    return env


@pytest.fixture(scope="module")
def local_stack(
    services: dict[str, dict[str, Any]], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LocalStack]:
    """migrate, then intake, both workers and beat at once, as compose would start them."""
    folder = tmp_path_factory.mktemp("compose-stack")
    database = folder / "pilotwatch.db"
    port = free_port()
    redis = RedisServer().start()
    processes: dict[str, Process] = {}
    try:
        env = local_environment(folder, redis.url, database)
        migrate = subprocess.run(
            command_of(services["migrate"]),
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if migrate.returncode == 0:
            commands = {name: command_of(services[name]) for name in LONG_RUNNING}
            commands["intake"] = replace_argument(commands["intake"], "0.0.0.0:8000", f"127.0.0.1:{port}")
            # compose's beat keeps its schedule in the container's /tmp; here, in this test's folder.
            schedule = option_value(commands["beat"], "-s")
            commands["beat"] = replace_argument(
                commands["beat"], schedule, str(folder / "celerybeat-schedule")
            )
            for name, argv in commands.items():
                processes[name] = start(name, argv, env, folder)
        yield LocalStack(folder, database, port, migrate, processes)
    finally:
        stop(processes.values())
        redis.stop()


def test_it_migrates_the_database(local_stack: LocalStack) -> None:
    migrate = local_stack.migrate
    assert migrate.returncode == 0, f"{migrate.stdout}{migrate.stderr}"
    with sqlite3.connect(local_stack.database) as connection:
        versions = connection.execute("SELECT version_num FROM alembic_version").fetchall()
    assert len(versions) == 1


def test_it_serves_readyz_from_the_intake(local_stack: LocalStack) -> None:
    intake = local_stack.process("intake")
    url = f"http://127.0.0.1:{local_stack.intake_port}/readyz"
    answer: dict[str, Any] = {}

    def ready() -> bool:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                answer.update(status=response.status, body=json.loads(response.read()))
                return True
        except (OSError, urllib.error.URLError, ValueError):
            return False

    assert wait_for(ready, intake), f"no 200 from {url}\n{intake.describe()}"
    assert answer["status"] == 200
    assert answer["body"]["status"] == "ready", answer["body"]


@pytest.mark.parametrize("name", WORKERS)
def test_it_starts_the_worker(local_stack: LocalStack, name: str) -> None:
    worker = local_stack.process(name)
    assert wait_for(lambda: "ready." in worker.output(), worker), (
        f"{name} never said ready.\n{worker.describe()}"
    )
    assert worker.popen.poll() is None, worker.describe()


def test_it_keeps_beat_running_without_a_traceback(local_stack: LocalStack) -> None:
    beat = local_stack.process("beat")
    remaining = BEAT_ALIVE_FOR - (time.monotonic() - beat.started)
    wait_for(lambda: False, beat, timeout=max(remaining, 0))
    assert beat.popen.poll() is None, beat.describe()
    assert "Traceback" not in beat.output(), beat.describe()


# --- the Dockerfile and .env.example ------------------------------------------------------------


def test_it_builds_one_non_root_image_with_a_health_check() -> None:
    text = DOCKERFILE.read_text("utf-8")
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    assert lines[:2] == ["ARG BASE_IMAGE=python:3.11-slim", "FROM ${BASE_IMAGE}"]
    assert "USER pilotwatch" in lines
    assert "WORKDIR /app" in lines
    assert f"PILOTWATCH_INSTANCE={INSTANCE}" in text
    assert text.index("pip install -c requirements.lock .") < text.index("COPY shared")
    healthcheck = text[text.index("HEALTHCHECK") :]
    assert "http://127.0.0.1:8000/healthz" in healthcheck.split("CMD [", 2)[1]
    command = text[text.rindex("\nCMD ") :]
    assert "gunicorn" in command and "services.intake.wsgi:app" in command
    assert not re.search(r"\b(curl|wget|apt-get|apk)\b", text), "the build may only download PyPI packages"


def test_it_documents_every_setting_in_env_example() -> None:
    lines = ENV_EXAMPLE.read_text("utf-8").splitlines()
    documented: dict[str, str] = {}
    for index, line in enumerate(lines):
        match = re.match(r"([A-Z][A-Z0-9_]*)=", line)
        if match:
            comment = lines[index - 1] if index else ""
            documented[match.group(1)] = comment
    expected = [*config_variables(), *COMPOSE_VARIABLES]
    assert len(config_variables()) >= 20
    missing = [name for name in expected if name not in documented]
    assert not missing, f".env.example lacks {missing}"
    uncommented = [name for name in expected if not re.match(r"# \S", documented[name])]
    assert not uncommented, f"these lines of .env.example have no comment above them: {uncommented}"
