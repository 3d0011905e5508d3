"""The report form's check before submitting: the catalogue's rules run on what the clerk typed,
through the same engine and history evaluation uses, storing nothing. A data error (数据错误) blocks
the submit and is shown next to its fields; a warning is shown and may be confirmed. The evaluation
after submitting stays the authority."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from shared import history, judging
from shared.catalogue import Catalogue
from shared.models import PilotUnit, Round, Submission, utcnow
from shared.rules import engine

# Completeness is the form's own check (every status, every required indicator); these rules would
# only repeat it.
COMPLETENESS_KINDS = ("indicator_completeness", "measure_status")


@dataclass
class Precheck:
    """Messages by form field (`i.workers_total`, `m.P1-M1.note`): errors block, warnings are confirmed."""

    errors: dict[str, list[str]] = field(default_factory=dict)
    warnings: dict[str, list[str]] = field(default_factory=dict)

    def add(self, blocking: bool, fields: list[str], message: str) -> None:
        target = self.errors if blocking else self.warnings
        for name in fields:
            if message not in target.setdefault(name, []):
                target[name].append(message)


def fields_of(rule: Any, violation: engine.Violation) -> list[str]:
    """The form fields a violation is about: an expression's indicators, or the measures it lists."""
    if rule.kind == "expression":
        names: set[str] = set()
        for part in (rule.left, rule.right):
            if part:
                names |= set(engine.compiled(part).names)
        return sorted(f"i.{name}" for name in names)
    measures = violation.evidence.get("measures") or ([violation.subject] if violation.subject else [])
    suffix = ".note" if rule.kind == "measure_note" else ".status"
    return [f"m.{code}{suffix}" for code in measures]


def precheck(
    session: Session,
    catalogue: Catalogue,
    round_: Round,
    unit: PilotUnit,
    data: dict[str, Any],
    locale: str = "zh",
) -> Precheck:
    """What evaluation would say of this report now, by field. Nothing is stored."""
    submission = Submission(
        unit=unit,
        unit_id=unit.id,
        round_code=round_.code,
        measures=data["measures"],
        indicators=data["indicators"],
        submitted_at=utcnow(),
    )
    past = history.history(session, round_, [unit.id]).get(unit.id, ())
    _scores, outcomes = judging.judge(catalogue, submission, round_, past)
    if submission in session:
        session.expunge(submission)
    found = Precheck()
    for outcome in outcomes:
        rule = catalogue.rule(outcome.rule_code)
        if rule is None or rule.kind in COMPLETENESS_KINDS or rule.severity == "info" or rule.record:
            continue
        for violation in outcome.violations:
            message = (
                violation.message_en if locale == "en" and violation.message_en else violation.message_zh
            )
            found.add(rule.severity == "error", fields_of(rule, violation) or ["report"], message)
    return found
