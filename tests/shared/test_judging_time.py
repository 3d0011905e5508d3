"""A report's lateness is judged on the office's calendar, not on UTC's."""

from __future__ import annotations

from datetime import UTC, date, datetime

from shared.judging import is_late
from shared.models import Round, Submission


def test_it_counts_a_report_at_23_54_in_beijing_on_the_due_date_as_on_time() -> None:
    round_ = Round(code="2026H2", due_date=date(2026, 12, 2))
    assert not is_late(Submission(submitted_at=datetime(2026, 12, 2, 15, 54, tzinfo=UTC)), round_)


def test_it_counts_a_report_at_00_30_in_beijing_the_next_day_as_late() -> None:
    round_ = Round(code="2026H2", due_date=date(2026, 12, 2))
    assert is_late(Submission(submitted_at=datetime(2026, 12, 2, 16, 30, tzinfo=UTC)), round_)
