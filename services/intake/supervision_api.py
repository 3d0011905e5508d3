"""The API of the round's read models: district effectiveness (per batch too), the round's summary,
case hints (candidate practices), rule previews."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask import g
from flask.views import MethodView
from flask_babel import gettext as _
from flask_smorest import abort as api_abort
from marshmallow import Schema, ValidationError, fields, validate

from services.intake import analytics, case_hints, cases, reports, round_summary, schemas, scope
from services.intake.auth import authenticate_bearer
from services.intake.extensions import db_session
from services.intake.strict_json import Blueprint
from shared import clock, config, preview
from shared.catalogue import CatalogueError
from shared.catalogue import store as catalogues
from shared.models import Round

blp = Blueprint(
    "supervision",
    __name__,
    url_prefix="/api/v1",
    description="县（市）区成效、可复制做法与规则预览 / District effectiveness, practices, rule previews",
)
blp.before_request(authenticate_bearer)
SECURITY = [{"bearerAuth": []}]


class IndexPartSchema(Schema):
    code = fields.String()
    kind = fields.String(metadata={"description": "a progress figure, or an outcome: share or growth"})
    name_zh = fields.String()
    name_en = fields.String()
    weight = fields.Float()
    value = fields.Float(allow_none=True, metadata={"description": "0 to 1; null: no comparison"})
    units = fields.Integer(metadata={"description": "outcomes: units compared"})
    now = fields.Float(allow_none=True)
    then = fields.Float(allow_none=True)
    change = fields.Float(allow_none=True)
    target = fields.Float()


class IndexComponentSchema(Schema):
    code = fields.String()
    name_zh = fields.String()
    name_en = fields.String()
    weight = fields.Float()
    value = fields.Float(allow_none=True, metadata={"description": "0 to 100; null: no part has a value"})
    parts = fields.List(fields.Nested(IndexPartSchema))


class FiguresSchema(Schema):
    units = fields.Integer()
    reported = fields.Integer()
    on_time = fields.Integer()
    participation_rate = fields.Float()
    on_time_rate = fields.Float()
    mean_score = fields.Float(allow_none=True)
    median_score = fields.Float(allow_none=True)
    share_at_60 = fields.Float(allow_none=True)
    open_findings_per_unit = fields.Float()
    rectification_rate = fields.Float(allow_none=True)
    median_days_to_rectify = fields.Float(allow_none=True)
    verified_closure_rate = fields.Float(allow_none=True)
    progress = fields.Float(allow_none=True, metadata={"description": "工作推进, 0 to 100"})
    outcomes = fields.Float(
        allow_none=True, metadata={"description": "改革成效, 0 to 100; null: no comparison"}
    )
    components = fields.List(fields.Nested(IndexComponentSchema))
    basis_round = fields.String(allow_none=True, metadata={"description": "the round outcomes compare with"})
    index = fields.Float()
    rank = fields.Integer()
    rank_change = fields.Integer(allow_none=True)


class DistrictRowSchema(FiguresSchema):
    district_code = fields.String()
    name_zh = fields.String()
    name_en = fields.String()


class DistrictTableSchema(Schema):
    round = fields.String()
    batch = fields.Integer(allow_none=True)
    items = fields.List(fields.Nested(DistrictRowSchema))
    total = fields.Integer()


class BatchRowSchema(FiguresSchema):
    batch = fields.Integer()
    name_zh = fields.String()
    name_en = fields.String()
    joined = fields.String()


class BatchTableSchema(Schema):
    round = fields.String()
    district = fields.String(allow_none=True)
    items = fields.List(fields.Nested(BatchRowSchema))
    total = fields.Integer()


class BatchArgsSchema(Schema):
    batch = fields.Integer(
        validate=validate.Range(min=1, max=99), metadata={"description": "only the units of this batch"}
    )


class DistrictArgsSchema(Schema):
    district = fields.String(
        validate=validate.Length(max=32), metadata={"description": "only this district's units"}
    )


class OverviewSchema(Schema):
    round = fields.String()
    due_date = fields.String()
    districts = fields.Integer()
    units = fields.Integer()
    reported = fields.Integer()
    on_time = fields.Integer()
    late = fields.Integer()
    missing = fields.Integer()
    participation_rate = fields.Float()
    on_time_rate = fields.Float()
    mean_score = fields.Float(allow_none=True)


class CategoryCountSchema(Schema):
    category = fields.String()
    critical = fields.Integer()
    error = fields.Integer()
    warning = fields.Integer()
    total = fields.Integer()


class DistrictProblemsSchema(Schema):
    district_code = fields.String()
    total = fields.Integer()
    open = fields.Integer()
    rectified = fields.Integer()
    rectification_reported = fields.Integer()
    red = fields.Integer()
    yellow = fields.Integer()
    green = fields.Integer()


class TypicalProblemSchema(Schema):
    rule_code = fields.String()
    name = fields.String()
    category = fields.String()
    severity = fields.String()
    count = fields.Integer()
    example = fields.String()


class ProblemsSchema(Schema):
    total = fields.Integer()
    open = fields.Integer()
    rectified = fields.Integer()
    by_category = fields.List(fields.Nested(CategoryCountSchema))
    by_district = fields.List(fields.Nested(DistrictProblemsSchema))
    typical = fields.List(fields.Nested(TypicalProblemSchema))


class SummarySchema(Schema):
    overview = fields.Nested(OverviewSchema)
    problems = fields.Nested(ProblemsSchema)


class MeasureNoteSchema(Schema):
    code = fields.String()
    name_zh = fields.String()
    name_en = fields.String()
    note = fields.String()


class GrowthSchema(Schema):
    indicator = fields.String()
    name_zh = fields.String()
    name_en = fields.String()
    previous = fields.Float()
    current = fields.Float()
    change = fields.Float()


class PracticeSchema(Schema):
    credit_code = fields.String()
    name = fields.String()
    district = fields.String()
    overall_score = fields.Float()
    exemplary_measures = fields.List(fields.Nested(MeasureNoteSchema))
    reasons = fields.List(fields.String(), metadata={"description": "high_score, growth"})
    growth = fields.List(fields.Nested(GrowthSchema))
    compared_with = fields.String(allow_none=True)
    case_id = fields.Integer(allow_none=True, metadata={"description": "a case already written from it"})


class PracticesSchema(Schema):
    round = fields.String()
    items = fields.List(fields.Nested(PracticeSchema))
    total = fields.Integer()


class CaseMeasureSchema(Schema):
    code = fields.String()
    name_zh = fields.String()
    name_en = fields.String()


class FigureSchema(Schema):
    label = fields.String()
    value = fields.String()


class CaseSchema(Schema):
    id = fields.Integer()
    round = fields.String()
    district = fields.String()
    unit = fields.String(metadata={"description": "the unit's credit code"})
    unit_name = fields.String()
    title = fields.String()
    measures = fields.List(fields.Nested(CaseMeasureSchema))
    practice = fields.String()
    results = fields.String()
    figures = fields.List(fields.Nested(FigureSchema))
    status = fields.String(metadata={"description": "draft, recommended, returned or selected"})
    review_reason = fields.String()


class CasesSchema(Schema):
    round = fields.String()
    items = fields.List(fields.Nested(CaseSchema))
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
            message=_("样例报告有误"),
            errors={"json": {"report": exc.messages}},
        )
    errors = reports.check_against_catalogue(catalogue, data)
    if errors:
        api_abort(422, message=_("样例报告有误"), errors={"json": {"report": errors}})
    return data


def require_round(code: str) -> Round:
    round_ = db_session().get(Round, code[:16])
    if round_ is None:
        api_abort(404, message=_("未找到该督导轮次：%(code)s", code=code[:16]))
    return round_


def require_supervisor() -> None:
    if g.user.role not in ("supervisor", "admin"):
        api_abort(403, message=_("仅限督导人员"))


@blp.route("/rounds/<round_code>/districts")
class Districts(MethodView):
    @blp.doc(security=SECURITY)
    @blp.arguments(BatchArgsSchema, location="query")
    @blp.response(200, DistrictTableSchema)
    def get(self, args: dict[str, Any], round_code: str) -> dict[str, Any]:
        """Each district's effectiveness in the round (工作推进, 改革成效 and the index), ranked; of one
        batch's units with `batch`; a district user sees its own row only."""
        round_ = require_round(round_code)
        batch = args.get("batch")
        rows = [asdict(r) for r in analytics.district_table(db_session(), round_.code, batch)]
        if g.user.role == "district":
            rows = [r for r in rows if r["district_code"] == g.user.district_code]
        return {"round": round_.code, "batch": batch, "items": rows, "total": len(rows)}


