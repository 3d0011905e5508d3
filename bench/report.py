"""The results: one line per target of QUALITY.md, as a Markdown table and JSON, with the machine."""

from __future__ import annotations

import json
import os
import platform
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import load

# The targets of QUALITY.md, each a ratio to a baseline of the same run or an absolute bound.
INTAKE_VS_SAME_WORK = 0.80
INTAKE_VS_ENQUEUE = 0.35
PIPELINE = 0.35
ROUND_SECONDS = 5
LATENCY_P99_MS = 500


def _first_line(command: list[str]) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return "absent"
    return ((done.stdout or done.stderr).strip().splitlines() or ["?"])[0]


def machine() -> dict[str, Any]:
    cpu = (
        next(
            (
                line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")
            ),
            platform.processor(),
        )
        if Path("/proc/cpuinfo").exists()
        else ""
    )
    memory = (
        next(
            (
                line.split(":", 1)[1].strip()
                for line in Path("/proc/meminfo").read_text().splitlines()
                if line.startswith("MemTotal")
            ),
            "",
        )
        if Path("/proc/meminfo").exists()
        else ""
    )
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory": memory,
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "wrk": _first_line(["wrk", "--version"]) if load.have_wrk() else "absent (asyncio client used)",
    }


def _ratio(ours: float | None, base: float | None) -> float | None:
    return round(ours / base, 3) if ours and base else None


def lines(results: dict[str, Any]) -> list[dict[str, Any]]:
    base = results["baseline"]
    out: list[dict[str, Any]] = []
    for name, ours in results["databases"].items():
        if "skipped" in ours:
            continue
        intake, pipe = ours["intake"], ours["pipeline"]
        out.append(
            _versus(
                "intake: submissions accepted/s (p50, p99 ms) vs same-work Flask (schema, one INSERT, "
                "send_task)",
                name,
                intake,
                ours["same_work"],
                INTAKE_VS_SAME_WORK,
            )
        )
        out.append(_versus("intake vs enqueue-only Flask", name, intake, base["enqueue"], INTAKE_VS_ENQUEUE))
        out.append(
            _versus("intake vs bare hello endpoint (for reference)", name, intake, base["hello"], None)
        )
        ratio = _ratio(_rate(pipe), _rate(base["pipeline"]))
        out.append(
            {
                "what": "pipeline: reports evaluated and alerted/s, first POST to last completion (steady "
                "state), vs bare two-hop Celery",
                "database": name,
                "ours": f"{_rate(pipe)}/s ({pipe['steady_per_second']}/s)",
                "baseline": f"{_rate(base['pipeline'])}/s ({base['pipeline']['steady_per_second']}/s)",
                "ratio": ratio,
                "target": f"≥ {PIPELINE:.2f}",
                "met": ratio is not None and ratio >= PIPELINE,
            }
        )
        rnd = ours["round"]
        out.append(
            {
                "what": f"round of {rnd['reports']} units: first POST to last district alert delivered",
                "database": name,
                "ours": f"{rnd['wall_seconds']} s",
                "baseline": "—",
                "ratio": None,
                "target": f"< {ROUND_SECONDS} s",
                "met": rnd["wall_seconds"] is not None and rnd["wall_seconds"] < ROUND_SECONDS,
            }
        )
        lat = ours["latency"]
        out.append(
            {
                "what": f"202 → evaluation visible at {lat['sent_per_second']} reports/s (p50, p99)",
                "database": name,
                "ours": f"{lat['p50_ms']} ms, {lat['p99_ms']} ms",
                "baseline": "—",
                "ratio": None,
                "target": f"p99 < {LATENCY_P99_MS} ms",
                "met": lat["p99_ms"] < LATENCY_P99_MS,
            }
        )
    return out + _reevaluation_lines(results["reevaluation"]) + scale_lines(results.get("scale", {}))


def _versus(
    what: str, database: str, ours: dict[str, Any], base: dict[str, Any], target: float | None
) -> dict[str, Any]:
    """A line of our load result against a baseline's, met when the ratio reaches `target`."""
    ratio = _ratio(ours["rps"], base["rps"])
    return {
        "what": what,
        "database": database,
        "ours": _rps(ours),
        "baseline": _rps(base),
        "ratio": ratio,
        "target": "—" if target is None else f"≥ {target:.2f}",
        "met": None if target is None else ratio is not None and ratio >= target,
    }


def _rate(run: dict[str, Any]) -> float:
    """Reports per second over the whole run (results kept before it was recorded: from the wall time)."""
    if "per_second" in run:
        return float(run["per_second"])
    return round(run["reports"] / run["wall_seconds"], 1) if run.get("wall_seconds") else 0.0


def _rps(load_result: dict[str, Any]) -> str:
    return f"{load_result['rps']:.0f}/s ({load_result['p50_ms']:.0f}, {load_result['p99_ms']:.0f})"


