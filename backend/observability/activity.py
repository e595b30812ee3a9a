"""A small time-bucketed store of chat activity for the admin charts (no Prometheus needed).

One bucket per minute for the last 24 hours, in memory: turns and errors, tool calls by outcome,
approvals by decision, and a bounded sample of first-token times for the p95. Recording is a few
dict updates at the end of a turn, off the token path. Each process keeps its own (the admin
overview of a replica shows that replica); `/metrics` stays the cluster-wide source.
"""

from __future__ import annotations

import math
import time
from collections import Counter, OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from backend.context import AppContext

BUCKET_S = 60
KEEP_S = 24 * 3600
# First-token samples kept per minute: enough for a p95, bounded under load.
SAMPLES_PER_BUCKET = 256
Window = Literal["1h", "24h"]
# Points per chart: one per minute over the hour, one per 15 minutes over the day.
STEPS: dict[str, tuple[int, int]] = {"1h": (3600, 60), "24h": (KEEP_S, 900)}


@dataclass
class Bucket:
    turns: int = 0
    errors: int = 0
    tools: Counter[str] = field(default_factory=Counter)
    approvals: Counter[str] = field(default_factory=Counter)
    first_token_s: list[float] = field(default_factory=list)


def percentile(values: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


class ActivitySeries:
    """Minute buckets, oldest dropped after 24 hours."""

    def __init__(self, clock: Any = time.time) -> None:
        self._clock = clock
        self._buckets: OrderedDict[int, Bucket] = OrderedDict()

    def _bucket(self) -> Bucket:
        now = int(self._clock())
        start = now - now % BUCKET_S
        bucket = self._buckets.get(start)
        if bucket is None:
            bucket = self._buckets[start] = Bucket()
            while self._buckets and next(iter(self._buckets)) < now - KEEP_S:
                self._buckets.popitem(last=False)
        return bucket

    def record_turn(
        self,
        finish_reason: str | None,
        tool_outcomes: Iterable[str],
        first_token_s: float | None,
        decisions: Iterable[str],
    ) -> None:
        """One stretch of a turn: `finish_reason` None when it paused for approval (not a finished turn)."""
        bucket = self._bucket()
        if finish_reason is not None:
            bucket.turns += 1
            if finish_reason == "error":
                bucket.errors += 1
        bucket.tools.update(tool_outcomes)
        bucket.approvals.update(d for d in decisions if d)
        if first_token_s is not None and len(bucket.first_token_s) < SAMPLES_PER_BUCKET:
            bucket.first_token_s.append(first_token_s)

    def series(self, window: Window) -> dict[str, Any]:
        """The charts' data: one point per step, oldest first, and totals over the window."""
        span, step = STEPS[window]
        now = int(self._clock())
        end = now - now % step + step
        starts = list(range(end - span, end, step))
        points = [{"t": datetime.fromtimestamp(s, UTC).isoformat().replace("+00:00", "Z"), **_empty()} for s in starts]
        samples: list[list[float]] = [[] for _ in starts]
        approvals: Counter[str] = Counter()
        for start, bucket in self._buckets.items():
            index = (start - (end - span)) // step
            if not 0 <= index < len(points):
                continue
            point = points[index]
            point["turns"] += bucket.turns
            point["errors"] += bucket.errors
            point["tools_completed"] += bucket.tools.get("completed", 0)
            point["tools_failed"] += bucket.tools.get("failed", 0)
            samples[index].extend(bucket.first_token_s)
            approvals.update(bucket.approvals)
        for point, values in zip(points, samples, strict=True):
            p95 = percentile(values, 0.95)
            point["p95_first_token_ms"] = round(p95 * 1000, 1) if p95 is not None else None
        every = [v for values in samples for v in values]
        overall = percentile(every, 0.95)
        return {
            "window": window,
            "step_s": step,
            "points": points,
            "approvals_by_decision": dict(approvals),
            "totals": {
                "turns": sum(p["turns"] for p in points),
                "errors": sum(p["errors"] for p in points),
                "tools_completed": sum(p["tools_completed"] for p in points),
                "tools_failed": sum(p["tools_failed"] for p in points),
                "p95_first_token_ms": round(overall * 1000, 1) if overall is not None else None,
            },
        }


def _empty() -> dict[str, Any]:
    return {"turns": 0, "errors": 0, "tools_completed": 0, "tools_failed": 0}


def activity_of(app: AppContext) -> ActivitySeries:
    """The app's series (created on first use)."""
    series = app.extras.get("activity")
    if series is None:
        series = app.extras["activity"] = ActivitySeries()
    return series
