"""Bulk reports from Excel through the pages: the template, filled in with openpyxl, uploaded, checked
and stored by the intake worker's use case (called here as the worker's task calls it), its outcome
on the upload's page and in the clerk's own workbook handed back with each problem marked."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from services.intake import sheet_imports
from shared import db
from shared.catalogue import STATUS_NAMES, Catalogue
from shared.celery_app import make_celery
from shared.models import Draft, OutboxEvent, Round, SheetImport, Submission
from tests.support.reports import clean_report, open_round

STATUS_WORD = {code: names[0] for code, names in STATUS_NAMES.items()}


def template_for(client: Any, round_code: str | None = None) -> Any:
    answer = client.get(f"/sheets/template.xlsx?round={round_code or open_round()}")
    assert answer.status_code == 200
    return load_workbook(io.BytesIO(answer.data))


def fill(book: Any, rows: dict[int, dict[str, Any]], words: bool = True) -> bytes:
    """Write each report into its row as a clerk would (the statuses' and yes/no's words from the
    drop-down lists; the old codes with `words=False`), by the key row (row 2) of the template."""
    sheet = book.worksheets[0]
    keys = [cell.value for cell in sheet[2]]
    for row, report in rows.items():
        values: dict[str, Any] = {"unit": report["unit"]}
        for code, entry in report["measures"].items():
            status = STATUS_WORD.get(entry["status"], entry["status"]) if words else entry["status"]
            values[f"m.{code}.status"], values[f"m.{code}.note"] = status, entry["note"]
        for code, value in report["indicators"].items():
            if isinstance(value, bool):
                value = ("是" if value else "否") if words else str(value).lower()
            values[f"i.{code}"] = value
        for column, key in enumerate(keys, start=1):
            if key in values:
                sheet.cell(row=row, column=column, value=values[key])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def upload(client: Any, content: bytes, round_code: str | None = None) -> Any:
    return client.post(
        "/sheets/upload",
        data={
            "csrf_token": client.csrf,
            "round": round_code or open_round(),
            "file": (io.BytesIO(content), "报送.xlsx"),
        },
        content_type="multipart/form-data",
    )


def checked(client: Any, answer: Any) -> str:
    """Run the upload's job as the intake worker does, then answer its page."""
    assert answer.status_code == 302, answer.get_data(as_text=True)[:2000]
    page = answer.headers["Location"]
    sheet_imports.run(page.rstrip("/").rsplit("/", 1)[-1], make_celery("test"))
    return client.get(page).get_data(as_text=True)


def stored() -> dict[str, Any]:
    with db.transaction() as session:
        items = session.scalars(select(Submission)).all()
        return {s.unit.credit_code: (s.measures, s.indicators, s.channel) for s in items}


def three_reports(book: Any, catalogue: Catalogue) -> tuple[list[str], dict[int, dict[str, Any]]]:
    units = [book.worksheets[0].cell(row=r, column=1).value for r in (3, 4, 5)]
    return units, {3 + i: clean_report(catalogue, unit, open_round()) for i, unit in enumerate(units)}


@pytest.mark.parametrize("words", [True, False], ids=["chinese-words", "old-codes"])
def test_it_stores_the_reports_of_a_filled_in_template_exactly_as_the_rows_say(
    auth: Any, catalogue: Catalogue, words: bool
) -> None:
    client = auth.sign_in("gulou")
    book = template_for(client)
    units, reports = three_reports(book, catalogue)
    assert all(units) and book.worksheets[0].cell(row=3, column=2).value  # the district's units, named
    reports[4]["indicators"]["workers_total"] = 950
    reports[5]["measures"][next(iter(catalogue.measures))] = {"status": "in_progress", "note": "正在推进"}
    page = checked(client, upload(client, fill(book, reports, words)))
    assert "已导入 3 家单位" in page
    saved = stored()
    assert set(saved) == set(units)
    for report in reports.values():
        measures, indicators, channel = saved[report["unit"]]
        assert (measures, indicators, channel) == (report["measures"], report["indicators"], "xlsx")
    with db.transaction() as session:
        assert (
            len(session.scalars(select(OutboxEvent).where(OutboxEvent.task_name.like("evaluation.%"))).all())
            == 3
        )
        ids = [s.id for s in session.scalars(select(Submission))]
    assert all(f"/submissions/{i}" in page for i in ids)  # each unit's report linked


