"""Spreadsheets: the report template for a district's units, reading it back row by row, and
tables written as CSV or XLSX. The rows go through the same schema and checks as the API."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Sequence
from typing import IO, Any

from marshmallow import ValidationError
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation
from sqlalchemy.orm import Session

from services.intake import cells, reportforms, reports, schemas
from shared.catalogue import STATUS_NAMES, Catalogue
from shared.models import PilotUnit, User

HEADER_ROWS = 2  # row 1: the label a clerk reads; row 2: the field's key, as the form names it
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
STATUS_BY_NAME = {names[0]: code for code, names in STATUS_NAMES.items()}
# A filled-in template of every unit unpacks to well under 1 MB; more than this is a zip bomb.
MAX_UNPACKED = 32 * 1024 * 1024


class SheetError(ValueError):
    """The file is not a readable workbook of the template's shape."""


def columns(catalogue: Catalogue) -> list[tuple[str, str]]:
    cols = [("unit", "统一社会信用代码"), ("name", "单位名称")]
    for code, measure in catalogue.measures.items():
        cols += [
            (f"m.{code}.status", f"{code} {measure['name_zh']} 状态"),
            (f"m.{code}.note", f"{code} 说明"),
        ]
    cols += [
        (f"i.{code}", f"{spec['name_zh']}" + (f"（{spec['unit']}）" if spec.get("unit") else ""))
        for code, spec in catalogue.indicators.items()
    ]
    return cols


def template(catalogue: Catalogue, round_code: str, units: Iterable[PilotUnit]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = round_code
    cols = columns(catalogue)
    cells.append_row(sheet, [label for _key, label in cols])
    cells.append_row(sheet, [key for key, _label in cols])
    for cell in sheet[1]:
        cell.font, cell.fill = Font(bold=True), PatternFill("solid", fgColor="FDE2E2")
    for cell in sheet[2]:
        cell.font = Font(color="888888", size=8)
    for unit in units:
        cells.append_row(sheet, [unit.credit_code, unit.name])
    statuses = DataValidation(type="list", formula1='"' + ",".join(STATUS_BY_NAME) + '"', allow_blank=True)
    sheet.add_data_validation(statuses)
    for index, (key, _label) in enumerate(cols, start=1):
        if key.endswith(".status"):
            letter = sheet.cell(row=1, column=index).column_letter
            statuses.add(f"{letter}3:{letter}2000")
    sheet.freeze_panes = "C3"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value).strip()
    return {"是": "true", "否": "false"}.get(text, STATUS_BY_NAME.get(text, text))


def refuse_bombs(stream: IO[bytes]) -> None:
    """Refuse a workbook that would unpack to more than MAX_UNPACKED before anything unpacks it.
    The sizes come from the zip's directory; a member larger than it says fails its CRC check."""
    try:
        with zipfile.ZipFile(stream) as archive:
            unpacked = sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise SheetError("无法读取该文件，请上传由模板填写的 XLSX 文件 / not a readable XLSX file") from exc
    if unpacked > MAX_UNPACKED:
        raise SheetError(
            f"文件解压后超过 {MAX_UNPACKED // 2**20} MB，已拒绝 / the workbook unpacks to more than "
            f"{MAX_UNPACKED // 2**20} MB and was refused"
        )
    stream.seek(0)


def read_rows(stream: IO[bytes]) -> list[tuple[int, dict[str, str]]]:
    """(row number, {field key: text}) for every filled row under the headers."""
    refuse_bombs(stream)
    try:
        sheet = load_workbook(stream, read_only=True, data_only=True).worksheets[0]
        rows = list(sheet.iter_rows(values_only=True))
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        raise SheetError("无法读取该文件，请上传由模板填写的 XLSX 文件 / not a readable XLSX file") from exc
    if len(rows) < HEADER_ROWS or "unit" not in (rows[1] or ()):
        raise SheetError(
            "文件不是报送模板（第 2 行应为字段代码） / not the report template (row 2 holds the keys)"
        )
    keys = [str(k or "") for k in rows[1]]
    out = []
    for number, row in enumerate(rows[HEADER_ROWS:], start=HEADER_ROWS + 1):
        values = {key: _cell(value) for key, value in zip(keys, row, strict=False) if key}
        if any(v for k, v in values.items() if k not in ("unit", "name")):
            out.append((number, values))
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
    if parts and parts[0] in ("measures", "indicators"):
        return ".".join([parts[0][0], *parts[1:]])
    return ".".join(parts)


def check_rows(
    session: Session,
    user: User,
    rows: list[tuple[int, dict[str, str]]],
    round_code: str,
    catalogue: Catalogue,
) -> tuple[list[reports.Checked], list[list[Any]]]:
    """Each row through the API's schema and checks; answer the good rows and (row, unit, field, message)."""
    good, problems = [], []
    for number, values in rows:
        report = reportforms.form_to_report({**values, "round": round_code}, catalogue)
        try:
            data = schemas.SubmissionSchema().load(report)
        except ValidationError as exc:
            problems += [
                [number, values.get("unit", ""), column_of(f), m]
                for f, m in flatten(exc.normalized_messages())
            ]
            continue
        checked, errors = reports.check(session, data)
        if checked is not None and not user.can_see_district(checked.unit.district_code):
            errors = {"unit": ["该单位属于其他区县 / this unit belongs to another district"]}
        if errors:
            problems += [[number, values.get("unit", ""), column_of(f), m] for f, m in flatten(errors)]
        else:
            good.append(checked)
    return good, problems


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
