"""The delivery log: every alert's deliveries and their attempts, for supervisors and admins, with a
resend action. A resend is an event to the notify service; this service never sends itself."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from services.intake.auth import current_user, login_required
from services.intake.extensions import celery, db_session
from shared import events, outbox
from shared.models import Alert, Delivery

bp = Blueprint("deliveries", __name__)
ROLES = ("supervisor", "admin")
STATUSES = ("pending", "sending", "retrying", "delivered", "failed", "dead")
STATUS_LABELS = {
    "pending": "待发送 pending",
    "sending": "发送中 sending",
    "retrying": "等待重试 retrying",
    "delivered": "已送达 delivered",
    "failed": "失败（不再重试）failed",
    "dead": "多次失败 dead-lettered",
}
PAGE = 200


def allowed() -> Any:
    user = current_user()
    if user is None or user.role not in ROLES:
        abort(
            403,
            description="仅督导组和管理员可查看投递记录 / only supervisors and admins see the delivery log",
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
    return render_template(
        "deliveries.html", deliveries=rows, status=status, statuses=STATUSES, labels=STATUS_LABELS
    )


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
    flash(f"已提交重新发送 / resend requested for delivery {delivery_id}")
    return redirect(url_for("deliveries.index", status=request.args.get("status", "")))
