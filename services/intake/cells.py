"""Text written into a spreadsheet (CSV or XLSX) is never run as a formula.

A spreadsheet program reads a cell that starts with `=`, `+`, `-` or `@` (or a tab or carriage
return before one) as a formula, so a unit's name such as `=HYPERLINK(...)` or `+1+cmd|' /C calc'!A0`
would run on the office's machines. Every writer of CSV and XLSX goes through this module
(OWASP's "CSV injection" advice): CSV gets a leading `'`, XLSX stores the text as text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from openpyxl.cell.cell import Cell
from openpyxl.worksheet.worksheet import Worksheet

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def formula_like(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def csv_cell(value: Any) -> Any:
    """A value for a CSV cell: text that a spreadsheet would run is prefixed with `'`."""
    return "'" + value if formula_like(value) else value


def csv_row(values: Sequence[Any]) -> list[Any]:
    return [csv_cell(value) for value in values]


def xlsx_cell(sheet: Worksheet, value: Any) -> Any:
    """A value for an XLSX cell: text that a spreadsheet would run becomes a text cell (openpyxl
    would write it as a formula), shown with Excel's quote prefix so that editing it does not make
    it one either."""
    if not formula_like(value):
        return value
    cell = Cell(sheet, row=1, column=1, value=value)  # placed by append, in either sheet mode
    cell.data_type = "s"
    cell.quotePrefix = True
    return cell


def append_row(sheet: Worksheet, values: Sequence[Any]) -> None:
    sheet.append([xlsx_cell(sheet, value) for value in values])
