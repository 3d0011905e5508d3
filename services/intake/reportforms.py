"""The report form's flat fields, turned into the API's document, and versions compared."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from shared.catalogue import Catalogue

FORM_PREFIXES = ("m.", "i.")


# A plain decimal number, as a person types it (full-width digits from a Chinese input method are
# folded to ASCII first); Python's float() would also take "nan", "inf", "1_000" and digits of other
# scripts, and int() of thousands of digits raises.
NUMBER = re.compile(r"[+-]?(?:\d{1,1000}(?:\.\d{0,1000})?|\.\d{1,1000})(?:[eE][+-]?\d{1,3})?", re.ASCII)
# Line breaks a word processor puts in pasted text, written as the newline the form means.
LINE_BREAKS = str.maketrans({"\x0b": "\n", "\x0c": "\n", "\x85": "\n", "\u2028": "\n", "\u2029": "\n"})


# Digits grouped by thousands, as Excel and bank statements write them: 2,400 or 1,234,567.89 (a
# full-width comma or a space as the separator too, once folded).
GROUPED = re.compile(r"[+-]?\d{1,3}(?:[, ]\d{3})+(?:\.\d{0,1000})?", re.ASCII)


def _number(text: str) -> Any:
    """A typed number as int or float; anything else is left as text, and the schema answers
    "must be a number" (or "must be finite", "too large") next to the field. Full-width digits,
    thousands separators and surrounding spaces are accepted."""
    folded = unicodedata.normalize("NFKC", text).strip()
    if GROUPED.fullmatch(folded):
        folded = folded.replace(",", "").replace(" ", "")
    if NUMBER.fullmatch(folded) is None:
        return text
    if "." not in folded and "e" not in folded.lower():
        return int(folded)
    return float(folded)


def _text(value: str) -> str:
    return value.translate(LINE_BREAKS).strip()


def form_to_report(form: Any, catalogue: Catalogue) -> dict[str, Any]:
    """The form's flat fields as the same document the JSON API takes."""
    measures: dict[str, Any] = {}
    for code in catalogue.measures:
        status = form.get(f"m.{code}.status", "").strip()
        if status:
            measures[code] = {"status": status, "note": _text(form.get(f"m.{code}.note", ""))}
    indicators: dict[str, Any] = {}
    for code, spec in catalogue.indicators.items():
        raw = form.get(f"i.{code}", "").strip()
        if spec.get("type") == "boolean":
            if raw:
                indicators[code] = raw in ("1", "true", "yes", "on")
        elif raw:
            indicators[code] = _number(raw)
    return {
        "unit": form.get("unit", ""),
        "round": form.get("round", ""),
        "measures": measures,
        "indicators": indicators,
    }


def report_to_form(measures: dict[str, Any], indicators: dict[str, Any]) -> dict[str, str]:
    """A stored report as the form's values, to start a new version from the last one."""
    values: dict[str, str] = {}
    for code, entry in measures.items():
        values[f"m.{code}.status"] = str((entry or {}).get("status", ""))
        values[f"m.{code}.note"] = str((entry or {}).get("note", ""))
    for code, value in indicators.items():
        values[f"i.{code}"] = (
            str(value).lower() if isinstance(value, bool) else ("" if value is None else str(value))
        )
    return values


def draft_fields(form: Any) -> dict[str, str]:
    return {key: str(value)[:4000] for key, value in form.items() if key.startswith(FORM_PREFIXES)}


def differences(
    old: dict[str, Any] | None, new: dict[str, Any], catalogue: Catalogue
) -> list[dict[str, Any]]:
    """What changed between two versions of a report: one row per measure or indicator."""
    if old is None:
        return []
    rows = []
    for code, spec in catalogue.measures.items():
        before, after = (old["measures"].get(code) or {}), (new["measures"].get(code) or {})
        if before != after:
            rows.append({"code": code, "name": spec, "kind": "measure", "before": before, "after": after})
    for code, spec in catalogue.indicators.items():
        before, after = old["indicators"].get(code), new["indicators"].get(code)
        if before != after:
            rows.append({"code": code, "name": spec, "kind": "indicator", "before": before, "after": after})
    return rows
