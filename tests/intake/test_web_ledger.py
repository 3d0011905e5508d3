"""The problem ledger: who may act on a finding, from which status, and the audit trail it leaves."""

from __future__ import annotations

import io
from typing import Any

import pytest
from sqlalchemy import select

from shared import db, ledger, tasks
from shared.models import AuditEvent, Finding, OutboxEvent, User
from tests.support.web import PNG, add_report

GULOU = "350102"


def act(client: Any, finding: int, action: str, comment: str = "", proof: bytes | None = None) -> Any:
    data: dict[str, Any] = {"csrf_token": client.csrf, "action": action, "comment": comment}
    if proof is not None:
        data["proof"] = (io.BytesIO(proof), "凭证.png")
    return client.post(f"/findings/{finding}/actions", data=data, content_type="multipart/form-data")


def status_of(finding: int) -> str:
    with db.transaction() as session:
        return session.get(Finding, finding).status


@pytest.mark.parametrize(
    ("role", "status", "expected"),
    [
        ("district", "open", ["acknowledge", "report_rectification"]),
        ("district", "acknowledged", ["report_rectification"]),
        ("district", "rectification_reported", []),
        ("supervisor", "open", []),
        ("supervisor", "rectification_reported", ["close", "return"]),
        ("admin", "rectification_reported", ["close", "return"]),
        ("supervisor", "closed", []),
    ],
)
def test_it_offers_each_role_the_actions_of_the_findings_status(
    role: str, status: str, expected: list[str]
) -> None:
    user = User(role=role, district_code=GULOU if role == "district" else None)
    finding = Finding(status=status, district_code=GULOU, active=status != "closed")
    assert [a.name for a in ledger.allowed(user, finding)] == expected


def test_it_takes_a_finding_from_open_to_closed_and_records_every_step(auth: Any) -> None:
    finding = add_report(GULOU)["finding"]
    clerk, supervisor = auth.sign_in("gulou"), auth.sign_in("supervisor")
    act(clerk, finding, "acknowledge", "收到")
    assert status_of(finding) == "acknowledged"
    assert "请上传整改佐证材料" in clerk.get(
        act(clerk, finding, "report_rectification", "已整改").headers["Location"]
    ).get_data(as_text=True)
    assert status_of(finding) == "acknowledged"
    act(clerk, finding, "report_rectification", "已补提经费", PNG)
    act(supervisor, finding, "return", "凭证不清晰")
    assert status_of(finding) == "open"
    act(clerk, finding, "report_rectification", "重新上传凭证", PNG)
    act(supervisor, finding, "close", "核实无误")
    with db.transaction() as session:
        closed = session.get(Finding, finding)
        assert (closed.status, closed.active) == ("closed", False)
        trail = [
            (e.action, e.comment, e.detail["to"])
            for e in session.scalars(
                select(AuditEvent).where(AuditEvent.object_id == str(finding)).order_by(AuditEvent.id)
            )
        ]
    assert trail == [
        ("finding.acknowledge", "收到", "acknowledged"),
        ("finding.report_rectification", "已补提经费", "rectification_reported"),
        ("finding.return", "凭证不清晰", "open"),
        ("finding.report_rectification", "重新上传凭证", "rectification_reported"),
        ("finding.close", "核实无误", "closed"),
    ]
    page = clerk.get(f"/findings/{finding}").get_data(as_text=True)
    assert "凭证不清晰" in page and "supervisor@pilotwatch.example" in page and "已核销" in page
    with db.transaction() as session:  # the notifier hears of the closing, as of any other resolution
        announced = [
            e.payload
            for e in session.scalars(
                select(OutboxEvent).where(OutboxEvent.task_name == tasks.NOTIFY_FINDINGS_RESOLVED)
            )
        ]
    assert [(e["finding_ids"], e["reason"], e["district_code"]) for e in announced] == [
        ([finding], "verified_closed", GULOU)
    ]


def test_it_needs_a_reason_to_return_a_finding(auth: Any) -> None:
    finding = add_report(GULOU, status="rectification_reported")["finding"]
    act(auth.sign_in("supervisor"), finding, "return", "  ")
    assert status_of(finding) == "rectification_reported"


def test_it_filters_the_ledger_by_status_and_severity(auth: Any) -> None:
    open_one = add_report(GULOU)["finding"]
    reported = add_report(GULOU, 1, status="rectification_reported")["finding"]
    client = auth.sign_in("supervisor")
    page = client.get("/findings?status=rectification_reported").get_data(as_text=True)
    assert f'/findings/{reported}"' in page and f'/findings/{open_one}"' not in page
    assert f'/findings/{open_one}"' not in client.get("/findings?severity=critical").get_data(as_text=True)
    assert f'/findings/{open_one}"' in client.get("/findings?district=350102&round=").get_data(as_text=True)
