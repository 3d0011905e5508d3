"""The delivery log through a real intake and a real notify worker: who may see it, and a resend."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import unescape

import pytest
import requests
from sqlalchemy import select

from shared import db
from shared.models import Alert, Channel, Delivery, DeliveryAttempt
from tests.support.chat import ChatServer
from tests.support.processes import Stack, wait_until
from tests.support.reports import open_round

pytestmark = pytest.mark.e2e
GULOU = "350102"


@pytest.fixture
def chat() -> Iterator[ChatServer]:
    server = ChatServer()
    yield server
    server.close()


def failed_delivery(url: str) -> int:
    with db.transaction() as session:
        channel = Channel(district_code=GULOU, kind="json", url=url)
        message = {
            "subject": "【产改督导】测试",
            "text": "正文",
            "markdown": "正文",
            "html": "<p>正文</p>",
            "data": {"kind": "opened"},
        }
        alert = Alert(
            source_event_id="resend-test",
            district_code=GULOU,
            round_code=open_round(),
            finding_ids=[],
            subject=message["subject"],
            content={"zh": message},
        )
        session.add_all([channel, alert])
        session.flush()
        delivery = Delivery(
            alert_id=alert.id,
            channel_id=channel.id,
            target=url,
            status="failed",
            attempts=1,
            last_error="HTTP 400: bad request",
        )
        session.add(delivery)
        session.flush()
        session.add(
            DeliveryAttempt(delivery_id=delivery.id, outcome="failed", detail="HTTP 400: bad request")
        )
        return delivery.id


def status_of(delivery_id: int) -> str:
    with db.transaction() as session:
        return session.scalar(select(Delivery.status).where(Delivery.id == delivery_id))


def logged_in(url: str, email: str) -> requests.Session:
    browser = requests.Session()
    csrf = re.search(
        r'name="csrf_token" value="([^"]+)"', browser.get(url + "/login", timeout=10).text
    ).group(1)
    answer = browser.post(
        url + "/login", data={"csrf_token": csrf, "email": email, "password": "pilotwatch-demo"}, timeout=10
    )
    assert answer.status_code == 200
    return browser


def test_it_shows_the_log_to_supervisors_only_and_resends_through_the_notify_worker(
    stack: Stack, chat: ChatServer
) -> None:
    delivery_id = failed_delivery(f"json://127.0.0.1:{chat.port}/hook")
    stack.start("intake", "notify")
    clerk = logged_in(stack.url, "gulou@pilotwatch.example")
    assert clerk.get(stack.url + "/deliveries", timeout=10).status_code == 403
    assert clerk.post(stack.url + f"/deliveries/{delivery_id}/resend", timeout=10).status_code in (400, 403)

    supervisor = logged_in(stack.url, "supervisor@pilotwatch.example")
    page = supervisor.get(stack.url + "/deliveries", timeout=10)
    assert page.status_code == 200 and f'id="delivery-{delivery_id}"' in page.text
    assert "HTTP 400: bad request" in page.text and "投递记录" in page.text
    assert (
        supervisor.post(stack.url + f"/deliveries/{delivery_id}/resend", timeout=10).status_code == 400
    )  # no CSRF
    # resent from a filtered view, the supervisor comes back to that view
    view = f"status=failed&district={GULOU}&q=%E6%B5%8B%E8%AF%95"
    page = supervisor.get(stack.url + f"/deliveries?{view}", timeout=10)
    assert f'id="delivery-{delivery_id}"' in page.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    action = re.search(r'<form method="post" action="([^"]+/resend[^"]*)"', page.text).group(1)
    answer = supervisor.post(stack.url + unescape(action), data={"csrf_token": csrf}, timeout=10)
    assert answer.status_code == 200 and "重新发送" in answer.text
    assert answer.url == stack.url + f"/deliveries?{view}"
    wait_until(lambda: chat.to("/hook"), 30, "the resent message")
    wait_until(lambda: status_of(delivery_id) == "delivered", 30, "the delivery marked delivered")
    with db.transaction() as session:
        outcomes = session.scalars(
            select(DeliveryAttempt.outcome)
            .where(DeliveryAttempt.delivery_id == delivery_id)
            .order_by(DeliveryAttempt.id)
        ).all()
    assert outcomes == ["failed", "resend", "delivered"]
    assert chat.to("/hook")[0]["body"]["title"] == "【产改督导】测试"
