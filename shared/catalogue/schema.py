"""A catalogue file's schema: `parse_catalogue` validates a whole file and refuses it with messages
naming the entry and the problem; nothing is half-loaded."""

from __future__ import annotations

import copy
import hashlib
import json
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from marshmallow import RAISE, Schema, ValidationError, fields, validate

from shared.catalogue.model import RULE_KINDS
from shared.rules import expressions

DATA_DIR = Path(__file__).parent / "data"
DEFAULT_VERSION = "2017-fz"
STATUSES = ("not_started", "in_progress", "implemented", "exemplary")
STATUS_NAMES = {
    "not_started": ("未启动", "Not started"),
    "in_progress": ("推进中", "In progress"),
    "implemented": ("已落实", "Implemented"),
    "exemplary": ("成效突出", "Exemplary"),
}
SEVERITIES = ("critical", "error", "warning", "info")
INDICATOR_TYPES = ("integer", "decimal", "boolean")
OPERATORS = ("<", "<=", "==", "!=", ">=", ">")
UNIT_KINDS = ("enterprise", "institution")
COHORTS = ("district", "industry", "city")
# A rule can start from a unit's second or third round: the history kept for comparisons reaches that far.
MAX_FROM_ROUND = 3
# Rectification periods when a catalogue gives none (days; None: advice with no deadline).
DEFAULT_SEVERITIES = {
    "critical": {"period_days": 15},
    "error": {"period_days": 30},
    "warning": {"period_days": 60},
    "info": {"period_days": None},
}
INDEX_PARTS = ("participation", "on_time", "score", "share_at_60", "rectification", "findings_burden")
# The parts of the effectiveness index (docs/SCORING.md): figures of the district's work (工作推进) and
# outcomes measured by the change of indicators between rounds of the same units (改革成效).
PROGRESS_PARTS = (*INDEX_PARTS, "verified_closures")
OUTCOME_KINDS = ("share", "growth")
INDEX_BASES = ("same_half_last_year", "previous")
# The index when a catalogue gives none (catalogues loaded before the split keep working with it).
DEFAULT_EFFECTIVENESS_INDEX: dict[str, Any] = {
    "basis": "same_half_last_year",
    "components": [
        {
            "code": "progress",
            "name_zh": "工作推进",
            "name_en": "Work progress",
            "weight": 0.5,
            "parts": [
                {"code": "participation", "weight": 0.3},
                {"code": "on_time", "weight": 0.2},
                {"code": "rectification", "weight": 0.3},
                {"code": "verified_closures", "weight": 0.2},
            ],
        },
        {
            "code": "outcomes",
            "name_zh": "改革成效",
            "name_en": "Reform outcomes",
            "weight": 0.5,
            "parts": [
                {
                    "code": "highly_skilled_share",
                    "kind": "share",
                    "indicators": ["highly_skilled_workers"],
                    "per": ["skilled_workers"],
                    "target": 0.02,
                    "weight": 0.3,
                    "name_zh": "高技能人才占技能人才比例提高",
                    "name_en": "Rise of the highly skilled share",
                },
                {
                    "code": "certificates",
                    "kind": "growth",
                    "indicators": ["new_certificates"],
                    "target": 0.2,
                    "weight": 0.2,
                    "name_zh": "新取得技能等级证书人数增长",
                    "name_en": "Growth of new skill certificates",
                },
                {
                    "code": "proposals_adopted",
                    "kind": "growth",
                    "indicators": ["proposals_adopted"],
                    "target": 0.2,
                    "weight": 0.2,
                    "name_zh": "合理化建议采纳数增长",
                    "name_en": "Growth of adopted proposals",
                },
                {
                    "code": "innovation_studios",
                    "kind": "growth",
                    "indicators": ["studios_national", "studios_provincial", "studios_municipal"],
                    "target": 0.1,
                    "weight": 0.2,
                    "name_zh": "创新工作室数量增长",
                    "name_en": "Growth of innovation studios",
                },
                {
                    "code": "training",
                    "kind": "growth",
                    "indicators": ["training_person_times"],
                    "target": 0.2,
                    "weight": 0.1,
                    "name_zh": "培训人次增长",
                    "name_en": "Growth of training",
                },
            ],
        },
    ],
}
# When a unit is suggested to its district as a case to write up (case library hints).
DEFAULT_CASE_HINTS: dict[str, Any] = {
    "min_score": 90,
    "min_exemplary": 1,
    "indicators": ["new_certificates", "proposals_adopted", "training_person_times"],
    "min_growth": 0.5,
    "min_base": 10,
}
CODE = validate.Regexp(r"^[A-Za-z0-9_\-]{1,64}$", error="must be letters, digits, '-' or '_'")


