"""The API of the round's read models: district effectiveness, candidate practices, rule previews."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask import g
from flask.views import MethodView
from flask_smorest import abort as api_abort
from marshmallow import Schema, ValidationError, fields

from services.intake import analytics, reports, schemas, scope
from services.intake.auth import authenticate_bearer
from services.intake.extensions import db_session
from services.intake.strict_json import Blueprint
from shared import preview
from shared.catalogue import CatalogueError
from shared.catalogue import store as catalogues
from shared.models import Round

blp = Blueprint(
    "supervision",
    __name__,
    url_prefix="/api/v1",
    description="区县成效、可复制做法与规则预览 / District effectiveness, practices, rule previews",
)
blp.before_request(authenticate_bearer)
SECURITY = [{"bearerAuth": []}]


class DistrictRowSchema(Schema):
    district_code = fields.String()
    name_zh = fields.String()
    name_en = fields.String()
    units = fields.Integer()
    reported = fields.Integer()
    participation_rate = fields.Float()
    on_time_rate = fields.Float()
    mean_score = fields.Float(allow_none=True)
    median_score = fields.Float(allow_none=True)
    share_at_60 = fields.Float(allow_none=True)
    open_findings_per_unit = fields.Float()
    rectification_rate = fields.Float(allow_none=True)
    median_days_to_rectify = fields.Float(allow_none=True)
    index = fields.Float()
    rank = fields.Integer()
    rank_change = fields.Integer(allow_none=True)


class DistrictTableSchema(Schema):
    round = fields.String()
    items = fields.List(fields.Nested(DistrictRowSchema))
    total = fields.Integer()


class MeasureNoteSchema(Schema):
    code = fields.String()
    name_zh = fields.String()
    name_en = fields.String()
    note = fields.String()


class PracticeSchema(Schema):
    credit_code = fields.String()
    name = fields.String()
    district = fields.String()
    overall_score = fields.Float()
    exemplary_measures = fields.List(fields.Nested(MeasureNoteSchema))


class PracticesSchema(Schema):
    round = fields.String()
    items = fields.List(fields.Nested(PracticeSchema))
    total = fields.Integer()


class PreviewArgsSchema(Schema):
    round = fields.String(required=True, metadata={"description": "a past round, such as 2023H2"})
    rules = fields.List(
        fields.Dict(), metadata={"description": "rules replacing the round catalogue's rules"}
    )
    catalogue = fields.Dict(metadata={"description": "or a whole catalogue"})
    report = fields.Dict(
        metadata={
            "description": "a sample report (as POST /submissions takes it): which rules apply to it and why not"
        }
    )


class CountSchema(Schema):
    district_code = fields.String()
    rule_code = fields.String()
    appear = fields.Integer()
    disappear = fields.Integer()


class RuleOutcomeSchema(Schema):
    rule_code = fields.String()
    name_zh = fields.String()
    name_en = fields.String()
    result = fields.String(metadata={"description": "broken, held, skipped or error"})
    reason_zh = fields.String()
    reason_en = fields.String()
    messages_zh = fields.List(fields.String())


class PreviewErrorSchema(Schema):
    rule_code = fields.String()
    reason = fields.String()
    detail = fields.String(metadata={"description": "one example"})
    reports = fields.Integer(metadata={"description": "reports the rule could not be evaluated on"})


class PreviewSchema(Schema):
    round = fields.String()
    due_date = fields.String()
    reports = fields.Integer()
    appear = fields.Integer()
    disappear = fields.Integer()
    districts = fields.List(fields.Nested(CountSchema))
    rules = fields.List(fields.Nested(CountSchema))
    explanation = fields.List(fields.Nested(RuleOutcomeSchema))
    errors = fields.List(fields.Nested(PreviewErrorSchema))


def sample_report(catalogue: Any, raw: dict[str, Any]) -> dict[str, Any]:
    """A sample report checked as a submission would be (shape and values), or 422."""
    try:
        data = schemas.SubmissionSchema().load(raw)
    except ValidationError as exc:
        api_abort(
            422,
            message="样例报告有误 / the sample report has errors",
            errors={"json": {"report": exc.messages}},
        )
    errors = reports.check_against_catalogue(catalogue, data)
    if errors:
        api_abort(
            422, message="样例报告有误 / the sample report has errors", errors={"json": {"report": errors}}
        )
    return data


def require_round(code: str) -> Round:
    round_ = db_session().get(Round, code[:16])
    if round_ is None:
        api_abort(404, message=f"未找到该轮次 / no round {code[:16]}")
    return round_


def require_supervisor() -> None:
    if g.user.role not in ("supervisor", "admin"):
        api_abort(403, message="仅限督导人员 / for supervisors only")


@blp.route("/rounds/<round_code>/districts")
class Districts(MethodView):
    @blp.doc(security=SECURITY)
    @blp.response(200, DistrictTableSchema)
    def get(self, round_code: str) -> dict[str, Any]:
        """Each district's effectiveness in the round, ranked; a district user sees its own row only."""
        round_ = require_round(round_code)
        rows = [asdict(r) for r in analytics.district_table(db_session(), round_.code)]
        if g.user.role == "district":
            rows = [r for r in rows if r["district_code"] == g.user.district_code]
        return {"round": round_.code, "items": rows, "total": len(rows)}


