"""docker-compose.yml run for real: podman behind its Docker-compatible API, driven by docker-compose,
every image built here from Debian's packages. The test uses the stack as operators and districts
do: one-off `pilotwatch` commands, reports over HTTP, the alert in the mailbox, the evaluation
container killed mid-burst, a backup restored into fresh volumes, then `down -v`.

`make test-compose` runs it (it installs podman, docker-compose and debootstrap when missing);
`make test` skips it. It prints a summary of what it saw and how long each step took."""

from __future__ import annotations

import json
import os
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ops.redis_server import free_port
from shared.catalogue import Catalogue
from tests.ops.compose_run import Log, Mailbox, naming, project_folder, service_states
from tests.ops.engine import Compose, Engine, Unavailable, build_images, debian_base
from tests.support.processes import json_request, wait_until
from tests.support.reports import problem_report

pytestmark = [
    pytest.mark.compose,
    pytest.mark.skipif(
        os.environ.get("PILOTWATCH_COMPOSE_TEST") != "1",
        reason="runs the whole compose stack in podman: `make test-compose`",
    ),
]

PROJECT = "pilotwatch-ci"
GULOU = "350102"
CLERK = "clerk@gulou.example.gov.cn"
BURST = 16
PROBLEMS = {"fund_extraction", "proposals_adopted_within_submitted"}
RUNNING = {
    "redis": "healthy",
    "postgres": "healthy",
    "migrate": "exited 0",
    "intake": "healthy",
    "evaluation": "running",
    "notify": "running",
    "intake-worker": "running",
    "beat": "running",
    "mailpit": "running",
}
SETTINGS = {
    "PILOTWATCH_ENV": "production",
    "POSTGRES_PASSWORD": "compose-test",
    "SMTP_FROM": "pilotwatch@localhost",
    # The mail sink is a service of the compose network: an internal address production refuses
    # unless it is allowed by name.
    "CHANNEL_ALLOWED_INTERNAL": "mailpit",
    # Alerts within seconds, as in the fault tests.
    "GROUP_WAIT": "1",
    "GROUP_INTERVAL": "2",
    "ALERT_FLUSH_INTERVAL": "0.5",
    "DELIVERY_BACKOFF": "0.2",
    "OUTBOX_RELAY_INTERVAL": "0.5",
    "OUTBOX_RELAY_AGE": "1",
    # A message held by a killed worker comes back after 12 s rather than an hour.
    "BROKER_VISIBILITY_TIMEOUT": "12",
    "DELIVERY_STALE_AFTER": "3",
    "HTTP_TIMEOUT": "4",
    # No reminders or outlier alerts while the test counts messages.
    "TIMELINESS_INTERVAL": "3600",
    "OUTLIER_INTERVAL": "3600",
}
MAIL_CHANNEL = "mailto://mailpit:1025?smtp=mailpit&mode=insecure&from=pilotwatch@localhost&to=gulou@localhost"
HOLD = (
    "SET application_name = 'compose-test-hold'; BEGIN; "
    "LOCK TABLE evaluations IN EXCLUSIVE MODE; SELECT pg_sleep(300);"
)


# --- the stack --------------------------------------------------------------------------------------


