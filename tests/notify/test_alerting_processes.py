"""Alerts through real processes: the notify worker and the scheduler on a real Redis, with a
controlled clock, a real SMTP server and an HTTP server playing the webhooks and chat robots."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from shared import clock, db, tasks
from shared.models import Alert, AlertItem, Delivery, DeliveryAttempt, Finding
from tests.support.chat import ChatServer
from tests.support.findings import add_channel, add_findings, announce, opened
from tests.support.processes import Stack, wait_until
from tests.support.reports import open_round
from tests.support.sinks import SmtpSink

pytestmark = pytest.mark.e2e
GULOU, TAIJIANG, CANGSHAN = "350102", "350103", "350104"
T0 = datetime(2030, 3, 1, 2, 0, tzinfo=UTC)


@pytest.fixture
def chat() -> Iterator[ChatServer]:
    server = ChatServer(dingtalk_secret="SECgood123")
    yield server
    server.close()


@pytest.fixture
def clock_file(tmp_path: Path) -> Path:
    path = tmp_path / "clock"
    clock.set_now(path, T0)
    return path


def stack_with(seeded: dict[str, str], tmp_path: Path, chat: ChatServer, **extra: str) -> Stack:
    env = dict(
        seeded,
        WECOM_BASE_URL=chat.base_url,
        DINGTALK_BASE_URL=chat.base_url,
        FEISHU_BASE_URL=chat.base_url,
        **extra,
    )
    return Stack(env, tmp_path)


def count(model: type, *where: object) -> int:
    with db.transaction() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def hook(chat: ChatServer, path: str) -> str:
    return f"json://127.0.0.1:{chat.port}{path}"


def test_it_groups_ten_findings_of_three_districts_into_three_alerts(
    seeded: dict[str, str], tmp_path: Path, chat: ChatServer, clock_file: Path
) -> None:
    round_code = open_round()
    for district in (GULOU, TAIJIANG, CANGSHAN):
        add_channel(hook(chat, f"/{district}"), district)
    made = {
        GULOU: add_findings(GULOU, round_code, 4, opened=T0),
        TAIJIANG: add_findings(TAIJIANG, round_code, 3, opened=T0),
        CANGSHAN: add_findings(CANGSHAN, round_code, 3, opened=T0),
    }
    stack = stack_with(seeded, tmp_path, chat, PILOTWATCH_CLOCK_FILE=str(clock_file))
    try:
        stack.start("notify", "beat")
        for district, ids in made.items():
            for finding_id in ids:  # one event per finding, as ten separate evaluations would send
                opened(district, round_code, [finding_id])
        wait_until(lambda: count(AlertItem) == 10, 30, "the ten findings recorded")
        assert chat.requests == []  # still within group_wait
        clock.set_now(clock_file, T0 + timedelta(seconds=5))
        wait_until(lambda: len(chat.requests) == 3, 30, "three alerts")
        time.sleep(2)  # a fourth alert would arrive within this window
        assert len(chat.requests) == 3 and count(Alert) == 3
        for district, ids in made.items():
            (sent,) = chat.to(f"/{district}")
            assert sorted(f["id"] for f in sent["body"]["findings"]) == ids
            assert sent["body"]["district"] == district and f"发现 {len(ids)} 个问题" in sent["body"]["title"]
    finally:
        stack.stop()


def test_it_escalates_reminds_and_then_sends_only_the_resolved_notice(
    seeded: dict[str, str], tmp_path: Path, chat: ChatServer, clock_file: Path
) -> None:
    round_code = open_round()
    add_channel(hook(chat, "/district"), GULOU)
    add_channel(hook(chat, "/supervisors"))
    ids = add_findings(GULOU, round_code, 2, due=(T0 + timedelta(days=30)).date(), opened=T0)
    stack = stack_with(seeded, tmp_path, chat, PILOTWATCH_CLOCK_FILE=str(clock_file))
    kinds = lambda path: [r["body"]["kind"] for r in chat.to(path)]  # noqa: E731
    try:
        stack.start("notify", "beat")
        opened(GULOU, round_code, ids)
        wait_until(lambda: count(AlertItem) == 2, 30, "the findings recorded")
        clock.set_now(clock_file, T0 + timedelta(seconds=5))
        wait_until(lambda: kinds("/district") == ["opened"], 30, "the first alert")
        assert kinds("/supervisors") == []  # warnings go to the district only

        clock.set_now(clock_file, T0 + timedelta(days=7, hours=1))
        wait_until(
            lambda: kinds("/district") == ["opened", "reminder"], 30, "a reminder after repeat_interval"
        )
        assert kinds("/supervisors") == []  # the deadline has not passed

        with db.transaction() as session:  # acknowledged but not rectified: still escalates
            session.execute(update(Finding).where(Finding.id == ids[0]).values(status="acknowledged"))
        clock.set_now(clock_file, T0 + timedelta(days=31, hours=2))
        wait_until(lambda: kinds("/supervisors") == ["escalation"], 30, "the escalation past the deadline")
        escalation = chat.to("/supervisors")[0]["body"]
        assert sorted(f["id"] for f in escalation["findings"]) == ids
        assert {f["age_days"] for f in escalation["findings"]} == {31} and escalation["district"] == GULOU
        assert "鼓楼区" in escalation["title"] and "超过整改期限" in escalation["title"]
        wait_until(
            lambda: kinds("/district") == ["opened", "reminder", "reminder"], 30, "the second reminder"
        )

        with db.transaction() as session:
            session.execute(
                update(Finding).where(Finding.id.in_(ids)).values(status="resolved", active=False)
            )
        announce(tasks.NOTIFY_FINDINGS_RESOLVED, district_code=GULOU, round_code=round_code, finding_ids=ids)
        wait_until(lambda: count(AlertItem, AlertItem.kind == "resolved") == 4, 30, "the resolution recorded")
        clock.set_now(clock_file, T0 + timedelta(days=31, hours=3))
        wait_until(
            lambda: kinds("/district")[-1:] == ["resolved"] and kinds("/supervisors")[-1:] == ["resolved"],
            30,
            "the resolved notices",
        )
        clock.set_now(clock_file, T0 + timedelta(days=60))
        time.sleep(2)  # a reminder or escalation would go out within this window
        assert kinds("/district") == ["opened", "reminder", "reminder", "resolved"]
        assert kinds("/supervisors") == ["escalation", "resolved"]
    finally:
        stack.stop()


def test_it_retries_temporary_failures_records_permanent_ones_and_keeps_channels_apart(
    seeded: dict[str, str], tmp_path: Path
) -> None:
    chat = ChatServer(
        dingtalk_secret="SECgood123",
        script={"/flaky": [(500, {}), (500, {})], "/refused": [(400, {"error": "bad request"})]},
    )
    smtp = SmtpSink(replies=["451 4.3.0 try again later"])
    round_code = open_round()
    urls = {
        "email": smtp.url("gulou@example.org"),
        "flaky": hook(chat, "/flaky"),
        "refused": hook(chat, "/refused"),
        "dingtalk_good": "dingtalk://SECgood123@tok123",
        "dingtalk_bad": "dingtalk://SECbad456@tok456",
        "wecom": "wecombot://key789",
        "feishu": "feishu://tokfeishu1",
    }
    for url in urls.values():
        add_channel(url, GULOU)
    stack = stack_with(seeded, tmp_path, chat)
    try:
        stack.start("notify", "beat")
        opened(GULOU, round_code, add_findings(GULOU, round_code, 2, opened=T0))
        wait_until(
            lambda: count(Delivery, Delivery.status.in_(("delivered", "failed", "dead"))) == len(urls),
            60,
            "every delivery settled",
        )
        time.sleep(1)  # a stray retry would arrive within this window
        with db.transaction() as session:
            status = {
                d.channel.url: (d.status, d.attempts, d.last_error) for d in session.scalars(select(Delivery))
            }
            outcomes = {
                d.channel.url: [
                    a.outcome
                    for a in session.scalars(
                        select(DeliveryAttempt)
                        .where(DeliveryAttempt.delivery_id == d.id)
                        .order_by(DeliveryAttempt.id)
                    )
                ]
                for d in session.scalars(select(Delivery))
            }
        assert len(smtp.messages) == 1 and outcomes[urls["email"]] == ["retrying", "delivered"]
        assert len(chat.accepted("/flaky")) == 1 and outcomes[urls["flaky"]] == [
            "retrying",
            "retrying",
            "delivered",
        ]
        assert len(chat.to("/refused")) == 1 and status[urls["refused"]][:2] == ("failed", 1)
        assert "HTTP 400" in status[urls["refused"]][2]
        assert (
            status[urls["dingtalk_bad"]][:2] == ("failed", 1) and "310000" in status[urls["dingtalk_bad"]][2]
        )
        for name in ("dingtalk_good", "wecom", "feishu"):
            assert status[urls[name]][:2] == ("delivered", 1), name
        robots = {
            r["path"]: r for r in chat.requests if r["status"] == 200 and not r["answer"].get("errcode")
        }
        assert robots["/robot/send"]["query"]["access_token"] == ["tok123"]
        assert robots["/robot/send"]["body"]["msgtype"] == "markdown"
        assert robots["/cgi-bin/webhook/send"]["query"]["key"] == ["key789"]
        assert "职工教育经费" in robots["/cgi-bin/webhook/send"]["body"]["markdown"]["content"]
        assert robots["/open-apis/bot/v2/hook/tokfeishu1"]["body"]["msg_type"] == "interactive"
    finally:
        stack.stop()
        smtp.close()
        chat.close()


def test_it_delivers_every_alert_after_a_notify_worker_is_killed_mid_send(
    seeded: dict[str, str], tmp_path: Path, chat: ChatServer
) -> None:
    round_code = open_round()
    add_channel(hook(chat, "/slow"), GULOU)
    add_channel(hook(chat, "/after"), GULOU)
    stack = stack_with(seeded, tmp_path, chat, DELIVERY_STALE_AFTER="2")
    try:
        stack.start("notify", "beat")
        chat.gate.clear()  # hold the first request open: the worker is in the middle of sending
        opened(GULOU, round_code, add_findings(GULOU, round_code, 2, opened=T0))
        assert chat.arrived.wait(30), "the first delivery never started"
        stack.services["notify"].kill()
        chat.gate.set()
        stack.start("notify")
        wait_until(
            lambda: count(Delivery, Delivery.status == "delivered") == 2, 60, "both deliveries delivered"
        )
        time.sleep(1)
        assert len(chat.to("/after")) == 1
        # The killed request reached the server before the worker died; its outcome was unknown, so
        # it was sent again: the one duplicate the docs describe.
        assert len(chat.to("/slow")) == 2
        assert len({r["headers"]["Idempotency-Key"] for r in chat.to("/slow")}) == 1
        assert count(DeliveryAttempt, DeliveryAttempt.outcome == "interrupted") == 1
    finally:
        stack.stop()
