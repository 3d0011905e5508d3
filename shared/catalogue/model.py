"""Typed, read-only access to one loaded catalogue version: its measures, indicators and rules."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from functools import cached_property
from typing import Any

# Report kinds are checked on each report; round kinds are checked over a whole round by scheduled jobs.
REPORT_KINDS = (
    "expression",
    "indicator_completeness",
    "measure_status",
    "measure_note",
    "status_regression",
    "measure_stagnation",
    "indicator_drop",
    "score_drop",
    "overall_score",
    "late_report",
)
ROUND_KINDS = ("missing_report", "cohort_outlier")
RULE_KINDS = REPORT_KINDS + ROUND_KINDS
# The code of the missing-report rule when a catalogue has none (its findings still exist in old rounds).
MISSING_REPORT = "missing_report"
# The rule code of problems a supervisor raises by hand (shared/ledger.py), and its names.
MANUAL = "manual"
MANUAL_NAMES = ("督导发现的问题", "Raised by the supervisors")


@dataclass(frozen=True)
class Rule:
    """One rule of a catalogue, as validated by its schema; which fields matter depends on `kind`."""

    code: str
    name_zh: str
    severity: str
    message_zh: str
    kind: str = "expression"
    name_en: str = ""
    message_en: str = ""
    action_zh: str = ""
    source: str = ""
    # expression rules: `left op right`, checked only `when` holds; `missing` says what a blank does
    left: str | None = None
    op: str | None = None
    right: str | None = None
    when: str | None = None
    missing: str = "skip"
    # measure, progress, score and outlier rules
    statuses: tuple[str, ...] = ()
    threshold: float | None = None
    indicators: tuple[str, ...] = ()
    rounds: int = 2
    ratio: float = 0.5
    cohort: str = "district"
    cohorts: tuple[str, ...] = ()
    per: str | None = None
    min_cohort: int = 8
    compare: str = "previous"
    # where it applies (see docs/SCORING.md): unit kinds, halves of the year, from a unit's Nth round,
    # validity dates of a target (ISO text), and `when` above as a guard on the report's own values
    applies_to: dict[str, Any] = field(default_factory=dict)
    halves: tuple[str, ...] = ()
    from_round: int = 1
    valid_from: str | None = None
    valid_until: str | None = None
    # how its findings end, what rectifying them asks for, and what they are
    action_en: str = ""
    category: str = ""
    resolution: str = "auto"
    proof: str = "optional"
    record: bool = False
    period_days: int | None = None

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Rule:
        known = {f.name for f in fields(cls)}
        values = {k: (tuple(v) if isinstance(v, list) else v) for k, v in data.items() if k in known}
        return cls(**values)

    @property
    def cohort_order(self) -> tuple[str, ...]:
        """The cohorts a unit is compared with, in order, falling back when one is too small."""
        return self.cohorts or (self.cohort,)

    @property
    def per_round(self) -> bool:
        """Checked over a whole round by a scheduled job rather than on each report."""
        return self.kind in ROUND_KINDS


@dataclass(frozen=True)
class Catalogue:
    """One loaded catalogue version; `data` is the validated file as stored."""

    data: dict[str, Any] = field(repr=False)

    @property
    def version(self) -> str:
        return self.data["version"]

    @property
    def aspects(self) -> list[dict[str, Any]]:
        return self.data["aspects"]

    @cached_property
    def measures(self) -> dict[str, dict[str, Any]]:
        return {m["code"]: dict(m, aspect=a["code"]) for a in self.aspects for m in a["measures"]}

    @cached_property
    def indicators(self) -> dict[str, dict[str, Any]]:
        return {i["code"]: i for i in self.data["indicators"]}

    @property
    def measure_points(self) -> dict[str, float]:
        return self.data["measure_points"]

    @cached_property
    def rules(self) -> tuple[Rule, ...]:
        return tuple(Rule.from_data(r) for r in self.data["rules"])

    @cached_property
    def report_rules(self) -> tuple[Rule, ...]:
        """The rules checked on each report."""
        return tuple(r for r in self.rules if not r.per_round)

    def rules_of(self, kind: str) -> tuple[Rule, ...]:
        return tuple(r for r in self.rules if r.kind == kind)

    def rule(self, code: str) -> Rule | None:
        return next((r for r in self.rules if r.code == code), None)

    @cached_property
    def missing_report_rule(self) -> Rule | None:
        return next(iter(self.rules_of("missing_report")), None)

    @cached_property
    def round_rule_codes(self) -> frozenset[str]:
        """Codes of the rules checked over a whole round (missing reports, outliers): not per report."""
        return frozenset({r.code for r in self.rules if r.per_round} | {MISSING_REPORT})

    @cached_property
    def missing_report_codes(self) -> frozenset[str]:
        return frozenset({r.code for r in self.rules_of("missing_report")} | {MISSING_REPORT})

    def period_days(self, rule: Rule, fallback: int) -> int | None:
        """Days to rectify a finding of this rule: its own period, else its severity's (`fallback` when
        the catalogue has no periods); None for advice and for records, which have no deadline."""
        if rule.record:
            return None
        if rule.period_days is not None:
            return rule.period_days
        return self.severity_period(rule.severity, fallback)

    def severity_period(self, severity: str, fallback: int) -> int | None:
        periods = self.data.get("severities")
        if not periods or severity not in periods:
            return None if severity == "info" else fallback
        return periods[severity].get("period_days")

    @cached_property
    def required_indicators(self) -> tuple[str, ...]:
        """The indicators a complete report fills in (the form asks for them, a blank is a finding)."""
        return tuple(code for code, spec in self.indicators.items() if spec.get("required"))

    @property
    def effectiveness_index(self) -> dict[str, Any]:
        """The components of the district index, their parts and weights (defaults for a catalogue
        stored before the index was split)."""
        from shared.catalogue.schema import DEFAULT_EFFECTIVENESS_INDEX

        return self.data.get("effectiveness_index") or DEFAULT_EFFECTIVENESS_INDEX

    @property
    def case_hints(self) -> dict[str, Any]:
        """When a unit is suggested as a case to write up: thresholds as data."""
        from shared.catalogue.schema import DEFAULT_CASE_HINTS

        return {**DEFAULT_CASE_HINTS, **(self.data.get("case_hints") or {})}

    def rule_name(self, code: str, locale: str = "zh") -> str:
        rule = self.rule(code)
        if code == MANUAL:
            return MANUAL_NAMES[1] if locale == "en" else MANUAL_NAMES[0]
        if rule is None:
            return code
        return (rule.name_en or rule.name_zh) if locale == "en" else rule.name_zh
