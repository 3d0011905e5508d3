"""The problem ledger: a finding's states and every move between them, in one place.

Evaluation opens findings and resolves those a resubmission no longer breaks (`resolve`); people
move them through the ledger's actions (`ACTIONS`: who may do what, from which state, to which).
Both services change a finding's state only through here, and every change another service must
know of is announced through the outbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from shared import events, outbox
from shared.models import AuditEvent, Finding, OutboxEvent, User


@dataclass(frozen=True)
class Action:
    name: str
    roles: tuple[str, ...]
    from_statuses: tuple[str, ...]
    to_status: str
    needs_comment: bool
    needs_proof: bool = False


ACTIONS = {
    "acknowledge": Action("acknowledge", ("district",), ("open",), "acknowledged", False),
    "report_rectification": Action(
        "report_rectification", ("district",), ("open", "acknowledged"), "rectification_reported", True, True
    ),
    "close": Action("close", ("supervisor", "admin"), ("rectification_reported",), "closed", False),
    "return": Action("return", ("supervisor", "admin"), ("rectification_reported",), "open", True),
}


class ActionRefused(ValueError):
    pass


def allowed(user: User, finding: Finding) -> list[Action]:
    """The actions this user may take on this finding now."""
    return [
        a
        for a in ACTIONS.values()
        if user.role in a.roles
        and finding.status in a.from_statuses
        and finding.active
        and user.can_see_district(finding.district_code)
    ]


def check(user: User, finding: Finding, name: str, comment: str, proofs: int) -> Action:
    action = ACTIONS.get(name)
    if action is None or action not in allowed(user, finding):
        raise ActionRefused("当前状态下不能进行此操作 / this action is not possible now")
    if action.needs_comment and not comment.strip():
        raise ActionRefused("请填写说明 / a comment is required")
    if action.needs_proof and proofs == 0:
        raise ActionRefused("请上传整改佐证材料 / attach a proof of rectification")
    return action


def apply(
    session: Session,
    user: User,
    finding: Finding,
    action: Action,
    comment: str,
    now: datetime,
    detail: dict[str, object] | None = None,
) -> list[OutboxEvent]:
    """Move the finding, record the action and announce what the notifier must know (a closed finding
    is resolved for its alerts); the caller commits and publishes the events."""
    before = finding.status
    finding.status = action.to_status
    announced: list[OutboxEvent] = []
    if action.to_status == "closed":
        finding.active, finding.resolved_at, finding.resolution = False, now, "verified_closed"
        announced.append(
            outbox.add(
                session,
                events.FindingsResolved,
                district_code=finding.district_code,
                round_code=finding.round_code,
                finding_ids=[finding.id],
                reason="verified_closed",
            )
        )
    record = AuditEvent(
        at=now,
        actor_id=user.id,
        action=f"finding.{action.name}",
        object_type="finding",
        object_id=str(finding.id),
        comment=comment.strip()[:4000],
        detail={"from": before, "to": action.to_status, **(detail or {})},
    )
    session.add(record)
    return announced


def resolve(finding: Finding, now: datetime, resolution: str) -> None:
    """The rule no longer breaks (a resubmission or a re-evaluation): the finding is resolved."""
    finding.status, finding.active = "resolved", False
    finding.resolved_at, finding.resolution = now, resolution
