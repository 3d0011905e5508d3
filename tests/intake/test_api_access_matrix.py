"""The API's access matrix: every role × every read and write endpoint × own and other district.

Each cell is its own test. A district clerk (鼓楼区 350102 or 台江区 350103) may read and write what
belongs to its own district and gets 403 for the other; supervisors and admins see everything, and
only they may read candidate practices or preview rules; anonymous callers get 401 everywhere."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from services.intake import accounts
from shared import db
from shared.catalogue import Catalogue
from shared.models import Round
from tests.support.reports import clean_report, open_round, unit_of

ROLES = ("anonymous", "gulou", "taijiang", "supervisor", "admin")
DISTRICT_OF = {"gulou": "350102", "taijiang": "350103"}
SUBJECTS = ("350102", "350103")
# endpoint: (method, OpenAPI path, bound to a district?, for supervisors only?)
ENDPOINTS = {
    "submit": ("POST", "/api/v1/submissions", True, False),
    "read_submission": ("GET", "/api/v1/submissions/{submission_id}", True, False),
    "catalogue": ("GET", "/api/v1/catalogue", False, False),
    "rounds": ("GET", "/api/v1/rounds", False, False),
    "units": ("GET", "/api/v1/units", True, False),
    "district_table": ("GET", "/api/v1/rounds/{round_code}/districts", False, False),
    "district_row": ("GET", "/api/v1/rounds/{round_code}/districts/{district_code}", True, False),
    "batches": ("GET", "/api/v1/rounds/{round_code}/batches", False, False),
    "summary": ("GET", "/api/v1/rounds/{round_code}/summary", False, True),
    "cases": ("GET", "/api/v1/rounds/{round_code}/cases", False, False),
    "practices": ("GET", "/api/v1/rounds/{round_code}/practices", False, True),
    "rules_preview": ("POST", "/api/v1/rules/preview", False, True),
}
CELLS = [
    (endpoint, role, subject)
    for endpoint, (_, _, bound, _) in ENDPOINTS.items()
    for role in ROLES
    for subject in (SUBJECTS if bound else (None,))
]


def expected(endpoint: str, role: str, subject: str | None) -> int:
    _, _, _, supervisors_only = ENDPOINTS[endpoint]
    if role == "anonymous":
        return 401
    if role in DISTRICT_OF and (supervisors_only or (subject and subject != DISTRICT_OF[role])):
        return 403
    return 202 if endpoint == "submit" else 200


def closed_round() -> str:
    with db.transaction() as session:
        return session.scalars(select(Round.code).where(Round.status != "open")).first() or ""


@pytest.fixture
def callers(tokens: dict[str, str]) -> dict[str, str]:
    with db.transaction() as session:
        admin = accounts.create_user(session, "admin-api@example.org", "admin", None, "secret-pass")
        return dict(tokens, admin=accounts.issue_token(session, admin))


def request_for(
    client: Any, callers: dict[str, str], catalogue: Catalogue, endpoint: str, subject: str | None
) -> tuple[str, str, dict[str, Any] | None]:
    round_code = open_round()
    unit = unit_of(subject) if subject else None
    if endpoint == "submit":
        return "POST", "/api/v1/submissions", clean_report(catalogue, unit, round_code)
    if endpoint == "read_submission":
        made = client.post(
            "/api/v1/submissions",
            json=clean_report(catalogue, unit, round_code),
            headers={"Authorization": f"Bearer {callers['supervisor']}"},
        )
        assert made.status_code == 202
        return "GET", f"/api/v1/submissions/{made.get_json()['id']}", None
    if endpoint == "units":
        return "GET", f"/api/v1/units?district={subject}", None
    if endpoint == "district_row":
        return "GET", f"/api/v1/rounds/{round_code}/districts/{subject}", None
    if endpoint == "rules_preview":
        return "POST", "/api/v1/rules/preview", {"round": closed_round(), "rules": []}
    method, path, _, _ = ENDPOINTS[endpoint]
    return method, path.replace("{round_code}", round_code), None


@pytest.mark.parametrize(
    ("endpoint", "role", "subject"), CELLS, ids=[f"{e}-{r}-{s or 'any'}" for e, r, s in CELLS]
)
def test_it_answers_each_cell_of_the_matrix(
    client: Any, callers: dict[str, str], catalogue: Catalogue, endpoint: str, role: str, subject: str | None
) -> None:
    method, path, body = request_for(client, callers, catalogue, endpoint, subject)
    headers = {} if role == "anonymous" else {"Authorization": f"Bearer {callers[role]}"}
    answer = client.open(path, method=method, json=body, headers=headers)
    assert answer.status_code == expected(endpoint, role, subject), answer.get_data(as_text=True)[:300]
    data = answer.get_json()
    if answer.status_code >= 400:
        assert data["message"]
    elif role in DISTRICT_OF and endpoint in ("units", "district_table"):
        rows = data["items"]
        assert rows and {r.get("district_code", r.get("district")) for r in rows} == {DISTRICT_OF[role]}


def test_it_covers_every_endpoint_of_the_openapi_description(client: Any) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    described = {
        (m.upper(), p)
        for p, item in spec["paths"].items()
        for m in item
        if m in ("get", "post", "put", "patch", "delete")
    }
    assert described == {(m, p) for m, p, _, _ in ENDPOINTS.values()}
