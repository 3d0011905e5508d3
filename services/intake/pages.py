"""What every page shares: the language of the page, names in that language, the header's links, and
the wiring of the page blueprints (home, reports, ledger, dashboard, spreadsheets, administration,
delivery log)."""

from __future__ import annotations

from typing import Any

from flask import Flask, request, session
from flask_babel import Babel, get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from services.intake import paging, speech
from services.intake.auth import current_user
from services.intake.strict_json import encodable, without_surrogates
from services.intake.throttle import LoginThrottle
from shared import clock, config, labels, ledger

LOCALES = ("zh", "en")


def select_locale() -> str:
    """The API answers in the best match of Accept-Language (Chinese by default); a page in the
    signed-in person's language, or the one chosen before signing in."""
    if request and request.path.startswith("/api/"):
        return request.accept_languages.best_match(LOCALES) or "zh"
    user = current_user() if request else None
    if user is not None and user.locale in LOCALES:
        return user.locale
    return session.get("locale") if session.get("locale") in LOCALES else "zh"


def page_locale() -> str:
    return "en" if str(get_locale()) == "en" else "zh"


def localised(item: Any, field: str = "name") -> str:
    """A catalogue or registry entry's name in the page's language (Chinese when English is missing)."""
    get = item.get if isinstance(item, dict) else (lambda key, default=None: getattr(item, key, default))
    if str(get_locale()) == "en":
        return get(f"{field}_en") or get(f"{field}_zh") or ""
    return get(f"{field}_zh") or ""


def district_names() -> dict[str, tuple[str, str]]:
    """Every district's and zone's (Chinese, English) names, read once per request."""
    from flask import g

    from services.intake.extensions import db_session
    from shared.models import District

    if "district_names" not in g:
        g.district_names = {
            d.code: (d.name_zh, d.name_en or d.name_zh) for d in db_session().scalars(select(District))
        }
    return g.district_names


def district_label(code: str | None) -> str:
    return labels.district(code, district_names(), page_locale())


def finding_action(finding: Any) -> str:
    """What rectifying a finding asks for, in the page's language: the catalogue rule's English
    wording on English pages (a problem raised by hand keeps the words typed)."""
    if page_locale() == "en" and finding.rule_code != "manual":
        from flask import g

        from services.intake.extensions import db_session
        from shared.catalogue import store
        from shared.models import Round

        cache = g.setdefault("round_catalogues", {})
        if finding.round_code not in cache:
            round_ = db_session().get(Round, finding.round_code)
            cache[finding.round_code] = store.get(db_session(), round_.catalogue_version) if round_ else None
        rule = cache[finding.round_code].rule(finding.rule_code) if cache[finding.round_code] else None
        if rule is not None and rule.action_en:
            return rule.action_en
    return finding.action_zh


def printable(value: Any) -> Any:
    """Every value a template prints, with a lone surrogate (stored before the schema refused them)
    written as U+FFFD instead of failing the whole page."""
    if isinstance(value, str) and not encodable(value):
        return type(value)(without_surrogates(value))
    return value


def page_url(number: int, param: str = "page") -> str:
    """This page's address showing another page of its list, every filter kept."""
    query = paging.query_with(request.args, **{param: number if number > 1 else None})
    return f"{request.path}?{query}" if query else request.path


def add_nav(
    app: Flask, endpoint: str, label: Any, roles: tuple[str, ...] = ("district", "supervisor", "admin")
) -> None:
    """Add a link to the header; `label` is a lazy message (`_l`), translated at render time."""
    app.extensions.setdefault("pilotwatch_nav", []).append((endpoint, label, roles))


def init_app(app: Flask, settings: config.Settings) -> None:
    """Babel, the login throttle, the page blueprints and the header's links."""
    from services.intake import (
        office_pages,
        web,
        web_admin,
        web_dashboard,
        web_deliveries,
        web_findings,
        web_reports,
        web_sheets,
    )

    app.config.setdefault("BABEL_DEFAULT_LOCALE", "zh")
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", "translations")
    Babel(app, locale_selector=select_locale)
    app.extensions["login_throttle"] = LoginThrottle(settings)
    app.jinja_env.filters["loc"] = localised
    app.jinja_env.filters["when"] = lambda moment: (
        clock.local(moment).strftime("%Y-%m-%d %H:%M") if moment else ""
    )
    app.jinja_env.filters["day"] = lambda moment: clock.local(moment).date().isoformat() if moment else ""
    app.jinja_env.filters["hour"] = lambda moment: clock.local(moment).strftime("%H:%M") if moment else ""
    app.jinja_env.globals.update(
        severity_label=lambda code: labels.severity(code, page_locale()),
        status_label=lambda code: labels.finding_status(code, page_locale()),
        light_label=lambda code: labels.light(code, page_locale()),
        light_meaning=lambda code: labels.word(labels.LIGHT_MEANINGS, code, page_locale()),
        kind_label=lambda code: labels.unit_kind(code, page_locale()),
        round_name=lambda code: labels.round_name(code, page_locale()),
        local_date=lambda moment: clock.local(moment).date(),
        aspect_ordinal=lambda position: labels.aspect_ordinal(position, page_locale()),
        page_url=page_url,
        page_links=paging.links,
        role_label=lambda code: labels.role(code, page_locale()),
        round_status_label=lambda code: labels.round_status(code, page_locale()),
        measure_status_label=lambda code: labels.measure_status(code, page_locale()),
        report_state_label=lambda code: labels.report_state(code, page_locale()),
        submission_channel_label=lambda code: labels.submission_channel(code, page_locale()),
        channel_kind_label=lambda code: labels.channel_kind(code, page_locale()),
        delivery_status_label=lambda code: labels.delivery_status(code, page_locale()),
        delivery_outcome_label=lambda code: labels.delivery_outcome(code, page_locale()),
        alert_kind_label=lambda code: labels.alert_kind(code, page_locale()),
        category_label=lambda text: labels.category(text, page_locale()),
        unit_label=lambda text: labels.indicator_unit(text, page_locale()),
        district_label=district_label,
        finding_action=finding_action,
        say=speech.say,
        light_of=lambda finding: ledger.light(finding, clock.today(), config.current().yellow_light_days),
    )
    app.jinja_env.finalize = printable
    blueprints = (
        web.bp,
        web_reports.bp,
        web_findings.bp,
        web_dashboard.bp,
        web_sheets.bp,
        web_admin.bp,
        web_deliveries.bp,
    )
    for blueprint in blueprints:
        app.register_blueprint(blueprint)
    for endpoint, label, roles in (
        ("web.home", _l("首页"), ("district", "supervisor", "admin")),
        ("reports.new_submission", _l("填报"), ("district",)),
        ("findings.ledger", _l("问题台账"), ("district", "supervisor", "admin")),
        ("dashboard.dashboard", _l("督导看板"), ("supervisor", "admin")),
        ("sheets.index", _l("Excel 导入导出"), ("district", "supervisor", "admin")),
        ("admin.index", _l("系统管理"), ("admin",)),
        ("deliveries.index", _l("投递记录"), ("supervisor", "admin")),
    ):
        add_nav(app, endpoint, label, roles)
    office_pages.init_app(app)  # visits, the case library, documents
    app.context_processor(
        lambda: {"nav_items": app.extensions["pilotwatch_nav"], "locale": str(get_locale())}
    )
