"""Scores per category and overall, from the case results."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from .runner import CaseResult

CATEGORY_ORDER = ("general", "hl7", "jira", "emr")


@dataclass(frozen=True)
class Scores:
    name: str
    cases: int
    passed: int
    task_success: float
    tool_precision: float | None  # None: no tool calls were made or expected
    tool_recall: float | None
    hallucinations: int
    turns: int
    turns_with_errors: int
    latency_p50_ms: float
    latency_p95_ms: float
    tokens_input: int
    tokens_output: int
    tokens_total: int

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile (`share` in 0..1); 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def score(name: str, results: Sequence[CaseResult]) -> Scores:
    turns = [t for r in results for t in r.turns]
    matched = sum(t.matched_calls for t in turns)
    relevant = sum(t.relevant_calls for t in turns)
    made = sum(t.actual_calls for t in turns)
    expected = sum(t.expected_calls for t in turns)
    latencies = [t.latency_s * 1000 for t in turns]
    passed = sum(1 for r in results if r.success)
    return Scores(
        name=name,
        cases=len(results),
        passed=passed,
        task_success=passed / len(results) if results else 0.0,
        tool_precision=relevant / made if made else None,
        tool_recall=matched / expected if expected else None,
        hallucinations=sum(len(t.hallucinations) for t in turns),
        turns=len(turns),
        turns_with_errors=sum(1 for t in turns if t.errors),
        latency_p50_ms=round(percentile(latencies, 0.50), 1),
        latency_p95_ms=round(percentile(latencies, 0.95), 1),
        tokens_input=sum(t.tokens.get("input", 0) for t in turns),
        tokens_output=sum(t.tokens.get("output", 0) for t in turns),
        tokens_total=sum(t.tokens.get("total", 0) for t in turns),
    )


def by_category(results: Sequence[CaseResult]) -> list[Scores]:
    """One row per category present (in a fixed order), then `overall`."""
    present = {r.category for r in results}
    names = [c for c in CATEGORY_ORDER if c in present] + sorted(present - set(CATEGORY_ORDER))
    rows = [score(name, [r for r in results if r.category == name]) for name in names]
    return [*rows, score("overall", results)]
