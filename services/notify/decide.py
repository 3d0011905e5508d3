"""Pure decisions: who hears about a finding, when a group of items goes out, what is muted,
when a reminder or an escalation is due. No database, no clock: callers pass `now`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

# Supervisors hear at once about critical findings; districts about everything but info, which waits
# for the daily digest.
ROUTES: dict[str, tuple[tuple[str, str], ...]] = {
    "critical": (("district", "opened"), ("supervisor", "opened")),
    "error": (("district", "opened"),),
    "warning": (("district", "opened"),),
    "info": (("district", "digest"),),
}
# The district's turn: a finding open, acknowledged or returned to it is still unresolved and is
# reminded of and escalated past its deadline. One reported rectified, or explained as not applying,
# waits for the supervisors' decision. Advice and records have no deadline: no reminder, no escalation.
ESCALATING_STATUSES = ("open", "acknowledged", "returned")
REMINDING_STATUSES = ("open", "acknowledged", "returned")


@dataclass(frozen=True)
class Timing:
    group_wait: float
    group_interval: float
    repeat_interval: float
    escalation_interval: float
    digest_hour: int


@dataclass(frozen=True)
class Window:
    district_code: str | None
    starts_at: datetime
    ends_at: datetime


def routes(severity: str) -> tuple[tuple[str, str], ...]:
    """(audience, kind) pairs for a new finding of this severity."""
    return ROUTES.get(severity, ROUTES["warning"])


def group_key(district_code: str, audience: str, kind: str, round_code: str) -> str:
    return f"{district_code}|{audience}|{kind}|{round_code}"


def digest_slot(now: datetime, hour: int) -> datetime:
    """The latest daily digest time at or before `now`."""
    today = datetime.combine(now.date(), time(hour), tzinfo=now.tzinfo)
    return today if today <= now else today - timedelta(days=1)


def group_ready(
    kind: str, oldest: datetime, last_sent: datetime | None, now: datetime, timing: Timing
) -> bool:
    """Whether a group's pending items go out now.

    A new batch waits `group_wait` for others to join it, and a group never goes out more often than
    every `group_interval`. Digest items wait for the next daily digest time.
    """
    if kind == "digest":
        slot = digest_slot(now, timing.digest_hour)
        return oldest <= slot and (last_sent is None or last_sent < slot)
    # Reminders and escalations are made together by one pass over the findings: nothing to wait for.
    wait = 0.0 if kind in ("reminder", "escalation") else timing.group_wait
    if now < oldest + timedelta(seconds=wait):
        return False
    return last_sent is None or now >= last_sent + timedelta(seconds=timing.group_interval)


def muted(windows: list[Window], district_code: str, severity: str, now: datetime) -> bool:
    """Critical items are never muted; others are while a window of their district or the office is on."""
    if severity == "critical":
        return False
    return any(w.starts_at <= now < w.ends_at and w.district_code in (None, district_code) for w in windows)


def reminder_due(
    status: str,
    active: bool,
    due_date: date | None,
    first_alerted: datetime,
    last_reminded: datetime | None,
    now: datetime,
    timing: Timing,
) -> bool:
    if not active or status not in REMINDING_STATUSES or due_date is None:
        return False
    since = last_reminded or first_alerted
    return now >= since + timedelta(seconds=timing.repeat_interval)


def escalation_due(
    status: str,
    active: bool,
    due_date: date | None,
    last_escalated: datetime | None,
    now: datetime,
    timing: Timing,
) -> bool:
    """Past its rectification deadline and still unresolved: escalate, then again every interval."""
    if not active or status not in ESCALATING_STATUSES or due_date is None or now.date() <= due_date:
        return False
    return last_escalated is None or now >= last_escalated + timedelta(seconds=timing.escalation_interval)


def age_days(opened_at: datetime, now: datetime) -> int:
    return max((now - opened_at).days, 0)
