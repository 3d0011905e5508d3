"""Finding things at 428 units in a real browser: a supervisor signs in, lands on the dashboard, follows a
district's 未报送 number to exactly that district's unsubmitted units, pages through them and finds one by
name; the ledger, the delivery log, the sheets and the admin pages fit a 1366 px screen and a 390 px
phone without scrolling sideways."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from ops import demo_activity
from shared import db
from shared.models import Alert, Channel, Delivery, DeliveryAttempt, PilotUnit
from tests.e2e.browser import log_in, needs_chromium, overflow, shoot
from tests.support.findings import raise_findings
from tests.support.processes import Stack
from tests.support.reports import open_round

pytestmark = [pytest.mark.e2e, needs_chromium]
CANGSHAN = "350104"  # 仓山区: 59 units, two pages
DESKTOP = {"viewport": {"width": 1366, "height": 900}, "locale": "zh-CN"}
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "locale": "zh-CN",
}
WECOM = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"


def deliveries_with_long_targets(count: int) -> None:
    """Deliveries whose target and mail-server answers are long, as the real log has them."""
    with db.transaction() as session:
        channel = Channel(district_code=CANGSHAN, kind="wecombot", url=WECOM)
        session.add(channel)
        session.flush()
        for n in range(count):
            alert = Alert(
                source_event_id=f"browser-{n}",
                district_code=CANGSHAN,
                round_code=open_round(),
                finding_ids=[],
                subject=f"【产改督导】仓山区新增 {n + 1} 个问题，请于整改期限前处理",
                content={},
            )
            session.add(alert)
            session.flush()
            delivery = Delivery(
                alert_id=alert.id,
                channel_id=channel.id,
                target=WECOM,
                status="failed",
                attempts=1,
                last_error="HTTP 400: "
                + "errcode=93000 invalid webhook url, hint: [1701234567_abcdefghijklmnop]",
            )
            session.add(delivery)
            session.flush()
            session.add(
                DeliveryAttempt(delivery_id=delivery.id, outcome="failed", detail=delivery.last_error)
            )


def unsubmitted(district: str) -> set[str]:
    with db.transaction() as session:
        return set(
            session.scalars(
                select(PilotUnit.credit_code).where(
                    PilotUnit.district_code == district, PilotUnit.active.is_(True)
                )
            )
        )


def listed(page: Any) -> list[str]:
    return page.eval_on_selector_all("#units tr[data-unit]", "rows => rows.map(r => r.dataset.unit)")


def test_it_takes_a_supervisor_from_the_dashboard_to_a_districts_missing_units(
    stack: Stack, browser: Any
) -> None:
    stack.start("intake")
    page = browser.new_page(**DESKTOP)
    log_in(page, stack.url, "supervisor@pilotwatch.example")
    assert page.url.endswith("/dashboard")
    assert page.locator("#index-panel").count() == 1

    page.click(f'#league tr[data-district="{CANGSHAN}"] a.chase-unreported')
    page.wait_for_selector("#units")
    assert page.locator("nav.pager").get_attribute("data-total") == str(len(unsubmitted(CANGSHAN)))
    first = listed(page)
    assert len(first) == 50
    page.click("nav.pager a[rel=next]")
    page.wait_for_url(lambda url: "page=2" in url)
    second = listed(page)
    assert set(first) | set(second) == unsubmitted(CANGSHAN) and not set(first) & set(second)
    assert "state=unreported" in page.url and f"district={CANGSHAN}" in page.url

    name = page.locator("#units tr[data-unit] td.unit-name").first.inner_text()
    page.fill("#q", name)
    page.click("form.filters button[type=submit]")
    page.wait_for_url(lambda url: "q=" in url)
    assert [page.locator("#units tr[data-unit] td.unit-name").inner_text()] == [name]


def test_it_keeps_the_lists_inside_the_window_on_a_desktop_and_a_phone(stack: Stack, browser: Any) -> None:
    with db.transaction() as session:
        demo_activity.load(session)  # every page filled, as `pilotwatch demo load` leaves it
    raise_findings(open_round(), 120)
    deliveries_with_long_targets(60)
    stack.start("intake")
    wide: list[str] = []
    for size, options in (("1366", DESKTOP), ("390", PHONE)):
        supervisor = browser.new_page(**options)
        log_in(supervisor, stack.url, "supervisor@pilotwatch.example")
        shoot(supervisor, f"dashboard-{size}", full_page=size == "1366")
        for path in ("/findings", "/deliveries", "/sheets/", "/dashboard", "/"):
            supervisor.goto(stack.url + path)
            if overflow(supervisor) > 0:
                wide.append(f"{path} at {size}px: {overflow(supervisor)}px too wide")
        supervisor.goto(stack.url + "/findings")
        narrowest = supervisor.eval_on_selector_all(
            "#ledger td.unit-name", "cells => Math.min(...cells.map(c => c.getBoundingClientRect().width))"
        )
        assert narrowest >= 150, f"the unit's name is squeezed to {narrowest}px at {size}px"
        menu = supervisor.eval_on_selector_all(
            "header nav a", "links => links.map(a => a.getClientRects().length)"
        )
        assert all(lines == 1 for lines in menu), "a menu item breaks over two lines"
        shoot(supervisor, f"ledger-{size}", full_page=size == "1366")
        admin = browser.new_page(**options)
        log_in(admin, stack.url, "admin@pilotwatch.example")
        for path in ("/admin/", "/admin/?q=福州", "/sheets/"):
            admin.goto(stack.url + path)
            if overflow(admin) > 0:
                wide.append(f"{path} (admin) at {size}px: {overflow(admin)}px too wide")
    assert not wide, "\n".join(wide)