@blp.route("/rounds/<round_code>/districts/<district_code>")
class DistrictDetail(MethodView):
    @blp.doc(security=SECURITY)
    @blp.arguments(BatchArgsSchema, location="query")
    @blp.response(200, DistrictRowSchema)
    @blp.alt_response(403, description="another district's row")
    def get(self, args: dict[str, Any], round_code: str, district_code: str) -> dict[str, Any]:
        """One district's effectiveness in the round, with its components and their parts."""
        round_ = require_round(round_code)
        scope.require_district(g.user, district_code)
        row = analytics.district_row(db_session(), round_.code, district_code[:32], args.get("batch"))
        if row is None:
            api_abort(404, message=_("未找到该县（市）区或其没有试点单位：%(code)s", code=district_code[:32]))
        return asdict(row)


@blp.route("/rounds/<round_code>/batches")
class Batches(MethodView):
    @blp.doc(security=SECURITY)
    @blp.arguments(DistrictArgsSchema, location="query")
    @blp.response(200, BatchTableSchema)
    @blp.alt_response(403, description="another district's units")
    def get(self, args: dict[str, Any], round_code: str) -> dict[str, Any]:
        """The same figures per pilot batch, to compare batches; a district user sees its own units'."""
        round_ = require_round(round_code)
        district = args.get("district")
        if g.user.role == "district":
            if district and district != g.user.district_code:
                api_abort(403, message=scope.denied())
            district = g.user.district_code
        rows = [asdict(r) for r in analytics.batch_table(db_session(), round_.code, district)]
        return {"round": round_.code, "district": district, "items": rows, "total": len(rows)}


