"""What the fault tests share: bursts of reports, the findings the rules should give, the end-of-run
counts, a database held busy, and an SMTP server that holds a message half-sent."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import func, select

from shared import db
from shared.catalogue import Catalogue
from shared.history import history
from shared.judging import judge
from shared.models import Alert, Channel, Delivery, Evaluation, Finding, PilotUnit, Round, Submission
from tests.support.processes import json_request
from tests.support.reports import problem_report
from tests.support.sinks import HttpSink, SmtpSink

GULOU = "350102"


def units_of(district: str, count: int) -> list[str]:
    with db.transaction() as session:
        return list(
            session.scalars(
                select(PilotUnit.credit_code)
                .where(PilotUnit.district_code == district)
                .order_by(PilotUnit.id)
                .limit(count)
            )
        )


def submit(url: str, token: str, report: dict[str, Any], key: str | None = None) -> tuple[int, Any, float]:
    """POST one report; return the status, the body and how long the answer took."""
    started = time.monotonic()
    headers = {"Idempotency-Key": key} if key else None
    status, body = json_request("POST", url + "/api/v1/submissions", report, token=token, headers=headers)
    return status, body, time.monotonic() - started


def burst(url: str, token: str, catalogue: Catalogue, units: list[str], round_code: str) -> list[str]:
    """One problem report per unit; every one must be accepted within 2 s. Returns the submission ids."""
    ids = []
    for unit in units:
        status, body, took = submit(url, token, problem_report(catalogue, unit, round_code))
        assert status == 202, body
        assert took < 2, f"the answer took {took:.2f} s"
        ids.append(body["id"])
    return ids


def counts() -> dict[str, int]:
    with db.transaction() as session:
        return {
            name: session.scalar(select(func.count()).select_from(model)) or 0
            for name, model in (
                ("submissions", Submission),
                ("evaluations", Evaluation),
                ("alerts", Alert),
                ("deliveries", Delivery),
            )
        }


def evaluated(ids: list[str]) -> int:
    with db.transaction() as session:
        return (
            session.scalar(
                select(func.count()).select_from(Evaluation).where(Evaluation.submission_id.in_(ids))
            )
            or 0
        )


def expected_findings(catalogue: Catalogue, units: list[str], round_code: str) -> dict[str, list[str]]:
    """Per unit, the rules its latest report breaks, as the rule engine judges it in this process."""
    out: dict[str, list[str]] = {}
    with db.transaction() as session:
        round_ = session.get(Round, round_code)
        assert round_ is not None
        for unit in units:
            latest = session.scalars(
                select(Submission)
                .join(PilotUnit)
                .where(PilotUnit.credit_code == unit, Submission.round_code == round_code)
                .order_by(Submission.version.desc())
                .limit(1)
            ).one()
            past = history(session, round_, [latest.unit_id]).get(latest.unit_id, ())
            out[unit] = sorted(v.rule_code for v in judge(catalogue, latest, round_, past)[1].violations)
    return out


def active_findings(units: list[str]) -> dict[str, list[str]]:
    """Per unit, the rules of its active findings (a list: a doubled finding shows twice)."""
    with db.transaction() as session:
        rows = session.execute(
            select(PilotUnit.credit_code, Finding.rule_code)
            .join(Finding.unit)
            .where(Finding.active.is_(True), PilotUnit.credit_code.in_(units))
        ).all()
    out: dict[str, list[str]] = {unit: [] for unit in units}
    for unit, rule in rows:
        out[unit].append(rule)
    return {unit: sorted(rules) for unit, rules in out.items()}


def alerted_findings(channel_url: str) -> Counter[int]:
    """How many delivered alerts of this channel carried each finding."""
    with db.transaction() as session:
        channel = session.scalars(select(Channel).where(Channel.url == channel_url)).one()
        alerts = session.scalars(
            select(Alert)
            .join(Delivery, Delivery.alert_id == Alert.id)
            .where(Delivery.channel_id == channel.id, Delivery.status == "delivered", Alert.kind == "opened")
        ).all()
        return Counter(fid for alert in alerts for fid in alert.finding_ids)


def delivered(channel_url: str) -> int:
    with db.transaction() as session:
        channel = session.scalars(select(Channel).where(Channel.url == channel_url)).one()
        return (
            session.scalar(
                select(func.count())
                .select_from(Delivery)
                .where(Delivery.channel_id == channel.id, Delivery.status == "delivered")
            )
            or 0
        )


def finding_ids(units: list[str]) -> set[int]:
    with db.transaction() as session:
        return set(
            session.scalars(
                select(Finding.id)
                .join(Finding.unit)
                .where(PilotUnit.credit_code.in_(units), Finding.severity != "info")
            )
        )


def messages_naming(texts: list[str], unit: str) -> int:
    return sum(1 for text in texts if unit in text)


def assert_each_unit_alerted_once(smtp: SmtpSink, hook: HttpSink, units: list[str]) -> None:
    """Each unit in exactly one message on each channel; every server-side message is a delivered delivery."""
    smtp_texts = smtp.texts()
    hook_texts = [str(body) for body in hook.delivered()]
    for unit in units:
        assert messages_naming(smtp_texts, unit) == 1, f"{unit} in {messages_naming(smtp_texts, unit)} emails"
        assert messages_naming(hook_texts, unit) == 1, f"{unit} in {messages_naming(hook_texts, unit)} posts"
    assert len(smtp.messages) == delivered(smtp.url())
    assert len(hook.delivered()) == delivered(hook.url())
    for url in (smtp.url(), hook.url()):
        carried = alerted_findings(url)
        assert set(carried) == finding_ids(units), (sorted(carried), sorted(finding_ids(units)))
        assert set(carried.values()) == {1}, f"a finding alerted twice on {url.split(':')[0]}"


def add_channels(district: str, *urls: str) -> None:
    with db.transaction() as session:
        for url in urls:
            session.add(Channel(district_code=district, kind=url.split("://")[0], url=url))


@contextmanager
def database_held(database_url: str) -> Iterator[None]:
    """Hold SQLite's write lock: every writer waits (busy timeout) until the block ends."""
    connection = sqlite3.connect(database_url.split("///", 1)[1], timeout=30, isolation_level=None)
    try:
        connection.execute("BEGIN IMMEDIATE")
        yield
        connection.execute("ROLLBACK")
    finally:
        connection.close()


class HeldSmtpSink(SmtpSink):
    """An SMTP server that holds each recipient command until `release()`: the sender is mid-send."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()
        self.arrived = threading.Event()
        sink = self
        handler = self.controller.handler

        async def handle_rcpt(
            server: Any,
            session: Any,
            envelope: Any,
            address: str,  # noqa: ANN401
            rcpt_options: list[str],
        ) -> str:
            sink.arrived.set()
            await asyncio.get_running_loop().run_in_executor(None, sink.gate.wait, 60)
            envelope.rcpt_tos.append(address)
            return "250 OK"

        handler.handle_RCPT = handle_rcpt

    def release(self) -> None:
        self.gate.set()
