"""A district clerk and a supervisor at work in a real browser against the real stack."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path
from typing import Any

import pytest

from shared.catalogue import Catalogue
from tests.e2e.browser import log_in, needs_chromium, shoot
from tests.support.processes import Stack
from tests.support.reports import open_round, problem_report, unit_of

pytestmark = [pytest.mark.e2e, needs_chromium]
GULOU = "350102"


def png_file(path: Path) -> Path:
    """A real (tiny) PNG picture, as a phone camera would give a proof of rectification."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * 8 for _ in range(8))
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 8, 8, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )
    return path


def fill_report(page: Any, report: dict[str, Any]) -> None:
    for code, entry in report["measures"].items():
        page.check(f'input[name="m.{code}.status"][value="{entry["status"]}"]')
        page.fill(f'textarea[name="m.{code}.note"]', entry["note"])
    for code, value in report["indicators"].items():
        if isinstance(value, bool):
            page.check(f'input[name="i.{code}"][value="{"true" if value else "false"}"]')
        else:
            page.fill(f'input[name="i.{code}"]', str(value))


def clerk_reports_and_answers(page: Any, base: str, catalogue: Catalogue, tmp_path: Path) -> str:
    unit, round_code = unit_of(GULOU), open_round()
    log_in(page, base, "gulou@pilotwatch.example")
    shoot(page, "district-home")
    page.goto(f"{base}/submissions/new?unit={unit}&round={round_code}")
    report = problem_report(catalogue, unit, round_code)
    report["indicators"].update(proposals_adopted=4)  # a shortfall to rectify, no typing slip
    fill_report(page, dict(report, indicators=dict(report["indicators"], payroll_total=-5)))
    page.click("button[value=submit]")
    message = page.locator('.field:has(input[name="i.payroll_total"]) .error')
    assert "不能为负数" in message.inner_text()
    message.scroll_into_view_if_needed()
    shoot(page, "report-form-error", full_page=False)
    page.fill('input[name="i.payroll_total"]', "1000")
    page.click("button[value=submit]")
    # The shortfall is shown before submitting; the clerk confirms the figures are right.
    assert "职工教育经费提取额" in page.inner_text("#warning-summary")
    page.check("#confirm")
    page.click("button[value=submit]")
    page.wait_for_selector("#findings", timeout=30_000)  # the page refreshes itself until evaluated
    assert "职工教育经费提取额" in page.inner_text("#findings")
    shoot(page, "submission-evaluated")
    page.click("#findings a >> nth=0")
    finding_url = page.url
    page.fill("#comment-acknowledge", "已收到，正在组织整改")
    page.click("#form-acknowledge button")
    assert page.inner_text("#status") == "已确认"
    page.fill("#comment-report_rectification", "已按 1.5% 补提职工教育经费，附财务凭证")
    page.set_input_files("#proof", str(png_file(tmp_path / "凭证.png")))
    page.click("#form-report_rectification button")
    assert page.inner_text("#status") == "整改待核实"
    assert "凭证.png" in page.inner_text("#proofs")
    return finding_url


def test_it_takes_a_clerk_from_a_mistake_to_an_answered_finding_and_a_supervisor_to_closing_it(
    stack: Stack, catalogue: Catalogue, browser: Any, tmp_path: Path
) -> None:  # noqa: F811
    stack.start("intake", "evaluation")
    clerk = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    finding_url = clerk_reports_and_answers(clerk, stack.url, catalogue, tmp_path)
    phone = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True)
    log_in(phone, stack.url, "gulou@pilotwatch.example")
    shoot(phone, "district-home-phone", full_page=False)

    supervisor = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    log_in(supervisor, stack.url, "supervisor@pilotwatch.example")
    supervisor.goto(stack.url + "/dashboard")
    row = supervisor.locator('#league tr[data-district="350102"]')
    assert "鼓楼区" in row.inner_text()
    assert "鼓楼区" in supervisor.locator("#chart-index svg").text_content()
    shoot(supervisor, "supervisor-dashboard")
    supervisor.goto(stack.url + "/findings?district=350102")
    shoot(supervisor, "problem-ledger")
    supervisor.goto(finding_url)
    supervisor.fill("#comment-close", "凭证齐全，核实无误")
    supervisor.click("#form-close button")
    assert supervisor.inner_text("#status") == "已销号"
    history = supervisor.inner_text("#history")
    for step in (
        "确认问题",
        "报告整改",
        "核实并销号",
        "gulou@pilotwatch.example",
        "supervisor@pilotwatch.example",
    ):
        assert step in history
    shoot(supervisor, "finding-closed")
