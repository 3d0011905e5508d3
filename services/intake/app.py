"""The intake service's application factory."""

from __future__ import annotations

import gc
from datetime import timedelta
from typing import Any

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from flask_smorest import Api
from flask_wtf.csrf import CSRFProtect
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from services.intake import api, headers, health, observe, pages, supervision_api
from services.intake.extensions import close_db_session
from services.intake.strict_json import StrictJSONProvider
from shared import config, logs
from shared.celery_app import make_celery

csrf = CSRFProtect()


def create_app(settings: config.Settings | None = None, test_config: dict[str, Any] | None = None) -> Flask:
    settings = settings or config.current()
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.max_content_length,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.production,
        PERMANENT_SESSION_LIFETIME=timedelta(seconds=settings.session_lifetime),
        SESSION_IDLE_TIMEOUT=settings.session_idle_timeout,
        JSON_SORT_KEYS=False,
        API_TITLE="Pilotwatch API",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api/v1",
        OPENAPI_JSON_PATH="openapi.json",
        WTF_CSRF_TIME_LIMIT=None,
    )
    if settings.proxy_hops:
        # the client's address and scheme as the proxies in front say (login throttling counts
        # failures per address: behind a proxy, every clerk would otherwise share the proxy's)
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.proxy_hops, x_proto=settings.proxy_hops)  # type: ignore[method-assign]
    app.json = StrictJSONProvider(app)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.config.update(test_config or {})
    logs.configure("intake", settings.log_level, settings.log_format)
    observe.init_app(app)
    app.extensions["celery"] = make_celery("intake", settings)
    app.teardown_appcontext(close_db_session)

    rest = Api(
        app,
        spec_kwargs={
            "info": {
                "description": "试点单位半年报送、评估结果与督导目录 / "
                "Pilot units' half-yearly reports, evaluations and "
                "the supervision catalogue."
            }
        },
    )
    rest.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    rest.register_blueprint(api.blp)
    rest.register_blueprint(supervision_api.blp)
    csrf.exempt(supervision_api.blp)
    csrf.init_app(app)
    csrf.exempt(api.blp)
    app.register_blueprint(health.bp)
    pages.init_app(app, settings)
    register_errors(app)
    headers.init_app(app)
    return app


def register_errors(app: Flask) -> None:
    """JSON errors for the API, pages for the browser; never a bare 500 for bad input."""

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Any:
        if request.path.startswith("/api/"):
            data = getattr(error, "data", None) or {}
            errors = data.get("errors") or data.get("messages")  # ours, or webargs' schema errors
            body: dict[str, Any] = {
                "code": error.code,
                "status": error.name,
                "message": data.get("message") or error.description,
            }
            if errors:
                body["errors"] = errors
                if not data.get("message"):
                    body["message"] = _("输入有误，请按字段提示修改")
            return jsonify(body), error.code
        return render_template(
            "message.html", title=f"{error.code} {error.name}", text=error.description
        ), error.code


def settled(app: Flask) -> Flask:
    """The app of a serving process, with what start-up made (modules, the app, its templates; some
    200,000 objects) moved out of the garbage collector's way: they live as long as the process, and a
    full collection walking them would hold up a request by some 70 ms (more at a province's size,
    where the figures a process holds add their own)."""
    gc.collect()
    gc.freeze()
    return app
