"""The delivery log: every alert's deliveries and their attempts, for supervisors and admins, with a
resend action. A resend is an event to the notify service; this service never sends itself."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
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
# What the log is filtered and paged by: a resend brings the supervisor back to the same view.
VIEW = ("status", "district", "round", "q", "page")


def view_of(args: Any) -> dict[str, str]:
    return {name: args[name] for name in VIEW if args.get(name)}


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
    page = paging.paginate(
        db_session(), lists.deliveries_query(request.args), paging.page_number(request.args.get("page"))
    )
    return render_template(
        "deliveries.html",
        deliveries=page.items,
        page=page,
        status=status,
        statuses=STATUSES,
        filters=request.args,
        view=view_of(request.args),
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
    flash(_("已提交重新发送（投递 %(id)s）", id=delivery_id))
    return redirect(url_for("deliveries.index", **view_of(request.args)))
