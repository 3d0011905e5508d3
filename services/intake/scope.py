"""What a signed-in user may see and do: every query of a district user is limited to its district."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort
from flask_babel import gettext as _
from sqlalchemy import Select, select

from services.intake.auth import current_user, login_required
from shared.models import Finding, PilotUnit, Submission, User


def denied() -> str:
    return _("无权访问其他县（市）区的数据")


def roles_required(*roles: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @login_required
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if current_user().role not in roles:
                abort(403, description=_("您的角色无权进行此操作"))
            return view(*args, **kwargs)

        return wrapped

    return decorate


def units(user: User, active_only: bool = True) -> Select[tuple[PilotUnit]]:
    query = select(PilotUnit)
    if active_only:
        query = query.where(PilotUnit.active.is_(True))
    if user.role == "district":
        query = query.where(PilotUnit.district_code == user.district_code)
    return query


def findings(user: User) -> Select[tuple[Finding]]:
    query = select(Finding)
    if user.role == "district":
        query = query.where(Finding.district_code == user.district_code)
    return query


def submissions(user: User) -> Select[tuple[Submission]]:
    query = select(Submission).join(Submission.unit)
    if user.role == "district":
        query = query.where(PilotUnit.district_code == user.district_code)
    return query


def require_district(user: User, district_code: str) -> None:
    if not user.can_see_district(district_code):
        abort(403, description=denied())
