"""Numbers and text the API, the form and the Excel rows must refuse: NaN, infinities, numbers too
large, hostile nesting, lone surrogates, control characters; JSON out is always standard; an
Idempotency-Key reused for another report is refused."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select, update

from services.intake import sheet_checks
from shared import db
from shared.catalogue import Catalogue
from shared.models import Submission, User
from tests.support.reports import clean_report, open_round, unit_of
from tests.support.web import USERS

GULOU = "350102"


def strict(text: str) -> Any:
    """Parse as a strict parser does: no NaN or Infinity tokens, no lone surrogates."""

    def refuse(token: str) -> Any:
        raise ValueError(f"non-standard JSON token {token}")

    value = json.loads(text, parse_constant=refuse)
    json.dumps(value, ensure_ascii=False).encode("utf-8")  # raises on a lone surrogate
    return value


def stored() -> int:
    with db.transaction() as session:
        return session.scalar(select(func.count()).select_from(Submission)) or 0


def post_raw(client: Any, token: str, body: bytes, **headers: str) -> Any:
    return client.post(
        "/api/v1/submissions",
        data=body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json", **headers},
    )


@pytest.fixture
def report(tokens: dict[str, str], catalogue: Catalogue) -> dict[str, Any]:
    return clean_report(catalogue, unit_of(GULOU), open_round())


def with_indicator(report: dict[str, Any], token: str) -> bytes:
    """The report's JSON with payroll_total written as a raw token (NaN, 1e309, ...)."""
    text = json.dumps({**report, "indicators": {**report["indicators"], "payroll_total": "@@"}})
    return text.replace('"@@"', token).encode()


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity", "1e309", "-1e400", "1" * 400])
def test_it_refuses_a_number_that_is_not_finite_or_too_large_on_the_field(
    client: Any, tokens: dict[str, str], report: dict[str, Any], token: str
) -> None:
    answer = post_raw(client, tokens["gulou"], with_indicator(report, token))
    assert answer.status_code == 422
    body = strict(answer.get_data(as_text=True))
    assert body["errors"]["json"]["indicators"]["payroll_total"]["value"]
    assert stored() == 0


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"[" * 50_000 + b"]" * 50_000, "JSON 嵌套过深"),
        (b'{"unit": ' + b"[" * 50_000 + b"]" * 50_000 + b"}", "JSON 嵌套过深"),
        (b'{"indicators": {"payroll_total": ' + b"7" * 5000 + b"}}", "数字位数过多"),
    ],
)
def test_it_answers_hostile_json_with_400_and_a_message(
    client: Any, tokens: dict[str, str], body: bytes, message: str
) -> None:
    answer = post_raw(client, tokens["gulou"], body)
    assert answer.status_code == 400
    assert message in strict(answer.get_data(as_text=True))["message"]


@pytest.mark.parametrize(
    ("note", "message"), [("\ud800", "无法编码"), ("a\x00b", "控制字符"), ("\x1b[31m", "控制字符")]
)
def test_it_refuses_text_that_cannot_be_stored_and_shown(
    client: Any, tokens: dict[str, str], report: dict[str, Any], note: str, message: str
) -> None:
    code = next(iter(report["measures"]))
    report["measures"][code]["note"] = note
    answer = post_raw(client, tokens["gulou"], json.dumps(report).encode())
    assert answer.status_code == 422
    assert (
        message
        in strict(answer.get_data(as_text=True))["errors"]["json"]["measures"][code]["value"]["note"][0]
    )
    assert stored() == 0


def test_it_answers_a_lone_surrogate_in_a_key_with_standard_json(
    client: Any, tokens: dict[str, str], report: dict[str, Any]
) -> None:
    report["indicators"]["\udc00"] = 1
    answer = post_raw(client, tokens["gulou"], json.dumps(report).encode())
    assert answer.status_code == 422
    strict(answer.get_data(as_text=True))


