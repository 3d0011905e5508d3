"""Spreadsheets: the report template's columns, reading a filled-in one back row by row, and tables
written as CSV or XLSX. The rows go through the same schema and checks as the API.

Row 1 holds the column titles a clerk reads, row 2 (hidden) each column's field key as the form names
it (`m.P1-M1.status`, `i.workers_total`): uploads are read by the keys, so a template of any age or
language reads the same.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO, Any, NamedTuple

from marshmallow import ValidationError
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from sqlalchemy.orm import Session

from services.intake import cells, reportforms, reports, schemas
from shared.catalogue import STATUS_NAMES, Catalogue
from shared.labels import YES_NO
from shared.models import User

HEADER_ROWS = 2  # row 1: the title a clerk reads; row 2 (hidden): the field's key, as the form names it
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# A status or a yes/no is read as its code, its Chinese or its English word (old templates wrote codes).
STATUS_WORDS = {word.lower(): code for code, names in STATUS_NAMES.items() for word in (code, *names)}
YES_NO_WORDS = {
    **{word.lower(): code for code, names in YES_NO.items() for word in (code, *names)},
    "1": "true",
    "0": "false",
}
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


class Problem(NamedTuple):
    """One problem of an uploaded sheet: its row, the unit's credit code and name as the row gives
    them, the column's field key (or "" for the whole row) and the message (Chinese / English)."""

    row: int
    unit: str
    key: str
    message: str
    name: str = ""


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


def read_rows(stream: IO[bytes], max_rows: int = 2000, locale: str = "zh") -> SheetRows:
    """Every filled row under the headers, read as a stream; more than `max_rows` rows with anything
    in them is refused. A formula cell is read as the value Excel saved with it; one saved without a
    value (written by a program, never opened in Excel) is listed in `uncomputed`, never read as empty."""
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


def flatten(errors: Any, prefix: str = "") -> list[tuple[str, str]]:
    """{field: [messages]} nested as the schema answers, as (field path, message) pairs."""
    if isinstance(errors, dict):
        return [
            pair
            for key, value in errors.items()
            for pair in flatten(value, f"{prefix}.{key}" if prefix else str(key))
        ]
    if isinstance(errors, list) and all(isinstance(e, str) for e in errors):
        return [(prefix, message) for message in errors]
    return [(prefix, str(errors))]


def column_of(path: str) -> str:
    """A schema error's path as the template's column key: measures.X.value.status → m.X.status."""
    parts = [p for p in path.split(".") if p not in ("value", "key")]
    if parts[:1] == ["measures"] and len(parts) == 2:
        parts.append("status")  # a measure without a status
    if parts and parts[0] in ("measures", "indicators"):
        return ".".join([parts[0][0], *parts[1:]])
    return ".".join(parts)


STATUS_CHOICE = (
    "应从下拉列表中选择：" + "、".join(zh for zh, _en in STATUS_NAMES.values()),
    "Choose from the list: " + ", ".join(en for _zh, en in STATUS_NAMES.values()),
)
YES_NO_CHOICE = ("应从下拉列表中选择“是”或“否”", "Choose Yes or No from the list")
DUPLICATE = (
    "同一单位在第 {rows} 行重复填报，每家单位只能填一行",
    "The same unit is filled in on rows {rows}: one row per unit",
)
UNCOMPUTED = (
    "该单元格是公式，但文件中没有保存计算结果，无法读取；请在 Excel 中打开并保存后再上传，或直接填写数值",
    "This cell is a formula saved without its value, so it cannot be read: open and save the file in Excel, or type the value",
)
NOT_A_NUMBER = ("应填写数值，不要填写文字或单位", "Type a number, without words or units")
OTHER_DISTRICT = ("该单位不属于本县（市）区，不能代为报送", "This unit belongs to another district")


def bilingual(words: Words, **values: Any) -> str:
    """A message as the checks write them, Chinese / English (`in_language` picks one)."""
    return f"{words[0].format(**values)} / {words[1].format(**values)}"


def in_language(message: str, locale: str) -> str:
    """One language of a "中文 / English" message; a message in one language is kept as it is."""
    zh, slash, en = message.partition("/ ")
    if not slash or not en.strip():
        return message
    return en.strip() if locale == "en" else zh.strip()


