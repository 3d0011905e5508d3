"""Spreadsheets: the report template's columns, reading a filled-in one back row by row, and tables
written as CSV or XLSX. The rows go through the same schema and checks as the API (sheet_checks.py).

Row 1 holds the column titles a clerk reads, row 2 (hidden) each column's field key as the form names
it (`m.P1-M1.status`, `i.workers_total`): uploads are read by the keys, so a template of any age or
language reads the same.
"""

from __future__ import annotations

import csv
import io
import tempfile
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from services.intake import cells
from shared import config
from shared.catalogue import Catalogue

HEADER_ROWS = 2  # row 1: the title a clerk reads; row 2 (hidden): the field's key, as the form names it
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# A filled-in template of every unit unpacks to well under 1 MB; more than this is a zip bomb.
MAX_UNPACKED = 32 * 1024 * 1024
# Blank rows are skipped, but not without end: past this many rows per allowed row the file is refused.
BLANK_ROWS_PER_ROW = 5

Words = tuple[str, str]
NOT_READABLE = (
    "无法读取该文件，请上传用报送模板填写的 XLSX 文件",
    "The file cannot be read: upload an XLSX file filled in from the template",
)
NOT_TEMPLATE = (
    "该文件不是报送模板（第 2 行应为字段代码，请勿删除），请重新下载模板填写",
    "This is not the report template (its hidden row 2 holds the field keys): download the template again",
)
TOO_LARGE = ("文件解压后超过 {mb} MB，已拒绝", "The workbook unpacks to more than {mb} MB and was refused")
TOO_MANY_ROWS = (
    "文件超过 {limit} 行，超出每次上传的上限；请分成几个文件分别上传",
    "The file holds more than {limit} rows, the most one upload takes: split it into several files",
)


def say(pair: Words, locale: str, /, **values: Any) -> str:
    """One of a (Chinese, English) pair in the language asked for, with its values filled in."""
    return (pair[1] if locale == "en" else pair[0]).format(**values)


class SheetError(ValueError):
    """The file is not a readable workbook of the template's shape; the message is in the page's language."""


@dataclass(frozen=True)
class Column:
    key: str
    kind: str  # unit, name, status, note, integer, decimal, boolean
    title_zh: str
    title_en: str
    spec: dict[str, Any] = field(default_factory=dict)

    def title(self, locale: str) -> str:
        return self.title_en if locale == "en" else self.title_zh


def columns(catalogue: Catalogue) -> list[Column]:
    """The template's columns in order: the unit, then each measure's status and note, then the
    indicators; required ones marked with *."""
    cols = [
        Column("unit", "unit", "统一社会信用代码", "Unified social credit code"),
        Column("name", "name", "单位名称", "Unit name"),
    ]
    for code, measure in catalogue.measures.items():
        cols += [
            Column(
                f"m.{code}.status",
                "status",
                f"{code} {measure['name_zh']}：推进状态*",
                f"{code} {measure.get('name_en') or measure['name_zh']}: status*",
            ),
            Column(f"m.{code}.note", "note", f"{code} 落实情况说明", f"{code} note on what was done"),
        ]
    required = set(catalogue.required_indicators)
    for code, spec in catalogue.indicators.items():
        unit = f"（{spec['unit']}）" if spec.get("unit") else ""
        star = "*" if code in required else ""
        cols.append(
            Column(
                f"i.{code}",
                spec.get("type", "integer"),
                f"{spec['name_zh']}{unit}{star}",
                f"{spec.get('name_en') or spec['name_zh']}{' (' + spec['unit'] + ')' if spec.get('unit') else ''}{star}",
                spec,
            )
        )
    return cols


