"""The services as real processes for end-to-end tests: intake on gunicorn, the evaluation, notify and
intake workers ("intake-worker"), the scheduler."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from ops import commands
from ops.redis_server import free_port

ROOT = Path(__file__).resolve().parents[2]
T = TypeVar("T")


def wait_until(predicate: Callable[[], T], timeout: float, what: str, interval: float = 0.1) -> T:
    """Poll until `predicate` returns something truthy; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


class Service:
    def __init__(self, name: str, command: list[str], env: dict[str, str], folder: Path):
        self.name = name
        self.log_path = folder / f"{name}.log"
        self.log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            command, env=env, cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def output(self) -> str:
        if not self.log.closed:
            self.log.flush()
        return self.log_path.read_text(errors="replace")

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Signal the whole process group (a Celery worker's pool children included)."""
        try:
            os.killpg(self.process.pid, sig)
        except ProcessLookupError:
            pass

    def kill_main(self) -> None:
        """SIGKILL the main process alone, as the OOM killer or `kill -9 PID` would; wait until every
        process of its group is gone (a Celery pool child dies with its parent)."""
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()

        def group_gone() -> bool:
            try:
                os.killpg(self.process.pid, 0)
            except ProcessLookupError:
                return True
            return False

        wait_until(group_gone, 15, f"every process of {self.name} to be gone")

    def stop(self) -> None:
        if self.alive():
            self.kill(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill(signal.SIGKILL)
                self.process.wait()
        self.kill(signal.SIGKILL)  # pool children left behind by a killed parent
        self.log.close()


class Stack:
    """Start any of intake, intake-worker, evaluation, notify and beat against the given database and Redis."""

    def __init__(self, env: dict[str, str], folder: Path):
        self.env = dict(env)
        self.folder = folder
        self.services: dict[str, Service] = {}
        self.kinds: dict[str, str] = {}
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._count = 0

    def start(self, *names: str) -> Stack:
        for name in names:
            self._count += 1
            command = self.command(name)
            key = name if name not in self.services else f"{name}-{self._count}"
            self.services[key] = Service(key, command, self.env, self.folder)
            self.kinds[key] = name
        for key in list(self.services)[-len(names) :]:
            self.wait_ready(key)
        return self

    def command(self, name: str) -> list[str]:
        """The same command lines `pilotwatch up` runs (ops/commands.py), on this stack's ports."""
        if name == "intake":
            return commands.intake(f"127.0.0.1:{self.port}", 2, access_log=False)
        if name == "beat":
            return commands.scheduler(self.folder / "beat-schedule", level="INFO")
        if name == "intake-worker":
            return commands.worker("intake", 1, node=f"intake-{self._count}@%h")
        return commands.worker(name, 1, node=f"{name}-{self._count}@%h")

    def wait_ready(self, key: str, timeout: float = 60) -> None:
        service = self.services[key]

        def ready() -> bool:
            if not service.alive():
                raise AssertionError(f"{key} exited:\n{service.output()[-3000:]}")
            if self.kinds[key] == "intake":
                try:
                    return urllib.request.urlopen(self.url + "/healthz", timeout=1).status == 200
                except OSError:
                    return False
            if self.kinds[key] == "beat":
                return "beat: Starting" in service.output()
            return " ready." in service.output()

        wait_until(ready, timeout, f"{key} to be ready")

    def restart(self, key: str) -> None:
        name = self.kinds.pop(key)
        self.services.pop(key).stop()
        self.start(name)

    def logs(self) -> str:
        return "\n".join(f"===== {k} =====\n{s.output()[-4000:]}" for k, s in self.services.items())

    def stop(self) -> None:
        for service in self.services.values():
            service.stop()


def json_request(
    method: str,
    url: str,
    body: Any = None,
    token: str | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 10,
) -> tuple[int, Any]:
    """A real HTTP request; returns (status, parsed JSON body or text)."""
    import json
    import urllib.error

    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    for key, value in (headers or {}).items():
        request.add_header(key, value)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw, status = response.read(), response.status
    except urllib.error.HTTPError as error:
        raw, status = error.read(), error.code
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw.decode(errors="replace")