@dataclass
class Stack:
    engine: Engine
    compose: Compose
    docker_host: str
    url: str
    mailbox: Mailbox
    folder: Path
    log: Log


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    folder = tmp_path_factory.mktemp("compose-stack")
    log = Log()
    engine = Engine(folder)
    try:
        with log.timed("Debian base (debootstrap | podman import, unless kept) and a first container"):
            try:
                base = debian_base(engine, folder)
                engine.check_runs(base)
            except (Unavailable, FileNotFoundError) as exc:
                pytest.skip(f"no container engine here: {exc}")
        with log.timed("podman's Docker-compatible API on a socket of the test"):
            docker_host = engine.serve()
        images = build_images(engine, base, folder, log.timings)
        port = free_port()
        settings = {
            **SETTINGS,
            **images,
            "SECRET_KEY": secrets.token_urlsafe(48),
            "INTAKE_PORT": f"127.0.0.1:{port}",  # loopback only
            "PUBLIC_URL": f"http://127.0.0.1:{port}",
            "MAILPIT_SMTP_PORT": str(free_port()),
            "MAILPIT_WEB_PORT": str(mail_port := free_port()),
        }
        compose = Compose(project_folder(folder, settings), PROJECT, docker_host, profiles="demo")
        compose("down", "-v", "--remove-orphans", check=False)  # what an interrupted run left
        engine.watch_health(PROJECT)
        running = Stack(
            engine,
            compose,
            docker_host,
            f"http://127.0.0.1:{port}",
            Mailbox(f"http://127.0.0.1:{mail_port}"),
            folder,
            log,
        )
        with log.timed("up -d until every health check passes"):
            compose("up", "-d", "--no-build", timeout=300)
            wait_until(
                lambda: service_states(engine, PROJECT) == RUNNING,
                180,
                "every service healthy or running",
                interval=1,
            )
        yield running
        compose("down", "-v", "--remove-orphans", check=False, timeout=120)
    finally:
        engine.stop()
        print(log.render())


@dataclass
class District:
    token: str
    round: str
    units: list[str]


@pytest.fixture(scope="module")
def district(stack: Stack) -> District:
    """The demo registry (no reports: the tests count what they send), a district clerk with an API token and the district's mail channel, each made
    by a one-off container of the app image."""
    with stack.log.timed("demo load, user and channel (three one-off containers)"):
        stack.compose.pilotwatch("demo", "load", "--registry-only")
        created = stack.compose.pilotwatch(
            "users", "create", "--role", "district", "--district", GULOU, "--email", CLERK, "--token"
        )
        assert f"created district user {CLERK}" in created, created
        token = created.strip().splitlines()[-1]
        added = stack.compose.pilotwatch("channels", "add", "--district", GULOU, MAIL_CHANNEL)
        assert added.startswith(f"channel added for {GULOU}"), added
    status, rounds = json_request("GET", stack.url + "/api/v1/rounds", token=token)
    assert status == 200, rounds
    status, units = json_request("GET", stack.url + "/api/v1/units", token=token)
    assert status == 200, units
    return District(
        token,
        next(r["code"] for r in rounds["items"] if r["status"] == "open"),
        [unit["credit_code"] for unit in units["items"]],
    )


def submit(stack: Stack, district: District, catalogue: Catalogue, unit: str) -> str:
    report = problem_report(catalogue, unit, district.round)
    status, body = json_request("POST", stack.url + "/api/v1/submissions", report, token=district.token)
    assert status == 202, body
    return str(body["id"])


def evaluation_of(stack: Stack, district: District, submission: str) -> dict[str, Any] | None:
    status, body = json_request("GET", f"{stack.url}/api/v1/submissions/{submission}", token=district.token)
    assert status == 200, body
    return body["evaluation"] if body["state"] == "evaluated" else None


def all_evaluated(stack: Stack, district: District, ids: list[str]) -> list[dict[str, Any]]:
    """The evaluations of every one of these submissions, or [] while one is still waiting."""
    found = [evaluation_of(stack, district, submission) for submission in ids]
    return [evaluation for evaluation in found if evaluation is not None] if all(found) else []


def settled(stack: Stack, units: list[str]) -> Callable[[], list[dict[str, str]]]:
    """Every unit named in the mailbox, and every delivery the database knows of delivered."""

    def check() -> list[dict[str, str]]:
        messages = stack.mailbox.messages()
        if not all(naming(messages, unit) for unit in units):
            return []
        pending = stack.compose.psql("SELECT count(*) FROM deliveries WHERE status <> 'delivered'")
        delivered = stack.compose.psql("SELECT count(*) FROM deliveries WHERE status = 'delivered'")
        return messages if pending == "0" and int(delivered) == len(messages) else []

    return check