def translate_cells(
    values: dict[str, str], cols: dict[str, Column]
) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """A row's statuses and yes/no as the form's codes (from a word in either language or a code), and
    the cells that hold neither."""
    out, problems = dict(values), []
    for key, text in values.items():
        column = cols.get(key)
        if not text or column is None:
            continue
        if column.kind == "status":
            out[key] = STATUS_WORDS.get(text.lower(), text)
        elif column.kind == "boolean":
            if text.lower() in YES_NO_WORDS:
                out[key] = YES_NO_WORDS[text.lower()]
            else:
                problems.append((key, bilingual(YES_NO_CHOICE)))
    return out, problems


def said_for(cols: dict[str, Column], key: str, message: str) -> tuple[str, str]:
    """A schema message said for the column a clerk filled: the list's words for a status, "a number"
    for a figure (the API's message names both kinds of value)."""
    kind = cols[key].kind if key in cols else ""
    if kind == "status":
        return key, bilingual(STATUS_CHOICE)
    if kind in ("integer", "decimal") and message.startswith("应为数值或是/否"):
        return key, bilingual(NOT_A_NUMBER)
    return key, message


def duplicates(rows: Sequence[tuple[int, dict[str, str]]]) -> dict[int, list[int]]:
    """Each row whose unit another row names too, with all the rows of that unit."""
    by_unit: dict[str, list[int]] = {}
    for number, values in rows:
        unit = values.get("unit", "").strip().upper()
        if unit:
            by_unit.setdefault(unit, []).append(number)
    return {number: numbers for numbers in by_unit.values() if len(numbers) > 1 for number in numbers}


def check_rows(
    session: Session,
    user: User,
    rows: list[tuple[int, dict[str, str]]],
    round_code: str,
    catalogue: Catalogue,
    progress: Callable[[int], None] | None = None,
) -> tuple[list[reports.Checked], list[Problem]]:
    """Each row through the API's schema and checks, as complete reports; answer the good rows and the
    problems. A unit named on two rows is refused on both."""
    good: list[reports.Checked] = []
    problems: list[Problem] = []
    cols = {column.key: column for column in columns(catalogue)}
    repeated = duplicates(rows)
    for done, (number, values) in enumerate(rows, start=1):
        if progress is not None and done % 50 == 0:
            progress(done)
        unit, name = values.get("unit", ""), values.get("name", "")

        def add(
            pairs: Iterable[tuple[str, str]], number: int = number, unit: str = unit, name: str = name
        ) -> None:
            problems.extend(Problem(number, unit, key, message, name) for key, message in pairs)

        if number in repeated:
            add([("unit", bilingual(DUPLICATE, rows="、".join(map(str, repeated[number]))))])
            continue
        values, wrong = translate_cells(values, cols)
        add(wrong)
        report = reportforms.form_to_report({**values, "round": round_code}, catalogue)
        try:
            data = schemas.SubmissionSchema().load(report)
        except ValidationError as exc:
            add(said_for(cols, column_of(f), m) for f, m in flatten(exc.normalized_messages()))
            continue
        checked, errors = reports.check(session, data, complete=True)
        if checked is not None and not user.can_see_district(checked.unit.district_code):
            errors = {"unit": [bilingual(OTHER_DISTRICT)]}
        if errors:
            add((column_of(f), m) for f, m in flatten(errors))
        elif not wrong:
            good.append(checked)
    return good, problems


def letters(keys: Sequence[str]) -> dict[str, str]:
    """Each field key's column letter in the uploaded sheet."""
    return {key: get_column_letter(index) for index, key in enumerate(keys, start=1) if key}


def write(headers: Sequence[str], rows: Iterable[Sequence[Any]], kind: str) -> bytes:
    if kind == "csv":
        text = io.StringIO()
        out = csv.writer(text)
        out.writerow(cells.csv_row(headers))
        out.writerows(cells.csv_row(row) for row in rows)
        return ("\ufeff" + text.getvalue()).encode("utf-8")  # the mark lets Excel read it as UTF-8
    book = Workbook()
    sheet = book.active
    cells.append_row(sheet, headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        cells.append_row(sheet, row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
