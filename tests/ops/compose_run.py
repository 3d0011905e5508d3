"""What the compose test keeps and reads besides the engine: the summary it prints, the mailbox
through Mailpit's API, the project folder an operator would prepare, and each service's state."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.ops.engine import Engine
from tests.ops.test_compose import COMPOSE_FILE, ENV_EXAMPLE

# --- what the run saw, for the closing summary --------------------------------------------------


@dataclass
class Log:
    timings: dict[str, float] = field(default_factory=dict)
    facts: dict[str, str] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)

    @contextmanager
    def timed(self, what: str) -> Iterator[None]:
        started = time.monotonic()
        try:
            yield
        finally:
            self.timings[what] = time.monotonic() - started

    def render(self) -> str:
        lines = ["", "===== compose stack on podman: summary ====="]
        lines += [f"{what}: {value}" for what, value in self.facts.items()]
        lines += [f"{seconds:7.1f} s  {what}" for what, seconds in self.timings.items()]
        lines.append(f"{time.monotonic() - self.started:7.1f} s  in all")
        return "\n".join(lines)


# --- the mailbox: Mailpit's API, served by Mailpit or by the stand-in image ------------------------


class Mailbox:
    def __init__(self, url: str):
        self.url = url

    def get(self, path: str) -> Any:
        with urllib.request.urlopen(self.url + path, timeout=5) as response:
            return json.loads(response.read())

    def messages(self) -> list[dict[str, str]]:
        """Every message, oldest first: its subject and plain text."""
        listing = self.get("/api/v1/messages?limit=500")["messages"]
        return [
            {"subject": full["Subject"], "text": full["Text"]}
            for full in (self.get(f"/api/v1/message/{m['ID']}") for m in reversed(listing))
        ]


def naming(messages: list[dict[str, str]], unit: str) -> int:
    return sum(1 for message in messages if unit in message["subject"] + message["text"])


# --- the project: its folder and its services' states --------------------------------------------


def project_folder(folder: Path, settings: dict[str, str]) -> Path:
    """The compose file beside a .env made from .env.example, as an operator prepares it."""
    project = folder / "project"
    project.mkdir()
    (project / "docker-compose.yml").write_bytes(COMPOSE_FILE.read_bytes())
    lines, left = [], dict(settings)
    for line in ENV_EXAMPLE.read_text("utf-8").splitlines():
        key = line.split("=", 1)[0]
        lines.append(f"{key}={left.pop(key)}" if "=" in line and key in left else line)
    lines += [f"{key}={value}" for key, value in left.items()]
    (project / ".env").write_text("\n".join(lines) + "\n", "utf-8")
    return project


def service_states(engine: Engine, project: str) -> dict[str, str]:
    """Each service's state as `docker compose ps` would sum it up: healthy, running, exited N."""
    states = {}
    for container in engine.containers(project):
        labels = container["Config"]["Labels"] or {}
        if labels.get("com.docker.compose.oneoff") == "True":
            continue
        state = container["State"]
        health = (state.get("Health") or state.get("Healthcheck") or {}).get("Status", "")
        if state["Status"] == "exited":
            states[labels["com.docker.compose.service"]] = f"exited {state['ExitCode']}"
        else:
            states[labels["com.docker.compose.service"]] = health or state["Status"]
    return states
