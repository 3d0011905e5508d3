"""The time, as every decision that depends on it reads it.

In development and tests the clock can be set from outside the processes that read it: when
PILOTWATCH_CLOCK_FILE names a file holding an ISO timestamp, that is "now" (every process reads the
same file, so a test can jump past a deadline). Production refuses the setting (see shared.config).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

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


@lru_cache(maxsize=4)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local(moment: datetime) -> datetime:
    """A stored (UTC) time in the office's time zone (the TIME_ZONE setting), as people read it."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(_zone(config.current().time_zone))


def local_today() -> date:
    """Today's date where the office is (a deadline night in Beijing is still "today" there)."""
    return local(now()).date()
