"""The problem ledger's pages: who may act on a finding, from which state; the ways out a real office
uses (情况说明, 延期, 退回); problems raised by hand; traffic lights; no typed text lost; no forked history."""

from __future__ import annotations

import io
import threading
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from shared import clock, db, ledger, tasks
from shared.models import AuditEvent, Finding, OutboxEvent, StoredFile, User
from tests.support.processes import Stack
from tests.support.reports import unit_of
from tests.support.web import PNG, Browser, add_report

GULOU = "350102"


def act(
    client: Any,
    finding: int,
    action: str,
    comment: str = "",
    proof: bytes | None = None,
    version: int | None = None,
    **extra: str,
) -> Any:
    data: dict[str, Any] = {"csrf_token": client.csrf, "action": action, "comment": comment, **extra}
    if version is not None:
        data["version"] = str(version)
    if proof is not None:
        data["proof"] = (io.BytesIO(proof), "凭证.png")
    return client.post(f"/findings/{finding}/actions", data=data, content_type="multipart/form-data")


def state(finding: int) -> Finding:
    with db.transaction() as session:
        found = session.get(Finding, finding)
        session.expunge(found)
        return found


def announced(task: str) -> list[dict[str, Any]]:
    with db.transaction() as session:
        return [e.payload for e in session.scalars(select(OutboxEvent).where(OutboxEvent.task_name == task))]


@pytest.mark.parametrize(
    ("role", "status", "expected"),
    [
        ("district", "open", ["acknowledge", "report_rectification", "explain", "request_extension"]),
        ("district", "acknowledged", ["report_rectification", "explain", "request_extension"]),
        ("district", "returned", ["acknowledge", "report_rectification", "explain", "request_extension"]),
        ("district", "rectification_reported", []),
        ("district", "explained", []),
        ("supervisor", "open", []),
        ("supervisor", "rectification_reported", ["close", "return"]),
        ("admin", "rectification_reported", ["close", "return"]),
        ("supervisor", "explained", ["accept_explanation", "reject_explanation"]),
        ("supervisor", "closed", []),
    ],
)
def test_it_offers_each_role_the_actions_of_the_findings_status(
    role: str, status: str, expected: list[str]
) -> None:
    user = User(role=role, district_code=GULOU if role == "district" else None)
    finding = Finding(status=status, district_code=GULOU, active=status != "closed", due_date=clock.today())
    assert [a.name for a in ledger.allowed(user, finding)] == expected


def test_it_offers_no_extension_for_advice_without_a_deadline() -> None:
    user = User(role="district", district_code=GULOU)
    advice = Finding(status="open", district_code=GULOU, active=True, due_date=None)
    assert "request_extension" not in [a.name for a in ledger.allowed(user, advice)]


def test_it_takes_a_finding_from_open_to_closed_and_records_every_step(auth: Any) -> None:
    finding = add_report(GULOU)["finding"]
    clerk, supervisor = auth.sign_in("gulou"), auth.sign_in("supervisor")
    act(clerk, finding, "acknowledge", "收到")
    assert state(finding).status == "acknowledged"
    refused = act(clerk, finding, "report_rectification", "已补提经费，凭证随后补交")
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "请上传整改佐证材料" in page and "已补提经费，凭证随后补交" in page  # the typed note stays
    assert state(finding).status == "acknowledged"
    act(clerk, finding, "report_rectification", "已补提经费", PNG)
    act(supervisor, finding, "return", "凭证不清晰")
    assert state(finding).status == "returned"
    returned_page = clerk.get(f"/findings/{finding}").get_data(as_text=True)
    assert 'id="returned"' in returned_page and "凭证不清晰" in returned_page and "已退回" in returned_page
    act(clerk, finding, "report_rectification", "重新上传凭证", PNG)
    act(supervisor, finding, "close", "核实无误")
    closed = state(finding)
    assert (closed.status, closed.active, closed.resolution) == ("closed", False, "verified_closed")
    with db.transaction() as session:
        trail = [
            (e.action, e.comment, e.detail["to"])
            for e in session.scalars(
                select(AuditEvent).where(AuditEvent.object_id == str(finding)).order_by(AuditEvent.id)
            )
        ]
    assert trail == [
        ("finding.acknowledge", "收到", "acknowledged"),
        ("finding.report_rectification", "已补提经费", "rectification_reported"),
        ("finding.return", "凭证不清晰", "returned"),
        ("finding.report_rectification", "重新上传凭证", "rectification_reported"),
        ("finding.close", "核实无误", "closed"),
    ]
    page = clerk.get(f"/findings/{finding}").get_data(as_text=True)
    assert "supervisor@pilotwatch.example" in page and "已销号" in page
    # The notifier hears of the returning and of the closing.
    assert [(e["change"], e["note"]) for e in announced(tasks.NOTIFY_FINDINGS_CHANGED)] == [
        ("returned", "凭证不清晰")
    ]
    assert [(e["finding_ids"], e["reason"]) for e in announced(tasks.NOTIFY_FINDINGS_RESOLVED)] == [
        ([finding], "verified_closed")
    ]


