"""Every way out of the problem ledger, through the real intake, evaluation and notify processes: a
data error closed by a corrected report, a shortfall verified and closed, an explanation accepted and
one rejected, an extension granted and one refused, a problem raised by hand, a late report kept as a
record — each checked in the ledger, in the alerts a district's channel receives, and in the district
table that ranks the districts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from services.intake import analytics
from shared import clock, db
from shared.catalogue import Catalogue
from shared.models import Finding, Round
from tests.support.processes import Stack, json_request, wait_until
from tests.support.reports import clean_report, open_round, problem_report, unit_of
from tests.support.sinks import HttpSink
from tests.support.web import Browser

pytestmark = pytest.mark.e2e
GULOU = "350102"


@pytest.fixture
def hook() -> Iterator[HttpSink]:
    sink = HttpSink()
    yield sink
    sink.close()


def findings(unit: str) -> dict[str, Finding]:
    with db.transaction() as session:
        rows = session.scalars(select(Finding).join(Finding.unit).where(Finding.unit.has(credit_code=unit)))
        out = {f.rule_code: f for f in rows}
        for f in out.values():
            session.expunge(f)
        return out


def alerts(hook: HttpSink) -> list[tuple[str, set[int]]]:
    return [(body["kind"], {f["id"] for f in body["findings"]}) for body in hook.delivered()]


def alerted(hook: HttpSink, kind: str, finding_id: int) -> bool:
    return any(k == kind and finding_id in ids for k, ids in alerts(hook))


def submit(stack: Stack, token: str, report: dict[str, Any]) -> str:
    status, body = json_request("POST", stack.url + "/api/v1/submissions", report, token=token)
    assert status == 202, body
    sid = body["id"]
    wait_until(
        lambda: (
            json_request("GET", f"{stack.url}/api/v1/submissions/{sid}", token=token)[1].get("state")
            == "evaluated"
        ),
        30,
        "the evaluation",
    )
    return sid


def act(browser: Browser, finding: int, action: str, comment: str = "", **extra: str) -> None:
    answer = browser.post(f"/findings/{finding}/actions", {"action": action, "comment": comment, **extra})
    assert answer.status_code == 302, answer.text[:3000]


def test_it_takes_findings_through_every_way_out_of_the_ledger(
    seeded: dict[str, str], tokens: dict[str, str], catalogue: Catalogue, hook: HttpSink, tmp_path: Path
) -> None:
    from tests.support.findings import add_channel

    clock_file = tmp_path / "clock"
    stack = Stack(dict(seeded, PILOTWATCH_CLOCK_FILE=str(clock_file)), tmp_path)
    clock_file.write_text("")  # the real time until the late report
    add_channel(hook.url("/gulou"), GULOU)
    round_code, token = open_round(), tokens["gulou"]
    u1, u2, u3, u4, u5 = (unit_of(GULOU, i) for i in range(5))
    try:
        stack.start("intake", "evaluation", "notify", "beat")
        clerk, supervisor = Browser(stack.url, "gulou"), Browser(stack.url, "supervisor")

        # A data error closes itself when a corrected report comes; a shortfall waits for verification.
        submit(stack, token, problem_report(catalogue, u1, round_code))
        fund, proposals = findings(u1)["fund_extraction"], findings(u1)["proposals_adopted_within_submitted"]
        wait_until(
            lambda: alerted(hook, "opened", fund.id) and alerted(hook, "opened", proposals.id),
            30,
            "the alert",
        )
        submit(stack, token, clean_report(catalogue, u1, round_code))
        after = findings(u1)
        assert (after["proposals_adopted_within_submitted"].status, after["fund_extraction"].status) == (
            "resolved",
            "rectification_reported",
        )
        wait_until(
            lambda: alerted(hook, "resolved", proposals.id), 30, "the notice of the data error's resolution"
        )
        act(supervisor, fund.id, "close", "已核实提取凭证")
        assert findings(u1)["fund_extraction"].status == "closed"
        wait_until(lambda: alerted(hook, "resolved", fund.id), 30, "the notice of the verified closing")

        # 情况说明: one accepted (不适用), one rejected (退回, with the reason in the alert).
        submit(stack, token, problem_report(catalogue, u2, round_code))
        waived, rejected = findings(u2)["fund_extraction"], findings(u2)["proposals_adopted_within_submitted"]
        wait_until(lambda: alerted(hook, "opened", waived.id), 30, "the alert")
        act(clerk, waived.id, "explain", "本单位已按集团统一提取，凭证在集团")
        act(clerk, rejected.id, "explain", "数据无误")
        act(supervisor, waived.id, "accept_explanation", "情况属实")
        act(supervisor, rejected.id, "reject_explanation", "采纳数不可能超过提出数，请更正")
        assert (
            findings(u2)["fund_extraction"].status,
            findings(u2)["proposals_adopted_within_submitted"].status,
        ) == (
            "waived",
            "returned",
        )
        wait_until(lambda: alerted(hook, "resolved", waived.id), 30, "the notice of the waiver")
        wait_until(lambda: alerted(hook, "returned", rejected.id), 30, "the alert of the returned finding")
        returned_alert = next(b for b in hook.delivered() if b["kind"] == "returned")
        assert "采纳数不可能超过提出数，请更正" in returned_alert["message"]

        # 延期: one granted (the deadline moves), one refused.
        submit(stack, token, problem_report(catalogue, u3, round_code))
        granted, refused = findings(u3)["fund_extraction"], findings(u3)["proposals_adopted_within_submitted"]
        later = ((granted.due_date or clock.today()) + timedelta(days=20)).isoformat()
        act(clerk, granted.id, "request_extension", "待董事会批准预算", until=later)
        act(
            clerk,
            refused.id,
            "request_extension",
            "需要时间核对",
            until=(refused.due_date + timedelta(days=20)).isoformat(),
        )
        act(supervisor, granted.id, "approve_extension", "同意")
        act(supervisor, refused.id, "refuse_extension", "数据核对无需延期")
        assert findings(u3)["fund_extraction"].due_date.isoformat() == later
        wait_until(lambda: alerted(hook, "extended", granted.id), 30, "the notice of the extension")
        wait_until(lambda: alerted(hook, "extension_refused", refused.id), 30, "the notice of the refusal")

        # A problem raised by hand lives in the ledger and is alerted like any other.
        answer = supervisor.post(
            "/findings/raise",
            {
                "unit": u4,
                "severity": "warning",
                "description": "走访发现厂务公开栏未更新",
                "requirement": "更新后上传照片",
            },
        )
        assert answer.status_code == 302, answer.text[:2000]
        raised = findings(u4)["manual"]
        wait_until(lambda: alerted(hook, "opened", raised.id), 30, "the alert of the raised problem")

        # A late report is a record: no deadline, no alert, not an open problem.
        with db.transaction() as session:
            due = session.get(Round, round_code).due_date
        clock.set_now(clock_file, datetime(due.year, due.month, due.day, 9, tzinfo=UTC) + timedelta(days=2))
        submit(stack, token, clean_report(catalogue, u5, round_code))
        clock_file.write_text("")
        late = findings(u5)["late_report"]
        assert (late.status, late.due_date, late.active) == ("recorded", None, True)
        shown = clerk.http.get(f"{stack.url}/findings", timeout=10).text
        assert "走访发现厂务公开栏未更新" in shown and f'/findings/{late.id}"' not in shown

        # The district table: closed and cleared count as rectified; the waived and the record do not count.
        with db.transaction() as session:
            row = analytics.district_row(session, round_code, GULOU)
        assert row is not None
        # 6 problems: u1's two rectified; u2's returned one, u3's two and u4's raised one still open.
        assert row.rectification_rate == pytest.approx(2 / 6, abs=1e-4)
        assert row.open_findings_per_unit == pytest.approx(4 / row.units, abs=1e-4)
        assert not any(late.id in ids for _kind, ids in alerts(hook))
    except BaseException:
        print(stack.logs())
        print(json.dumps(hook.delivered(), ensure_ascii=False)[:4000])
        raise
    finally:
        stack.stop()
