"""The pilot units registry: importing units from CSV or XLSX, editing and deactivating them
(administration page and CLI alike)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.intake import audit
from shared.credit_code import normalise, problem
from shared.models import District, PilotBatch, PilotUnit

COLUMNS = ("credit_code", "name", "district", "industry", "kind", "batch")
# A unit's kind as an import may write it (default: an enterprise).
KINDS = {
    "enterprise": "enterprise",
    "企业": "enterprise",
    "institution": "institution",
    "事业单位": "institution",
}


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
    districts = set(session.scalars(select(District.code)))
    batches = batch_names(session)
    problems: list[str] = []
    checked: list[tuple[str, dict[str, str]]] = []
    for line, row in enumerate(rows, start=2):
        code = normalise(row.get("credit_code") or "")
        error = problem(code)
        if not error and not (row.get("name") or "").strip():
            error = "单位名称为空 / name is empty"
        if not error and (row.get("district") or "").strip() not in districts:
            error = f"未知县（市）区 / unknown district {row.get('district')!r}"
        if (
            not error
            and (row.get("kind") or "").strip()
            and (row.get("kind") or "").strip().lower() not in KINDS
        ):
            error = f"单位类型应为 企业 或 事业单位 / kind must be enterprise or institution, got {row.get('kind')!r}"
        batch = (row.get("batch") or "").strip().lower()
        if not error and batch and batch not in batches:
            error = f"未知批次 / unknown batch {row.get('batch')!r} (应为 {'、'.join(sorted(set(batches)))})"
        if error:
            problems.append(f"第 {line} 行 / line {line}: {error}")
        else:
            checked.append((code, row))
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
        unit.name, unit.district_code = row["name"].strip()[:200], row["district"].strip()
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
        raise RegistryRefused([f"没有该单位 / no unit {credit_code}"])
    unit.active = False
    audit.record(session, actor_id, "unit.edit", "unit", unit.credit_code, {"active": False})
    return unit


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
        unit.name = name.strip()[:200]
    if kind:
        if kind not in KINDS:
            raise RegistryRefused(
                [f"单位类型应为 企业 或 事业单位 / kind must be enterprise or institution, got {kind!r}"]
            )
        unit.kind = KINDS[kind]
    if district and district != unit.district_code:
        if session.get(District, district) is None:
            raise RegistryRefused([f"未知区县 / unknown district {district!r}"])
        unit.district_code = district
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
