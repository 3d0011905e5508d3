"""The report template a clerk downloads: one row per unit of the district with its name and credit
code, titles in the page's language, the field keys in a hidden row, drop-down lists for the statuses
and yes/no, number formats and input messages from the catalogue's bounds, and a sheet of instructions."""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from services.intake import cells
from services.intake.sheets import HEADER_ROWS, Column, columns, say
from shared import labels
from shared.catalogue import STATUS_NAMES, Catalogue
from shared.models import PilotUnit

TITLE_FILL = PatternFill("solid", fgColor="DDEBF7")
REQUIRED_FILL = PatternFill("solid", fgColor="FCE4D6")
WIDTHS = {"unit": 22, "name": 30, "status": 14, "note": 30}
DATA_SHEET = ("报送表", "Reports")
GUIDE_SHEET = ("填写说明", "Instructions")
NUMBER_FORMATS = {"integer": "0", "decimal": "0.00", "unit": "@", "name": "@", "note": "@"}


def status_words(locale: str) -> list[str]:
    return [names[1] if locale == "en" else names[0] for names in STATUS_NAMES.values()]


def bounds(spec: dict[str, Any], locale: str) -> str:
    low, high = spec.get("min", 0), spec.get("max")
    if locale == "en":
        if high is not None:
            return f"from {low:g} to {high:g}"
        return "not negative" if low == 0 else f"at least {low:g}"
    if high is not None:
        return f"{low:g}至{high:g}之间"
    return f"不小于{low:g}"


def prompt(column: Column, locale: str) -> tuple[str, str]:
    """The input message Excel shows on a cell of this column: a short title and what to enter."""
    spec, unit = column.spec, column.spec.get("unit", "")
    if column.kind == "status":
        return say(("推进状态", "Status"), locale), say(
            ("从下拉列表中选择：{words}", "Choose from the list: {words}"),
            locale,
            words=("、" if locale != "en" else ", ").join(status_words(locale)),
        )
    if column.kind == "boolean":
        return say(("是否", "Yes or no"), locale), say(
            ("从下拉列表中选择“是”或“否”", "Choose Yes or No from the list"), locale
        )
    if column.kind == "integer":
        return say(("整数", "Whole number"), locale), say(
            ("填写{bounds}的整数{unit}", "A whole number, {bounds}{unit}"),
            locale,
            bounds=bounds(spec, locale),
            unit=(f"，单位：{unit}" if locale != "en" else f", in {unit}") if unit else "",
        )
    return say(("数值", "Number"), locale), say(
        ("填写{bounds}的数值{unit}，可保留两位小数", "A number, {bounds}{unit}, up to two decimals"),
        locale,
        bounds=bounds(spec, locale),
        unit=(f"，单位：{unit}" if locale != "en" else f", in {unit}") if unit else "",
    )


def validation(column: Column, locale: str) -> DataValidation | None:
    """The drop-down list or number check of a column, with its input message; None for text."""
    spec = column.spec
    if column.kind == "status":
        check = DataValidation(type="list", formula1='"' + ",".join(status_words(locale)) + '"')
    elif column.kind == "boolean":
        words = [labels.yes_no(True, locale), labels.yes_no(False, locale)]
        check = DataValidation(type="list", formula1='"' + ",".join(words) + '"')
    elif column.kind in ("integer", "decimal"):
        kind = "whole" if column.kind == "integer" else "decimal"
        low, high = spec.get("min", 0), spec.get("max")
        if high is None:
            check = DataValidation(type=kind, operator="greaterThanOrEqual", formula1=f"{low:g}")
        else:
            check = DataValidation(type=kind, operator="between", formula1=f"{low:g}", formula2=f"{high:g}")
    else:
        return None
    check.allow_blank = True
    check.promptTitle, check.prompt = prompt(column, locale)
    check.showInputMessage = check.showErrorMessage = True
    check.errorTitle, check.error = say(("输入有误", "Not accepted"), locale), check.prompt
    return check


