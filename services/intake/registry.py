"""The pilot units registry: importing units from CSV or XLSX, editing and deactivating them
(administration page and CLI alike)."""

from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import dataclass, field

from flask_babel import gettext as _
from openpyxl import load_workbook
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from services.intake import audit
from services.intake.speech import say
from shared.credit_code import normalise, problem
from shared.models import District, Finding, PilotBatch, PilotUnit

COLUMNS = ("credit_code", "name", "district", "industry", "kind", "batch")
# The column headers of the units template, as an office writes them; each column's key.
HEADERS = {
    "统一社会信用代码": "credit_code",
    "单位名称": "name",
    "所属县（市）区": "district",
    "所属行业": "industry",
    "单位类型": "kind",
    "试点批次": "batch",
}
# Other headers an office's own sheet may use for the same columns.
HEADER_ALIASES = {
    "信用代码": "credit_code",
    "县（市）区": "district",
    "所属区县": "district",
    "区县": "district",
    "行业": "industry",
    "批次": "batch",
}
# A unit's kind as an import may write it (default: an enterprise).
KINDS = {
    "enterprise": "enterprise",
    "企业": "enterprise",
    "institution": "institution",
    "事业单位": "institution",
}
# Characters a unit's name may not hold: control characters and line breaks (they break a line of
# an alert, a CSV row or a robot's Markdown), bidirectional overrides (they make a name read as
# another) and lone surrogates (they cannot be written out at all).
FORBIDDEN_CATEGORIES = frozenset({"Cc", "Zl", "Zp", "Cs"})
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


class RegistryRefused(ValueError):
    """The change was refused; `problems` lists each row (or field) and what is wrong."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass
class Imported:
    added: int = 0
    updated: int = 0
    reactivated: int = 0
    codes: list[str] = field(default_factory=list)


def name_problem(name: str) -> str | None:
    """Why a unit's name is refused, or None."""
    if not name.strip():
        return _("单位名称为空")
    if any(unicodedata.category(ch) in FORBIDDEN_CATEGORIES or ch in BIDI_CONTROLS for ch in name):
        return _("单位名称含有控制字符或换行")
    return None


def column_key(header: str) -> str:
    """A header as its column's key: the code itself, or the Chinese header of the template (full-
    or half-width brackets, a trailing * for a required column, spaces: all the same)."""
    text = unicodedata.normalize("NFKC", header or "").replace(" ", "").rstrip("*").strip()
    for name, key in (HEADERS | HEADER_ALIASES).items():
        if text == unicodedata.normalize("NFKC", name):
            return key
    return text.lower()