class CatalogueError(ValueError):
    """A catalogue file was refused; `problems` lists each entry and what is wrong with it."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


class _Strict(Schema):
    class Meta:
        unknown = RAISE


class IsoDate(fields.Field):
    """A date written in the file (YAML reads 2025-12-31 as a date, JSON as text), kept as ISO text."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if isinstance(value, date):
            return value.isoformat()
        try:
            return date.fromisoformat(str(value)).isoformat()
        except ValueError:
            raise ValidationError("must be a date such as 2025-12-31") from None


class AppliesToSchema(_Strict):
    kind = fields.List(fields.String(validate=validate.OneOf(UNIT_KINDS)), validate=validate.Length(min=1))


class SeveritySchema(_Strict):
    # Days a district has to rectify a finding of this severity; none: advice, with no deadline.
    period_days = fields.Integer(allow_none=True, load_default=None, validate=validate.Range(min=1, max=730))


class MeasureSchema(_Strict):
    code = fields.String(required=True, validate=CODE)
    name_zh = fields.String(required=True)
    name_en = fields.String(load_default="")
    weight = fields.Float(load_default=1.0, validate=validate.Range(min=0))


class AspectSchema(_Strict):
    code = fields.String(required=True, validate=CODE)
    name_zh = fields.String(required=True)
    name_en = fields.String(load_default="")
    weight = fields.Float(load_default=1.0, validate=validate.Range(min=0))
    measures = fields.List(fields.Nested(MeasureSchema), required=True, validate=validate.Length(min=1))


class IndicatorSchema(_Strict):
    code = fields.String(required=True, validate=validate.Regexp(r"^[a-z][a-z0-9_]{0,63}$"))
    name_zh = fields.String(required=True)
    name_en = fields.String(load_default="")
    type = fields.String(load_default="integer", validate=validate.OneOf(INDICATOR_TYPES))
    unit = fields.String(load_default="")
    min = fields.Float(load_default=0, allow_none=True)
    max = fields.Float(load_default=None, allow_none=True)
    required = fields.Boolean(load_default=False)


class RuleSchema(_Strict):
    code = fields.String(required=True, validate=CODE)
    kind = fields.String(load_default="expression", validate=validate.OneOf(RULE_KINDS))
    name_zh = fields.String(required=True)
    name_en = fields.String(load_default="")
    left = fields.String()
    op = fields.String(validate=validate.OneOf(OPERATORS))
    right = fields.String()
    when = fields.String()
    severity = fields.String(required=True, validate=validate.OneOf(SEVERITIES))
    missing = fields.String(load_default="skip", validate=validate.OneOf(("skip", "finding")))
    statuses = fields.List(fields.String(validate=validate.OneOf(STATUSES)))
    threshold = fields.Float()
    indicators = fields.List(fields.String())
    rounds = fields.Integer(validate=validate.Range(min=1, max=MAX_FROM_ROUND))
    ratio = fields.Float(validate=validate.Range(min=0, max=1))
    cohort = fields.String(validate=validate.OneOf(COHORTS))  # one cohort; `cohorts` gives a fallback order
    per = fields.String()
    min_cohort = fields.Integer(validate=validate.Range(min=3))
    message_zh = fields.String(required=True)
    message_en = fields.String(load_default="")
    action_zh = fields.String(load_default="")
    action_en = fields.String(load_default="")
    category = fields.String(load_default="")
    source = fields.String(load_default="")
    # Where the rule applies: the kinds of unit, the halves of the year, from which of a unit's rounds
    # (the first is a baseline), the dates a target is valid, and a guard on the report's own values.
    applies_to = fields.Nested(AppliesToSchema, load_default=dict)
    halves = fields.List(
        fields.String(validate=validate.OneOf(("H1", "H2"))), validate=validate.Length(min=1)
    )
    from_round = fields.Integer(validate=validate.Range(min=1, max=MAX_FROM_ROUND))
    valid_from = IsoDate()
    valid_until = IsoDate()
    # How a finding of this rule ends and what rectifying it asks for.
    resolution = fields.String(load_default="auto", validate=validate.OneOf(("auto", "verify")))
    proof = fields.String(load_default="optional", validate=validate.OneOf(("required", "optional")))
    record = fields.Boolean(load_default=False)
    period_days = fields.Integer(allow_none=True, validate=validate.Range(min=1, max=730))
    compare = fields.String(validate=validate.OneOf(("previous", "same_half_last_year")))
    cohorts = fields.List(
        fields.String(validate=validate.OneOf(COHORTS)), validate=validate.Length(min=1, max=len(COHORTS))
    )