def test_it_asks_a_proof_only_where_the_rule_asks_for_one(auth: Any) -> None:
    finding = add_report(GULOU, proof_required=False)["finding"]
    act(auth.sign_in("gulou"), finding, "report_rectification", "核实数据无误：该单位确有 800 名职工")
    assert state(finding).status == "rectification_reported"


def test_it_needs_a_reason_to_return_a_finding(auth: Any) -> None:
    finding = add_report(GULOU, status="rectification_reported")["finding"]
    answer = act(auth.sign_in("supervisor"), finding, "return", "  ")
    assert answer.status_code == 422 and "请填写说明" in answer.get_data(as_text=True)
    assert state(finding).status == "rectification_reported"


def test_it_accepts_or_rejects_an_explanation_that_a_finding_does_not_apply(auth: Any) -> None:
    accepted, rejected = add_report(GULOU)["finding"], add_report(GULOU, 1)["finding"]
    clerk, supervisor = auth.sign_in("gulou"), auth.sign_in("supervisor")
    for finding in (accepted, rejected):
        act(clerk, finding, "explain", "本单位为事业单位，不提取职工教育经费")
        assert state(finding).status == "explained"
    act(supervisor, accepted, "accept_explanation", "情况属实")
    act(supervisor, rejected, "reject_explanation", "该单位为企业，应按规定提取")
    assert (state(accepted).status, state(accepted).active, state(accepted).resolution) == (
        "waived",
        False,
        "waived",
    )
    assert state(rejected).status == "returned"
    assert [(e["finding_ids"], e["reason"]) for e in announced(tasks.NOTIFY_FINDINGS_RESOLVED)] == [
        ([accepted], "waived")
    ]
    assert [(e["finding_ids"], e["change"]) for e in announced(tasks.NOTIFY_FINDINGS_CHANGED)] == [
        ([rejected], "returned")
    ]


def test_it_grants_or_refuses_a_later_deadline(auth: Any) -> None:
    granted, refused = add_report(GULOU)["finding"], add_report(GULOU, 1)["finding"]
    clerk, supervisor = auth.sign_in("gulou"), auth.sign_in("supervisor")
    due = state(granted).due_date
    assert due is not None
    too_early = act(clerk, granted, "request_extension", "需要更多时间", until=due.isoformat())
    assert too_early.status_code == 422 and "应晚于当前整改期限" in too_early.get_data(as_text=True)
    later = (due + timedelta(days=30)).isoformat()
    for finding in (granted, refused):
        act(clerk, finding, "request_extension", "待年度预算批复后补提经费", until=later)
        assert state(finding).extension_until is not None and state(finding).status == "open"
    page = supervisor.get(f"/findings/{granted}").get_data(as_text=True)
    assert f"申请延期至 {later}" in page and "待年度预算批复后补提经费" in page
    act(supervisor, granted, "approve_extension", "同意")
    act(supervisor, refused, "refuse_extension", "期限内可以完成")
    assert (state(granted).due_date.isoformat(), state(granted).extension_until) == (later, None)
    assert (state(refused).due_date, state(refused).extension_until) == (due, None)
    assert sorted(e["change"] for e in announced(tasks.NOTIFY_FINDINGS_CHANGED)) == [
        "extended",
        "extension_refused",
    ]


def test_it_shows_deadlines_as_traffic_lights(auth: Any) -> None:
    red, yellow, green = (
        add_report(GULOU, 0, due_in_days=-1)["finding"],
        add_report(GULOU, 1, due_in_days=2)["finding"],
        add_report(GULOU, 2, due_in_days=20)["finding"],
    )
    client = auth.sign_in("supervisor")
    for light, finding in (("red", red), ("yellow", yellow), ("green", green)):
        page = client.get(f"/findings?light={light}").get_data(as_text=True)
        assert f'/findings/{finding}"' in page and f"light-{light}" in page
        assert all(f'/findings/{other}"' not in page for other in (red, yellow, green) if other != finding)
    assert "红灯 · 已超过整改期限" in client.get(f"/findings/{red}").get_data(as_text=True)