def keyed(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    return [{column_key(k): v for k, v in row.items() if k} for row in rows]


def district_names(session: Session) -> dict[str, str]:
    """A district as an import may write it: its code, its official code or its name in either
    language (鼓楼区, 350102, Gulou)."""
    names: dict[str, str] = {}
    for d in session.scalars(select(District)):
        for name in (d.code, d.official_code, d.name_zh, d.name_en):
            if name:
                names[unicodedata.normalize("NFKC", name).strip().lower()] = d.code
    return names


def template_workbook(session: Session) -> bytes:
    """The units template: the Chinese column headers, and a second sheet listing the districts."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "试点单位"
    sheet.append(list(HEADERS))
    for column, width in zip("ABCDEF", (24, 36, 16, 16, 12, 10), strict=True):
        sheet.column_dimensions[column].width = width
    places = book.create_sheet("县（市）区")
    places.append(["县（市）区", "代码"])
    for d in session.scalars(select(District).order_by(District.code)):
        places.append([d.name_zh, d.official_code or d.code])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def read_rows(content: bytes) -> list[dict[str, str]]:
    """The rows of an XLSX workbook's first sheet or of a UTF-8 CSV, keyed by the header row."""
    if content[:2] == b"PK":
        sheet = load_workbook(io.BytesIO(content), read_only=True).worksheets[0]
        rows = [
            [str(c if c is not None else "").strip() for c in row]
            for row in sheet.iter_rows(values_only=True)
        ]
        return [dict(zip(rows[0], row, strict=False)) for row in rows[1:]] if rows else []
    text = content.decode("utf-8-sig", errors="replace")
    return [{k: (v or "").strip() for k, v in row.items() if k} for row in csv.DictReader(io.StringIO(text))]


def batch_names(session: Session) -> dict[str, int]:
    """A batch as an import may write it: its number, or its name in either language (第三批, Third batch)."""
    names: dict[str, int] = {}
    for batch in session.scalars(select(PilotBatch)):
        for name in (str(batch.number), batch.name_zh, batch.name_en):
            if name:
                names[name.strip().lower()] = batch.number
    return names


def import_units(session: Session, rows: list[dict[str, str]], actor_id: int | None) -> Imported:
    """Add or update every row's unit (a deactivated one comes back); refuse the whole file, naming
    each bad line, when any row is wrong. The caller commits."""
    rows = keyed(rows)
    districts = district_names(session)
    batches = batch_names(session)
    problems: list[str] = []
    checked: list[tuple[str, dict[str, str]]] = []
    for line, row in enumerate(rows, start=2):
        code = normalise(row.get("credit_code") or "")
        error = say(problem(code))
        if not error:
            error = name_problem(row.get("name") or "")
        district = unicodedata.normalize("NFKC", row.get("district") or "").strip().lower()
        if not error and district not in districts:
            error = _("未知县（市）区：%(value)s", value=row.get("district") or "")
        if (
            not error
            and (row.get("kind") or "").strip()
            and (row.get("kind") or "").strip().lower() not in KINDS
        ):
            error = _("单位类型应为 企业 或 事业单位，而不是 %(value)s", value=row.get("kind"))
        batch = (row.get("batch") or "").strip().lower()
        if not error and batch and batch not in batches:
            error = _(
                "未知批次：%(value)s（应为 %(known)s）",
                value=row.get("batch"),
                known="、".join(sorted(set(batches))),
            )
        if error:
            problems.append(_("第 %(line)d 行：%(error)s", line=line, error=error))
        else:
            checked.append((code, dict(row, district=districts[district])))
    if problems:
        raise RegistryRefused(problems)
    result = Imported()
    for code, row in checked:
        unit = session.scalar(select(PilotUnit).where(PilotUnit.credit_code == code))
        if unit is None:
            unit = PilotUnit(credit_code=code, active=True)
            session.add(unit)
            result.added += 1
        else:
            result.updated += 1
            result.reactivated += 0 if unit.active else 1
        district = row["district"].strip()
        if unit.id is not None and unit.district_code != district:
            move(session, unit, district, actor_id)
        unit.name, unit.district_code = row["name"].strip()[:200], district
        unit.industry, unit.active = (row.get("industry") or "").strip()[:100], True
        unit.kind = KINDS[(row.get("kind") or "enterprise").strip().lower() or "enterprise"]
        if (row.get("batch") or "").strip():
            unit.batch = batches[row["batch"].strip().lower()]
        result.codes.append(code)
    audit.record(
        session,
        actor_id,
        "units.import",
        "registry",
        "units",
        {"added": result.added, "updated": result.updated, "reactivated": result.reactivated},
    )
    return result


def unit_by_code(session: Session, credit_code: str) -> PilotUnit | None:
    return session.scalar(select(PilotUnit).where(PilotUnit.credit_code == normalise(credit_code)))


def deactivate(session: Session, credit_code: str, actor_id: int | None) -> PilotUnit:
    """Take a unit out of the pilot: it no longer reports; its history stays. The caller commits."""
    unit = unit_by_code(session, credit_code)
    if unit is None:
        raise RegistryRefused([_("没有该单位：%(code)s", code=credit_code)])
    unit.active = False
    audit.record(session, actor_id, "unit.edit", "unit", unit.credit_code, {"active": False})
    return unit


def move(session: Session, unit: PilotUnit, district: str, actor_id: int | None) -> int:
    """Move a unit to another district with its active findings: the new district answers them, is
    alerted about them and sees them; the old one no longer does. Closed findings stay where they
    were handled. Returns how many findings moved."""
    moved = session.execute(
        update(Finding)
        .where(Finding.unit_id == unit.id, Finding.active.is_(True))
        .values(district_code=district)
        .execution_options(synchronize_session="fetch")
    ).rowcount
    audit.record(
        session,
        actor_id,
        "unit.move",
        "unit",
        unit.credit_code,
        {"from": unit.district_code, "to": district, "findings": moved},
    )
    unit.district_code = district
    return moved


def edit_unit(
    session: Session,
    unit: PilotUnit,
    name: str,
    district: str,
    active: bool,
    actor_id: int | None,
    kind: str = "",
) -> PilotUnit:
    """Rename a unit, move it to another district, change its kind or (de)activate it. The caller commits."""
    if name.strip():
        problem = name_problem(name)
        if problem:
            raise RegistryRefused([problem])
        unit.name = name.strip()[:200]
    if kind:
        if kind not in KINDS:
            raise RegistryRefused([_("单位类型应为 企业 或 事业单位，而不是 %(value)s", value=kind)])
        unit.kind = KINDS[kind]
    if district and district != unit.district_code:
        if session.get(District, district) is None:
            raise RegistryRefused([_("未知县（市）区：%(value)s", value=district)])
        move(session, unit, district, actor_id)
    unit.active = active
    audit.record(
        session,
        actor_id,
        "unit.edit",
        "unit",
        unit.credit_code,
        {"active": active, "district": unit.district_code},
    )
    return unit