# --- the tests, in the order an operator meets them -------------------------------------------------


def test_it_starts_every_service_from_the_configured_images(stack: Stack) -> None:
    states = service_states(stack.engine, PROJECT)
    assert states == RUNNING
    images = {
        container["Config"]["Labels"]["com.docker.compose.service"]: container["ImageName"]
        for container in stack.engine.containers(PROJECT)
    }
    assert all(image.startswith("localhost/pilotwatch-ci/") for image in images.values()), images
    stack.log.facts["services"] = ", ".join(f"{name} {state}" for name, state in sorted(states.items()))
    stack.log.facts["images"] = ", ".join(sorted(set(images.values())))
    status, body = json_request("GET", stack.url + "/readyz")
    assert status == 200 and body["status"] == "ready", body


def test_it_evaluates_a_report_and_mails_the_alert(
    stack: Stack, district: District, catalogue: Catalogue
) -> None:
    unit = district.units[0]
    started = time.monotonic()
    submission = submit(stack, district, catalogue, unit)
    evaluation = wait_until(lambda: evaluation_of(stack, district, submission), 60, "the evaluation", 0.25)
    stack.log.timings["a report: 202 until evaluated"] = time.monotonic() - started
    assert {finding["rule"] for finding in evaluation["findings"]} >= PROBLEMS
    messages = wait_until(settled(stack, [unit]), 60, "the alert in the mailbox", 0.5)
    stack.log.timings["a report: 202 until its alert is in the mailbox"] = time.monotonic() - started
    assert len(messages) == 1
    assert "职工教育经费" in messages[0]["text"] and "合理化建议采纳数" in messages[0]["text"]
    stack.log.facts["report"] = f"{submission} (unit {unit}, round {district.round})"
    stack.log.facts["alert subject"] = messages[0]["subject"]


def blocked_evaluations(stack: Stack) -> int:
    return int(
        stack.compose.psql(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE wait_event_type = 'Lock' AND query LIKE 'INSERT INTO evaluations%'"
        )
    )


@contextmanager
def evaluations_locked(stack: Stack) -> Iterator[None]:
    """Hold PostgreSQL's lock on the evaluations table: an evaluation waits at its INSERT, mid-task."""
    holder = stack.compose.background(
        "exec", "-T", "postgres", "psql", "-U", "pilotwatch", "-d", "pilotwatch", "-c", HOLD
    )
    try:
        wait_until(
            lambda: (
                stack.compose.psql(
                    "SELECT count(*) FROM pg_locks JOIN pg_class ON pg_class.oid = pg_locks.relation "
                    "WHERE relname = 'evaluations' AND mode = 'ExclusiveLock' AND granted"
                )
                == "1"
            ),
            30,
            "the lock on the evaluations table",
            0.5,
        )
        yield
    finally:
        stack.compose.psql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = 'compose-test-hold'"
        )
        holder.communicate(timeout=30)


