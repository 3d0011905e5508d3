"""The report form in the browser's shoes: drafts, versions with their differences, evidence files."""

from __future__ import annotations

import io
from typing import Any

from sqlalchemy import select

from shared import config, db
from shared.catalogue import Catalogue
from shared.models import Draft, StoredFile, Submission
from tests.support.reports import clean_report, open_round, unit_of
from tests.support.web import PNG

GULOU = "350102"


def as_form(report: dict[str, Any], csrf: str, action: str = "submit") -> dict[str, Any]:
    form: dict[str, Any] = {
        "csrf_token": csrf,
        "unit": report["unit"],
        "round": report["round"],
        "action": action,
    }
    for code, entry in report["measures"].items():
        form[f"m.{code}.status"], form[f"m.{code}.note"] = entry["status"], entry["note"]
    for code, value in report["indicators"].items():
        form[f"i.{code}"] = str(value).lower() if isinstance(value, bool) else str(value)
    return form


def test_it_keeps_a_draft_and_brings_it_back(auth: Any, catalogue: Catalogue) -> None:
    client, unit = auth.sign_in("gulou"), unit_of(GULOU)
    first = next(iter(catalogue.measures))
    answer = client.post(
        "/submissions/new",
        data={
            "csrf_token": client.csrf,
            "unit": unit,
            "round": open_round(),
            "action": "draft",
            f"m.{first}.note": "写到一半",
            "i.workers_total": "abc",
        },
    )
    assert answer.status_code == 302
    page = client.get(f"/submissions/new?unit={unit}").get_data(as_text=True)
    assert "写到一半" in page and 'value="abc"' in page and "草稿" in page
    home = client.get("/?state=draft").get_data(as_text=True)
    assert unit in home
    with db.transaction() as session:
        assert session.scalars(select(Submission)).all() == []


def test_it_shows_the_message_next_to_the_field_and_submits_once_corrected(
    auth: Any, catalogue: Catalogue
) -> None:
    client, report = auth.sign_in("gulou"), clean_report(catalogue, unit_of(GULOU), open_round())
    client.post("/submissions/new", data=as_form(report, client.csrf, "draft"))
    wrong = as_form(report, client.csrf)
    wrong["i.payroll_total"] = "-5"
    answer = client.post("/submissions/new", data=wrong)
    page = answer.get_data(as_text=True)
    assert answer.status_code == 422
    field = page[page.index('name="i.payroll_total"') :][:400]
    assert "不能为负数" in field
    answer = client.post("/submissions/new", data=as_form(report, client.csrf))
    assert answer.status_code == 302 and "/submissions/" in answer.headers["Location"]
    with db.transaction() as session:
        assert session.scalars(select(Draft)).all() == []  # submitted: the draft is gone


def test_it_resubmits_as_a_new_version_and_shows_what_changed(auth: Any, catalogue: Catalogue) -> None:
    client, report = auth.sign_in("gulou"), clean_report(catalogue, unit_of(GULOU), open_round())
    client.post("/submissions/new", data=as_form(report, client.csrf))
    assert 'value="800"' in client.get(f"/submissions/new?unit={report['unit']}").get_data(as_text=True)
    report["indicators"]["workers_total"] = 950
    second = client.post("/submissions/new", data=as_form(report, client.csrf)).headers["Location"]
    page = client.get(second).get_data(as_text=True)
    changes = page[page.index('id="changes"') : page.index('id="versions"')]
    assert "第 1 版" in changes and "<del>800</del>" in changes and "<ins>950</ins>" in changes
    assert "v1" in page and "v2" in page
    with db.transaction() as session:
        assert sorted(s.version for s in session.scalars(select(Submission))) == [1, 2]


def upload_evidence(client: Any, unit: str, content: bytes, name: str, measure: str) -> Any:
    return client.post(
        "/submissions/new",
        content_type="multipart/form-data",
        data={
            "csrf_token": client.csrf,
            "unit": unit,
            "round": open_round(),
            "action": "draft",
            f"f.{measure}": (io.BytesIO(content), name),
        },
    )


def test_it_takes_evidence_by_content_and_serves_it_only_to_those_who_may_see_the_unit(
    auth: Any, catalogue: Catalogue
) -> None:
    client, unit, measure = auth.sign_in("gulou"), unit_of(GULOU), next(iter(catalogue.measures))
    disguised = upload_evidence(client, unit, b"MZ\x90\x00 not a picture", "photo.png", measure)
    assert disguised.status_code == 422 and "只接受 PDF、JPG、PNG" in disguised.get_data(as_text=True)
    limit = config.current().upload_max_bytes
    assert "超过" in upload_evidence(client, unit, PNG + b"\x00" * limit, "big.png", measure).get_data(
        as_text=True
    )
    assert upload_evidence(client, unit, PNG, "现场照片.png", measure).status_code == 302
    with db.transaction() as session:
        stored = session.scalars(select(StoredFile)).one()
        file_id = stored.id
    assert stored.content_type == "image/png" and stored.filename == "现场照片.png"
    assert client.get(f"/files/{file_id}").data == PNG
    assert auth.sign_in("taijiang").get(f"/files/{file_id}").status_code == 403
    assert auth.sign_in("supervisor").get(f"/files/{file_id}").data == PNG