def guide(round_title: str, max_rows: int, locale: str) -> list[str]:
    """The instructions sheet, in the office's words."""
    if locale == "en":
        return [
            f"How to fill in the {round_title} report template",
            "1. Every pilot unit of your district has a row. Do not change the credit code or the name.",
            "2. Choose each measure's status from the list: " + ", ".join(status_words("en")) + ". For "
            "Implemented and Exemplary, say what was done in the measure's note.",
            "3. Headcounts and counts are whole numbers; amounts are in 10,000 yuan with up to two decimals. "
            "No negative numbers.",
            "4. Choose Yes or No from the list for the yes/no columns.",
            "5. Columns marked * are required. Leave the row of a unit that does not report blank.",
            "6. Type values rather than formulas; a formula must be calculated and saved in Excel.",
            f"7. At most {max_rows} rows per file. Upload it on the Excel page. Every row is checked; if "
            "anything is wrong nothing is stored, and you get your file back with each wrong cell marked in "
            "red with a comment, and a sheet listing the problems. Correct them and upload again.",
            "8. The hidden row 2 holds the field keys the system reads: do not delete or change it.",
        ]
    return [
        f"{round_title}督导报送模板填写说明",
        "一、本表已列出本县（市）区全部试点单位，每行一家，请勿修改“统一社会信用代码”和“单位名称”两列。",
        "二、各项举措的推进状态请从下拉列表中选择（"
        + "、".join(status_words("zh"))
        + "）；选择“已落实”或“成效突出”的，请在相应“落实情况说明”列写明具体做法和成效。",
        "三、人数、场次等指标填写整数；金额以万元为单位，可保留两位小数；均不得填写负数。",
        "四、“是否”类指标请从下拉列表中选择“是”或“否”。",
        "五、带“*”的列为必填项。本轮不报送的单位，该行其余各列保持空白即可。",
        "六、请直接填写数值，不要使用公式；确需使用公式的，请在 Excel 中计算并保存后再上传。",
        f"七、每个文件不超过 {max_rows} 行。填好后在“Excel 导入导出”页面上传。系统逐行校验，"
        "只要有一处错误，整个文件都不入库，并退回原文件：出错的单元格标红并附批注，另附“问题汇总”表。"
        "请逐项修改后重新上传。",
        "八、第 2 行（已隐藏）为系统识别用的字段代码，请勿删除或修改。",
    ]


def _format_data_sheet(sheet: Worksheet, cols: list[Column], units: int, max_rows: int, locale: str) -> None:
    last = HEADER_ROWS + max(units, max_rows)
    for index, column in enumerate(cols, start=1):
        title = sheet.cell(row=1, column=index)
        title.font = Font(bold=True)
        title.fill = REQUIRED_FILL if column.title_zh.endswith("*") else TITLE_FILL
        title.alignment = Alignment(wrap_text=True, vertical="center")
        letter = title.column_letter
        sheet.column_dimensions[letter].width = WIDTHS.get(column.kind, 14)
        number_format = NUMBER_FORMATS.get(column.kind)
        if number_format:
            for row in range(HEADER_ROWS + 1, HEADER_ROWS + units + 1):
                sheet.cell(row=row, column=index).number_format = number_format
        check = validation(column, locale)
        if check is not None:
            check.add(f"{letter}{HEADER_ROWS + 1}:{letter}{last}")
            sheet.add_data_validation(check)
    sheet.row_dimensions[1].height = 48
    sheet.row_dimensions[2].hidden = True
    sheet.freeze_panes = "C3"


def template(
    catalogue: Catalogue, round_code: str, units: Iterable[PilotUnit], max_rows: int, locale: str = "zh"
) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = say(DATA_SHEET, locale)
    cols = columns(catalogue)
    cells.append_row(sheet, [column.title(locale) for column in cols])
    cells.append_row(sheet, [column.key for column in cols])
    count = 0
    for unit in units:
        cells.append_row(sheet, [unit.credit_code, unit.name])
        count += 1
    _format_data_sheet(sheet, cols, count, max_rows, locale)
    notes = book.create_sheet(say(GUIDE_SHEET, locale))
    for number, line in enumerate(guide(labels.round_name(round_code, locale), max_rows, locale), start=1):
        cell = notes.cell(row=number, column=1, value=line)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        cell.font = Font(bold=number == 1, size=14 if number == 1 else 11)
    notes.column_dimensions["A"].width = 110
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