def test_it_loses_and_doubles_nothing_when_the_evaluation_container_is_killed_mid_burst(
    stack: Stack, district: District, catalogue: Catalogue
) -> None:
    units = district.units[1 : 1 + BURST]
    ids: list[str] = []
    started = time.monotonic()
    with evaluations_locked(stack):
        for unit in units[: BURST // 2]:
            ids.append(submit(stack, district, catalogue, unit))
        held = wait_until(lambda: blocked_evaluations(stack), 30, "an evaluation waiting mid-task", 0.5)
        stack.compose("kill", "-s", "SIGKILL", "evaluation")
        for unit in units[BURST // 2 :]:  # the intake keeps accepting while evaluation is down
            ids.append(submit(stack, district, catalogue, unit))
    stack.compose("start", "evaluation")
    evaluations = wait_until(
        lambda: all_evaluated(stack, district, ids),
        180,
        f"all {BURST} reports evaluated after the restart",
        1,
    )
    stack.log.timings[f"burst of {BURST}, evaluation killed mid-task: until all evaluated"] = (
        time.monotonic() - started
    )
    for evaluation in evaluations:
        rules = [finding["rule"] for finding in evaluation["findings"]]
        assert set(rules) >= PROBLEMS and len(rules) == len(set(rules)), rules
    listed = ", ".join(f"'{i}'" for i in ids)
    assert stack.compose.psql(f"SELECT count(*) FROM evaluations WHERE submission_id IN ({listed})") == str(
        BURST
    )
    assert (
        stack.compose.psql(
            "SELECT count(*) FROM (SELECT unit_id, rule_code FROM findings WHERE active "
            "GROUP BY unit_id, rule_code HAVING count(*) > 1) AS doubled"
        )
        == "0"
    )
    messages = wait_until(settled(stack, units), 120, "every unit's alert in the mailbox", 1)
    stack.log.timings[f"burst of {BURST}: until every alert is in the mailbox"] = time.monotonic() - started
    for unit in units:
        assert naming(messages, unit) == 1, f"{unit} is named in {naming(messages, unit)} messages"
    alerts = [message for message in messages if any(unit in message["text"] for unit in units)]
    stack.log.facts["kill mid-burst"] = (
        f"evaluation SIGKILLed with {held} task(s) waiting at their INSERT and {BURST // 2} reports "
        f"still to come; {BURST} evaluated once each; each unit named in exactly one of {len(alerts)} "
        "alert mails"
    )


def test_it_restores_a_backup_into_fresh_volumes(stack: Stack, district: District) -> None:
    backups = stack.folder / "backups"
    backups.mkdir()
    backups.chmod(0o777)  # the image's user writes here
    drill = Compose(stack.compose.folder, f"{PROJECT}-drill", stack.docker_host)
    started = time.monotonic()
    said = stack.compose.pilotwatch("backup", "/backups/taken", volumes=(f"{backups}:/backups",))
    assert "backup written to /backups/taken" in said, said
    taken = json.loads((backups / "taken" / "manifest.json").read_text("utf-8"))
    assert taken["tables"]["submissions"] == 1 + BURST
    stack.engine.watch_health(drill.project)
    try:
        drill("up", "-d", "redis", "postgres")
        wait_until(
            lambda: (
                service_states(stack.engine, drill.project) == {"redis": "healthy", "postgres": "healthy"}
            ),
            120,
            "the drill's PostgreSQL and Redis",
            1,
        )
        assert not set(stack.engine.volumes(drill.project)) & set(stack.engine.volumes(PROJECT))
        said = drill.pilotwatch("restore", "/drill", volumes=(f"{backups}/taken:/drill:ro",))
        assert f"restored {sum(taken['tables'].values())} rows" in said, said
        drill.pilotwatch("backup", "/backups/again", volumes=(f"{backups}:/backups",))
    finally:
        drill("down", "-v", check=False)
    again = json.loads((backups / "again" / "manifest.json").read_text("utf-8"))
    assert again["tables"] == taken["tables"]
    assert again["schema_revision"] == taken["schema_revision"]
    for table in sorted((backups / "taken" / "tables").iterdir()):
        restored = backups / "again" / "tables" / table.name
        assert restored.read_bytes() == table.read_bytes(), f"{table.name} differs after the restore"
    stack.log.timings["backup, restore into fresh volumes, backup again"] = time.monotonic() - started
    stack.log.facts["backup"] = (
        f"{sum(taken['tables'].values())} rows in {len(taken['tables'])} tables, "
        "restored into a second project's fresh volumes, identical table by table"
    )


def test_it_removes_every_container_and_volume_with_down_v(stack: Stack) -> None:
    started = time.monotonic()
    stack.compose("down", "-v", timeout=120)
    stack.log.timings["down -v"] = time.monotonic() - started
    assert stack.engine.containers(PROJECT) == []
    assert stack.engine.volumes(PROJECT) == []
    assert stack.engine.containers(f"{PROJECT}-drill") == []
    assert stack.engine.volumes(f"{PROJECT}-drill") == []