class IndexPartSchema(_Strict):
    code = fields.String(required=True, validate=CODE)
    # A progress figure (PROGRESS_PARTS, the code by default), or an outcome: the `share` of
    # `indicators` in `per`, or the `growth` of `indicators`, each between rounds of the same units.
    kind = fields.String(validate=validate.OneOf((*PROGRESS_PARTS, *OUTCOME_KINDS)))
    name_zh = fields.String(load_default="")
    name_en = fields.String(load_default="")
    weight = fields.Float(load_default=1.0, validate=validate.Range(min=0))
    indicators = fields.List(fields.String())
    per = fields.List(fields.String())
    # The change that earns the full mark (a share in points as a fraction, 0.02; a growth, 0.2 = +20%).
    target = fields.Float(validate=validate.Range(min=0, min_inclusive=False))


class IndexComponentSchema(_Strict):
    code = fields.String(required=True, validate=CODE)
    name_zh = fields.String(required=True)
    name_en = fields.String(load_default="")
    weight = fields.Float(load_default=1.0, validate=validate.Range(min=0))
    parts = fields.List(fields.Nested(IndexPartSchema), required=True, validate=validate.Length(min=1))


class EffectivenessIndexSchema(_Strict):
    basis = fields.String(load_default="same_half_last_year", validate=validate.OneOf(INDEX_BASES))
    components = fields.List(
        fields.Nested(IndexComponentSchema), required=True, validate=validate.Length(min=1)
    )


class CaseHintsSchema(_Strict):
    min_score = fields.Float(load_default=90, validate=validate.Range(min=0, max=100))
    min_exemplary = fields.Integer(load_default=1, validate=validate.Range(min=0))
    indicators = fields.List(fields.String(), load_default=list)
    min_growth = fields.Float(load_default=0.5, validate=validate.Range(min=0, min_inclusive=False))
    min_base = fields.Float(load_default=10, validate=validate.Range(min=0))


class CatalogueSchema(_Strict):
    version = fields.String(required=True, validate=CODE)
    title_zh = fields.String(load_default="")
    title_en = fields.String(load_default="")
    measure_points = fields.Dict(
        keys=fields.String(validate=validate.OneOf(STATUSES)),
        values=fields.Float(),
        load_default=lambda: {"not_started": 0, "in_progress": 0.5, "implemented": 1, "exemplary": 1},
    )
    aspects = fields.List(fields.Nested(AspectSchema), required=True, validate=validate.Length(min=1))
    indicators = fields.List(fields.Nested(IndicatorSchema), required=True)
    rules = fields.List(fields.Nested(RuleSchema), load_default=list)
    severities = fields.Dict(
        keys=fields.String(validate=validate.OneOf(SEVERITIES)),
        values=fields.Nested(SeveritySchema),
        load_default=lambda: dict(DEFAULT_SEVERITIES),
    )
    # The weights of the index before it was split (catalogues of that time still load; not used).
    district_index = fields.Dict(
        keys=fields.String(validate=validate.OneOf(INDEX_PARTS)),
        values=fields.Float(validate=validate.Range(min=0)),
        load_default=dict,
    )
    effectiveness_index = fields.Nested(
        EffectivenessIndexSchema, load_default=lambda: copy.deepcopy(DEFAULT_EFFECTIVENESS_INDEX)
    )
    case_hints = fields.Nested(CaseHintsSchema, load_default=lambda: dict(DEFAULT_CASE_HINTS))


