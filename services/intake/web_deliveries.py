"""The delivery log: every alert's deliveries and their attempts, for supervisors and admins, with a
resend action. A resend is an event to the notify service; this service never sends itself."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from services.intake import lists, paging
from services.intake.auth import current_user, login_required
from services.intake.extensions import celery, db_session
from services.intake.rounds import all_rounds
from shared import events, outbox
from shared.models import Delivery, District

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
    page = paging.paginate(
        db_session(), lists.deliveries_query(request.args), paging.page_number(request.args.get("page"))
    )
    return render_template(
        "deliveries.html",
        deliveries=page.items,
        page=page,
        status=status,
        statuses=STATUSES,
        labels=STATUS_LABELS,
        filters=request.args,
        districts=list(db_session().scalars(select(District).order_by(District.code))),
        rounds=all_rounds(db_session()),
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
