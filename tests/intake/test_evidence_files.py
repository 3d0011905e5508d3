"""Evidence files: downloaded under the extension of what they are; never stored against a measure
that does not exist; never left on disk without their row."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from sqlalchemy import func, select

from services.intake import files
from shared import config, db
from shared.catalogue import Catalogue
from shared.models import PilotUnit, StoredFile, User
from tests.support.reports import open_round, unit_of
from tests.support.web import PNG, USERS

GULOU, TAIJIANG = "350102", "350103"
PDF = b"%PDF-1.4\n<html><script>alert(1)</script></html>\n%%EOF"


def post_evidence(client: Any, unit: str, uploads: dict[str, tuple[bytes, str]], query: str = "") -> Any:
    data: dict[str, Any] = {"csrf_token": client.csrf, "unit": unit, "round": open_round(), "action": "draft"}
    data.update({field: (io.BytesIO(content), name) for field, (content, name) in uploads.items()})
    return client.post(f"/submissions/new{query}", content_type="multipart/form-data", data=data)


def files_on_disk() -> list[Path]:
    folder = config.current().upload_dir
    return [path for path in folder.rglob("*") if path.is_file()] if folder.exists() else []


def rows() -> int:
    with db.transaction() as session:
        return session.scalar(select(func.count()).select_from(StoredFile)) or 0


def served_name(answer: Any) -> str:
    disposition = answer.headers["Content-Disposition"]
    if "filename*=UTF-8''" in disposition:
        return unquote(disposition.split("filename*=UTF-8''")[1].split(";")[0])
    return disposition.split("filename=")[1].strip('"')


@pytest.mark.parametrize(
    ("content", "uploaded", "served", "content_type"),
    [
        (PDF, "poly.html", "poly.pdf", "application/pdf"),
        (PNG, "double.png.html", "double.png", "image/png"),
        (PNG, "现场.svg", "现场.png", "image/png"),
        (b"\xff\xd8\xff\xe0 jpeg", "scan.JPEG", "scan.JPEG", "image/jpeg"),
        (PNG, "no-extension", "no-extension.png", "image/png"),
    ],
)
def test_it_serves_evidence_under_the_extension_of_its_content(
    auth: Any, catalogue: Catalogue, content: bytes, uploaded: str, served: str, content_type: str
) -> None:
    clerk, measure = auth.sign_in("gulou"), next(iter(catalogue.measures))
    assert post_evidence(clerk, unit_of(GULOU), {f"f.{measure}": (content, uploaded)}).status_code == 302
    with db.transaction() as session:
        file_id = session.scalars(select(StoredFile.id)).one()
    answer = clerk.get(f"/files/{file_id}")
    assert answer.status_code == 200 and answer.mimetype == content_type
    assert served_name(answer) == served


def test_it_serves_a_file_stored_under_a_misleading_name_with_the_right_extension(auth: Any) -> None:
    """Files kept before names were corrected at upload are corrected when served."""
    clerk = auth.sign_in("gulou")
    with db.transaction() as session:
        unit = session.scalars(select(PilotUnit).where(PilotUnit.district_code == GULOU)).first()
        record = StoredFile(
            unit_id=unit.id,
            round_code=open_round(),
            purpose="evidence",
            measure_code="P1-M1",
            filename="poly.html",
            content_type="application/pdf",
            size=len(PDF),
            sha256="",
        )
        session.add(record)
        session.flush()
        record.sha256, file_id = files.save(record.id, PDF), record.id
    assert served_name(clerk.get(f"/files/{file_id}")) == "poly.pdf"


@pytest.mark.parametrize("field", ["f.../../etc", "f." + "X" * 200, "f.P9-M9"])
def test_it_refuses_evidence_for_a_measure_that_does_not_exist_before_storing_anything(
    auth: Any, catalogue: Catalogue, field: str
) -> None:
    clerk, measure = auth.sign_in("gulou"), next(iter(catalogue.measures))
    answer = post_evidence(clerk, unit_of(GULOU), {f"f.{measure}": (PNG, "ok.png"), field: (PNG, "x.png")})
    assert answer.status_code == 422
    assert rows() == 0 and files_on_disk() == []


def test_it_leaves_no_file_behind_when_the_form_is_for_another_districts_unit(
    auth: Any, catalogue: Catalogue
) -> None:
    clerk, measure = auth.sign_in("gulou"), next(iter(catalogue.measures))
    answer = post_evidence(
        clerk, unit_of(TAIJIANG), {f"f.{measure}": (PNG, "a.png")}, query=f"?unit={unit_of(GULOU)}"
    )
    assert answer.status_code == 403
    assert rows() == 0 and files_on_disk() == []


def test_it_removes_the_content_of_a_file_whose_row_is_not_committed(seeded: dict[str, str]) -> None:
    for end in ("rollback", "close"):
        session = db.session()
        user = session.scalars(select(User).where(User.email == USERS["gulou"])).one()
        unit = session.scalars(select(PilotUnit).where(PilotUnit.district_code == GULOU)).first()
        files.store(session, user, unit, open_round(), "evidence", PNG, "image/png", "a.png", measure="P1-M1")
        assert len(files_on_disk()) == 1
        getattr(session, end)()
        session.close()
        assert files_on_disk() == [], end
    with db.transaction() as session:
        user = session.scalars(select(User).where(User.email == USERS["gulou"])).one()
        unit = session.scalars(select(PilotUnit).where(PilotUnit.district_code == GULOU)).first()
        files.store(session, user, unit, open_round(), "evidence", PNG, "image/png", "a.png", measure="P1-M1")
    assert len(files_on_disk()) == 1 and rows() == 1
