"""The benchmark harness end to end with tiny counts, so that it cannot rot. It asserts no speed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import __main__ as bench
from bench import brokers, measure, reeval, stacks

pytestmark = pytest.mark.e2e


def test_it_measures_every_line_against_the_baselines_and_writes_the_table(tmp_path: Path) -> None:
    results = bench.run(measure.TINY, ["sqlite"], bench.POSTGRES, tmp_path)
    table = (tmp_path / "latest-tiny.md").read_text()
    stored = json.loads((tmp_path / "latest-tiny.json").read_text())
    assert stored["lines"] == results["lines"]
    assert stored["machine"]["cores"] and stored["settings"]["GROUP_WAIT"]
    for what in (
        "intake: submissions accepted/s",
        "vs same-work Flask",
        "intake vs enqueue-only Flask",
        "pipeline: reports evaluated and alerted/s",
        "round of",
        "202 → evaluation visible",
        "re-evaluation of",
        "peak memory",
    ):
        assert what in table
    ours = stored["databases"]["sqlite"]
    assert ours["intake"]["requests"] > 0 and ours["intake"]["errors"] == 0
    assert ours["same_work"]["requests"] > 0 and ours["same_work"]["errors"] == 0
    assert ours["round"]["reports"] == measure.TINY.round_units and ours["round"]["rejected"] == 0
    assert ours["pipeline"]["reports"] == measure.TINY.pipeline_reports
    assert ours["latency"]["reports"] == measure.TINY.latency_reports
    assert stored["baseline"]["pipeline"]["reports"] == measure.TINY.baseline_pipeline_reports
    assert stored["reevaluation"]["reports"] == measure.TINY.reeval_count
    # where the CPU went, every process of the pipeline runs by its part
    ours_cpu, bare_cpu = (
        ours["pipeline"]["cpu_ms_per_report"],
        stored["baseline"]["pipeline"]["cpu_ms_per_report"],
    )
    assert {"intake", "evaluation", "notify"} <= set(ours_cpu) and ours_cpu["all"] > ours_cpu["intake"] > 0
    assert {"bare web", "bare workers"} <= set(bare_cpu)
    assert "CPU per report, our pipeline on sqlite" in table and "CPU per report, bare two-hop" in table


def test_it_streams_the_reevaluation_without_holding_the_reports() -> None:
    out = reeval.run(count=400, checkpoint=100, seconds=60)
    assert out["reports"] == 400 and out["findings"] > 0
    assert out["rules_module"].endswith("engine") or out["rules_module"].endswith("rules")


def test_it_reads_steady_state_from_the_middle_of_the_completions() -> None:
    warm_up_then_ten_per_second = [0.0, 5.0] + [5.0 + i / 10 for i in range(1, 19)]
    assert measure.steady_rate(warm_up_then_ten_per_second) == pytest.approx(10, rel=0.01)


def test_it_drains_a_queue_with_two_workers_and_writes_the_table(tmp_path: Path) -> None:
    problem = stacks.postgres_problem(bench.POSTGRES)
    if problem:
        pytest.skip(f"the broker comparison runs on PostgreSQL: {problem}")
    results = brokers.run(6, bench.POSTGRES, tmp_path, cases=(("redis", 2),))
    stored = json.loads((tmp_path / "latest-brokers.json").read_text())
    assert stored["cases"] == results["cases"]
    [case] = results["cases"]
    assert case["reports"] == 6 and case["evaluated_per_second"] > 0 and case["alerted_per_second"] > 0
    assert "| redis | 2 | 6 |" in (tmp_path / "latest-brokers.md").read_text()
