"""The effectiveness index (成效指数) as pure functions: a group's figures in, its components out.

A component (工作推进, 改革成效, ... as the catalogue's `effectiveness_index` says) is the weighted mean of
its parts, each a value from 0 to 1; the index is the weighted mean of the components, from 0 to 100.
Progress parts always have a value (a district that reported nothing scores 0 on them). An outcome part
compares the same units' reports of the round and of its comparison round: without a comparison (a first
round, no unit reporting both times) it has no value and is left out, its weight shared by the others;
a component with no part left is left out of the index the same way. docs/SCORING.md works one through.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from shared.catalogue.schema import OUTCOME_KINDS

NUMBERS = frozenset({int, float})
Totals = tuple[float, float, float, float]  # Σindicators and Σper, now and then
Spec = tuple[tuple[str, ...], tuple[str, ...]]  # an outcome part's indicators and its `per`
Side = tuple[float, float]  # Σindicators and Σper (1 without `per`) of one report


@dataclass(frozen=True)
class Pair:
    """One unit's indicators in the round and in the round it is compared with. The sums an outcome
    part takes of them are remembered: the league table and the batch table add up the same units."""

    now: dict[str, Any]
    then: dict[str, Any]
    known: dict[tuple[tuple[str, ...], tuple[str, ...]], Totals | None] = field(
        default_factory=dict, compare=False, repr=False
    )

    def totals(self, codes: tuple[str, ...], per: tuple[str, ...]) -> Totals | None:
        """Σcodes and Σper (1 without `per`), now and then; None when any of them is blank."""
        key = (codes, per)
        if key not in self.known:
            now, then = side_totals(self.now, key), side_totals(self.then, key)
            self.known[key] = None if now is None or then is None else (*now, *then)
        return self.known[key]

    @classmethod
    def of_sides(cls, specs: Iterable[Spec], now: Iterable[Side | None], then: Iterable[Side | None]) -> Pair:
        """A pair known by its reports' sums alone (`side_totals` of each spec, in the same order):
        asked for any other spec, it has no indicators to sum."""
        known = {
            spec: None if a is None or b is None else (*a, *b)
            for spec, a, b in zip(specs, now, then, strict=True)
        }
        return cls({}, {}, known)


def specs_of(index: dict[str, Any]) -> tuple[Spec, ...]:
    """The distinct sums the index's outcome parts take of a report, in a fixed order."""
    found = {
        (tuple(part["indicators"]), tuple(part.get("per") or ())): None for _key, part in outcome_parts(index)
    }
    return tuple(found)


def side_totals(indicators: dict[str, Any], spec: Spec) -> Side | None:
    """One report's Σindicators and Σper (1 without `per`) for an outcome part; None when any is blank."""
    codes, per = spec
    total = _total(indicators, codes)
    by = _total(indicators, per) if per else 1.0
    return None if total is None or by is None else (total, by)


@dataclass
class Outcome:
    """What an outcome part measured over a group's paired units."""

    units: int = 0
    now: float | None = None
    then: float | None = None
    change: float | None = None
    detail: dict[str, Any] = field(default_factory=dict)


def _total(indicators: dict[str, Any], codes: Iterable[str]) -> float | None:
    """The sum of the indicators, or None when any of them is blank (called for every unit of a round
    and every outcome part, so written as one pass)."""
    total = 0.0
    for code in codes:
        value = indicators.get(code)
        if type(value) not in NUMBERS:  # JSON gives exactly these; a bool is not a number here
            return None
        total += value
    return total


def measure(part: dict[str, Any], pairs: Iterable[Pair]) -> Outcome:
    """The change of an outcome over the pairs that carry all its indicators both times: a `share`
    (Σindicators ÷ Σper, the change in points as a fraction) or a `growth` (relative change of Σindicators)."""
    codes, per = tuple(part["indicators"]), tuple(part.get("per") or ())
    key = (codes, per)
    now = now_per = then = then_per = 0.0
    units = 0
    for pair in pairs:  # every unit of a province's group, for every part: one pass, sums found first
        values = pair.known[key] if key in pair.known else pair.totals(codes, per)
        if values is None:
            continue
        units += 1
        now += values[0]
        now_per += values[1]
        then += values[2]
        then_per += values[3]
    sums = (now, now_per, then, then_per)
    outcome = Outcome(units=units)
    if not units:
        return outcome
    if part["kind"] == "share":
        if sums[1] and sums[3]:
            outcome.now, outcome.then = sums[0] / sums[1], sums[2] / sums[3]
            outcome.change = outcome.now - outcome.then
    else:
        outcome.now, outcome.then = sums[0], sums[2]
        if sums[2]:
            outcome.change = (sums[0] - sums[2]) / sums[2]
    return outcome


