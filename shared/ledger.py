"""The problem ledger: a finding's states and every move between them, in one place.

Evaluation opens findings and settles those a resubmission no longer shows (`settle`); people move
them through the ledger's actions (`ACTIONS`: who may do what, from which state, to which), and
supervisors raise problems by hand (`raise_finding`). Both services change a finding's state only
through here. Every change is a transition checked against the state the person saw and applied
atomically (the finding's `version`, checked by every UPDATE), so two people acting at once never
fork its history: the second is told what happened. Every change another service must know of is
announced through the outbox.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from shared import events, outbox
from shared.catalogue.model import MANUAL
from shared.models import ACTIVE_STATUSES, AuditEvent, Finding, OutboxEvent, PilotUnit, User
from shared.models.base import new_id
from shared.text import Text

DISTRICT = ("district",)
SUPERVISORS = ("supervisor", "admin")
# Where a district can still act on a problem (report it rectified, explain, ask for more time).
DISTRICT_TURN = ("open", "acknowledged", "returned")
# What a rectification that a resubmission brought about is waiting for.
CLEARED_BY_RESUBMISSION = "cleared_by_resubmission"


@dataclass(frozen=True)
class Action:
    name: str
    roles: tuple[str, ...]
    from_statuses: tuple[str, ...]
    to_status: str | None  # None: the status stays (deadline requests and decisions)
    needs_comment: bool = False
    needs_date: bool = False  # a new deadline asked for


ACTIONS = {
    "acknowledge": Action("acknowledge", DISTRICT, ("open", "returned"), "acknowledged"),
    "report_rectification": Action(
        "report_rectification", DISTRICT, DISTRICT_TURN, "rectification_reported", True
    ),
    "explain": Action("explain", DISTRICT, DISTRICT_TURN, "explained", True),
    "request_extension": Action("request_extension", DISTRICT, DISTRICT_TURN, None, True, True),
    "close": Action("close", SUPERVISORS, ("rectification_reported",), "closed"),
    "return": Action("return", SUPERVISORS, ("rectification_reported",), "returned", True),
    "accept_explanation": Action("accept_explanation", SUPERVISORS, ("explained",), "waived"),
    "reject_explanation": Action("reject_explanation", SUPERVISORS, ("explained",), "returned", True),
    "approve_extension": Action("approve_extension", SUPERVISORS, ACTIVE_STATUSES, None),
    "refuse_extension": Action("refuse_extension", SUPERVISORS, ACTIVE_STATUSES, None, True),
}
ENDING = {"closed": "verified_closed", "waived": "waived"}


class ActionRefused(ValueError):
    """The action cannot be taken; the message says why (in the user's words, Chinese first)."""

    def __init__(self, message: str, field: str = ""):
        super().__init__(message)
        self.field = field


class ChangedMeanwhile(ActionRefused):
    """Someone changed the finding between the page showing it and this action."""


def _pending_extension(finding: Finding) -> bool:
    return finding.extension_until is not None


def possible(action: Action, finding: Finding) -> bool:
    """Whether the finding's state allows the action, whoever asks."""
    if not finding.active or finding.status not in action.from_statuses:
        return False
    if action.name == "request_extension":
        return finding.due_date is not None and not _pending_extension(finding)
    if action.name in ("approve_extension", "refuse_extension"):
        return _pending_extension(finding)
    return True


def allowed(user: User, finding: Finding) -> list[Action]:
    """The actions this user may take on this finding now."""
    return [
        a
        for a in ACTIONS.values()
        if user.role in a.roles and user.can_see_district(finding.district_code) and possible(a, finding)
    ]


@dataclass
class Request:
    """What a person asks of a finding: the action, the version of the finding they saw, a comment,
    a new deadline (for an extension) and whether a proof came with it."""

    name: str
    version: int | None = None
    comment: str = ""
    until: date | None = None
    proofs: int = 0
    detail: dict[str, Any] = field(default_factory=dict)


def check(user: User, finding: Finding, request: Request, today: date) -> Action:
    action = ACTIONS.get(request.name)
    if request.version is not None and request.version != finding.version:
        raise ChangedMeanwhile(changed_message(finding))
    if action is None or action not in allowed(user, finding):
        raise ActionRefused(Text("当前状态下不能进行此操作", "This action is not possible now"))
    if action.needs_comment and not request.comment.strip():
        raise ActionRefused(Text("请填写说明", "A comment is required"), "comment")
    if action.name == "report_rectification" and finding.proof_required and request.proofs == 0:
        raise ActionRefused(Text("请上传整改佐证材料", "Attach a proof of rectification"), "proof")
    if action.needs_date:
        if request.until is None:
            raise ActionRefused(Text("请填写申请延期至的日期", "Give the new deadline asked for"), "until")
        if request.until <= max(finding.due_date or today, today):
            raise ActionRefused(
                Text("申请的期限应晚于当前整改期限", "The new deadline must be after the current one"),
                "until",
            )
    return action


def changed_message(finding: Finding) -> str:
    return Text(
        "该问题刚被他人处理，当前状态已更新，请查看后再操作",
        "This problem was just changed by someone else; here is its new state",
    )


def apply(
    session: Session, user: User, finding: Finding, action: Action, request: Request, now: datetime
) -> list[OutboxEvent]:
    """Move the finding, record the action and announce it; the caller commits. A concurrent change
    makes the UPDATE miss its version and raises ChangedMeanwhile (the caller rolls back)."""
    before = finding.status
    detail: dict[str, Any] = {"from": before, "to": action.to_status or before, **request.detail}
    if action.to_status is not None:
        finding.status = action.to_status
    if action.name == "request_extension":
        finding.extension_until, finding.extension_reason = request.until, request.comment.strip()[:2000]
        detail["until"] = request.until.isoformat() if request.until else None
    elif action.name == "approve_extension":
        detail.update(before_due=_iso(finding.due_date), until=_iso(finding.extension_until))
        finding.due_date, finding.extension_until, finding.extension_reason = (
            finding.extension_until,
            None,
            "",
        )
    elif action.name == "refuse_extension":
        detail["until"] = _iso(finding.extension_until)
        finding.extension_until, finding.extension_reason = None, ""
    if finding.status in ENDING:
        finding.active, finding.resolved_at, finding.resolution = False, now, ENDING[finding.status]
    elif finding.resolution == CLEARED_BY_RESUBMISSION and finding.status != "rectification_reported":
        finding.resolution = ""
    _record(session, user.id, f"finding.{action.name}", finding, request.comment, detail, now)
    try:
        session.flush()
    except StaleDataError:
        raise ChangedMeanwhile(changed_message(finding)) from None
    return announce(session, finding, action.name, request.comment)


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _record(
    session: Session,
    actor_id: int | None,
    action: str,
    finding: Finding,
    comment: str,
    detail: dict[str, Any],
    now: datetime,
) -> None:
    session.add(
        AuditEvent(
            at=now,
            actor_id=actor_id,
            action=action,
            object_type="finding",
            object_id=str(finding.id),
            comment=comment.strip()[:4000],
            detail=detail,
        )
    )


def announce(session: Session, finding: Finding, action: str, comment: str = "") -> list[OutboxEvent]:
    """The event telling the notifier what a person did, when the district or its channels must hear."""
    common = {
        "district_code": finding.district_code,
        "round_code": finding.round_code,
        "finding_ids": [finding.id],
    }
    if action in ("close", "accept_explanation"):
        reason = "verified_closed" if action == "close" else "waived"
        return [outbox.add(session, events.FindingsResolved, reason=reason, **common)]
    changes = {
        "return": "returned",
        "reject_explanation": "returned",
        "approve_extension": "extended",
        "refuse_extension": "extension_refused",
    }
    if action in changes:
        return [
            outbox.add(
                session, events.FindingsChanged, change=changes[action], note=comment.strip()[:500], **common
            )
        ]
    return []


# --- what evaluation does with a finding a report no longer shows ---------------------------------


def resolve(finding: Finding, now: datetime, resolution: str) -> None:
    """The rule no longer breaks (a resubmission or a re-evaluation): the finding is resolved."""
    finding.status, finding.active = "resolved", False
    finding.resolved_at, finding.resolution = now, resolution


def settle(session: Session, finding: Finding, now: datetime, resolution: str) -> bool:
    """A report no longer shows the finding. A data error closes itself (resolved, True); a shortfall
    that needs verifying waits as 整改待核实 for a supervisor (False). Records and open requests
    follow the same rule."""
    if finding.resolution_mode != "verify":
        resolve(finding, now, resolution)
        return True
    if finding.status != "rectification_reported":
        before = finding.status
        finding.status, finding.resolution = "rectification_reported", CLEARED_BY_RESUBMISSION
        detail = {"from": before, "to": "rectification_reported", "by": resolution}
        comment = Text(
            "重报后不再显示该问题，待市产改办核实", "A new report no longer shows it; awaiting verification"
        )
        _record(session, None, "finding.cleared", finding, comment, detail, now)
    return False


def reopen_if_shown_again(session: Session, finding: Finding, now: datetime) -> None:
    """A report shows again a shortfall that an earlier report had cleared: it is open again."""
    if finding.status == "rectification_reported" and finding.resolution == CLEARED_BY_RESUBMISSION:
        finding.status, finding.resolution = "open", ""
        detail = {"from": "rectification_reported", "to": "open"}
        _record(
            session,
            None,
            "finding.shown_again",
            finding,
            Text("重报后问题仍存在", "Shown again by a new report"),
            detail,
            now,
        )


# --- problems raised by hand ---------------------------------------------------------------------


@dataclass
class Raised:
    """A problem a supervisor found on a visit, on a call or in a document."""

    unit: PilotUnit
    round_code: str
    description: str
    requirement: str
    severity: str
    due_date: date | None
    measure_code: str = ""
    source: str = ""
    proof_required: bool = True
    visit_id: int | None = None  # the on-site visit it was found on


def raise_finding(
    session: Session, user: User, raised: Raised, now: datetime
) -> tuple[Finding, list[OutboxEvent]]:
    """Put a problem found by hand into the ledger, where it lives like any other and is alerted the
    same way. The caller commits."""
    if user.role not in SUPERVISORS:
        raise ActionRefused(Text("仅市产改办可以交办问题", "Only supervisors raise problems"))
    if not raised.description.strip():
        raise ActionRefused(Text("请填写问题描述", "Describe the problem"), "description")
    if raised.due_date is not None and raised.due_date <= now.date():
        raise ActionRefused(Text("整改期限应晚于今天", "The deadline must be after today"), "due_date")
    finding = Finding(
        fingerprint=f"{raised.unit.credit_code}:{raised.round_code}:{MANUAL}:{new_id()[:12]}",
        unit_id=raised.unit.id,
        district_code=raised.unit.district_code,
        round_code=raised.round_code,
        rule_code=MANUAL,
        severity=raised.severity,
        message_zh=raised.description.strip()[:4000],
        message_en="",
        action_zh=raised.requirement.strip()[:4000],
        source=raised.source.strip()[:200],
        category="督导发现",
        measure_code=raised.measure_code,
        evidence={},
        status="open",
        active=True,
        opened_at=now,
        due_date=raised.due_date,
        resolution_mode="verify",
        proof_required=raised.proof_required,
        raised_by=user.id,
        visit_id=raised.visit_id,
    )
    session.add(finding)
    session.flush()
    detail = {
        "to": "open",
        "severity": raised.severity,
        **({"visit": raised.visit_id} if raised.visit_id else {}),
    }
    _record(session, user.id, "finding.raise", finding, "", detail, now)
    event = outbox.add(
        session,
        events.FindingsOpened,
        district_code=finding.district_code,
        round_code=finding.round_code,
        finding_ids=[finding.id],
    )
    return finding, [event]


# --- deadlines as traffic lights -----------------------------------------------------------------


def light(finding: Finding, today: date, yellow_days: int) -> str:
    """As government supervision systems show a deadline: red when overdue, yellow within
    `yellow_days` of it, green before; no light for what has no deadline or is done."""
    if not finding.active or finding.status not in ACTIVE_STATUSES or finding.due_date is None:
        return ""
    if today > finding.due_date:
        return "red"
    if today >= finding.due_date - timedelta(days=yellow_days):
        return "yellow"
    return "green"


def latest_change(session: Session, finding: Finding) -> AuditEvent | None:
    """The last recorded change of a finding (who changed it meanwhile)."""
    return session.scalars(
        select(AuditEvent)
        .where(AuditEvent.object_type == "finding", AuditEvent.object_id == str(finding.id))
        .order_by(AuditEvent.id.desc())
        .limit(1)
    ).first()