@blp.route("/rounds/<round_code>/districts/<district_code>")
class DistrictDetail(MethodView):
    @blp.doc(security=SECURITY)
    @blp.response(200, DistrictRowSchema)
    @blp.alt_response(403, description="another district's row")
    def get(self, round_code: str, district_code: str) -> dict[str, Any]:
        """One district's effectiveness in the round."""
        round_ = require_round(round_code)
        scope.require_district(g.user, district_code)
        row = analytics.district_row(db_session(), round_.code, district_code[:32])
        if row is None:
            api_abort(404, message=f"未找到该区县 / no district {district_code[:32]} with pilot units")
        return asdict(row)


@blp.route("/rounds/<round_code>/practices")
class Practices(MethodView):
    @blp.doc(security=SECURITY)
    @blp.response(200, PracticesSchema)
    @blp.alt_response(403, description="for supervisors only")
    def get(self, round_code: str) -> dict[str, Any]:
        """Candidate replicable practices: overall ≥ 90, no critical finding, an exemplary measure with a note."""
        require_supervisor()
        round_ = require_round(round_code)
        items = analytics.practices(db_session(), round_.code)
        return {"round": round_.code, "items": items, "total": len(items)}


@blp.route("/rules/preview")
class RulesPreview(MethodView):
    @blp.doc(security=SECURITY)
    @blp.arguments(PreviewArgsSchema, location="json")
    @blp.response(200, PreviewSchema)
    @blp.alt_response(403, description="for supervisors only")
    @blp.alt_response(422, description="the rules were refused")
    def post(self, args: dict[str, Any]) -> dict[str, Any]:
        """How many findings a changed rule set would open and resolve in a past round; stores nothing."""
        require_supervisor()
        session = db_session()
        round_ = require_round(args["round"])
        raw = args.get("catalogue") or {"rules": args.get("rules") or []}
        try:
            current = catalogues.get(session, round_.catalogue_version)
            candidate = (
                preview.candidate(current, raw) if ("catalogue" in args or "rules" in args) else current
            )
            result = preview.preview(session, round_.code, candidate)
            if args.get("report") is not None:
                sample = sample_report(candidate, dict(args["report"], round=round_.code))
                result["explanation"] = preview.explain_report(session, candidate, sample)
            return result
        except CatalogueError as exc:
            api_abort(422, message="规则有误 / the rules were refused", errors={"json": exc.problems})
        finally:
            session.rollback()
        return {}