@blp.route("/rounds/<round_code>/summary")
class Summary(MethodView):
    @blp.doc(security=SECURITY)
    @blp.response(200, SummarySchema)
    @blp.alt_response(403, description="for supervisors only")
    def get(self, round_code: str) -> dict[str, Any]:
        """The round at a glance, as the 督导通报 gives it: units, reports, timeliness; problems by category,
        severity and state, per district with traffic lights, and the typical problems."""
        require_supervisor()
        round_ = require_round(round_code)
        session = db_session()
        catalogue = analytics.round_catalogue(session, round_)
        problems = round_summary.problems(
            session,
            round_.code,
            clock.today(),
            config.current().yellow_light_days,
            rule_name=catalogue.rule_name if catalogue else None,
        )
        return {"overview": asdict(round_summary.overview(session, round_.code)), "problems": problems}


@blp.route("/rounds/<round_code>/practices")
class Practices(MethodView):
    @blp.doc(security=SECURITY)
    @blp.response(200, PracticesSchema)
    @blp.alt_response(403, description="for supervisors only")
    def get(self, round_code: str) -> dict[str, Any]:
        """Case hints (candidate replicable practices): a high score with 成效突出 measures, or strong growth
        of an indicator; no open major problem; thresholds from the catalogue's `case_hints`."""
        require_supervisor()
        round_ = require_round(round_code)
        items = case_hints.hints(db_session(), round_.code)
        return {"round": round_.code, "items": items, "total": len(items)}


@blp.route("/rounds/<round_code>/cases")
class Cases(MethodView):
    @blp.doc(security=SECURITY)
    @blp.response(200, CasesSchema)
    def get(self, round_code: str) -> dict[str, Any]:
        """The round's cases the caller may see: the selected (published) ones for everyone, a district's
        own at every step, every recommended case for the city."""
        round_ = require_round(round_code)
        session = db_session()
        catalogue = analytics.round_catalogue(session, round_)
        measures = catalogue.measures if catalogue else {}
        items = [cases.as_dict(c, measures) for c in cases.library(session, g.user, round_.code)]
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
            api_abort(422, message=_("规则有误"), errors={"json": exc.problems})
        finally:
            session.rollback()
        return {}
