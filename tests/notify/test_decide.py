"""The notifier's pure decisions: routing, grouping times, mute windows, reminders and escalations."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from services.notify import decide

T = datetime(2030, 3, 1, 8, 0, tzinfo=UTC)
TIMING = decide.Timing(
    group_wait=30, group_interval=300, repeat_interval=7 * 86400, escalation_interval=3 * 86400, digest_hour=1
)


@pytest.mark.parametrize(
    ("severity", "expected"),
    [
        ("critical", (("district", "opened"), ("supervisor", "opened"))),
        ("error", (("district", "opened"),)),
        ("warning", (("district", "opened"),)),
        ("info", (("district", "digest"),)),
    ],
)
def test_it_routes_by_severity(severity: str, expected: tuple[tuple[str, str], ...]) -> None:
    assert decide.routes(severity) == expected


@pytest.mark.parametrize(
    ("seconds_since_first", "last_sent_ago", "ready"),
    [
        (10, None, False),  # still within group_wait
        (31, None, True),  # group_wait passed, never sent
        (31, 100, False),  # sent 100 s ago: wait for group_interval
        (31, 301, True),  # group_interval passed
    ],
)
def test_it_waits_for_the_group(seconds_since_first: int, last_sent_ago: int | None, ready: bool) -> None:
    last = T - timedelta(seconds=last_sent_ago) if last_sent_ago is not None else None
    assert decide.group_ready("opened", T - timedelta(seconds=seconds_since_first), last, T, TIMING) is ready


def test_it_sends_reminders_and_escalations_without_group_wait() -> None:
    assert decide.group_ready("escalation", T, None, T, TIMING)


def test_it_sends_the_digest_once_a_day_at_its_hour() -> None:
    slot = datetime(2030, 3, 1, 1, 0, tzinfo=UTC)
    assert decide.digest_slot(T, 1) == slot
    assert decide.group_ready("digest", slot - timedelta(hours=3), None, T, TIMING)
    assert not decide.group_ready("digest", slot + timedelta(minutes=5), None, T, TIMING)  # tomorrow's
    assert not decide.group_ready("digest", slot - timedelta(hours=3), slot + timedelta(minutes=1), T, TIMING)


def test_it_mutes_non_critical_items_of_the_district_or_the_office() -> None:
    district = decide.Window("350102", T - timedelta(hours=1), T + timedelta(hours=1))
    office = decide.Window(None, T - timedelta(hours=1), T + timedelta(hours=1))
    assert decide.muted([district], "350102", "warning", T)
    assert not decide.muted([district], "350103", "warning", T)
    assert decide.muted([office], "350103", "info", T)
    assert not decide.muted([office], "350103", "critical", T)
    assert not decide.muted([district], "350102", "warning", T + timedelta(hours=1))  # the window has ended


@pytest.mark.parametrize(
    ("status", "active", "days", "due"),
    [
        ("open", True, 8, True),
        ("acknowledged", True, 8, True),
        ("returned", True, 8, True),
        ("rectification_reported", True, 8, False),  # the supervisors' turn: nothing to remind of
        ("explained", True, 8, False),
        ("open", True, 6, False),
        ("closed", False, 30, False),
        ("resolved", False, 30, False),
    ],
)
def test_it_reminds_while_a_finding_waits_for_its_district(
    status: str, active: bool, days: int, due: bool
) -> None:
    deadline = (T + timedelta(days=20)).date()
    assert decide.reminder_due(status, active, deadline, T - timedelta(days=days), None, T, TIMING) is due


def test_it_never_reminds_of_advice_without_a_deadline() -> None:
    assert not decide.reminder_due("open", True, None, T - timedelta(days=30), None, T, TIMING)


@pytest.mark.parametrize(
    ("status", "deadline_days_ago", "last_escalated_days_ago", "due"),
    [
        ("open", 1, None, True),
        ("acknowledged", 1, None, True),
        ("returned", 1, None, True),
        ("rectification_reported", 1, None, False),
        ("explained", 1, None, False),
        ("open", 0, None, False),
        ("open", -5, None, False),
        ("open", 10, 2, False),
        ("open", 10, 3, True),
    ],
)
def test_it_escalates_past_the_deadline_and_again_every_interval(
    status: str, deadline_days_ago: int, last_escalated_days_ago: int | None, due: bool
) -> None:
    deadline: date = (T - timedelta(days=deadline_days_ago)).date()
    last = T - timedelta(days=last_escalated_days_ago) if last_escalated_days_ago is not None else None
    assert decide.escalation_due(status, True, deadline, last, T, TIMING) is due
