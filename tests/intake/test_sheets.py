"""The report template and reading it back, without the pages: what a clerk sees in Excel, what an
upload may hold, and the clerk's workbook handed back with its problems marked."""

from __future__ import annotations

import io
from types import SimpleNamespace
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook

from services.intake import sheet_checks, sheet_errors, sheet_template, sheets
from shared import config
from shared.catalogue import Catalogue

UNITS = [
    SimpleNamespace(credit_code="91350100611300758B", name="福州示范机械有限公司"),
    SimpleNamespace(credit_code="91350000158142711F", name="福州示范纺织有限公司"),
]


def template(catalogue: Catalogue, locale: str = "zh", max_rows: int = 2000) -> Any:
    content = sheet_template.template(catalogue, "2026H2", UNITS, max_rows, locale)
    return load_workbook(io.BytesIO(content))


def saved(book: Workbook) -> io.BytesIO:
    out = io.BytesIO()
    book.save(out)
    out.seek(0)
    return out


def test_it_titles_the_columns_in_chinese_and_keeps_the_keys_in_a_hidden_row(catalogue: Catalogue) -> None:
    sheet = template(catalogue).worksheets[0]
    titles = [c.value for c in sheet[1]]
    keys = [c.value for c in sheet[2]]
    assert titles[:2] == ["统一社会信用代码", "单位名称"]
    assert (
        titles[keys.index("m.P2-M3.status")]
        == "P2-M3 企业培训主体作用（新型学徒制、职工教育经费）：推进状态*"
    )
    assert titles[keys.index("m.P2-M3.note")] == "P2-M3 落实情况说明"
    assert titles[keys.index("i.workers_total")] == "职工总数（人）*"
    assert titles[keys.index("i.apprentices")] == "新型学徒人数（人）"  # not required: no *
    assert not any("." in str(t) and t == k for t, k in zip(titles, keys, strict=True))
    assert sheet.row_dimensions[2].hidden
    assert [[c.value for c in row[:2]] for row in sheet.iter_rows(min_row=3)] == [
        [u.credit_code, u.name] for u in UNITS
    ]


def validations(sheet: Any) -> dict[str, Any]:
    """Each column's key → its data validation."""
    keys = {c.column_letter: c.value for c in sheet[2]}
    found = {}
    for check in sheet.data_validations.dataValidation:
        for cell_range in check.sqref.ranges:
            found[keys[cell_range.coord.split(":")[0].rstrip("0123456789")]] = check
    return found


def test_it_offers_drop_down_lists_of_the_words_and_checks_numbers_with_a_message(
    catalogue: Catalogue,
) -> None:
    sheet = template(catalogue).worksheets[0]
    checks = validations(sheet)
    status = checks["m.P1-M1.status"]
    assert status.type == "list" and status.formula1 == '"未启动,推进中,已落实,成效突出"'
    assert status.showInputMessage and "未启动、推进中、已落实、成效突出" in status.prompt
    assert checks["i.congress_held"].formula1 == '"是,否"'
    workers = checks["i.workers_total"]
    assert (workers.type, workers.operator, workers.formula1) == ("whole", "greaterThanOrEqual", "0")
    assert workers.prompt == "填写不小于0的整数，单位：人"
    payroll = checks["i.payroll_total"]
    assert payroll.type == "decimal" and "单位：万元" in payroll.prompt and "两位小数" in payroll.prompt
    assert str(status.sqref).endswith("2002")  # every row an upload may hold
    keys = [c.value for c in sheet[2]]
    assert sheet.cell(row=3, column=keys.index("i.workers_total") + 1).number_format == "0"
    assert sheet.cell(row=3, column=keys.index("i.payroll_total") + 1).number_format == "0.00"
    assert "m.P1-M1.note" not in checks


def test_it_explains_how_to_fill_it_in_on_a_sheet_of_its_own(catalogue: Catalogue) -> None:
    book = template(catalogue, max_rows=2000)
    assert book.sheetnames == ["报送表", "填写说明"]
    text = "\n".join(str(c.value) for c in book["填写说明"]["A"])
    assert text.startswith("2026年下半年督导报送模板填写说明")
    for said in (
        "县（市）区",
        "未启动、推进中、已落实、成效突出",
        "万元",
        "“是”或“否”",
        "不超过 2000 行",
        "问题汇总",
    ):
        assert said in text


def test_it_writes_the_template_in_english_for_an_english_page(catalogue: Catalogue) -> None:
    book = template(catalogue, "en")
    sheet = book.worksheets[0]
    titles = [c.value for c in sheet[1]]
    assert book.sheetnames == ["Reports", "Instructions"] and "Workers total (人)*" in titles
    assert validations(sheet)["m.P1-M1.status"].formula1 == '"Not started,In progress,Implemented,Exemplary"'


def filled(catalogue: Catalogue, values: dict[str, Any], rows: int = 1) -> io.BytesIO:
    book = template(catalogue)
    sheet = book.worksheets[0]
    keys = [c.value for c in sheet[2]]
    for row in range(3, 3 + rows):
        for key, value in values.items():
            sheet.cell(row=row, column=keys.index(key) + 1, value=value)
    return saved(book)


