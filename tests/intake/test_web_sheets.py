"""Bulk reports from Excel: the template, filled in with openpyxl, uploaded and checked row by row."""

from __future__ import annotations

import io
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import select

from shared import db
from shared.catalogue import Catalogue
from shared.models import OutboxEvent, Submission
from tests.support.reports import clean_report, open_round


def template_for(client: Any) -> Any:
    answer = client.get(f"/sheets/template.xlsx?round={open_round()}")
    assert answer.status_code == 200
    return load_workbook(io.BytesIO(answer.data))


def fill(book: Any, rows: dict[int, dict[str, Any]]) -> bytes:
    """Write each report into its row, under the key row (row 2) of the template."""
    sheet = book.active
    keys = [cell.value for cell in sheet[2]]
    for row, report in rows.items():
        values: dict[str, Any] = {}
        for code, entry in report["measures"].items():
            values[f"m.{code}.status"], values[f"m.{code}.note"] = entry["status"], entry["note"]
        values.update({f"i.{code}": value for code, value in report["indicators"].items()})
        for column, key in enumerate(keys, start=1):
            if key in values:
                sheet.cell(row=row, column=column, value=values[key])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def upload(client: Any, content: bytes) -> Any:
    return client.post(
        "/sheets/upload",
        data={"csrf_token": client.csrf, "round": open_round(), "file": (io.BytesIO(content), "报送.xlsx")},
        content_type="multipart/form-data",
    )


def stored() -> dict[str, Submission]:
    with db.transaction() as session:
        items = session.scalars(select(Submission)).all()
        return {s.unit.credit_code: (s.measures, s.indicators, s.channel) for s in items}


def test_it_stores_the_reports_of_a_filled_in_template_exactly_as_the_rows_say(
    auth: Any, catalogue: Catalogue
) -> None:
    client = auth.sign_in("gulou")
    book = template_for(client)
    units = [book.active.cell(row=r, column=1).value for r in (3, 4, 5)]
    assert all(units) and book.active.cell(row=3, column=2).value  # the district's units, with their names
    reports = {3 + i: clean_report(catalogue, unit, open_round()) for i, unit in enumerate(units)}
    reports[4]["indicators"]["workers_total"] = 950
    reports[5]["measures"][next(iter(catalogue.measures))] = {"status": "in_progress", "note": "正在推进"}
    answer = upload(client, fill(book, reports))
    assert answer.status_code == 302, answer.get_data(as_text=True)[:2000]
    saved = stored()
    assert set(saved) == set(units)
    for report in reports.values():
        measures, indicators, channel = saved[report["unit"]]
        assert (measures, indicators, channel) == (report["measures"], report["indicators"], "xlsx")
    with db.transaction() as session:
        assert len(session.scalars(select(OutboxEvent)).all()) == 3


def test_it_answers_per_row_messages_and_stores_nothing_when_a_row_is_wrong(
    auth: Any, catalogue: Catalogue
) -> None:
    client = auth.sign_in("gulou")
    book = template_for(client)
    units = [book.active.cell(row=r, column=1).value for r in (3, 4, 5)]
    reports = {3 + i: clean_report(catalogue, unit, open_round()) for i, unit in enumerate(units)}
    reports[4]["indicators"]["payroll_total"] = -5
    second = list(catalogue.measures)[1]
    reports[5]["measures"][second] = {"status": "做完了", "note": ""}
    answer = upload(client, fill(book, reports))
    page = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert "不能为负数" in page and "i.payroll_total" in page and f"m.{second}.status" in page
    assert stored() == {}
    link = page.split('href="/sheets/errors/')[1].split('"')[0]
    errors = load_workbook(io.BytesIO(client.get("/sheets/errors/" + link).data)).active
    rows = [[c.value for c in row] for row in errors.iter_rows(min_row=2)]
    assert {(r[0], r[1]) for r in rows} == {(4, units[1]), (5, units[2])}


def test_it_refuses_a_row_of_another_district_and_a_file_that_is_not_a_workbook(
    auth: Any, catalogue: Catalogue
) -> None:
    gulou, taijiang = auth.sign_in("gulou"), auth.sign_in("taijiang")
    book = template_for(taijiang)
    other_unit = book.active.cell(row=3, column=1).value
    answer = upload(gulou, fill(book, {3: clean_report(catalogue, other_unit, open_round())}))
    assert answer.status_code == 422 and "其他区县" in answer.get_data(as_text=True)
    answer = upload(gulou, b"%PDF-1.4 not a workbook")
    assert answer.status_code == 422 and "XLSX" in answer.get_data(as_text=True)
    assert stored() == {}