@dataclass
class SheetRows:
    """What a sheet holds: its filled rows (row number, {field key: text}), the keys in column order,
    and the formula cells whose value the file does not hold."""

    rows: list[tuple[int, dict[str, str]]]
    keys: list[str]
    uncomputed: list[tuple[int, str]] = field(default_factory=list)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def refuse_bombs(stream: IO[bytes], locale: str = "zh") -> None:
    """Refuse a workbook that would unpack to more than MAX_UNPACKED before anything unpacks it.
    The sizes come from the zip's directory; a member larger than it says fails its CRC check."""
    try:
        with zipfile.ZipFile(stream) as archive:
            unpacked = sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise SheetError(say(NOT_READABLE, locale)) from exc
    if unpacked > MAX_UNPACKED:
        raise SheetError(say(TOO_LARGE, locale, mb=MAX_UNPACKED // 2**20))
    stream.seek(0)


def _template_rows(stream: IO[bytes], data_only: bool) -> Iterator[tuple[Any, ...]]:
    """The rows of the workbook's template sheet (the first whose row 2 holds the key `unit`), streamed."""
    book = load_workbook(stream, read_only=True, data_only=data_only)
    for sheet in book.worksheets:
        rows = sheet.iter_rows(values_only=True)
        head = [next(rows, ()), next(rows, ())]
        if "unit" in (head[1] or ()):
            yield from head
            yield from rows
            return


def read_rows(stream: IO[bytes], max_rows: int | None = None, locale: str = "zh") -> SheetRows:
    """Every filled row under the headers, read as a stream; more than `max_rows` rows with anything
    in them is refused. A formula cell is read as the value Excel saved with it; one saved without a
    value (written by a program, never opened in Excel) is listed in `uncomputed`, never read as empty."""
    max_rows = max_rows or config.current().sheet_max_rows
    refuse_bombs(stream, locale)
    content = stream.read()
    try:
        values = _template_rows(io.BytesIO(content), data_only=True)
        formulas = _template_rows(io.BytesIO(content), data_only=False)
        head = next(values, None), next(values, None)
        next(formulas, None), next(formulas, None)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        raise SheetError(say(NOT_READABLE, locale)) from exc
    if head[1] is None:
        raise SheetError(say(NOT_TEMPLATE, locale))
    keys = [str(k or "") for k in head[1]]
    out = SheetRows([], keys)
    try:
        for number, (row, written) in enumerate(zip(values, formulas, strict=False), start=HEADER_ROWS + 1):
            if number > HEADER_ROWS + max_rows * BLANK_ROWS_PER_ROW:
                raise SheetError(say(TOO_MANY_ROWS, locale, limit=max_rows))
            texts = {key: _cell(value) for key, value in zip(keys, row, strict=False) if key}
            missing = [
                key
                for key, value, formula in zip(keys, row, written, strict=False)
                if key and value is None and isinstance(formula, str) and formula.startswith("=")
            ]
            if not (any(v for k, v in texts.items() if k not in ("unit", "name")) or missing):
                continue  # a unit the template lists that this upload does not report
            if len(out.rows) >= max_rows:
                raise SheetError(say(TOO_MANY_ROWS, locale, limit=max_rows))
            out.rows.append((number, texts))
            out.uncomputed += [(number, key) for key in missing]
    except SheetError:
        raise
    except Exception as exc:
        raise SheetError(say(NOT_READABLE, locale)) from exc
    return out


def letters(keys: Sequence[str]) -> dict[str, str]:
    """Each field key's column letter in the uploaded sheet."""
    return {key: get_column_letter(index) for index, key in enumerate(keys, start=1) if key}


CHUNK = 64 * 1024  # bytes handed to the server at a time by a streamed export


def stream(headers: Sequence[str], rows: Iterable[Sequence[Any]], kind: str) -> Iterator[bytes]:
    """A table as CSV or XLSX, a chunk at a time: the rows are read as they are written, so an export
    of any length holds one chunk in memory (XLSX in write-only mode, its parts spooled to disk)."""
    if kind == "csv":
        text = io.StringIO()
        out = csv.writer(text)
        text.write("\ufeff")  # the mark lets Excel read it as UTF-8
        out.writerow(cells.csv_row(headers))
        for row in rows:
            out.writerow(cells.csv_row(row))
            if text.tell() >= CHUNK:
                yield text.getvalue().encode("utf-8")
                text.seek(0)
                text.truncate()
        yield text.getvalue().encode("utf-8")
        return
    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    bold = Font(bold=True)
    titles = []
    for title in headers:
        cell = WriteOnlyCell(sheet, value=title)
        cell.font = bold
        titles.append(cell)
    sheet.append(titles)
    for row in rows:
        cells.append_row(sheet, row)
    with tempfile.TemporaryFile() as spool:
        book.save(spool)
        spool.seek(0)
        while chunk := spool.read(CHUNK):
            yield chunk


def write(headers: Sequence[str], rows: Iterable[Sequence[Any]], kind: str) -> bytes:
    """The whole table at once (for small tables; exports stream)."""
    return b"".join(stream(headers, rows, kind))
