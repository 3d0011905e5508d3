"""The children of `pilotwatch up`, kept running: a worker, the scheduler or the mail sink that dies is
started again after a pause that doubles with each quick death (1 s, 2 s, 4 s, ... at most 30 s); the
death of an essential child (the intake) stops the whole stack."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

FIRST_DELAY = 1.0
MAX_DELAY = 30.0
# A child that ran this long before dying had been working: its next pause starts from the first again.
STABLE_AFTER = 60.0


def restart_delay(quick_deaths: int) -> float:
    """The pause before starting a child again, after `quick_deaths` deaths in a row (1 or more)."""
    return min(FIRST_DELAY * 2 ** max(quick_deaths - 1, 0), MAX_DELAY)


def deaths_after(quick_deaths: int, ran_for: float) -> int:
    """The count of quick deaths in a row once a child that ran `ran_for` seconds has died."""
    return 1 if ran_for >= STABLE_AFTER else quick_deaths + 1


@dataclass
class Child:
    name: str
    command: list[str]
    essential: bool = False
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    quick_deaths: int = 0
    restart_at: float | None = None
    restarts: int = 0


@dataclass
class Supervisor:
    env: dict[str, str]
    cwd: Path
    say: Callable[[str], None] = print
    clock: Callable[[], float] = time.monotonic
    children: list[Child] = field(default_factory=list)

    def start(self, child: Child) -> None:
        child.process = subprocess.Popen(child.command, env=self.env, cwd=self.cwd, start_new_session=True)
        child.started_at, child.restart_at = self.clock(), None
        self.say(f"pilotwatch: started {child.name} (pid {child.process.pid})")

    def add(self, name: str, command: list[str], essential: bool = False) -> Child:
        child = Child(name, command, essential)
        self.children.append(child)
        self.start(child)
        return child

    def check(self) -> str | None:
        """Restart what is due, schedule what died; the reason to stop everything, if there is one."""
        now = self.clock()
        for child in self.children:
            if child.restart_at is not None:
                if now >= child.restart_at:
                    child.restarts += 1
                    self.start(child)
                continue
            if child.process is None or child.process.poll() is None:
                continue
            code = child.process.returncode
            if child.essential:
                return f"{child.name} exited with {code}"
            child.quick_deaths = deaths_after(child.quick_deaths, now - child.started_at)
            delay = restart_delay(child.quick_deaths)
            child.restart_at = now + delay
            self.say(f"pilotwatch: {child.name} exited with {code}; starting it again in {delay:.0f} s")
        return None

    def processes(self) -> list[subprocess.Popen[bytes]]:
        return [c.process for c in self.children if c.process is not None]

    def stop_all(self, grace: float = 15) -> None:
        """SIGTERM every running child (each stops its own processes), then SIGKILL what is left after
        `grace`."""
        running = [p for p in self.processes() if p.poll() is None]
        for process in running:
            process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace
        for process in running:
            try:
                process.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                _signal_group(process, signal.SIGKILL)
                process.wait()
        for process in self.processes():  # a worker's pool children left behind by a killed parent
            _signal_group(process, signal.SIGKILL)


def _signal_group(process: subprocess.Popen[bytes], sig: int) -> None:
    try:
        os.killpg(process.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass
