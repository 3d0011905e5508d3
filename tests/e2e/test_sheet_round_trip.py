"""The Excel path as a district clerk uses it, in a real browser against the real stack (gunicorn and the
intake's own worker): download the template, fill it in, upload it, get the workbook back with the
wrong cell marked, correct it, upload again and see the reports imported."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from shared import db
from shared.catalogue import Catalogue
from shared.models import Submission
from tests.e2e.browser import log_in, needs_chromium, shoot
from tests.intake.test_web_sheets import fill
from tests.support.processes import Stack
from tests.support.reports import clean_report, open_round

pytestmark = [pytest.mark.e2e, needs_chromium]
CLERK = "gulou@pilotwatch.example"


def download(page: Any, selector: str, target: Path) -> Path:
    with page.expect_download() as started:
        page.click(selector)
    started.value.save_as(target)
    return target


def upload(page: Any, base: str, path: Path) -> None:
    page.goto(base + "/sheets/")
    page.set_input_files("#file", str(path))
    page.click("form[action='/sheets/upload'] button[type=submit]")


def test_it_hands_back_the_workbook_with_the_wrong_cell_marked_then_imports_it_corrected(
    stack: Stack, browser: Any, catalogue: Catalogue, tmp_path: Path
) -> None:
    stack.start("intake", "intake-worker")
    page = browser.new_page(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    log_in(page, stack.url, CLERK)
    page.goto(stack.url + "/sheets/")
    book = load_workbook(
        download(page, f"a[href*='template.xlsx?round={open_round()}']", tmp_path / "模板.xlsx")
    )
    sheet = book.worksheets[0]
    units = [sheet.cell(row=r, column=1).value for r in (3, 4)]
    reports = {3 + i: clean_report(catalogue, unit, open_round()) for i, unit in enumerate(units)}
    filled = tmp_path / "鼓楼区报送.xlsx"
    filled.write_bytes(fill(book, reports))
    book = load_workbook(filled)
    keys = [c.value for c in book.worksheets[0][2]]
    workers = book.worksheets[0].cell(row=4, column=keys.index("i.workers_total") + 1)
    workers.value = "约800人"  # a clerk's slip: words in a number cell
    book.save(filled)

    upload(page, stack.url, filled)
    errors = page.locator("#upload-errors")
    errors.wait_for(timeout=60_000)
    listed = errors.inner_text()
    name = book.worksheets[0].cell(row=4, column=2).value
    assert "应填写数值，不要填写文字或单位" in listed and name in listed and "职工总数（人）*" in listed
    assert f"\t{workers.column_letter}\t" in listed or f" {workers.column_letter} " in f" {listed} "
    assert "i.workers_total" not in listed
    shoot(page, "sheet-errors")

    marked = load_workbook(download(page, "#marked", tmp_path / "标注.xlsx"))
    assert marked.sheetnames[0] == "问题汇总"
    cell = marked.worksheets[1][workers.coordinate]
    assert cell.fill.fgColor.rgb.endswith("FFC7CE") and "应填写数值" in cell.comment.text
    assert [c.value for c in marked["问题汇总"][2]][:4] == [4, name, workers.column_letter, "职工总数（人）*"]
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Submission)) == 0

    cell.value = 800  # corrected in the file that came back, uploaded as it is
    corrected = tmp_path / "鼓楼区报送-已改.xlsx"
    marked.save(corrected)
    upload(page, stack.url, corrected)
    page.locator("#imported").wait_for(timeout=60_000)
    assert "已导入 2 家单位" in page.inner_text("#imported")
    page.click(f"text={name}")
    page.wait_for_url(f"{stack.url}/submissions/*")
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Submission)) == 2
