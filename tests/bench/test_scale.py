"""The scale data set's builder and page timings with a tiny size, so that they cannot rot. It asserts
no speed: the full size is built by `make bench` only."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from bench import report, scale, scale_pages
from shared import db
from shared.models import Finding, Round, Submission


def test_it_builds_every_kind_of_record_through_the_products_own_code(env: dict[str, str]) -> None:
    size = scale.ScaleSize("tiny", 60, 2, 0.5, 1)
    built = scale.build(size)
    counts = built["counts"]
    assert set(built["rounds"]) and len(built["rounds"]) == 2
    # every unit reports in each round, half of them twice
    assert 2 * 60 < counts["submissions"] < 2 * 60 * 2
    assert counts["evaluations"] == counts["submissions"]
    for kind in ("findings", "alert_items", "alerts", "deliveries", "visits", "cases"):
        assert counts[kind] > 0, kind
    with db.transaction() as session:
        statuses = set(session.scalars(select(Finding.status).distinct()))
        versions = session.scalar(select(func.max(Submission.version)))
    assert {"open", "closed"} <= statuses and versions == 2


def test_it_times_each_page_once_and_explains_its_queries(env: dict[str, str], tmp_path: Path) -> None:
    scale.build(scale.ScaleSize("tiny", 40, 1, 0.5, 1))
    with db.transaction() as session:
        newest = max(session.scalars(select(Round.code)))
    timed = scale_pages.measure(newest, requests=1)
    assert len(timed["pages"]) == len(scale_pages.pages(newest, "a", "b"))
    for page in timed["pages"]:
        assert page["p95_ms"] > 0 and page["queries"], page["path"]
        assert all(q["plan"] for q in page["queries"] if q["sql"].lstrip().upper().startswith("SELECT"))
    plans = scale_pages.explain_markdown(timed)
    assert "## dashboard as supervisor" in plans and "```sql" in plans
    kept = [page for page in timed["pages"] if "after_change_ms" in page]  # timed after changes too
    assert {page["page"] for page in kept} == {"dashboard", "API district table"}
    assert all(page["after_change_ms"] > 0 and page["after_report_ms"] > 0 for page in kept)
    built = {"size": "tiny", "seconds": 1, "rounds": {newest: 1}, "counts": COUNTS}
    job = {"units": 40, "chunk": 200, "seconds": 1.0}
    measured = {"build": built, "pages": timed, "exports": [], "reevaluation": job, "outliers": job}
    lines = report.scale_lines({"databases": {"sqlite": measured}})
    assert sum("right after a report" in line["what"] for line in lines) == len(kept)


def test_it_makes_a_line_of_each_measurement() -> None:
    measured = {
        "build": {"size": "full", "seconds": 600, "rounds": {"2026H2": 60}, "counts": COUNTS},
        "pages": {"requests": 20, "pages": [PAGE]},
        "exports": [EXPORT],
        "reevaluation": {"units": 10_000, "chunk": 200, "seconds": 12.5},
        "outliers": {"units": 10_000, "seconds": 3.2},
    }
    lines = report.scale_lines({"databases": {"postgresql": measured, "sqlite": {"skipped": "skipped: no"}}})
    assert [line["met"] for line in lines] == [True, True, True, False, True, True]
    assert all(line["database"] == "postgresql" for line in lines)


COUNTS = {"pilot_units": 10_000, "submissions": 150_000, "findings": 310_000, "alerts": 40}
PAGE = {"page": "dashboard", "who": "supervisor", "p95_ms": 120.0, "target_ms": 300, "queries": []}
EXPORT = {
    "what": "reports",
    "kind": "csv",
    "rows": 10_000,
    "rows_per_second": 20_000,
    "peak_mb": 130.0,
    "growth_mb": 3.0,
    "small_rows": 1_000,
    "small_peak_mb": 100.0,
    "small_growth_mb": 1.0,
}


def test_a_run_without_the_scale_data_set_is_kept_as_throughput_only(tmp_path: Path) -> None:
    """`--scale-size none` measures part of a run: kept under its own name, never as the latest run."""
    results = {
        "date": "2026-12-04T19:44:27Z",
        "sizes": {"name": "full"},
        "settings": {},
        "machine": {
            "platform": "Linux",
            "python": "3.11.7",
            "cpu": "AMD EPYC",
            "cores": 2,
            "memory": "24683784 kB",
            "load_average_at_start": [0.75, 0.81, 1.06],
            "wrk": "wrk 4.1.0",
        },
        "baseline": {},
        "databases": {},
        "seconds": 171,
        "lines": [],
    }
    paths = report.write(results, tmp_path)
    assert [p.name for p in paths] == [
        "20261204T194427-full-throughput.md",
        "20261204T194427-full-throughput.json",
    ]
    assert not (tmp_path / "latest-full.md").exists()
    assert "(full throughput run, 171 s)" in paths[0].read_text()
