"""Hostile input refused with a clear message: oversize bodies, malformed JSON, wrong content types,
a zip bomb dressed as a workbook, evidence whose bytes are not what its name says."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.intake import files, sheets
from tests.support.reports import open_round


def post_raw(client: Any, token: str, data: bytes, content_type: str) -> Any:
    return client.post(
        "/api/v1/submissions",
        data=data,
        headers={"Authorization": f"Bearer {token}", "Content-Type": content_type},
    )


def test_it_refuses_an_oversize_body_with_413_and_a_message(client: Any, tokens: dict[str, str]) -> None:
    answer = post_raw(
        client, tokens["gulou"], b'{"unit": "' + b"x" * (3 * 1024 * 1024) + b'"}', "application/json"
    )
    assert answer.status_code == 413
    assert answer.get_json()["message"]


@pytest.mark.parametrize(
    "payload",
    [
        b"{",
        b"[1, 2",
        b"\xff\xfe\x00",
        b'{"unit": NaN}',
        b"null",
        b"[]",
        b'"text"',
        b'{"unit": {"$gt": ""}}',
        b"{}" * 1000,
    ],
)
def test_it_answers_malformed_json_with_a_4xx_and_a_message(
    client: Any, tokens: dict[str, str], payload: bytes
) -> None:
    answer = post_raw(client, tokens["gulou"], payload, "application/json")
    assert 400 <= answer.status_code < 500 and answer.get_json()["message"]


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data", "application/xml", ""],
)
def test_it_refuses_a_report_in_another_content_type(
    client: Any, tokens: dict[str, str], content_type: str
) -> None:
    answer = post_raw(client, tokens["gulou"], b'{"unit": "x"}', content_type)
    assert 400 <= answer.status_code < 500 and answer.get_json()["message"]


def zip_bomb(unpacked_mb: int = 200) -> bytes:
    """A workbook-shaped zip whose one sheet unpacks to `unpacked_mb` MB of rows."""
    row = b'<row><c t="inlineStr"><is><t>x</t></is></c></row>' * 20_000
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("xl/worksheets/sheet1.xml", "w") as sheet:
            sheet.write(b"<worksheet><sheetData>")
            for _ in range(unpacked_mb * 2**20 // len(row)):
                sheet.write(row)
            sheet.write(b"</sheetData></worksheet>")
    return out.getvalue()


def test_it_refuses_an_xlsx_zip_bomb_before_unpacking_it(auth: Any) -> None:
    bomb = zip_bomb()
    assert len(bomb) < 2 * 2**20  # small enough to pass the upload limit
    clerk = auth.sign_in("gulou")
    answer = clerk.post(
        "/sheets/upload",
        data={"csrf_token": clerk.csrf, "round": open_round(), "file": (io.BytesIO(bomb), "报送.xlsx")},
        content_type="multipart/form-data",
    )
    assert answer.status_code == 422
    assert "the workbook unpacks to more than" in answer.get_data(as_text=True)


@given(st.binary(max_size=4096))
@settings(max_examples=200, deadline=None)
def test_it_answers_any_bytes_uploaded_as_a_workbook_with_a_sheet_error(content: bytes) -> None:
    try:
        sheets.read_rows(io.BytesIO(content))
    except sheets.SheetError as error:
        assert "/" in str(error)  # Chinese / English


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (b"<html><script>alert(1)</script></html>", "photo.png"),
        (b"MZ\x90\x00 an executable", "scan.pdf"),
        (b"GIF89a a gif", "proof.jpg"),
        (b"", "empty.pdf"),
    ],
)
def test_it_refuses_evidence_whose_bytes_are_not_its_type(content: bytes, name: str) -> None:
    with pytest.raises(files.FileRejected) as refused:
        files.read_checked(io.BytesIO(content), 1024 * 1024)
    assert "/" in str(refused.value)


@given(st.binary(max_size=64))
@settings(max_examples=300, deadline=None)
def test_it_accepts_evidence_only_by_its_bytes(content: bytes) -> None:
    try:
        _, content_type = files.read_checked(io.BytesIO(content), 32)
    except files.FileRejected:
        return
    assert content_type == files.sniff(content[:16]) and len(content) <= 32
