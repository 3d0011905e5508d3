"""Versioned event contracts between the services, and which task receives each.

An event carries ids and plain values only (ISO dates, string ids), is JSON, and names what
happened. Each service's task receives the event as its single argument and validates it with the
schema bound to its name in `ROUTES`; producers add events through the outbox (shared/outbox.py),
which validates them with the same schema.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from marshmallow import EXCLUDE, Schema, fields, validate

from shared import tasks
from shared.models.base import new_id, utcnow


class Event(Schema):
    class Meta:
        unknown = EXCLUDE  # a newer producer may add fields; consumers ignore what they don't know

    event_id = fields.String(required=True)
    event_version = fields.Integer(required=True, validate=validate.Equal(1))
    occurred_at = fields.String(required=True)
    request_id = fields.String(load_default="")


class SubmissionReceived(Event):
    """A unit's report (one version) was stored and waits for evaluation."""

    submission_id = fields.String(required=True)
    unit_credit_code = fields.String(required=True)
    district_code = fields.String(required=True)
    round_code = fields.String(required=True)


class ReevaluationRequested(Event):
    """Part of a round is to be evaluated again with its current catalogue (one chunk of a job)."""

    job_id = fields.String(required=True)
    round_code = fields.String(required=True)
    unit_ids = fields.List(fields.Integer(), required=True, validate=validate.Length(min=1))


class FindingsOpened(Event):
    """Evaluation opened new findings for one district; the notifier alerts on them."""

    district_code = fields.String(required=True)
    round_code = fields.String(required=True)
    finding_ids = fields.List(fields.Integer(), required=True, validate=validate.Length(min=1))
    submission_id = fields.String(load_default="")


class FindingsResolved(Event):
    """Findings of one district ended: resolved by a resubmission or a re-evaluation, verified and
    closed by a supervisor, or accepted as not applying (waived)."""

    district_code = fields.String(required=True)
    round_code = fields.String(required=True)
    finding_ids = fields.List(fields.Integer(), required=True, validate=validate.Length(min=1))
    reason = fields.String(load_default="resolved_by_resubmission")


class FindingsChanged(Event):
    """A supervisor returned findings to a district, or decided on its request for a later deadline."""

    district_code = fields.String(required=True)
    round_code = fields.String(required=True)
    finding_ids = fields.List(fields.Integer(), required=True, validate=validate.Length(min=1))
    change = fields.String(
        required=True, validate=validate.OneOf(("returned", "extended", "extension_refused"))
    )
    note = fields.String(load_default="")


class ReportsDueSoon(Event):
    """A round's due date is near and some of a district's units have not reported yet."""

    district_code = fields.String(required=True)
    round_code = fields.String(required=True)
    due_date = fields.String(required=True)
    days_left = fields.Integer(required=True)
    unit_credit_codes = fields.List(fields.String(), required=True, validate=validate.Length(min=1))


class DeliveryRequested(Event):
    """Internal to the notify service: send one delivery of an alert."""

    delivery_id = fields.Integer(required=True)


class DeliveryResendRequested(Event):
    """Someone asked, from the delivery log, to send one delivery of an alert again."""

    delivery_id = fields.Integer(required=True)
    requested_by = fields.String(load_default="")


class DocumentRequested(Event):
    """Someone asked for a document (督导通报, 问题清单, 案例汇编); the intake worker generates it."""

    job_id = fields.String(required=True)


class SheetUploaded(Event):
    """A clerk uploaded a filled-in report template; the intake worker checks and stores its rows."""

    import_id = fields.String(required=True)


# Which task receives each event; a task's queue follows from its name (shared/tasks.py).
ROUTES: dict[type[Event], str] = {
    SubmissionReceived: tasks.EVALUATE_SUBMISSION,
    ReevaluationRequested: tasks.REEVALUATE_CHUNK,
    FindingsOpened: tasks.NOTIFY_FINDINGS_OPENED,
    FindingsResolved: tasks.NOTIFY_FINDINGS_RESOLVED,
    FindingsChanged: tasks.NOTIFY_FINDINGS_CHANGED,
    ReportsDueSoon: tasks.NOTIFY_REPORTS_DUE_SOON,
    DeliveryRequested: tasks.SEND_DELIVERY,
    DeliveryResendRequested: tasks.RESEND_DELIVERY,
    DocumentRequested: tasks.GENERATE_DOCUMENT,
    SheetUploaded: tasks.IMPORT_SHEET,
}


def task_of(event: type[Event]) -> str:
    return ROUTES[event]


def envelope(**values: Any) -> dict[str, Any]:
    """The common fields of a new event, merged with its own values."""
    return {"event_id": new_id(), "event_version": 1, "occurred_at": utcnow().isoformat(), **values}


@cache
def schema(event: type[Event]) -> Event:
    """The schema of an event kind, made once per process: making a schema costs several times more
    than loading an event with it, and a schema keeps no state between loads."""
    return event()


def load(event: type[Event], payload: dict[str, Any]) -> dict[str, Any]:
    """A received event of this kind, validated (raises ValidationError)."""
    return schema(event).load(payload)  # type: ignore[no-any-return]


def make(event: type[Event], **values: Any) -> dict[str, Any]:
    """A new event of this kind, validated by its schema (a producer's mistake raises here)."""
    return load(event, envelope(**values))
