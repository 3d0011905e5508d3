"""Hostile input refused with a clear message: oversize bodies, malformed JSON, wrong content types,
a zip bomb dressed as a workbook, evidence whose bytes are not what its name says."""

from __future__ import annotations

import io
import json
import zipfile
from collections import Counter
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from services.intake import files, sheets
from shared import db
from shared.models import Submission
from tests.support.reports import clean_report, open_round, unit_of


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
    assert "文件解压后超过 32 MB，已拒绝" in answer.get_data(as_text=True)


@given(st.binary(max_size=4096))
@settings(max_examples=200, deadline=None)
def test_it_answers_any_bytes_uploaded_as_a_workbook_with_a_sheet_error(content: bytes) -> None:
    try:
        sheets.read_rows(io.BytesIO(content))
    except sheets.SheetError as error:
        assert str(error).startswith(
            ("无法读取该文件", "该文件不是报送模板", "文件解压后超过")
        )  # the page's language


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
    assert str(refused.value) in ("文件为空", "只接受 PDF、JPG、PNG 文件")


@given(st.binary(max_size=64))
@settings(max_examples=300, deadline=None)
def test_it_accepts_evidence_only_by_its_bytes(content: bytes) -> None:
    try:
        _, content_type = files.read_checked(io.BytesIO(content), 32)
    except files.FileRejected:
        return
    assert content_type == files.sniff(content[:16]) and len(content) <= 32


# --- arbitrary JSON values, to the API and to the report form ------------------------------------

HOSTILE_TEXT = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["\ud800", "a\udfffb", "\x00", "\x1b[2J", "\u202e", "NaN", "Infinity", "1e309", "-0"]),
)
NUMBERS = st.one_of(
    st.integers(),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.floats(allow_nan=True, allow_infinity=True),
)
JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), NUMBERS, HOSTILE_TEXT),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(HOSTILE_TEXT, inner, max_size=4)),
    max_leaves=12,
)
PLACES = ("unit", "round", "measures", "status", "note", "indicator", "measure_key", "indicator_key", "whole")


def hostile_report(report: dict[str, Any], place: str, value: Any) -> Any:
    """The valid report with one arbitrary value put where it can do the most harm."""
    body = json.loads(json.dumps(report))
    code = next(iter(body["measures"]))
    if place == "whole":
        return value
    if place in ("unit", "round", "measures"):
        body[place] = value
    elif place in ("status", "note"):
        body["measures"][code][place] = value
    elif place == "indicator":
        body["indicators"]["payroll_total"] = value
    elif place == "measure_key":
        body["measures"][str(value)] = body["measures"].pop(code)
    else:
        body["indicators"][str(value)] = 1
    return body


def strict_json(text: str) -> Any:
    def refuse(token: str) -> Any:
        raise AssertionError(f"non-standard JSON token {token} in {text[:300]}")

    value = json.loads(text, parse_constant=refuse)
    json.dumps(value, ensure_ascii=False).encode("utf-8")  # a lone surrogate would raise here
    return value


def stored_reports() -> int:
    with db.transaction() as session:
        return session.scalar(select(func.count()).select_from(Submission)) or 0


def assert_latest_stored_is_standard() -> None:
    """What was stored can be written as standard JSON: finite numbers, encodable text."""
    with db.transaction() as session:
        latest = session.scalars(select(Submission).order_by(Submission.submitted_at.desc()).limit(1)).one()
        text = json.dumps([latest.measures, latest.indicators], allow_nan=False, ensure_ascii=False)
    text.encode("utf-8")


@pytest.fixture
def valid_report(tokens: dict[str, str], catalogue: Any) -> dict[str, Any]:
    return clean_report(catalogue, unit_of("350102"), open_round())


def test_it_answers_arbitrary_json_without_a_5xx_in_standard_json_storing_only_on_202(
    client: Any, tokens: dict[str, str], valid_report: dict[str, Any]
) -> None:
    answers: Counter[int] = Counter()

    @given(
        place=st.sampled_from(PLACES),
        value=JSON_VALUES,
        depth=st.one_of(st.just(0), st.integers(min_value=1, max_value=60_000)),
    )
    @settings(max_examples=250, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    # One input of each outcome whatever the draw: a harmless note (202), nesting deeper than any
    # parser takes (400), a negative figure (422).
    @example(place="note", value="已落实，有台账可查。", depth=0)
    @example(place="indicator", value=1, depth=60_000)
    @example(place="indicator", value=-1, depth=0)
    def run(place: str, value: Any, depth: int) -> None:
        body = json.dumps(hostile_report(valid_report, place, value), allow_nan=True)
        if depth:  # nesting far deeper than json.dumps could write
            nested = "[" * depth + "1" + "]" * depth
            key = '"payroll_total": '
            body = body.replace(key, f'{key}{nested}, "x": ', 1) if key in body else nested
        before = stored_reports()
        answer = post_raw(client, tokens["gulou"], body.encode("utf-8", "surrogatepass"), "application/json")
        answers[answer.status_code] += 1
        assert answer.status_code < 500, (place, body[:300], answer.get_data(as_text=True)[:300])
        reply = strict_json(answer.get_data(as_text=True))
        if answer.status_code != 202:
            assert stored_reports() == before, (place, body[:300])
            assert reply["message"]
        else:
            got = client.get(reply["url"], headers={"Authorization": f"Bearer {tokens['gulou']}"})
            strict_json(got.get_data(as_text=True))
            assert_latest_stored_is_standard()

    run()
    assert sum(answers.values()) >= 200 and answers[202] and answers[400] and answers[422], answers


def test_it_answers_arbitrary_form_fields_without_a_5xx_storing_only_when_it_accepts(
    auth: Any, valid_report: dict[str, Any]
) -> None:
    from urllib.parse import quote

    clerk = auth.sign_in("gulou")
    fields: dict[str, str] = {
        "unit": valid_report["unit"],
        "round": valid_report["round"],
        "action": "submit",
    }
    for code, entry in valid_report["measures"].items():
        fields[f"m.{code}.status"], fields[f"m.{code}.note"] = entry["status"], entry["note"]
    for code, value in valid_report["indicators"].items():
        fields[f"i.{code}"] = str(value).lower() if isinstance(value, bool) else str(value)
    names = sorted(fields)
    answers: Counter[int] = Counter()

    @given(
        changes=st.dictionaries(st.sampled_from(names), st.one_of(HOSTILE_TEXT, NUMBERS.map(str)), max_size=4)
    )
    @settings(max_examples=120, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    def run(changes: dict[str, str]) -> None:
        form = {**fields, **changes, "csrf_token": clerk.csrf}
        body = "&".join(
            f"{quote(k)}={quote(v.encode('utf-8', 'surrogatepass'), safe='')}" for k, v in form.items()
        )
        before = stored_reports()
        answer = clerk.post("/submissions/new", data=body, content_type="application/x-www-form-urlencoded")
        answers[answer.status_code] += 1
        assert answer.status_code < 500, (changes, answer.get_data(as_text=True)[:300])
        if answer.status_code != 302:
            assert stored_reports() == before, changes
        else:
            assert_latest_stored_is_standard()

    run()
    assert sum(answers.values()) >= 100 and answers[302] and answers[422], answers
