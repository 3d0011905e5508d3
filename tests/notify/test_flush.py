"""Grouping on the database: routing to the supervisors, mute windows, the digest, the CLI around them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from click.testing import CliRunner
from sqlalchemy import event, select

from ops.cli import cli
from services.notify import collect, flush
from shared import db, events
from shared.models import Alert, Delivery, Finding
from tests.support.chat import ChatServer
from tests.support.findings import add_channel, add_findings
from tests.support.reports import open_round

GULOU = "350102"
T0 = datetime(2030, 2, 9, 2, 0, tzinfo=UTC)


def opened_at(ids: list[int], now: datetime) -> None:
    with db.transaction() as session:
        collect.record_opened(
            session, events.envelope(district_code=GULOU, round_code=open_round(), finding_ids=ids), now
        )


def flushed(now: datetime) -> list[tuple[str, str, int]]:
    """The alerts a flush at `now` makes: (audience, kind, number of findings)."""
    with db.transaction() as session:  # what the flush task does: reminders and escalations due, then groups
        collect.record_due_by_time(session, now, collect.timing())
        session.flush()
        made = flush.flush(session, now, collect.timing())
        alerts = {session.get(Delivery, e.payload["delivery_id"]).alert_id for e in made}
        return sorted(
            (a.audience, a.kind, len(a.finding_ids))
            for a in session.scalars(select(Alert).where(Alert.id.in_(alerts)))
        )


def test_it_holds_muted_alerts_but_not_critical_ones_and_sends_them_when_the_window_ends(
    seeded: dict,
) -> None:
    round_code = open_round()
    add_channel("json://127.0.0.1:9/district", GULOU)
    add_channel("json://127.0.0.1:9/supervisors")
    result = CliRunner().invoke(
        cli,
        [
            "mutes",
            "add",
            "--district",
            GULOU,
            "--from",
            "2030-02-09",
            "--until",
            "2030-02-18",
            "--reason",
            "春节",
        ],
    )
    assert result.exit_code == 0, result.output
    opened_at(add_findings(GULOU, round_code, 3, severity="warning", opened=T0), T0)
    opened_at(add_findings(GULOU, round_code, 1, severity="critical", opened=T0), T0)
    assert flushed(T0 + timedelta(seconds=31)) == [("district", "opened", 1), ("supervisor", "opened", 1)]
    assert flushed(T0 + timedelta(days=3)) == []  # the warnings wait for the window's end
    # The critical finding, alerted at once, is also due for its weekly reminder by then.
    assert flushed(datetime(2030, 2, 18, 0, 1, tzinfo=UTC)) == [
        ("district", "opened", 3),
        ("district", "reminder", 1),
    ]


def test_it_sends_info_findings_in_the_daily_digest(seeded: dict) -> None:
    add_channel("json://127.0.0.1:9/district", GULOU)
    opened_at(add_findings(GULOU, open_round(), 2, severity="info"), T0)
    assert flushed(T0 + timedelta(hours=1)) == []
    assert flushed(T0 + timedelta(days=1)) == [("district", "digest", 2)]
    assert flushed(T0 + timedelta(days=1, hours=1)) == []


def test_it_tests_a_channel_from_the_command_line(seeded: dict) -> None:
    server = ChatServer(script={"/refused": [(400, {})]})
    try:
        good = CliRunner().invoke(cli, ["channels", "test", f"json://127.0.0.1:{server.port}/ok"])
        assert good.exit_code == 0 and "已送达 / delivered" in good.output
        bad = CliRunner().invoke(cli, ["channels", "test", f"json://127.0.0.1:{server.port}/refused"])
        assert (
            bad.exit_code == 1 and "永久失败 / permanent failure" in bad.output and "HTTP 400" in bad.output
        )
        assert server.to("/ok")[0]["body"]["title"] == "【产改督导】测试消息"
    finally:
        server.close()


def test_a_flush_reads_only_the_findings_whose_reminder_or_escalation_may_be_due(seeded: dict) -> None:
    """A flush runs every few seconds: the alerted findings with nothing due are not read at all."""
    round_code = open_round()
    quiet = add_findings(GULOU, round_code, 3, opened=T0, due=(T0 + timedelta(days=30)).date())
    overdue = add_findings(
        GULOU, round_code, 1, opened=T0 - timedelta(days=40), due=(T0 - timedelta(days=10)).date()
    )
    opened_at(quiet, T0)
    opened_at(overdue, T0 - timedelta(days=40))
    read: list[int] = []

    def loaded(target: Finding, context: object) -> None:
        read.append(target.id)

    event.listen(Finding, "load", loaded)
    try:
        with db.transaction() as session:
            added = collect.record_due_by_time(session, T0 + timedelta(hours=1), collect.timing())
    finally:
        event.remove(Finding, "load", loaded)
    assert read == overdue
    # its escalation to the supervisors; the district's reminder waits while its first alert does
    assert added == 1