def _flatten(errors: Any, path: str = "") -> list[str]:
    if isinstance(errors, dict):
        out: list[str] = []
        for key, value in errors.items():
            out += _flatten(value, f"{path}.{key}" if path else str(key))
        return out
    if isinstance(errors, list) and all(isinstance(e, str) for e in errors):
        return [f"{path}: {' '.join(errors)}"]
    return [f"{path}: {errors}"]


def _name_entry(raw: dict[str, Any], problem: str) -> str:
    """'rules.13.kind: ...' becomes 'rule lagging_score (rules.13) kind: ...' when the entry has a code."""
    parts = problem.split(":", 1)[0].split(".")
    if len(parts) >= 2 and parts[0] in ("rules", "indicators", "aspects") and parts[1].isdigit():
        entries = raw.get(parts[0])
        index = int(parts[1])
        if isinstance(entries, list) and index < len(entries) and isinstance(entries[index], dict):
            code = entries[index].get("code")
            if code:
                rest = problem[len(f"{parts[0]}.{parts[1]}") :].lstrip(".")
                return f"{parts[0][:-1]} {code} ({parts[0]}.{index}) {rest}"
    return problem


def expression_names(expression: str) -> set[str]:
    """The names an expression reads; raises `ExpressionRefused` if the rules' language refuses it."""
    return set(expressions.check(expression).names)