@pytest.mark.parametrize(
    ("status", "yes"),
    [("推进中", "是"), ("In progress", "Yes"), ("in_progress", "true"), ("in_progress", True)],
)
def test_it_reads_the_words_of_either_language_and_the_old_codes(
    catalogue: Catalogue, status: str, yes: Any
) -> None:
    found = sheets.read_rows(filled(catalogue, {"m.P1-M1.status": status, "i.congress_held": yes}))
    [(number, values)] = found.rows
    cols = {c.key: c for c in sheets.columns(catalogue)}
    translated, problems = sheet_checks.translate_cells(values, cols)
    assert number == 3 and problems == []
    assert (translated["m.P1-M1.status"], translated["i.congress_held"]) == ("in_progress", "true")
    _values, problems = sheet_checks.translate_cells({"i.congress_held": "大概"}, cols)
    assert problems == [("i.congress_held", "应从下拉列表中选择“是”或“否” / Choose Yes or No from the list")]


def test_it_skips_the_units_listed_but_not_filled_in(catalogue: Catalogue) -> None:
    found = sheets.read_rows(filled(catalogue, {}, rows=0))
    assert found.rows == []


def test_it_refuses_more_rows_than_the_setting_allows_saying_the_limit(catalogue: Catalogue) -> None:
    assert (
        config.load({}).sheet_max_rows == 2000 and config.load({"SHEET_MAX_ROWS": "50"}).sheet_max_rows == 50
    )
    content = filled(catalogue, {"i.workers_total": 10}, rows=2).getvalue()
    assert len(sheets.read_rows(io.BytesIO(content), max_rows=2).rows) == 2
    with pytest.raises(sheets.SheetError) as refused:
        sheets.read_rows(io.BytesIO(content), max_rows=1)
    assert str(refused.value) == "文件超过 1 行，超出每次上传的上限；请分成几个文件分别上传"
    with pytest.raises(sheets.SheetError, match="more than 1 rows"):
        sheets.read_rows(io.BytesIO(content), max_rows=1, locale="en")


def test_it_refuses_a_sheet_of_many_blank_rows_without_reading_to_its_end(catalogue: Catalogue) -> None:
    book = template(catalogue)
    sheet = book.worksheets[0]
    for row in range(3, 60):
        sheet.cell(row=row, column=1, value=f"x{row}")  # only the unit column: nothing reported
    with pytest.raises(sheets.SheetError, match="文件超过 2 行"):
        sheets.read_rows(saved(book), max_rows=2)


def test_it_lists_each_formula_saved_without_its_value_instead_of_reading_it_as_empty(
    catalogue: Catalogue,
) -> None:
    found = sheets.read_rows(
        filled(catalogue, {"i.workers_total": 10, "m.P1-M1.note": '="已"&"落实"', "i.payroll_total": "=1+1"})
    )
    assert sorted(found.uncomputed) == [(3, "i.payroll_total"), (3, "m.P1-M1.note")]


def test_it_reads_an_old_template_whose_only_sheet_has_codes_in_row_two(catalogue: Catalogue) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["统一社会信用代码 unit", "P1-M1 状态"])
    sheet.append(["unit", "m.P1-M1.status"])
    sheet.append(["91350100611300758B", "not_started"])
    found = sheets.read_rows(saved(book))
    assert found.rows == [(3, {"unit": "91350100611300758B", "m.P1-M1.status": "not_started"})]


def test_it_names_every_row_of_a_unit_filled_in_twice() -> None:
    rows = [(3, {"unit": "A"}), (4, {"unit": "B"}), (5, {"unit": " a "}), (6, {"unit": ""})]
    assert sheet_checks.duplicates(rows) == {3: [3, 5], 5: [3, 5]}


@pytest.mark.parametrize(
    ("message", "zh", "en"),
    [
        ("不能为负数 / must not be negative", "不能为负数", "must not be negative"),
        (
            "应为是或否（true/false） / must be true or false",
            "应为是或否（true/false）",
            "must be true or false",
        ),
        ("状态应为 a, b 之一", "状态应为 a, b 之一", "状态应为 a, b 之一"),
    ],
)
def test_it_keeps_one_language_of_a_message(message: str, zh: str, en: str) -> None:
    assert (sheet_checks.in_language(message, "zh"), sheet_checks.in_language(message, "en")) == (zh, en)


def test_it_marks_again_a_file_handed_back_before_without_keeping_the_old_marks(catalogue: Catalogue) -> None:
    content = filled(catalogue, {"i.workers_total": -1}).getvalue()
    keys = [c.value for c in template(catalogue).worksheets[0][2]]
    letter = sheets.letters(keys)["i.workers_total"]
    first = sheet_errors.annotate(
        content, [[3, "福州示范机械有限公司", letter, "职工总数（人）*", "不能为负数"]], "zh"
    )
    second = sheet_errors.annotate(
        first, [[4, "福州示范纺织有限公司", "A", "统一社会信用代码", "未找到"]], "zh"
    )
    book = load_workbook(io.BytesIO(second))
    assert book.sheetnames == ["问题汇总", "报送表", "填写说明"]
    assert book["问题汇总"].max_row == 2
    assert book["报送表"][f"{letter}3"].comment is None and book["报送表"]["A4"].comment.text == "未找到"
    assert book["问题汇总"]["C2"].hyperlink.location == "'报送表'!A4"  # a click takes the clerk to the cell
