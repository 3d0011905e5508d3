"""The JSON API, version 1. Every route needs a bearer token; districts see only their own units."""

from __future__ import annotations

from typing import Any, NoReturn

from flask import g, request, url_for
from flask.views import MethodView
from flask_babel import gettext as _
from flask_smorest import abort as api_abort
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from services.intake import lists, paging, reports, rounds, schemas, scope
from services.intake.auth import authenticate_bearer
from services.intake.extensions import celery, db_session
from services.intake.strict_json import Blueprint
from shared.catalogue import DEFAULT_VERSION, STATUS_NAMES
from shared.catalogue import store as catalogues
from shared.models import PilotUnit, Submission

blp = Blueprint("api", __name__, url_prefix="/api/v1", description="Pilotwatch API v1")
blp.before_request(authenticate_bearer)
SECURITY = [{"bearerAuth": []}]


def accepted(submission: Submission) -> tuple[dict[str, Any], int, dict[str, str]]:
    url = url_for("api.SubmissionById", submission_id=submission.id, _external=True)
    body = {
        "id": submission.id,
        "url": url,
        "status": "received",
        "version": submission.version,
        "unit": submission.unit.credit_code,
        "round": submission.round_code,
    }
    return body, 202, {"Location": url}


def key_reused() -> NoReturn:
    api_abort(
        422,
        message=reports.key_reused(),
        errors={"headers": {"Idempotency-Key": [reports.key_reused()]}},
    )


@blp.route("/submissions")
class Submissions(MethodView):
    @blp.doc(
        security=SECURITY,
        parameters=[
            {
                "in": "header",
                "name": "Idempotency-Key",
                "required": False,
                "schema": {"type": "string", "maxLength": 200},
            }
        ],
    )
    @blp.arguments(schemas.SubmissionSchema(), location="json")
    @blp.response(202, schemas.AcceptedSchema)
    @blp.alt_response(401, description="no or bad token")
    @blp.alt_response(403, description="the unit belongs to another district")
    def post(self, data: dict[str, Any]) -> Any:
        """Submit a unit's report for a round; it is evaluated in the background."""
        session = db_session()
        key = (request.headers.get("Idempotency-Key") or "").strip()[:200] or None
        if key:
            existing = reports.find_by_key(session, g.user, key)
            if existing is not None:
                if not reports.same_report(existing, data):
                    key_reused()
                g.duplicate_submission = True
                return accepted(existing)
        checked, errors = reports.check(session, data)
        if checked is None:
            api_abort(422, errors={"json": errors}, message=_("报送内容有误"))
        scope.require_district(g.user, checked.unit.district_code)
        try:
            submission = reports.submit(
                session, celery(), checked, g.user, "api", key, g.get("request_id", "")
            )
        except reports.KeyReused:
            key_reused()
        return accepted(submission)


@blp.route("/submissions/<submission_id>")
class SubmissionById(MethodView):
    @blp.doc(security=SECURITY)
    @blp.response(200, schemas.SubmissionOutSchema)
    def get(self, submission_id: str) -> Submission:
        """A submission with its evaluation state, scores and findings once evaluated."""
        submission = reports.with_evaluation(db_session(), submission_id)
        if submission is None:
            api_abort(404, message=_("未找到该报送"))
        scope.require_district(g.user, submission.unit.district_code)
        return submission


@blp.route("/catalogue")
class CatalogueView(MethodView):
    @blp.doc(security=SECURITY, parameters=[{"in": "query", "name": "version", "schema": {"type": "string"}}])
    @blp.response(200)
    def get(self) -> dict[str, Any]:
        """The aspects, measures, indicators (with type and unit) and rules of a catalogue version."""
        session = db_session()
        current = rounds.latest_open(session)
        version = request.args.get("version") or (current.catalogue_version if current else DEFAULT_VERSION)
        try:
            catalogue = catalogues.get(session, version[:32])
        except LookupError:
            api_abort(404, message=_("未找到目录版本：%(version)s", version=version[:32]))
        data = catalogue.data
        return {
            "version": data["version"],
            "title_zh": data["title_zh"],
            "title_en": data["title_en"],
            "statuses": [{"code": c, "name_zh": zh, "name_en": en} for c, (zh, en) in STATUS_NAMES.items()],
            "measure_points": data["measure_points"],
            "aspects": data["aspects"],
            "indicators": data["indicators"],
            "rules": [
                {k: r.get(k) for k in ("code", "kind", "name_zh", "name_en", "severity", "source")}
                for r in data["rules"]
            ],
        }


@blp.route("/rounds")
class Rounds(MethodView):
    @blp.doc(security=SECURITY)
    @blp.response(200, schemas.items_schema(schemas.RoundSchema))
    def get(self) -> dict[str, Any]:
        """Supervision rounds, newest first."""
        items = rounds.all_rounds(db_session())
        return {"items": items, "total": len(items)}


@blp.route("/units")
class Units(MethodView):
    @blp.doc(security=SECURITY)
    @blp.arguments(schemas.ListArgsSchema, location="query")
    @blp.response(200, schemas.items_schema(schemas.UnitSchema))
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """The caller's pilot units; supervisors see every district and may filter with ?district=."""
        query = (
            select(PilotUnit)
            .options(selectinload(PilotUnit.district))
            .order_by(PilotUnit.district_code, PilotUnit.name)
        )
        district = g.user.district_code if g.user.role == "district" else args.get("district")
        if g.user.role == "district" and args.get("district") not in (None, district):
            api_abort(403, message=_("无权查看其他县（市）区的单位"))
        if district:
            query = query.where(PilotUnit.district_code == district)
        if (args.get("q") or "").strip():
            query = query.where(lists.unit_matches(args["q"].strip()))
        if args.get("page") or args.get("per_page"):
            size = args.get("per_page", paging.PAGE_SIZE)
            query = query.order_by(PilotUnit.id)  # after district and name: a stable order across pages
            page = paging.paginate(db_session(), query, args.get("page", 1), size, past_end_shows_last=False)
            return {"items": page.items, "total": page.total}
        units = db_session().scalars(query).all()
        return {"items": units, "total": len(units)}