def test_it_hands_the_clerks_workbook_back_with_each_wrong_cell_marked_in_chinese(
    auth: Any, catalogue: Catalogue
) -> None:
    client = auth.sign_in("gulou")
    book = template_for(client)
    units, reports = three_reports(book, catalogue)
    reports[4]["indicators"]["payroll_total"] = -5
    second = list(catalogue.measures)[1]
    reports[5]["measures"][second] = {"status": "做完了", "note": ""}
    page = checked(client, upload(client, fill(book, reports)))
    assert "文件有误，未入库" in page and "不能为负数" in page
    listed = page.split('id="upload-errors"')[1]
    for machine_words in ("i.payroll_total", f"m.{second}.status", "not_started", "/ must"):
        assert machine_words not in listed
    assert stored() == {}
    link = page.split('id="marked" href="')[1].split('"')[0]
    marked = load_workbook(io.BytesIO(client.get(link).data))
    summary, sheet = marked.worksheets[0], marked.worksheets[1]
    assert summary.title == "问题汇总"
    assert [c.value for c in summary[1]] == ["行号", "单位名称", "列", "列名", "问题"]
    rows = {r[0]: r for r in summary.iter_rows(min_row=2, values_only=True)}
    names = {n: sheet.cell(row=n, column=2).value for n in (4, 5)}
    keys = [c.value for c in sheet[2]]
    payroll = keys.index("i.payroll_total") + 1
    status = keys.index(f"m.{second}.status") + 1
    assert rows[4][1] == names[4] and rows[4][3] == "工资总额（万元）*" and "不能为负数" in rows[4][4]
    assert rows[5][4] == "应从下拉列表中选择：未启动、推进中、已落实、成效突出"
    bad = sheet.cell(row=4, column=payroll)
    assert bad.value == -5 and bad.fill.fgColor.rgb.endswith("FFC7CE") and "不能为负数" in bad.comment.text
    assert rows[4][2] == bad.column_letter and f">{bad.column_letter}<" in page and names[4] in page
    assert "未启动、推进中" in sheet.cell(row=5, column=status).comment.text
    assert sheet.cell(row=3, column=payroll).comment is None  # a good row is left alone


def test_it_writes_the_template_and_the_marks_in_english_on_an_english_page(
    auth: Any, catalogue: Catalogue
) -> None:
    client = auth.sign_in("gulou")
    client.post("/locale", data={"csrf_token": client.csrf, "locale": "en", "next": "/sheets/"})
    book = template_for(client)
    assert book.worksheets[0].cell(row=1, column=1).value == "Unified social credit code"
    assert book.sheetnames == ["Reports", "Instructions"]
    units, reports = three_reports(book, catalogue)
    reports[4]["indicators"]["payroll_total"] = -5
    page = checked(client, upload(client, fill(book, reports, words=False)))
    assert "Must not be negative" in page and "不能为负数" not in page
    link = page.split('id="marked" href="')[1].split('"')[0]
    summary = load_workbook(io.BytesIO(client.get(link).data)).worksheets[0]
    assert summary.title == "Problems" and summary.cell(row=2, column=5).value == "Must not be negative"


def test_it_refuses_a_row_of_another_district_and_a_file_that_is_not_a_workbook(
    auth: Any, catalogue: Catalogue
) -> None:
    gulou, taijiang = auth.sign_in("gulou"), auth.sign_in("taijiang")
    book = template_for(taijiang)
    other_unit = book.worksheets[0].cell(row=3, column=1).value
    page = checked(gulou, upload(gulou, fill(book, {3: clean_report(catalogue, other_unit, open_round())})))
    assert "该单位不属于本县（市）区" in page
    answer = upload(gulou, b"%PDF-1.4 not a workbook")
    assert answer.status_code == 422 and "XLSX" in answer.get_data(as_text=True)
    assert stored() == {}