def _reevaluation_lines(reeval: dict[str, Any]) -> list[dict[str, Any]]:
    growth = _ratio(reeval["peak_rss_mb"], reeval["peak_rss_mb_at_checkpoint"])
    return [
        {
            "what": f"re-evaluation of {reeval['reports']:,} synthetic reports, one process",
            "database": "—",
            "ours": f"{reeval['per_second']:.0f}/s",
            "baseline": "—",
            "ratio": None,
            "target": "≥ 1000/s",
            "met": reeval["per_second"] >= 1000,
        },
        {
            "what": f"peak memory at {reeval['reports']:,} vs at {reeval['checkpoint']:,} reports",
            "database": "—",
            "ours": f"{reeval['peak_rss_mb']} MB",
            "baseline": f"{reeval['peak_rss_mb_at_checkpoint']} MB",
            "ratio": growth,
            "target": "≤ 1.20",
            "met": growth is not None and growth <= 1.2,
        },
    ]


def _mark(met: bool | None) -> str:
    return "—" if met is None else ("yes" if met else "**no**")


def markdown(results: dict[str, Any]) -> str:
    head = ["| what | database | ours | baseline | ratio | target | met |", "|---|---|---|---|---|---|---|"]
    rows = [
        f"| {x['what']} | {x['database']} | {x['ours']} | {x['baseline']} | "
        f"{'' if x['ratio'] is None else x['ratio']} | {x['target']} | {_mark(x['met'])} |"
        for x in results["lines"]
    ]
    m = results["machine"]
    notes = [
        f"Measured {results['date']} ({run_name(results).replace('-', ' ')} run, {results['seconds']:.0f} s) on "
        f"{m['cores']} cores ({m['cpu']}), {m['memory']}, {m['platform']}, Python {m['python']}; "
        f"load average at start {m['load_average_at_start']}; load tool: {m['wrk']}.",
        f"Settings for the run: {results['settings']}.",
    ]
    notes += [
        f"{name}: {ours['skipped']}" for name, ours in results["databases"].items() if "skipped" in ours
    ]
    notes += cpu_notes(results)
    return "\n".join(head + rows) + "\n\n" + "\n".join(f"- {n}" for n in notes) + "\n"


def _cpu_parts(used: dict[str, float]) -> str:
    parts = ", ".join(f"{part} {ms:.1f}" for part, ms in used.items() if part != "all")
    return f"{used['all']:.1f} ms ({parts})"


def cpu_notes(results: dict[str, Any]) -> list[str]:
    """What every process spent in CPU per report in the pipeline runs (bench/cpu.py): on a machine
    whose cores all the processes share, the rates' ratio follows these sums."""
    bare = results.get("baseline", {}).get("pipeline", {}).get("cpu_ms_per_report")
    notes = [f"CPU per report, bare two-hop pipeline: {_cpu_parts(bare)}."] if bare else []
    for name, ours in results["databases"].items():
        used = ours.get("pipeline", {}).get("cpu_ms_per_report")
        if used:
            notes.append(f"CPU per report, our pipeline on {name}: {_cpu_parts(used)}.")
    return notes


def run_name(results: dict[str, Any]) -> str:
    """The run's size, and "-throughput" when it measured no scale data set (`--scale-size none`)."""
    return results["sizes"]["name"] + ("" if "scale" in results else "-throughput")


def write(results: dict[str, Any], folder: Path) -> tuple[Path, Path]:
    """The run's table and figures under its date; a run of every part is also the size's latest."""
    folder.mkdir(parents=True, exist_ok=True)
    stamp = results["date"].replace(":", "").replace("-", "")[:15]
    table = markdown(results)
    paths = (folder / f"{stamp}-{run_name(results)}.md", folder / f"{stamp}-{run_name(results)}.json")
    paths[0].write_text(table)
    paths[1].write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    if "scale" in results:
        (folder / f"latest-{results['sizes']['name']}.md").write_text(table)
        (folder / f"latest-{results['sizes']['name']}.json").write_text(paths[1].read_text())
    return paths


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- the scale data set (bench/scale.py) ----------------------------------------------------------


