"""Alert messages, rendered from the template files beside this module (Chinese first)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from services.notify.transports import Message

SEVERITY_ZH = {"critical": "严重", "error": "错误", "warning": "警告", "info": "提示"}
ORDER = ("critical", "error", "warning", "info")

_env = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False),
    undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
)


def findings_context(district: dict[str, Any], round_code: str, findings: list[dict[str, Any]],
                     ledger_url: str) -> dict[str, Any]:
    """Group the findings by unit and count them by severity, for the templates."""
    units: dict[str, dict[str, Any]] = {}
    for f in findings:
        unit = units.setdefault(f["credit_code"], {"name": f["unit_name"], "credit_code": f["credit_code"],
                                                   "findings": []})
        unit["findings"].append(f)
    counts = Counter(f["severity"] for f in findings)
    return {
        "district": district, "round_code": round_code, "findings": findings, "units": list(units.values()),
        "counts": [(s, counts[s]) for s in ORDER if counts[s]], "severity_zh": SEVERITY_ZH,
        "ledger_url": ledger_url,
    }


def render_findings(context: dict[str, Any]) -> Message:
    subject = _env.get_template("findings.subject.j2").render(context).strip()
    data = {
        "district": context["district"]["code"], "district_name": context["district"]["name_zh"],
        "round": context["round_code"], "ledger_url": context["ledger_url"],
        "findings": [{k: f[k] for k in ("id", "credit_code", "unit_name", "rule_code", "rule_name", "severity",
                                        "message_zh", "due_date")} for f in context["findings"]],
    }
    return Message(
        subject=subject,
        text=_env.get_template("findings.txt.j2").render(context),
        markdown=_env.get_template("findings.md.j2").render(context),
        html=_env.get_template("findings.html.j2").render(dict(context, subject=subject)),
        data=data,
    )
