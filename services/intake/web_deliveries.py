"""The delivery log: every alert's deliveries and their attempts, for supervisors and admins, with a
resend action. A resend is an event to the notify service; this service never sends itself."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from services.intake.auth import current_user, login_required
from services.intake.extensions import celery, db_session
from shared import events, outbox
from shared.models import Alert, Delivery

bp = Blueprint("deliveries", __name__)
ROLES = ("supervisor", "admin")
STATUSES = ("pending", "sending", "retrying", "delivered", "failed", "dead")
PAGE = 200


def allowed() -> Any:
    user = current_user()
    if user is None or user.role not in ROLES:
        abort(
            403,
            description=_("仅市产改办督导人员和管理员可查看投递记录"),
        )
    return user


@bp.get("/deliveries")
@login_required
def index() -> str:
    allowed()
    status = request.args.get("status", "")
    query = (
        select(Delivery)
        .join(Alert)
        .options(selectinload(Delivery.alert), selectinload(Delivery.log))
        .order_by(Delivery.id.desc())
        .limit(PAGE)
    )
    if status in STATUSES:
        query = query.where(Delivery.status == status)
    rows = db_session().scalars(query).all()
    return render_template("deliveries.html", deliveries=rows, status=status, statuses=STATUSES)


@bp.post("/deliveries/<int:delivery_id>/resend")
@login_required
def resend(delivery_id: int) -> Any:
    user = allowed()
    session = db_session()
    if session.get(Delivery, delivery_id) is None:
        abort(404)
    request_event = outbox.add(
        session, events.DeliveryResendRequested, delivery_id=delivery_id, requested_by=user.email
    )
    session.commit()
    outbox.publish(celery(), [request_event])
    flash(_("已提交重新发送（投递 %(id)s）", id=delivery_id))
    return redirect(url_for("deliveries.index", status=request.args.get("status", "")))
