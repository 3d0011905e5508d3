"""A filled-in template's rows checked as reports: each row through the API's schema and checks, its
statuses and yes/no read from a word of either language or a code, a unit named on two rows refused,
and every problem said for the column a clerk filled (Chinese / English, `in_language` picks one)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, NamedTuple

from marshmallow import ValidationError
from sqlalchemy.orm import Session

from services.intake import reportforms, reports, schemas
from services.intake.sheets import Column, Words, columns
from shared.catalogue import STATUS_NAMES, Catalogue
from shared.labels import YES_NO
from shared.models import User

# A status or a yes/no is read as its code, its Chinese or its English word (old templates wrote codes).
STATUS_WORDS = {word.lower(): code for code, names in STATUS_NAMES.items() for word in (code, *names)}
YES_NO_WORDS = {
    **{word.lower(): code for code, names in YES_NO.items() for word in (code, *names)},
    "1": "true",
    "0": "false",
}


class Problem(NamedTuple):
    """One problem of an uploaded sheet: its row, the unit's credit code and name as the row gives
    them, the column's field key (or "" for the whole row) and the message (Chinese / English)."""

    row: int
    unit: str
    key: str
    message: str
    name: str = ""


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