def _check_semantics(data: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    measure_codes: list[str] = []
    for aspect in data["aspects"]:
        measure_codes += [m["code"] for m in aspect["measures"]]
    for label, codes in (
        ("aspect", [a["code"] for a in data["aspects"]]),
        ("measure", measure_codes),
        ("indicator", [i["code"] for i in data["indicators"]]),
        ("rule", [r["code"] for r in data["rules"]]),
    ):
        seen: set[str] = set()
        for code in codes:
            if code in seen:
                problems.append(f"{label} {code}: the code appears twice")
            seen.add(code)
    problems += _check_bounds_and_weights(data)
    known = {i["code"] for i in data["indicators"]}
    problems += _check_index(data["effectiveness_index"], known)
    unknown_hints = set(data["case_hints"]["indicators"]) - known
    if unknown_hints:
        problems.append(f"case_hints: names unknown indicators: {', '.join(sorted(unknown_hints))}")
    for rule in data["rules"]:
        where = f"rule {rule['code']}"
        missing = [k for k in NEEDS.get(rule["kind"], ()) if rule.get(k) in (None, "", [])]
        if missing:
            problems.append(f"{where}: a {rule['kind']} rule needs {', '.join(missing)}")
            continue
        if rule["kind"] == "cohort_outlier" and not (rule.get("cohort") or rule.get("cohorts")):
            problems.append(f"{where}: a cohort_outlier rule needs cohort or cohorts")
        if rule.get("valid_from") and rule.get("valid_until") and rule["valid_from"] > rule["valid_until"]:
            problems.append(
                f"{where}: valid_from {rule['valid_from']} is after valid_until {rule['valid_until']}"
            )
        named = set(rule.get("indicators") or ()) | ({rule["per"]} if rule.get("per") else set())
        if named - known:
            problems.append(f"{where}: names unknown indicators: {', '.join(sorted(named - known))}")
        for part in ("left", "right", "when"):
            if rule.get(part) is not None:
                problems += [f"{where}: {part} {p}" for p in expressions.problems(rule[part], known)]
    return problems


def _check_index(index: dict[str, Any], known: set[str]) -> list[str]:
    """Each outcome names known indicators and a target; no weights adding up to 0; codes once."""
    problems: list[str] = []
    if not sum(c["weight"] for c in index["components"]):
        problems.append("effectiveness_index: the components' weights add up to 0")
    seen: set[str] = set()
    for component in index["components"]:
        if not sum(p["weight"] for p in component["parts"]):
            problems.append(f"effectiveness_index {component['code']}: its parts' weights add up to 0")
        for part in component["parts"]:
            where = f"effectiveness_index part {part['code']}"
            if part["code"] in seen:
                problems.append(f"{where}: the code appears twice")
            seen.add(part["code"])
            kind = part.get("kind") or part["code"]
            if kind not in PROGRESS_PARTS and kind not in OUTCOME_KINDS:
                problems.append(f"{where}: give a kind ({', '.join((*PROGRESS_PARTS, *OUTCOME_KINDS))})")
                continue
            if kind in OUTCOME_KINDS:
                needed = ("indicators", "target", "per") if kind == "share" else ("indicators", "target")
                missing = [k for k in needed if not part.get(k)]
                if missing:
                    problems.append(f"{where}: a {kind} outcome needs {', '.join(missing)}")
                unknown = (set(part.get("indicators") or ()) | set(part.get("per") or ())) - known
                if unknown:
                    problems.append(f"{where}: names unknown indicators: {', '.join(sorted(unknown))}")
    return problems


NEEDS = {
    "expression": ("left", "op", "right"),
    "overall_score": ("threshold",),
    "score_drop": ("threshold",),
    "indicator_drop": ("indicators",),
    "cohort_outlier": ("indicators", "per"),
}


def _check_bounds_and_weights(data: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    for indicator in data["indicators"]:
        low, high = indicator.get("min"), indicator.get("max")
        if low is not None and high is not None and low > high:
            problems.append(f"indicator {indicator['code']}: min {low:g} is greater than max {high:g}")
    for aspect in data["aspects"]:
        if not sum(m["weight"] for m in aspect["measures"]):
            problems.append(f"aspect {aspect['code']}: its measures' weights add up to 0")
    if not sum(a["weight"] for a in data["aspects"]):
        problems.append("aspects: the aspects' weights add up to 0")
    if data["district_index"] and not sum(data["district_index"].values()):
        problems.append("district_index: the weights add up to 0")
    return problems


def parse_catalogue(raw: Any) -> dict[str, Any]:
    """Validate a catalogue (already parsed from YAML or JSON); return it normalised."""
    if not isinstance(raw, dict):
        raise CatalogueError(["file: a catalogue must be a mapping with version, aspects, indicators, rules"])
    try:
        data = CatalogueSchema().load(raw)
    except ValidationError as exc:
        raise CatalogueError([_name_entry(raw, p) for p in _flatten(exc.messages)]) from None
    problems = _check_semantics(data)
    if problems:
        raise CatalogueError(problems)
    return data


MAX_YAML_DEPTH = 64


class _TooDeep(yaml.YAMLError):
    pass


class _Loader(yaml.SafeLoader):
    """The safe loader, refusing a document that nests deeper than any catalogue does."""

    depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self.depth += 1
        try:
            if self.depth > MAX_YAML_DEPTH:
                line = self.peek_event().start_mark.line + 1
                raise _TooDeep(f"file: nests deeper than {MAX_YAML_DEPTH} levels (line {line})")
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def load_yaml(text: str) -> Any:
    """A YAML (or JSON) document as plain data; raises CatalogueError for one that is not."""
    try:
        return yaml.load(text, Loader=_Loader)  # a SafeLoader
    except _TooDeep as exc:
        raise CatalogueError([str(exc)]) from None
    except yaml.YAMLError as exc:
        raise CatalogueError([f"file: not valid YAML or JSON: {exc}"]) from None
    except RecursionError:
        raise CatalogueError([f"file: nests deeper than {MAX_YAML_DEPTH} levels"]) from None


def read_file(path: str | Path) -> dict[str, Any]:
    return parse_catalogue(load_yaml(Path(path).read_text(encoding="utf-8")))


def checksum(data: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def default_file() -> Path:
    return DATA_DIR / f"{DEFAULT_VERSION}.yaml"
