"""A refused upload handed back as the clerk's own workbook: each wrong cell filled red with a comment
saying what is wrong, and a summary sheet (row, unit, column, column title, problem) in front."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from openpyxl import load_workbook
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.workbook import Workbook
from openpyxl.worksheet.hyperlink import Hyperlink
from openpyxl.worksheet.worksheet import Worksheet

from services.intake import cells
from services.intake.sheet_checks import Problem, in_language
from services.intake.sheets import Column, letters, say

WRONG = PatternFill("solid", fgColor="FFC7CE")
LINK = Font(color="0563C1", underline="single")
AUTHOR = "产改督导"  # also how a later upload of the same file finds these marks to clear them
SUMMARY_SHEET = ("问题汇总", "Problems")
SUMMARY_HEADERS = (
    ("行号", "单位名称", "列", "列名", "问题"),
    ("Row", "Unit", "Column", "Column title", "Problem"),
)
WHOLE_ROW = ("整行", "whole row")


def listed(
    problems: Sequence[Problem], keys: Sequence[str], cols: dict[str, Column], locale: str
) -> list[list[Any]]:
    """The problems as the page and the summary sheet list them: row, unit name (or its code), column
    letter, column title, message, in one language."""
    where = letters(keys)
    return [
        [
            p.row,
            p.name or p.unit,
            where.get(p.key) or where.get("unit", "A"),
            cols[p.key].title(locale) if p.key in cols else say(WHOLE_ROW, locale),
            in_language(p.message, locale),
        ]
        for p in problems
    ]


def data_sheet(book: Workbook) -> Worksheet:
    for sheet in book.worksheets:
        if "unit" in [cell.value for cell in sheet[2]]:
            return sheet
    return book.worksheets[0]


def _clear_earlier_marks(book: Workbook, sheet: Worksheet, title: str) -> None:
    """A file handed back before and uploaded again: its old marks and summary go, new ones are made."""
    if title in book.sheetnames:
        del book[title]
    for row in sheet.iter_rows(min_row=3):
        for cell in row:
            if cell.comment is not None and cell.comment.author == AUTHOR:
                cell.comment, cell.fill = None, PatternFill()


def _summary(book: Workbook, sheet: Worksheet, rows: list[list[Any]], locale: str) -> None:
    summary = book.create_sheet(say(SUMMARY_SHEET, locale), 0)
    cells.append_row(summary, list(SUMMARY_HEADERS[1 if locale == "en" else 0]))
    for cell in summary[1]:
        cell.font, cell.fill = Font(bold=True), WRONG
    for number, row in enumerate(rows, start=2):  # (not summary.max_row: it counts every cell each time)
        cells.append_row(summary, row)
        link = summary.cell(row=number, column=3)
        link.hyperlink = Hyperlink(ref=link.coordinate, location=f"'{sheet.title}'!{row[2]}{row[0]}")
        link.font = LINK
    for letter, width in zip("ABCDE", (8, 30, 6, 36, 90), strict=True):
        summary.column_dimensions[letter].width = width
    summary.freeze_panes = "A2"
    book.active = 0


def annotate(content: bytes, rows: list[list[Any]], locale: str) -> bytes:
    """The uploaded workbook with each listed problem's cell marked and commented, and the summary."""
    book = load_workbook(io.BytesIO(content))
    sheet = data_sheet(book)
    _clear_earlier_marks(book, sheet, say(SUMMARY_SHEET, locale))
    said: dict[str, list[str]] = {}
    for row, _name, letter, _title, message in rows:
        said.setdefault(f"{letter}{row}", []).append(message)
    for ref, messages in said.items():
        cell = sheet[ref]
        cell.fill = WRONG
        cell.comment = Comment("\n".join(messages), AUTHOR, width=320, height=120)
    _summary(book, sheet, rows, locale)
    for each in book.worksheets:
        each.sheet_view.tabSelected = each is book.worksheets[0]
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
