"""Production mode with the default SECRET_KEY: every entry point stops with one clear line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ops import commands
from shared import config
from tests.support.processes import ROOT

COMMANDS = {
    "intake (gunicorn)": commands.intake("127.0.0.1:0", 1),
    "evaluation worker": commands.worker("evaluation", 1),
    "notify worker": commands.worker("notify", 1),
    "scheduler": commands.scheduler(Path("beat-schedule")),
    "cli": [str(Path(sys.executable).parent / "pilotwatch"), "demo", "load"],
}


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_it_refuses_to_start_in_production_with_the_default_secret(name: str, tmp_path: Path) -> None:
    env = dict(
        config.environ(),
        PILOTWATCH_ENV="production",
        SECRET_KEY=config.DEFAULT_SECRET,
        DATABASE_URL=f"sqlite:///{tmp_path / 'prod.db'}",
        PILOTWATCH_INSTANCE=str(tmp_path),
    )
    env.pop("PILOTWATCH_CLOCK_FILE", None)
    done = subprocess.run(COMMANDS[name], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)
    output = done.stdout + done.stderr
    assert done.returncode != 0
    assert "配置错误 / configuration error: SECRET_KEY must be set" in output
    assert "Traceback" not in output and 'File "' not in output
