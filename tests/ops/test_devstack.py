"""`pilotwatch up` keeps its stack running: a dead worker, scheduler or mail sink is started again
with a growing pause; only the intake's death, Redis's death or Ctrl-C stops everything."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from ops.redis_server import free_port
from ops.supervisor import Supervisor, deaths_after, restart_delay
from tests.support.processes import ROOT, wait_until


def test_it_doubles_the_pause_after_each_quick_death_up_to_half_a_minute() -> None:
    assert [restart_delay(n) for n in (1, 2, 3, 4, 5, 6, 9)] == [1, 2, 4, 8, 16, 30, 30]


def test_it_starts_the_pause_over_after_a_child_that_had_been_working() -> None:
    assert deaths_after(5, ran_for=3) == 6
    assert deaths_after(5, ran_for=120) == 1


def test_it_restarts_a_dying_child_and_stops_on_an_essential_one(tmp_path: Path) -> None:
    said: list[str] = []
    supervisor = Supervisor(dict(os.environ), tmp_path, say=said.append)
    flaky = supervisor.add("worker", [sys.executable, "-c", "import sys; sys.exit(3)"])
    wait_until(lambda: flaky.process.poll() is not None, 10, "the worker to die")  # type: ignore[union-attr]
    assert supervisor.check() is None and "worker exited with 3; starting it again in 1 s" in said[-1]
    wait_until(lambda: supervisor.check() is None and flaky.restarts == 1, 5, "the worker started again")
    supervisor.add("intake", [sys.executable, "-c", "import sys; sys.exit(4)"], essential=True)
    assert wait_until(supervisor.check, 10, "the intake's death to stop everything") == "intake exited with 4"
    supervisor.stop_all(grace=2)


# --- the real `pilotwatch up` --------------------------------------------------------------------


MARKERS = {
    "intake": "gunicorn",
    "evaluation": "services.evaluation.worker",
    "notify": "services.notify.worker",
    "scheduler": "shared.scheduler",
    "mail sink": "ops.mailsink",
    "redis": "redis-server",
}


class Up:
    """`pilotwatch up` as a process, its output collected."""

    def __init__(self, tmp_path: Path, env: dict[str, str]):
        self.port = free_port()
        self.log_path = tmp_path / "up.log"
        self.log = self.log_path.open("wb")
        environment = {
            key: value for key, value in env.items() if key not in ("REDIS_URL", "DATABASE_URL", "PORT")
        }
        environment.update(
            PILOTWATCH_INSTANCE=str(tmp_path / "instance"),
            DATABASE_URL=f"sqlite:///{tmp_path / 'up.db'}",
            PORT=str(self.port),
            SINK_SMTP_PORT=str(free_port()),
            WEB_CONCURRENCY="1",
        )
        self.process = subprocess.Popen(
            [sys.executable, "-m", "ops.cli", "up"],
            env=environment,
            cwd=ROOT,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def output(self) -> str:
        self.log.flush()
        return self.log_path.read_text(errors="replace")

    def pid_of(self, name: str) -> int:
        found = self.find(name)
        assert found, f"no running {name} under `pilotwatch up`:\n{self.output()[-3000:]}"
        return found

    def find(self, name: str) -> int | None:
        """The pid of the running child of `pilotwatch up` whose command line names it."""
        marker = MARKERS[name]
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
                command = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if int(fields[1]) == self.process.pid and fields[0] != "Z" and marker in command:
                return int(stat.parent.name)
        return None

    def answers(self) -> bool:
        try:
            return urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=2).status == 200
        except OSError:
            return False

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()


@pytest.fixture
def up(env: dict[str, str], tmp_path: Path) -> Iterator[Up]:
    running = Up(tmp_path, env)
    try:
        wait_until(lambda: "Pilotwatch is running" in running.output(), 120, "`pilotwatch up` to be ready")
        yield running
    finally:
        running.stop()


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead too
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


pytestmark = pytest.mark.e2e


def test_it_starts_a_killed_worker_again_and_keeps_serving(up: Up) -> None:
    first = up.pid_of("evaluation")
    os.kill(first, signal.SIGKILL)  # the worker's main process, as in the report
    wait_until(lambda: not alive(first), 10, "the evaluation worker gone")
    wait_until(lambda: up.find("evaluation") not in (None, first), 30, "the evaluation worker started again")
    assert f"evaluation exited with -{signal.SIGKILL}; starting it again in 1 s" in up.output()
    assert up.process.poll() is None and up.answers()
    scheduler = up.pid_of("scheduler")
    os.kill(scheduler, signal.SIGKILL)
    wait_until(lambda: not alive(scheduler), 10, "the scheduler gone")
    wait_until(lambda: up.find("scheduler") not in (None, scheduler), 30, "the scheduler started again")
    assert up.answers()


def test_it_stops_everything_when_the_intake_dies(up: Up) -> None:
    children = [up.pid_of(name) for name in ("evaluation", "notify", "scheduler", "mail sink")]
    os.killpg(up.pid_of("intake"), signal.SIGKILL)
    assert up.process.wait(timeout=60) == 1
    assert "intake exited with" in up.output() and "stopping" in up.output()
    wait_until(lambda: not any(alive(pid) for pid in children), 20, "every child stopped")


def test_it_stops_everything_when_the_embedded_redis_dies(up: Up) -> None:
    os.kill(up.pid_of("redis"), signal.SIGKILL)
    assert up.process.wait(timeout=60) == 1
    assert "the embedded Redis exited; stopping" in up.output()


def test_it_stops_everything_on_ctrl_c(up: Up) -> None:
    children = [up.pid_of(name) for name in ("intake", "evaluation", "notify", "scheduler", "mail sink")]
    up.process.send_signal(signal.SIGINT)
    assert up.process.wait(timeout=60) == 0
    wait_until(lambda: not any(alive(pid) for pid in children), 20, "every child stopped")
    time.sleep(0.5)
    assert not up.answers()