def outcome_value(change: float | None, target: float) -> float | None:
    """0.5 for no change, 1 at the target, 0 at the opposite of the target (and beyond)."""
    if change is None:
        return None
    return min(1.0, max(0.0, 0.5 + 0.5 * change / target))


def progress_value(kind: str, row: dict[str, Any]) -> float:
    """A progress part from the group's figures, each from 0 to 1."""
    reported = bool(row["reported"])
    if kind == "participation":
        return row["participation_rate"]
    if kind == "on_time":
        return row["on_time_rate"]
    if kind == "score":
        return (row["mean_score"] or 0.0) / 100
    if kind == "share_at_60":
        return row["share_at_60"] or 0.0
    if kind == "findings_burden":
        return 1 / (1 + row["open_findings_per_unit"]) if reported else 0.0
    rate = row["rectification_rate"] if kind == "rectification" else row["verified_closure_rate"]
    # a district that reported and has nothing to rectify (or to verify) has nothing left undone
    return (1.0 if reported else 0.0) if rate is None else rate


def _mean(values: list[tuple[float, float | None]]) -> float | None:
    """The weighted mean of the values that exist; None when none does."""
    present = [(w, v) for w, v in values if v is not None]
    total = sum(w for w, _ in present)
    if not present or not total:
        return None
    return sum(w * v for w, v in present) / total


def kind_of(part: dict[str, Any]) -> str:
    return part.get("kind") or part["code"]


def part_key(component: dict[str, Any], part: dict[str, Any]) -> str:
    return f"{component['code']}/{part['code']}"


def outcome_parts(index: dict[str, Any]) -> Iterable[tuple[str, dict[str, Any]]]:
    """Every outcome part of the index, by `part_key`, its kind filled in."""
    for component in index["components"]:
        for part in component["parts"]:
            if kind_of(part) in OUTCOME_KINDS:
                yield part_key(component, part), dict(part, kind=kind_of(part))


def measure_outcomes(index: dict[str, Any], pairs: list[Pair]) -> dict[str, Outcome]:
    """Every outcome part of the index measured over one group's pairs, by `part_key`."""
    return {key: measure(part, pairs) for key, part in outcome_parts(index)}


def evaluate(
    index: dict[str, Any],
    row: dict[str, Any],
    pairs: list[Pair] | None = None,
    outcomes: dict[str, Outcome] | None = None,
) -> dict[str, Any]:
    """The components of one group and its index: {"components": [...], "index": 0..100}. The outcome
    parts are measured over `pairs`, or given already measured (`measure_outcomes`; a part missing
    there had no pair)."""
    if outcomes is None:
        outcomes = measure_outcomes(index, pairs or [])
    components = []
    for component in index["components"]:
        parts = []
        for part in component["parts"]:
            kind = kind_of(part)
            entry: dict[str, Any] = {
                "code": part["code"],
                "kind": kind,
                "name_zh": part.get("name_zh", ""),
                "name_en": part.get("name_en", ""),
                "weight": part["weight"],
            }
            if kind in OUTCOME_KINDS:
                measured = outcomes.get(part_key(component, part)) or Outcome()
                value = outcome_value(measured.change, part["target"])
                entry.update(
                    units=measured.units,
                    now=_round(measured.now),
                    then=_round(measured.then),
                    change=_round(measured.change),
                    target=part["target"],
                )
            else:
                value = progress_value(kind, row)
            entry["value"] = _round(value)
            entry["_value"] = value
            parts.append(entry)
        value = _mean([(p["weight"], p.pop("_value")) for p in parts])
        components.append(
            {
                "code": component["code"],
                "name_zh": component["name_zh"],
                "name_en": component.get("name_en", ""),
                "weight": component["weight"],
                "value": round(100 * value, 2) if value is not None else None,
                "parts": parts,
                "_value": value,
            }
        )
    index_value = _mean([(c["weight"], c.pop("_value")) for c in components])
    return {
        "components": components,
        "index": round(100 * index_value, 2) if index_value is not None else 0.0,
    }


def _round(value: float | None) -> float | None:
    return round(value, 4) if value is not None else None