def closed_round() -> str:
    with db.transaction() as session:
        return session.scalars(select(Round.code).where(Round.status == "closed")).first()


def test_it_refuses_a_sheet_for_a_closed_round_instead_of_storing_it_in_the_open_one(
    auth: Any, catalogue: Catalogue
) -> None:
    client = auth.sign_in("gulou")
    book = template_for(client)
    units, reports = three_reports(book, catalogue)
    closed = closed_round()
    answer = upload(client, fill(book, reports), round_code=closed)
    assert answer.status_code == 422 and "督导已结束，不再接收报送" in answer.get_data(as_text=True)
    assert stored() == {}
    with db.transaction() as session:
        assert session.scalars(select(SheetImport)).all() == []


def test_it_refuses_a_draft_for_a_closed_round_instead_of_saving_it_to_the_open_one(
    auth: Any, catalogue: Catalogue
) -> None:
    client = auth.sign_in("gulou")
    units = [template_for(client).worksheets[0].cell(row=3, column=1).value]
    answer = client.post(
        "/submissions/new",
        data={"csrf_token": client.csrf, "unit": units[0], "round": closed_round(), "action": "draft"},
    )
    assert answer.status_code == 422 and "督导已结束" in answer.get_data(as_text=True)
    with db.transaction() as session:
        assert session.scalars(select(Draft)).all() == []


def test_it_refuses_one_unit_on_several_rows_naming_the_rows(auth: Any, catalogue: Catalogue) -> None:
    client = auth.sign_in("gulou")
    book = template_for(client)
    units, reports = three_reports(book, catalogue)
    reports[5] = dict(reports[3])
    reports[6] = dict(reports[3])
    page = checked(client, upload(client, fill(book, reports)))
    assert page.count("同一单位在第 3、5、6 行重复填报，每家单位只能填一行") == 3
    assert stored() == {}


def test_it_reports_a_formula_saved_without_its_value_per_cell(auth: Any, catalogue: Catalogue) -> None:
    client = auth.sign_in("gulou")
    book = template_for(client)
    units, reports = three_reports(book, catalogue)
    first = next(iter(catalogue.measures))
    content = fill(book, reports)
    book = load_workbook(io.BytesIO(content))
    sheet = book.worksheets[0]
    keys = [c.value for c in sheet[2]]
    note = sheet.cell(row=4, column=keys.index(f"m.{first}.note") + 1)
    note.value = '=CONCATENATE("已建立","工作机制")'  # openpyxl saves no computed value with it
    out = io.BytesIO()
    book.save(out)
    page = checked(client, upload(client, out.getvalue()))
    assert "该单元格是公式，但文件中没有保存计算结果" in page and f">{note.column_letter}<" in page
    assert stored() == {}


def test_it_says_when_an_upload_waits_longer_than_usual_for_the_worker(
    auth: Any, catalogue: Catalogue
) -> None:
    client = auth.sign_in("gulou")
    book = template_for(client)
    _units, reports = three_reports(book, catalogue)
    page = upload(client, fill(book, reports)).headers["Location"]
    assert "校验等候时间比平常长" not in client.get(page).get_data(as_text=True)
    with db.transaction() as session:
        job = session.scalars(select(SheetImport)).one()
        job.requested_at = job.requested_at - timedelta(seconds=60)
    waiting = client.get(page).get_data(as_text=True)
    assert "校验等候时间比平常长。文件已保存，无需重新上传" in waiting and 'http-equiv="refresh"' in waiting


def test_it_lists_the_first_problems_on_the_page_and_counts_them_all(
    auth: Any, catalogue: Catalogue, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sheet_imports, "LISTED", 2)
    client = auth.sign_in("gulou")
    book = template_for(client)
    _units, reports = three_reports(book, catalogue)
    for report in reports.values():
        report["indicators"]["payroll_total"] = -5
    page = checked(client, upload(client, fill(book, reports)))
    assert "发现 3 处问题" in page and "此处只列出前 2 处" in page and page.count("不能为负数") == 2
