"""Helpers for the web page tests: a signed-in test client, the CSRF token of a page."""

from __future__ import annotations

import re
from typing import Any

PASSWORD = "pilotwatch-demo"
USERS = {
    "gulou": "gulou@pilotwatch.example",
    "taijiang": "taijiang@pilotwatch.example",
    "supervisor": "supervisor@pilotwatch.example",
    "admin": "admin@pilotwatch.example",
}


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


class AuthActions:
    """Signing in as a demo user (the `auth` fixture): each call gives a new browser, its own client."""

    def __init__(self, app: Any):
        self.app = app

    def sign_in(self, who: str) -> Any:
        client = self.app.test_client()
        token = csrf_of(client.get("/login").get_data(as_text=True))
        answer = client.post("/login", data={"csrf_token": token, "email": USERS[who], "password": PASSWORD})
        assert answer.status_code == 302, answer.get_data(as_text=True)[:500]
        client.csrf = csrf_of(client.get("/").get_data(as_text=True))
        return client


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40


def add_report(
    district: str,
    index: int = 0,
    status: str = "open",
    proof_required: bool = True,
    due_in_days: int | None = 30,
) -> dict[str, Any]:
    """A stored, evaluated report of one unit with one finding and one evidence file (no worker needed)."""
    from datetime import timedelta

    from sqlalchemy import select

    from services.intake import files
    from shared import clock, db
    from shared.models import Evaluation, Finding, PilotUnit, Round, StoredFile, Submission

    with db.transaction() as session:
        unit = session.scalars(
            select(PilotUnit).where(PilotUnit.district_code == district).order_by(PilotUnit.id)
        ).all()[index]
        round_code = session.scalars(select(Round.code).where(Round.status == "open")).one()
        submission = Submission(
            unit_id=unit.id, round_code=round_code, version=1, measures={}, indicators={}, channel="form"
        )
        session.add(submission)
        session.flush()
        finding = Finding(
            fingerprint=f"{unit.id}:{round_code}:rule-{index}",
            unit_id=unit.id,
            district_code=district,
            round_code=round_code,
            rule_code="fund_extraction",
            severity="error",
            message_zh="职工教育经费提取不足",
            status=status,
            last_submission_id=submission.id,
            opened_at=clock.now(),
            proof_required=proof_required,
            resolution_mode="verify",
            due_date=(clock.today() + timedelta(days=due_in_days)) if due_in_days is not None else None,
        )
        evaluation = Evaluation(submission_id=submission.id, overall_score=70.0, aspect_scores={})
        evaluation.findings.append(finding)
        stored = StoredFile(
            unit_id=unit.id,
            round_code=round_code,
            purpose="evidence",
            measure_code="A1",
            filename="台账.png",
            content_type="image/png",
            size=len(PNG),
            sha256="",
        )
        session.add_all([evaluation, stored])
        session.flush()
        stored.sha256 = files.save(stored.id, PNG)
        return {
            "unit": unit.credit_code,
            "round": round_code,
            "submission": submission.id,
            "finding": finding.id,
            "file": stored.id,
        }


class Browser:
    """A real browser's requests to a running intake (gunicorn): a cookie jar and the CSRF token."""

    def __init__(self, url: str, who: str):
        import requests

        self.url, self.http = url, requests.Session()
        token = csrf_of(self.http.get(f"{url}/login", timeout=10).text)
        answer = self.http.post(
            f"{url}/login",
            data={"csrf_token": token, "email": USERS[who], "password": PASSWORD},
            allow_redirects=False,
            timeout=10,
        )
        assert answer.status_code == 302, answer.text[:500]
        self.csrf = csrf_of(self.http.get(f"{url}/", timeout=10).text)

    def post(self, path: str, data: dict[str, Any], files: dict[str, Any] | None = None) -> Any:
        return self.http.post(
            f"{self.url}{path}",
            data={"csrf_token": self.csrf, **data},
            files=files,
            allow_redirects=False,
            timeout=30,
        )
