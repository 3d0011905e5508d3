"""Channels from the administration page and the CLI: internal addresses refused in production with
the reason, allowed by the setting; a used channel is disabled instead of deleted; channels are
enabled and disabled; a channel that cannot be loaded shows as broken."""

from __future__ import annotations

from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from ops.cli import cli
from shared import config, db
from shared.models import Alert, AuditEvent, Channel, Delivery

GULOU = "350102"
INTERNAL = ["json://127.0.0.1:6379/", "json://localhost:6379/", "jsons://169.254.169.254/latest/meta-data"]


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture
def production(seeded: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PILOTWATCH_ENV", "production")
    config.reset()


def channels() -> list[Channel]:
    with db.transaction() as session:
        found = list(session.scalars(select(Channel).order_by(Channel.id)))
        session.expunge_all()
        return found


def used_channel(url: str = "json://hooks.example.org/pilotwatch") -> int:
    """A channel with one delivery in its log."""
    with db.transaction() as session:
        channel = Channel(district_code=GULOU, kind=url.split("://")[0], url=url)
        alert = Alert(source_event_id="e-1", district_code=GULOU, round_code="x", finding_ids=[], subject="s")
        session.add_all([channel, alert])
        session.flush()
        session.add(Delivery(alert_id=alert.id, channel_id=channel.id, target="x", status="delivered"))
        return channel.id


@pytest.mark.parametrize("url", INTERNAL)
def test_it_refuses_an_internal_channel_from_the_cli_in_production_saying_why(
    production: None, url: str
) -> None:
    result = CliRunner().invoke(cli, ["channels", "add", "--district", GULOU, url])
    assert result.exit_code == 1
    assert "CHANNEL_ALLOWED_INTERNAL" in result.output and (
        "本机回环地址" in result.output or "链路本地地址" in result.output
    )
    assert channels() == []


def test_it_refuses_an_internal_channel_on_the_admin_page_in_production(production: None, auth: Any) -> None:
    admin = auth.sign_in("admin")
    answer = admin.post(
        "/admin/channels",
        data={"csrf_token": admin.csrf, "url": INTERNAL[0], "district": GULOU},
        follow_redirects=True,
    )
    assert "CHANNEL_ALLOWED_INTERNAL" in answer.get_data(as_text=True)
    assert channels() == []


def test_it_takes_an_internal_channel_that_the_setting_allows(
    production: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHANNEL_ALLOWED_INTERNAL", "127.0.0.0/8")
    config.reset()
    assert run("channels", "add", "--district", GULOU, INTERNAL[0]).exit_code == 0
    assert [c.url for c in channels()] == [INTERNAL[0]]


def test_it_takes_a_loopback_channel_in_development(
    seeded: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PILOTWATCH_ENV", "development")
    config.reset()
    url = "mailto://127.0.0.1:8025?smtp=127.0.0.1&from=pw@localhost&to=clerk@localhost&mode=insecure"
    assert run("channels", "add", "--district", GULOU, url).exit_code == 0


def test_it_disables_a_used_channel_instead_of_deleting_it_from_the_page(auth: Any) -> None:
    channel_id = used_channel()
    admin = auth.sign_in("admin")
    answer = admin.post(f"/admin/channels/{channel_id}/delete", data={"csrf_token": admin.csrf})
    assert answer.status_code == 302
    (kept,) = channels()
    assert kept.id == channel_id and not kept.enabled
    with db.transaction() as session:
        assert (
            session.scalar(select(AuditEvent.action).order_by(AuditEvent.id.desc()).limit(1))
            == "channel.disable"
        )


def test_it_disables_a_used_channel_instead_of_deleting_it_from_the_cli(seeded: dict[str, str]) -> None:
    channel_id = used_channel()
    result = run("channels", "remove", str(channel_id))
    assert result.exit_code == 0 and "disabled" in result.output
    assert not channels()[0].enabled
    assert "disabled" in run("channels", "list").output


def test_it_enables_and_disables_a_channel_from_the_page_and_the_cli(auth: Any) -> None:
    channel_id = used_channel()
    assert run("channels", "disable", str(channel_id)).exit_code == 0
    assert not channels()[0].enabled
    assert run("channels", "enable", str(channel_id)).exit_code == 0
    assert channels()[0].enabled
    admin = auth.sign_in("admin")
    admin.post(f"/admin/channels/{channel_id}/enabled", data={"csrf_token": admin.csrf, "enabled": "0"})
    assert not channels()[0].enabled
    page = admin.get("/admin/").get_data(as_text=True)
    assert "已停用" in page


def test_it_shows_a_channel_that_cannot_be_loaded_as_broken(auth: Any) -> None:
    with db.transaction() as session:
        session.add(Channel(district_code=GULOU, kind="wecombot", url="wecombot://key!!BROKEN"))
    page = auth.sign_in("admin").get("/admin/").get_data(as_text=True)
    assert "无法发送" in page and "不是有效的通知渠道地址" in page
    assert "BROKEN" not in page
    listing = run("channels", "list").output
    assert "broken" in listing and "BROKEN" not in listing


def test_it_shows_a_channel_whose_last_delivery_failed_for_good_as_broken(auth: Any) -> None:
    channel_id = used_channel("json://hooks.example.org/other")
    with db.transaction() as session:
        delivery = session.scalars(select(Delivery).where(Delivery.channel_id == channel_id)).one()
        delivery.status, delivery.last_error = "failed", "127.0.0.1 is a loopback address"
    page = auth.sign_in("admin").get("/admin/").get_data(as_text=True)
    assert "无法发送" in page and "127.0.0.1 is a loopback address" in page