def scale_lines(scale: dict[str, Any]) -> list[dict[str, Any]]:
    """One line per page, export and round-wide job measured on the scale data set, per database."""
    out: list[dict[str, Any]] = []
    for name, ours in scale.get("databases", {}).items():
        if "skipped" in ours:
            continue
        build = ours["build"]
        counts = build["counts"]
        out.append(
            _line(
                f"scale data set built: {counts['pilot_units']:,} units, {counts['submissions']:,} reports, "
                f"{counts['findings']:,} findings, {counts['alerts']:,} alerts over {len(build['rounds'])} rounds",
                name,
                f"{build['seconds']:.0f} s",
                "≥ 300,000 findings" if build["size"] == "full" else "—",
                counts["findings"] >= 300_000 if build["size"] == "full" else None,
            )
        )
        for page in ours["pages"]["pages"]:
            out.append(
                _line(
                    f"page p95 of {ours['pages']['requests']}: {page['page']} as {page['who']} "
                    f"({page.get('query_count', len(page['queries']))} queries)",
                    name,
                    f"{page['p95_ms']:.0f} ms",
                    f"< {page['target_ms']:g} ms",
                    page["p95_ms"] < page["target_ms"],
                )
            )
            if "after_change_ms" in page:
                out.append(
                    _line(
                        f"page p95 of {page['after_change_requests']}, each right after a problem of the "
                        f"round changed (its problem figures computed again): {page['page']} as {page['who']}",
                        name,
                        f"{page['after_change_ms']:.0f} ms",
                        f"< {page['target_ms']:g} ms",
                        page["after_change_ms"] < page["target_ms"],
                    )
                )
            if "after_report_ms" in page:
                out.append(
                    _line(
                        f"page p95 of {page['after_change_requests']}, each right after a report of the "
                        f"round (every kept figure computed again): {page['page']} as {page['who']}",
                        name,
                        f"{page['after_report_ms']:.0f} ms",
                        f"< {page['target_ms']:g} ms",
                        page["after_report_ms"] < page["target_ms"],
                    )
                )
        for export in ours["exports"]:
            out.append(
                _line(
                    f"export {export['what']}.{export['kind']} of a round ({export['rows']:,} rows)",
                    name,
                    f"{export['rows_per_second']:,}/s",
                    "≥ 5,000 rows/s",
                    export["rows_per_second"] >= 5000,
                )
            )
            ratio = _ratio(export["peak_mb"], export["small_peak_mb"])
            out.append(
                _line(
                    f"export {export['what']}.{export['kind']}: peak memory at {export['rows']:,} rows vs at "
                    f"{export['small_rows']:,} (growth while sent {export['growth_mb']} MB vs "
                    f"{export['small_growth_mb']} MB)",
                    name,
                    f"{export['peak_mb']} MB vs {export['small_peak_mb']} MB ({ratio})",
                    "≤ 1.20",
                    ratio is not None and ratio <= 1.2,
                )
            )
        reeval, outliers = ours["reevaluation"], ours["outliers"]
        out.append(
            _line(
                f"re-evaluation of a round of {reeval['units']:,} units by the worker `make run` starts "
                f"(chunks of {reeval['chunk']})",
                name,
                f"{reeval['seconds']} s",
                "< 20 s",
                reeval["seconds"] < 20,
            )
        )
        out.append(
            _line(
                f"cohort-outlier job over a round of {outliers['units']:,} units",
                name,
                f"{outliers['seconds']} s",
                "< 10 s",
                outliers["seconds"] < 10,
            )
        )
    return out


def _line(what: str, database: str, ours: str, target: str, met: bool | None) -> dict[str, Any]:
    return {
        "what": what,
        "database": database,
        "ours": ours,
        "baseline": "—",
        "ratio": None,
        "target": target,
        "met": met,
    }


def scale_markdown(results: dict[str, Any]) -> str:
    """The scale lines alone (`python -m bench.scale`), with the machine and what was skipped."""
    head = ["| what | database | ours | target | met |", "|---|---|---|---|---|"]
    rows = [
        f"| {x['what']} | {x['database']} | {x['ours']} | {x['target']} | {_mark(x['met'])} |"
        for x in results["lines"]
    ]
    m = results["machine"]
    notes = [
        f"Measured {results['date']} ({results['seconds']:.0f} s) on {m['cores']} cores ({m['cpu']}), "
        f"{m['memory']}, {m['platform']}, Python {m['python']}; load average at start "
        f"{m['load_average_at_start']}.",
        f"Sizes: {results['scale']['size']}.",
    ]
    notes += [
        f"{name}: {ours['skipped']}"
        for name, ours in results["scale"]["databases"].items()
        if "skipped" in ours
    ]
    return "\n".join(head + rows) + "\n\n" + "\n".join(f"- {n}" for n in notes) + "\n"


def write_scale(results: dict[str, Any], folder: Path) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    name = f"scale-{results['scale']['size']['name']}"
    stamp = results["date"].replace(":", "").replace("-", "")[:15]
    paths = (folder / f"{stamp}-{name}.md", folder / f"{stamp}-{name}.json")
    paths[0].write_text(scale_markdown(results))
    paths[1].write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    (folder / f"latest-{name}.md").write_text(paths[0].read_text())
    (folder / f"latest-{name}.json").write_text(paths[1].read_text())
    return paths
