"""The audit trail: every change a person or the system makes is recorded with who, when and what."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from shared import clock
from shared.models import AuditEvent


def record(
    session: Session,
    actor_id: int | None,
    action: str,
    object_type: str,
    object_id: str,
    detail: dict[str, Any] | None = None,
    comment: str = "",
) -> AuditEvent:
    """Add one audit event to the session's transaction; `actor_id` None is the system (or the CLI)."""
    event = AuditEvent(
        at=clock.now(),
        actor_id=actor_id,
        action=action,
        object_type=object_type,
        object_id=object_id,
        comment=comment[:4000],
        detail=detail or {},
    )
    session.add(event)
    return event
