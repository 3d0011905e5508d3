"""Re-evaluation in one process: the evaluation's pure scoring and rules over generated reports.

Reports are generated one at a time from small pools (streaming; nothing grows with the count), so
the peak memory at 100,000 reports can be compared with the peak at 10,000. Run on its own:
`python -m bench.reeval --count 100000 --checkpoint 10000` prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

from shared.catalogue import STATUSES, Catalogue, default_file, read_file

POOL = 200


def evaluation_api() -> tuple[ModuleType, ModuleType]:
    """The rules and scoring modules, wherever they live now (the only import of them in the bench)."""
    try:
        from shared.rules import engine, scoring
    except ImportError:  # before the rules moved into shared/
        from services.evaluation import rules as engine  # type: ignore[no-redef]
        from services.evaluation import scoring  # type: ignore[no-redef]
    return engine, scoring


def _indicator(spec: dict[str, Any], rng: random.Random) -> Any:
    if spec.get("type") == "boolean":
        return rng.random() < 0.8
    if rng.random() < 0.03:
        return None
    high = spec.get("max") or 2000
    value = rng.uniform(spec.get("min") or 0, high)
    return round(value, 2) if spec.get("type") == "decimal" else int(value)


def pools(catalogue: Catalogue, seed: int = 7) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    rng = random.Random(seed)
    measures = [
        {
            code: {"status": rng.choice(STATUSES), "note": rng.choice(["", "已落实，有台账。"])}
            for code in catalogue.measures
        }
        for _ in range(POOL)
    ]
    indicators = [
        {code: _indicator(spec, rng) for code, spec in catalogue.indicators.items()} for _ in range(POOL)
    ]
    return measures, indicators


def reports(catalogue: Catalogue, count: int, seed: int = 11) -> Iterator[tuple[dict, dict, dict, dict]]:
    """(measures, indicators, previous measures, previous indicators), one at a time."""
    measures, indicators = pools(catalogue)
    rng = random.Random(seed)
    for _ in range(count):
        yield (rng.choice(measures), rng.choice(indicators), rng.choice(measures), rng.choice(indicators))


def judge(
    engine: ModuleType,
    scoring: ModuleType,
    catalogue: Catalogue,
    report: tuple[dict, dict, dict, dict],
    previous_score: float,
) -> tuple[float, int]:
    measures, indicators, past_measures, past_indicators = report
    scores = scoring.score(catalogue, measures)
    past = (engine.PastReport("previous", past_measures, past_indicators, previous_score),)
    found = engine.evaluate(catalogue, engine.Report(measures, indicators, scores.overall, past))
    return scores.overall, len(found)


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM: unlike ru_maxrss it does not carry the parent's over exec)."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(count: int, checkpoint: int, seconds: float) -> dict[str, Any]:
    engine, scoring = evaluation_api()
    catalogue = Catalogue(read_file(default_file()))
    judge(engine, scoring, catalogue, next(reports(catalogue, 1)), 50.0)  # warm the parsed expressions
    started_rss = peak_rss_mb()
    done, findings, score = 0, 0, 50.0
    at_checkpoint = started_rss
    started = time.perf_counter()
    for report in reports(catalogue, count):
        score, found = judge(engine, scoring, catalogue, report, score)
        findings += found
        done += 1
        if done == checkpoint:
            at_checkpoint = peak_rss_mb()
        if done % 1000 == 0 and time.perf_counter() - started > seconds:
            break
    took = time.perf_counter() - started
    return {
        "reports": done,
        "seconds": round(took, 3),
        "per_second": round(done / took, 1),
        "findings": findings,
        "peak_rss_mb_start": round(started_rss, 1),
        "peak_rss_mb_at_checkpoint": round(at_checkpoint, 1),
        "checkpoint": checkpoint,
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "rules_module": engine.__name__,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--checkpoint", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=240.0, help="stop early after this long")
    args = parser.parse_args()
    print(json.dumps(run(args.count, args.checkpoint, args.seconds)))


if __name__ == "__main__":
    main()
