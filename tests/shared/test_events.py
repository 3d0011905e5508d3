"""Event contracts: one schema per kind and process, validating every load on its own."""

from __future__ import annotations

import pytest
from marshmallow import ValidationError

from shared import events


def opened(**values: object) -> dict:
    return events.envelope(district_code="350102", round_code="2026H2", finding_ids=[1, 2], **values)


def test_each_kind_has_one_schema_and_a_load_carries_nothing_into_the_next() -> None:
    assert events.schema(events.FindingsOpened) is events.schema(events.FindingsOpened)
    assert events.schema(events.FindingsOpened) is not events.schema(events.FindingsResolved)
    assert events.load(events.FindingsOpened, opened())["finding_ids"] == [1, 2]
    with pytest.raises(ValidationError) as refused:
        events.load(events.FindingsOpened, {**opened(), "finding_ids": [], "event_version": 2})
    assert set(refused.value.messages) == {"finding_ids", "event_version"}
    again = events.load(events.FindingsOpened, opened(submission_id="s1", newer_field="ignored"))
    assert again["submission_id"] == "s1" and "newer_field" not in again


def test_a_producers_mistake_raises_when_the_event_is_made() -> None:
    with pytest.raises(ValidationError):
        events.make(events.SubmissionReceived, submission_id="s1")
    made = events.make(
        events.SubmissionReceived,
        submission_id="s1",
        unit_credit_code="91350100611300758B",
        district_code="350102",
        round_code="2026H2",
    )
    assert made["event_version"] == 1 and made["request_id"] == ""