def test_it_shows_reports_stored_with_a_lone_surrogate_and_a_nan(
    client: Any, auth: Any, tokens: dict[str, str], report: dict[str, Any]
) -> None:
    """Text and numbers stored before the schema refused them: no page and no answer fails on them."""
    submitted = client.post(
        "/api/v1/submissions", json=report, headers={"Authorization": f"Bearer {tokens['gulou']}"}
    ).get_json()
    code = next(iter(report["measures"]))
    with db.transaction() as session:
        measures = {**report["measures"], code: {"status": "implemented", "note": "坏\ud800字"}}
        indicators = {**report["indicators"], "payroll_total": float("nan")}
        session.execute(
            update(Submission)
            .where(Submission.id == submitted["id"])
            .values(measures=measures, indicators=indicators)
        )
    clerk = auth.sign_in("gulou")
    assert clerk.get(f"/submissions/{submitted['id']}").status_code == 200
    next_version = clerk.get(f"/submissions/new?unit={report['unit']}")  # starts from the stored answers
    assert next_version.status_code == 200 and "坏\ufffd字" in next_version.get_data(as_text=True)
    second = client.post(
        "/api/v1/submissions", json=report, headers={"Authorization": f"Bearer {tokens['gulou']}"}
    ).get_json()
    changes = clerk.get(f"/submissions/{second['id']}")  # shows the note it replaced
    assert changes.status_code == 200 and "坏\ufffd字" in changes.get_data(as_text=True)
    api = client.get(submitted["url"], headers={"Authorization": f"Bearer {tokens['gulou']}"})
    shown = strict(api.get_data(as_text=True))
    assert shown["indicators"]["payroll_total"] is None


@pytest.mark.parametrize("typed", ["NaN", "inf", "Infinity", "1e309", "1" * 400, "1_000", "١٢"])
def test_it_refuses_a_typed_number_that_is_not_a_plain_finite_one_on_the_form(
    auth: Any, report: dict[str, Any], typed: str
) -> None:
    clerk = auth.sign_in("gulou")
    form = {"csrf_token": clerk.csrf, "unit": report["unit"], "round": report["round"], "action": "submit"}
    for code, entry in report["measures"].items():
        form[f"m.{code}.status"], form[f"m.{code}.note"] = entry["status"], entry["note"]
    for code, value in report["indicators"].items():
        form[f"i.{code}"] = str(value).lower() if isinstance(value, bool) else str(value)
    form["i.payroll_total"] = typed
    answer = clerk.post("/submissions/new", data=form)
    assert answer.status_code == 422
    assert stored() == 0


def test_it_still_takes_full_width_digits_typed_with_a_chinese_input_method(
    auth: Any, report: dict[str, Any]
) -> None:
    clerk = auth.sign_in("gulou")
    form = {"csrf_token": clerk.csrf, "unit": report["unit"], "round": report["round"], "action": "submit"}
    for code, entry in report["measures"].items():
        form[f"m.{code}.status"], form[f"m.{code}.note"] = entry["status"], entry["note"]
    for code, value in report["indicators"].items():
        form[f"i.{code}"] = str(value).lower() if isinstance(value, bool) else str(value)
    form["i.payroll_total"], form["i.workers_total"] = "８０００．５", "８００"
    assert clerk.post("/submissions/new", data=form).status_code == 302
    with db.transaction() as session:
        indicators = session.scalars(select(Submission.indicators)).one()
    assert indicators["payroll_total"] == 8000.5 and indicators["workers_total"] == 800


@pytest.mark.parametrize("typed", ["NaN", "inf", "1e309", "1" * 400])
def test_it_refuses_a_number_in_an_excel_row_that_is_not_a_plain_finite_one(
    app: Any, report: dict[str, Any], catalogue: Catalogue, typed: str
) -> None:
    values = {"unit": report["unit"]}
    for code, entry in report["measures"].items():
        values[f"m.{code}.status"], values[f"m.{code}.note"] = entry["status"], entry["note"]
    values.update({f"i.{k}": str(v).lower() for k, v in report["indicators"].items()})
    values["i.payroll_total"] = typed
    with db.transaction() as session:
        clerk = session.scalars(select(User).where(User.email == USERS["gulou"])).one()
        good, problems = sheet_checks.check_rows(session, clerk, [(3, values)], report["round"], catalogue)
    assert good == [] and [p[2] for p in problems] == ["i.payroll_total"]


def test_it_refuses_an_idempotency_key_reused_for_another_report(
    client: Any, tokens: dict[str, str], report: dict[str, Any], catalogue: Catalogue
) -> None:
    key = {"Idempotency-Key": "k-reused"}
    first = post_raw(client, tokens["gulou"], json.dumps(report).encode(), **key)
    assert first.status_code == 202
    other = clean_report(catalogue, unit_of(GULOU, 1), open_round())
    answer = post_raw(client, tokens["gulou"], json.dumps(other).encode(), **key)
    assert answer.status_code == 422
    assert "已用于另一份报送" in answer.get_json()["message"]
    again = post_raw(client, tokens["gulou"], json.dumps(report).encode(), **key)
    assert again.status_code == 202 and again.get_json()["id"] == first.get_json()["id"]
    assert stored() == 1
