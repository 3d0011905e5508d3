"""The pages of the office's own work, wired into the app: on-site visits, the case library and the
documents it sends; their links in the header and the words for their codes in the templates."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from shared import labels


def init_app(app: Flask) -> None:
    from services.intake import pages, web_cases, web_documents, web_visits

    for blueprint in (web_visits.bp, web_cases.bp, web_documents.bp):
        app.register_blueprint(blueprint)
    for endpoint, label, roles in (
        ("visits.index", _l("督导检查"), ("district", "supervisor", "admin")),
        ("cases.index", _l("典型案例"), ("district", "supervisor", "admin")),
        ("documents.index", _l("督导文书"), ("district", "supervisor", "admin")),
    ):
        pages.add_nav(app, endpoint, label, roles)
    app.jinja_env.globals.update(
        method_label=lambda code: labels.visit_method(code, pages.page_locale()),
        case_status_label=lambda code: labels.case_status(code, pages.page_locale()),
        hint_reason_label=lambda code: labels.word(labels.CASE_HINT_REASONS, code, pages.page_locale()),
        document_label=lambda code: labels.document_kind(code, pages.page_locale()),
        job_state_label=lambda code: labels.job_state(code, pages.page_locale()),
    )
