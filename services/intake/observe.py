"""The intake's request ids, JSON request log and Prometheus metrics (`/metrics`)."""

from __future__ import annotations

import hmac
import logging
import re
import time
import uuid

from flask import Blueprint, Flask, Response, g, request

from shared import caches, config, logs, metrics

bp = Blueprint("observe", __name__)
log = logging.getLogger("pilotwatch.requests")
REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
SUBMIT_ENDPOINT = "api.Submissions"
OUTCOMES = {202: "accepted", 422: "invalid", 403: "forbidden"}


def request_id_from(header: str | None) -> str:
    """The caller's X-Request-ID when it is a sane token, a new one otherwise."""
    header = (header or "").strip()
    return header if REQUEST_ID.fullmatch(header) else uuid.uuid4().hex


def begin() -> None:
    g.request_id = request_id_from(request.headers.get("X-Request-ID"))
    g.request_id_token = logs.set_request_id(g.request_id)
    g.request_started = time.perf_counter()
    g.caches_token = caches.begin()  # a request asks Redis once whether its caches are still good


def finish(response: Response) -> Response:
    from services.intake import request_metrics as m

    elapsed = time.perf_counter() - g.get("request_started", time.perf_counter())
    endpoint = request.endpoint or "unmatched"
    m.REQUESTS.labels(endpoint, request.method, str(response.status_code)).inc()
    m.LATENCY.labels(endpoint).observe(elapsed)
    if endpoint == SUBMIT_ENDPOINT and request.method == "POST" and response.status_code in OUTCOMES:
        outcome = "duplicate" if g.get("duplicate_submission") else OUTCOMES[response.status_code]
        m.SUBMISSIONS.labels(outcome).inc()
    if "request_id" in g:
        response.headers["X-Request-ID"] = g.request_id
    log.info(
        "%s %s %s",
        request.method,
        request.path,
        response.status_code,
        extra={
            "method": request.method,
            "path": request.path,
            "status": response.status_code,
            "duration": round(elapsed, 4),
        },
    )
    return response


def end(_error: BaseException | None = None) -> None:
    token = g.pop("request_id_token", None)
    if token is not None:
        logs.reset_request_id(token)
    scope = g.pop("caches_token", None)
    if scope is not None:
        caches.end(scope)


def scrape_allowed(settings: config.Settings, authorization: str) -> bool:
    """Whether a scrape may read the metrics: with METRICS_TOKEN set, only with that bearer token;
    without it, only outside production (anyone can reach the intake's web port)."""
    if not settings.metrics_token:
        return not settings.production
    scheme, _, token = authorization.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(token.strip(), settings.metrics_token)


@bp.get("/metrics")
def scrape() -> Response:
    if not scrape_allowed(config.current(), request.headers.get("Authorization", "")):
        return Response(
            "metrics need Authorization: Bearer <METRICS_TOKEN> (see docs/OPERATIONS.md)\n",
            status=401,
            content_type="text/plain; charset=utf-8",
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    body, content_type = metrics.exposition()
    return Response(body, content_type=content_type)


def init_app(app: Flask) -> None:
    app.before_request(begin)
    app.after_request(finish)
    app.teardown_request(end)
    app.register_blueprint(bp)