def test_it_raises_a_problem_by_hand_into_the_ledger(auth: Any) -> None:
    supervisor, unit = auth.sign_in("supervisor"), unit_of(GULOU)
    due = (clock.today() + timedelta(days=20)).isoformat()
    answer = supervisor.post(
        "/findings/raise",
        data={
            "csrf_token": supervisor.csrf,
            "unit": unit,
            "measure": "P1-M4",
            "severity": "warning",
            "due_date": due,
            "description": "实地查看发现职代会决议未公开",
            "requirement": "在厂务公开栏公开职代会决议并上传照片",
            "proof": "on",
        },
    )
    assert answer.status_code == 302, answer.get_data(as_text=True)[:2000]
    with db.transaction() as session:
        raised = session.scalars(select(Finding).where(Finding.rule_code == "manual")).one()
        assert (raised.district_code, raised.measure_code, raised.due_date.isoformat()) == (
            GULOU,
            "P1-M4",
            due,
        )
        assert (raised.status, raised.resolution_mode, raised.proof_required) == ("open", "verify", True)
        finding_id = raised.id
    assert [e["finding_ids"] for e in announced(tasks.NOTIFY_FINDINGS_OPENED)] == [[finding_id]]
    clerk_view = auth.sign_in("gulou").get("/findings").get_data(as_text=True)
    assert "实地查看发现职代会决议未公开" in clerk_view
    assert auth.sign_in("gulou").post("/findings/raise", data={"csrf_token": "x"}).status_code in (400, 403)


def test_it_refuses_the_second_of_two_people_acting_on_what_they_saw(auth: Any) -> None:
    finding = add_report(GULOU, status="rectification_reported")["finding"]
    first, second = auth.sign_in("supervisor"), auth.sign_in("admin")
    seen = state(finding).version
    act(first, finding, "close", "核实无误", version=seen)
    late = act(second, finding, "return", "佐证不足", version=seen)
    assert late.status_code == 422
    page = late.get_data(as_text=True)
    assert "该问题刚被 supervisor@pilotwatch.example 处理（核实并销号）" in page and "佐证不足" in page
    closed = state(finding)
    assert (closed.status, closed.active) == ("closed", False)
    with db.transaction() as session:
        actions = [
            e.action for e in session.scalars(select(AuditEvent).where(AuditEvent.object_id == str(finding)))
        ]
    assert actions == ["finding.close"]  # one history, never forked


def press(
    browser: Browser, finding: int, action: str, seen: int, start: threading.Barrier, answers: list[int]
) -> None:
    start.wait()
    files = {"proof": ("凭证.png", PNG, "image/png")} if action == "report_rectification" else None
    data = {"action": action, "comment": "同时操作", "version": str(seen)}
    answers.append(browser.post(f"/findings/{finding}/actions", data, files).status_code)


@pytest.mark.e2e
def test_it_never_forks_a_findings_history_under_racing_requests(stack: Stack) -> None:
    """Two supervisors pressing 核实并销号 and 退回重改 at once, and two clerk sessions reporting a
    rectification and acknowledging at once, as real requests to a running intake: one wins, the
    other is told; the state stays whole and the history one line."""
    stack.start("intake")
    pairs = [
        (
            add_report(GULOU, i, status="rectification_reported")["finding"],
            ("supervisor", "close"),
            ("admin", "return"),
        )
        for i in range(6)
    ] + [
        (add_report(GULOU, 6 + i)["finding"], ("gulou", "report_rectification"), ("gulou", "acknowledge"))
        for i in range(6)
    ]
    browsers = {who: Browser(stack.url, who) for who in ("supervisor", "admin", "gulou")}
    other_gulou = Browser(stack.url, "gulou")  # a second session of the same district
    for finding, first, second in pairs:
        clients = [browsers[first[0]], other_gulou if second[0] == "gulou" else browsers[second[0]]]
        seen, start, answers = state(finding).version, threading.Barrier(2), []
        threads = [
            threading.Thread(target=press, args=(client, finding, move[1], seen, start, answers))
            for client, move in zip(clients, (first, second), strict=True)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert sorted(answers) == [302, 422], (finding, answers)
        after = state(finding)
        with db.transaction() as session:
            history = list(session.scalars(select(AuditEvent).where(AuditEvent.object_id == str(finding))))
            proofs = session.scalars(select(StoredFile.id).where(StoredFile.finding_id == finding)).all()
        assert len(history) == 1, [e.action for e in history]
        assert after.status == history[0].detail["to"] and after.active == (after.status != "closed")
        # A proof is kept only with the rectification report that won.
        assert len(proofs) == (1 if history[0].action == "finding.report_rectification" else 0)
