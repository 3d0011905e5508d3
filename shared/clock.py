"""The time, as every decision that depends on it reads it.

In development and tests the clock can be set from outside the processes that read it: when
PILOTWATCH_CLOCK_FILE names a file holding an ISO timestamp, that is "now" (every process reads the
same file, so a test can jump past a deadline). Production refuses the setting (see shared.config).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from shared import config


def now() -> datetime:
    path = config.current().clock_file
    if path:
        try:
            text = Path(path).read_text().strip()
        except FileNotFoundError:
            text = ""
        if text:
            moment = datetime.fromisoformat(text)
            return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return datetime.now(UTC)


def today() -> date:
    return now().date()


def set_now(path: str | Path, moment: datetime) -> None:
    """Used by tests (and demos) to move the clock of every process reading `path`."""
    Path(path).write_text(moment.isoformat())
