"""Alert messages, rendered from the template files beside this module: Chinese by default, English
for channels that ask for it. One set of templates per language covers every kind of alert."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context, select_autoescape
from jinja2.runtime import Context

from services.notify import markdown
from services.notify.transports import Message
from shared import labels

SEVERITY_NAMES = {
    locale: {code: labels.severity(code, locale) for code in labels.SEVERITIES} for locale in ("zh", "en")
}
LIGHT_NAMES = {
    locale: {code: labels.light(code, locale) for code in labels.LIGHTS} for locale in ("zh", "en")
}
ORDER = ("critical", "error", "warning", "info")
LOCALES = ("zh", "en")
# Ends a robot's message cut to its service's size limit (services/notify/robots.py).
CUT_NOTES = {
    "zh": "\n\n……（消息过长，以上仅列出部分问题，全部问题请在[问题台账]({url})中查看）",
    "en": "\n\n… (too long for the chat; every problem is in the [problem ledger]({url}))",
}
CUT_NOTE_WITHOUT_LINK = {
    "zh": "\n\n……（消息过长，以上仅列出部分内容）",
    "en": "\n\n… (too long for the chat; cut short)",
}


@pass_context
def as_markdown_text(context: Context, value: object) -> str:
    """`|md` in the templates: a value from people, as text in the dialect being rendered (no change
    in the plain-text and HTML bodies, which render without a dialect)."""
    dialect = context.get("dialect")
    return markdown.escape(value, dialect) if dialect else str(value)


_env = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
_env.filters["md"] = as_markdown_text
_env.filters["link"] = markdown.link_target


def alert_context(
    kind: str,
    audience: str,
    district: Any,
    round_code: str,
    findings: list[dict[str, Any]],
    details: list[dict[str, Any]],
    ledger_url: str,
) -> dict[str, Any]:
    """What the templates need: the findings grouped by unit and counted by severity; for a
    reminder of reports due, the units that have not reported."""
    units: dict[str, dict[str, Any]] = {}
    for f in findings:
        unit = units.setdefault(
            f["credit_code"], {"name": f["unit_name"], "credit_code": f["credit_code"], "findings": []}
        )
        unit["findings"].append(f)
    counts = Counter(f["severity"] for f in findings)
    due = next((d for d in details if "units" in d), {"due_date": "", "days_left": 0, "units": []})
    change = next((d for d in details if "change" in d), {"note": ""})
    return {
        "kind": kind,
        "audience": audience,
        "round_code": round_code,
        "round_zh": labels.round_name(round_code, "zh"),
        "round_en": labels.round_name(round_code, "en"),
        "note": change.get("note", ""),
        "findings": findings,
        "district": {"code": district.code, "name_zh": district.name_zh, "name_en": district.name_en},
        "units": list(units.values()),
        "counts": [(s, counts[s]) for s in ORDER if counts[s]],
        "due": due,
        "units_due": due["units"],
        "ledger_url": ledger_url,
    }


def render(context: dict[str, Any], locale: str = "zh") -> Message:
    locale = locale if locale in LOCALES else "zh"
    values = dict(context, severity_names=SEVERITY_NAMES[locale], light_names=LIGHT_NAMES[locale])
    subject = _env.get_template(f"{locale}/subject.j2").render(values).strip()
    values["subject"] = subject
    subject_template, body_md = (
        _env.get_template(f"{locale}/subject.j2"),
        _env.get_template(f"{locale}/body.md.j2"),
    )
    dialects = {
        dialect: body_md.render(
            values, dialect=dialect, subject=subject_template.render(values, dialect=dialect).strip()
        )
        for dialect in markdown.DIALECTS
    }
    return Message(
        subject=subject,
        text=_env.get_template(f"{locale}/body.txt.j2").render(values),
        markdown=dialects["commonmark"],
        html=_env.get_template(f"{locale}/body.html.j2").render(values),
        data=webhook_data(context),
        dialects=dialects,
        cut_note=cut_note(locale, context.get("ledger_url", "")),
    )


def cut_note(locale: str, ledger_url: str) -> str:
    if not ledger_url:
        return CUT_NOTE_WITHOUT_LINK[locale]
    return CUT_NOTES[locale].format(url=markdown.link_target(ledger_url))


def webhook_data(context: dict[str, Any]) -> dict[str, Any]:
    """The structured part of a JSON webhook's body."""
    keys = (
        "id",
        "credit_code",
        "unit_name",
        "rule_code",
        "rule_name",
        "severity",
        "message_zh",
        "due_date",
        "status",
        "age_days",
    )
    return {
        "kind": context["kind"],
        "audience": context["audience"],
        "district": context["district"]["code"],
        "district_name": context["district"]["name_zh"],
        "round": context["round_code"],
        "ledger_url": context["ledger_url"],
        "findings": [{k: f[k] for k in keys} for f in context["findings"]],
        "units_not_reported": context["units_due"],
    }


def channel_test_message(locale: str = "zh") -> Message:
    """What `pilotwatch channels test` sends."""
    office = type("Office", (), {"code": "", "name_zh": "市产改办", "name_en": "City reform office"})()
    return render(alert_context("test", "district", office, "", [], [], ""), locale)
