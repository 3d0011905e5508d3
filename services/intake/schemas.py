"""The marshmallow schemas at the intake boundary: JSON bodies, form posts and answers alike."""

from __future__ import annotations

import math
import re
from typing import Any

from flask_babel import lazy_gettext as _l
from marshmallow import RAISE, Schema, ValidationError, fields, validate

from services.intake.speech import gettext as _
from services.intake.speech import say
from shared.catalogue import STATUSES
from shared.credit_code import normalise, problem


class BaseSchema(Schema):
    class Meta:
        unknown = RAISE
        ordered = True


# Larger than any headcount or amount a unit reports, and exactly representable as a float.
MAX_MAGNITUDE = 10**15
# C0 controls but tab and line breaks, DEL and the C1 controls
CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def text_problem(value: str) -> str | None:
    """Why a text cannot be stored and shown as it is: a lone surrogate (it cannot be written as
    UTF-8) or a control character other than tab and line breaks."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return _("含有无法编码的字符")
    if CONTROLS.search(value):
        return _("含有控制字符")
    return None


def number_problem(value: int | float) -> str | None:
    if isinstance(value, float) and not math.isfinite(value):
        return _("应为有限数值（不接受 NaN、Infinity）")
    if abs(value) > MAX_MAGNITUDE:
        return _("数值过大（绝对值不超过 %(limit)s）", limit=f"{MAX_MAGNITUDE:.0e}")
    return None


class Text(fields.String):
    """A string that can be stored and shown: no lone surrogates, no control characters."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        error = text_problem(text)
        if error:
            raise ValidationError(error)
        return text


class CreditCode(Text):
    """A unified social credit code: normalised (full-width, case, spaces), then checked."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = normalise(super()._deserialize(value, attr, data, **kwargs))
        error = say(problem(text))
        if error:
            raise ValidationError(error)
        return text


class MeasureEntrySchema(BaseSchema):
    status = fields.String(
        required=True, validate=validate.OneOf(STATUSES, error=_l("状态应为 {choices} 之一"))
    )
    note = Text(load_default="", validate=validate.Length(max=4000))


class IndicatorValue(fields.Raw):
    """A number or a yes/no; the catalogue decides which (checked after the schema)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if value is not None and not isinstance(value, int | float | bool):
            raise ValidationError(_("应为数值或是/否"))
        if isinstance(value, int | float) and not isinstance(value, bool):
            error = number_problem(value)
            if error:
                raise ValidationError(error)
        return value


class SubmissionSchema(BaseSchema):
    """A unit's half-yearly report, as sent to POST /api/v1/submissions or through the form."""

    unit = CreditCode(
        required=True,
        metadata={
            "description": "统一社会信用代码 / unified social credit code",
            "example": "91350100611300758B",
        },
    )
    round = Text(required=True, validate=validate.Length(min=1, max=16), metadata={"example": "2023H2"})
    measures = fields.Dict(
        keys=Text(validate=validate.Length(max=64)),
        values=fields.Nested(MeasureEntrySchema),
        load_default=dict,
        metadata={"description": "measure code → status and note"},
    )
    indicators = fields.Dict(
        keys=Text(validate=validate.Length(max=64)),
        values=IndicatorValue(allow_none=True),
        load_default=dict,
        metadata={"description": "indicator code → value"},
    )


class AcceptedSchema(Schema):
    id = fields.String()
    url = fields.String()
    status = fields.String()
    version = fields.Integer()
    unit = fields.String()
    round = fields.String()


class FindingSchema(Schema):
    id = fields.Integer()
    rule = fields.String(attribute="rule_code")
    severity = fields.String()
    status = fields.String()
    message_zh = fields.String()
    message_en = fields.String()
    action_zh = fields.String()
    source = fields.String()
    evidence = fields.Dict()
    opened_at = fields.DateTime()
    due_date = fields.Date()


class RuleErrorSchema(Schema):
    rule_code = fields.String()
    reason = fields.String(
        metadata={"description": "refused, division_by_zero, too_large, time_limit or failed"}
    )
    detail = fields.String()


class EvaluationSchema(Schema):
    overall_score = fields.Float()
    aspect_scores = fields.Dict(keys=fields.String(), values=fields.Float())
    late = fields.Boolean()
    evaluated_at = fields.DateTime()
    findings = fields.List(fields.Nested(FindingSchema))
    errors = fields.List(
        fields.Nested(RuleErrorSchema),
        metadata={"description": "rules that could not be evaluated on this report; the others were"},
    )


class UnitSchema(Schema):
    credit_code = fields.String()
    name = fields.String()
    district = fields.String(attribute="district_code")
    district_name = fields.Function(lambda u: u.district.name_zh)
    industry = fields.String()
    kind = fields.String(metadata={"description": "enterprise (企业) or institution (事业单位)"})
    batch = fields.Integer()
    active = fields.Boolean()


class SubmissionOutSchema(Schema):
    id = fields.String()
    unit = fields.Function(lambda s: s.unit.credit_code)
    unit_name = fields.Function(lambda s: s.unit.name)
    district = fields.Function(lambda s: s.unit.district_code)
    round = fields.String(attribute="round_code")
    version = fields.Integer()
    submitted_at = fields.DateTime()
    state = fields.Function(lambda s: "evaluated" if s.evaluation else "received")
    measures = fields.Dict()
    indicators = fields.Dict()
    evaluation = fields.Nested(EvaluationSchema, allow_none=True)


class RoundSchema(Schema):
    code = fields.String()
    catalogue_version = fields.String()
    due_date = fields.Date()
    grace_days = fields.Integer()
    status = fields.String()


class ListArgsSchema(Schema):
    district = fields.String(validate=validate.Length(max=32))
    # optional: a part of the unit's name or credit code, and one page of the list (every unit without)
    q = fields.String(validate=validate.Length(max=100))
    page = fields.Integer(validate=validate.Range(min=1, max=100000))
    per_page = fields.Integer(validate=validate.Range(min=1, max=500))


def items_schema(item: type[Schema]) -> type[Schema]:
    return type(
        f"{item.__name__.removesuffix('Schema')}ListSchema",
        (Schema,),
        {
            "items": fields.List(fields.Nested(item)),
            "total": fields.Integer(),
        },
    )
