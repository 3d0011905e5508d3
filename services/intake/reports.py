"""Checking a report against the registry and the round's catalogue, and storing it.

The schema checks the shape; `check` checks what only the database knows (the unit, the round,
the catalogue's codes, types and bounds). Both answer in the same `{field: [messages]}` form.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from celery import Celery
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from services.intake.speech import gettext as _
from shared import caches, clock, events, kept, logs, outbox
from shared.catalogue import Catalogue
from shared.catalogue import store as catalogues
from shared.models import Evaluation, OutboxEvent, PilotUnit, Round, Submission, User
from shared.models.base import new_id

Errors = dict[str, Any]
_rounds: caches.TimedCache[Round] = caches.TimedCache("rounds")
_units: caches.TimedCache[PilotUnit] = caches.TimedCache("units")


@dataclass
class Checked:
    """A report that passed every check: what the schema loaded, with its unit, round and catalogue."""

    unit: PilotUnit
    round: Round
    catalogue: Catalogue
    data: dict[str, Any]


def check_indicator(spec: dict[str, Any], value: Any) -> str | None:
    kind = spec.get("type", "integer")
    if value is None:
        return None
    if kind == "boolean":
        return None if isinstance(value, bool) else _("应为是或否（true/false）")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return _("应为数值")
    if kind == "integer" and not float(value).is_integer():
        return _("应为整数")
    if spec.get("min") is not None and value < spec["min"]:
        return _("不能为负数") if spec["min"] == 0 else _("不能小于 %(min)s", min=f"{spec['min']:g}")
    if spec.get("max") is not None and value > spec["max"]:
        return _("不能大于 %(max)s", max=f"{spec['max']:g}")
    return None


def check_against_catalogue(catalogue: Catalogue, data: dict[str, Any]) -> Errors:
    errors: Errors = {}
    unknown = [code for code in data["measures"] if code not in catalogue.measures]
    if unknown:
        errors["measures"] = {
            code: [_("未知举措代码（目录 %(version)s）", version=catalogue.version)] for code in unknown
        }
    indicator_errors: Errors = {}
    for code, value in data["indicators"].items():
        spec = catalogue.indicators.get(code)
        message = (
            _("未知指标代码（目录 %(version)s）", version=catalogue.version)
            if spec is None
            else check_indicator(spec, value)
        )
        if message:
            indicator_errors[code] = [message]
    if indicator_errors:
        errors["indicators"] = indicator_errors
    return errors


def completeness(catalogue: Catalogue, data: dict[str, Any]) -> Errors:
    """What a complete report lacks: a status for every measure (未启动 is one) and every indicator the
    catalogue marks as required. The form and the spreadsheet refuse an incomplete report; the API
    takes it, and evaluation records the blanks as a completeness finding."""
    errors: Errors = {}
    measures = {
        code: [_("请选择推进状态")]
        for code in catalogue.measures
        if not (data["measures"].get(code) or {}).get("status")
    }
    indicators = {
        code: [_("必填")] for code in catalogue.required_indicators if data["indicators"].get(code) is None
    }
    if measures:
        errors["measures"] = measures
    if indicators:
        errors["indicators"] = indicators
    return errors


def cached_unit(session: Session, credit_code: str) -> PilotUnit | None:
    """The unit of this credit code, kept per process (`shared.caches`: any change to a unit empties it)."""

    def load() -> PilotUnit | None:
        found = session.scalar(select(PilotUnit).where(PilotUnit.credit_code == credit_code))
        return None if found is None else caches.snapshot(found)

    unit = _units.get(credit_code, load)
    return None if unit is None else session.merge(unit, load=False)


def cached_round(session: Session, code: str) -> Round | None:
    """The round of this code, kept per process (`shared.caches`: any change to a round empties it)."""

    def load() -> Round | None:
        found = session.get(Round, code)
        return None if found is None else caches.snapshot(found)

    round_ = _rounds.get(code, load)
    return None if round_ is None else session.merge(round_, load=False)


def check(session: Session, data: dict[str, Any], complete: bool = False) -> tuple[Checked | None, Errors]:
    """Check a report against the registry and its round's catalogue; `complete` also asks for every
    measure's status and every required indicator."""
    errors: Errors = {}
    unit = cached_unit(session, data["unit"])
    if unit is None or not unit.active:
        errors["unit"] = [_("未找到该试点单位")]
    round_ = cached_round(session, data["round"])
    if round_ is None:
        errors["round"] = [_("未找到该督导轮次")]
    elif round_.status != "open":
        errors["round"] = [_("该督导轮次已关闭")]
    if round_ is None:
        return None, errors
    catalogue = catalogues.get(session, round_.catalogue_version)
    errors.update(check_against_catalogue(catalogue, data))
    if complete:
        for part, missing in completeness(catalogue, data).items():
            errors.setdefault(part, {}).update(
                {k: v for k, v in missing.items() if k not in errors.get(part, {})}
            )
    if errors or unit is None:
        return None, errors
    return Checked(unit, round_, catalogue, data), {}


