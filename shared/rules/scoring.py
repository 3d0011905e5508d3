"""Scores: measure points, aspect scores and an overall score from 0 to 100."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared.catalogue import Catalogue


@dataclass(frozen=True)
class Scores:
    aspects: dict[str, float]
    overall: float


def score(catalogue: Catalogue, measures: dict[str, dict[str, Any]]) -> Scores:
    """Score a report: each aspect is the weighted mean of its measures' points, times 100;
    the overall score is the weighted mean of the aspects. A measure without a status counts 0."""
    points = catalogue.measure_points
    aspects: dict[str, float] = {}
    for aspect in catalogue.aspects:
        weights = [m.get("weight", 1.0) for m in aspect["measures"]]
        got = [
            points.get((measures.get(m["code"]) or {}).get("status", ""), 0.0) * w
            for m, w in zip(aspect["measures"], weights, strict=True)
        ]
        aspects[aspect["code"]] = round(100 * sum(got) / sum(weights), 2) if sum(weights) else 0.0
    total_weight = sum(a.get("weight", 1.0) for a in catalogue.aspects)
    overall = sum(aspects[a["code"]] * a.get("weight", 1.0) for a in catalogue.aspects)
    return Scores(aspects=aspects, overall=round(overall / total_weight, 2) if total_weight else 0.0)