def key_reused() -> str:
    return _("该 Idempotency-Key 已用于另一份报送，请为新报送使用新的键")


class KeyReused(Exception):
    """The Idempotency-Key names a stored report that differs from this one."""

    def __init__(self, submission: Submission):
        super().__init__("the Idempotency-Key names another report")
        self.submission = submission


def same_report(submission: Submission, data: dict[str, Any]) -> bool:
    """Whether a stored submission is the report `data` (as the schema loaded it)."""
    return (
        submission.unit.credit_code == data["unit"]
        and submission.round_code == data["round"]
        and submission.measures == data["measures"]
        and submission.indicators == data["indicators"]
    )


def find_by_key(session: Session, user: User, key: str) -> Submission | None:
    return session.scalar(
        select(Submission).where(Submission.submitted_by == user.id, Submission.idempotency_key == key)
    )


def with_evaluation(session: Session, submission_id: str) -> Submission | None:
    """A submission with its unit, evaluation and findings loaded (for its page and the API)."""
    return session.scalar(
        select(Submission)
        .where(Submission.id == submission_id[:64])
        .options(
            selectinload(Submission.unit),
            selectinload(Submission.evaluation).selectinload(Evaluation.findings),
        )
    )


def store(
    session: Session,
    report: Checked,
    user: User,
    key: str | None,
    channel: str,
    request_id: str = "",
) -> tuple[Submission, OutboxEvent]:
    """Add the submission as the unit's next version, and its event, to the session's transaction."""
    unit, round_ = report.unit, report.round
    latest = session.scalar(
        select(func.max(Submission.version)).where(
            Submission.unit_id == unit.id, Submission.round_code == round_.code
        )
    )
    submission = Submission(
        id=new_id(),  # known before the INSERT: the report and its event are written in one flush
        unit_id=unit.id,
        round_code=round_.code,
        version=(latest or 0) + 1,
        measures=report.data["measures"],
        indicators=report.data["indicators"],
        submitted_by=user.id,
        idempotency_key=key,
        channel=channel,
        submitted_at=clock.now(),
    )
    session.add(submission)
    event = outbox.add(
        session,
        events.SubmissionReceived,
        submission_id=submission.id,
        unit_credit_code=unit.credit_code,
        district_code=unit.district_code,
        round_code=round_.code,
        request_id=request_id or logs.request_id(),
    )
    return submission, event


def submit_many(
    session: Session,
    celery: Celery,
    batch: list[Checked],
    user: User,
    channel: str,
    key: str | None = None,
    request_id: str = "",
    before_commit: Callable[[Session, list[Submission]], None] | None = None,
) -> list[Submission]:
    """Store checked reports and their events in one transaction (all or none), then publish them
    with a bounded wait. `before_commit` adds the caller's own changes to the same transaction; it is
    given the submissions being stored.

    Two clerks racing on the same unit get consecutive versions: a clash on the version is retried;
    a clash on the idempotency key returns the submission that won, or raises KeyReused when the
    winner is another report.
    """
    for _attempt in range(5):
        try:
            stored = [store(session, report, user, key, channel, request_id) for report in batch]
            if before_commit is not None:
                before_commit(session, [submission for submission, _event in stored])
            with kept.raises_held():  # the round's numbers go to Redis with the events' note
                session.commit()
                outbox.publish(celery, [event for _submission, event in stored])
        except IntegrityError:
            session.rollback()
            existing = find_by_key(session, user, key) if key else None
            if existing is not None:
                if len(batch) != 1 or not same_report(existing, batch[0].data):
                    raise KeyReused(existing) from None
                return [existing]
            continue
        return [submission for submission, _event in stored]
    raise RuntimeError("could not store the submissions after 5 attempts")


def submit(
    session: Session,
    celery: Celery,
    report: Checked,
    user: User,
    channel: str,
    key: str | None = None,
    request_id: str = "",
    before_commit: Callable[[Session, list[Submission]], None] | None = None,
) -> Submission:
    """Store one checked report and its event, then publish it (see `submit_many`)."""
    return submit_many(session, celery, [report], user, channel, key, request_id, before_commit)[0]
