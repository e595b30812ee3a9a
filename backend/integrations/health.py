"""Live integration health from the calls people make, kept in memory and flushed now and then.

Every real connector call of a chat turn reports here (`tools.tooling.call_observer`): last success,
last failure with its error, and the outcomes of the last hour for an error rate. Recording is a
dict update, never a database write, so the streaming path stays fast; `flush` writes what changed
to `integrations.health` (and the derived `status`) every few seconds and at shutdown, so another
replica and the admin overview see it too. Connection tests count as calls.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import select

from backend.context import AppContext
from backend.models.integration import Integration

log = logging.getLogger("switchboard.integrations.health")

WINDOW_S = 3600.0
# A busy integration keeps at most this many outcomes for its error rate (the newest).
MAX_OUTCOMES = 2000
HealthStatus = Literal["ok", "degraded", "error", "untested"]


def _iso(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, UTC).isoformat().replace("+00:00", "Z")


def _epoch(text: Any) -> float | None:
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


@dataclass
class IntegrationHealth:
    """What one replica knows of one integration since it started (or since the stored snapshot)."""

    last_success_at: float | None = None
    last_failure_at: float | None = None
    last_error: str | None = None
    outcomes: deque[tuple[float, bool]] = field(default_factory=lambda: deque(maxlen=MAX_OUTCOMES))
    dirty: bool = False

    def record(self, ok: bool, error: str | None, at: float) -> None:
        self.outcomes.append((at, ok))
        if ok:
            self.last_success_at = at
        else:
            self.last_failure_at, self.last_error = at, (error or "failed")[:500]
        self.dirty = True

    def window(self, now: float) -> tuple[int, int]:
        """(calls, failures) in the last hour."""
        while self.outcomes and self.outcomes[0][0] < now - WINDOW_S:
            self.outcomes.popleft()
        return len(self.outcomes), sum(1 for _, ok in self.outcomes if not ok)


def derive_status(health: dict[str, Any]) -> HealthStatus:
    """`error` when the latest outcome failed, `degraded` when it succeeded but the last hour had
    failures, `ok` when all went well, `untested` before anything was tried."""
    success, failure = _epoch(health.get("last_success_at")), _epoch(health.get("last_failure_at"))
    if success is None and failure is None:
        return "untested"
    if failure is not None and (success is None or failure >= success):
        return "error"
    return "degraded" if health.get("failures_1h") else "ok"


class HealthTracker:
    """Per-integration health of this process; cheap to record, flushed by a background task."""

    def __init__(self) -> None:
        self._by_id: dict[str, IntegrationHealth] = {}

    def record(self, integration_id: str, ok: bool, error: str | None = None) -> None:
        """One call's outcome (a `tools.tooling.CallObserver`)."""
        entry = self._by_id.get(integration_id)
        if entry is None:
            entry = self._by_id[integration_id] = IntegrationHealth()
        entry.record(ok, error, time.time())

    def forget(self, integration_id: str) -> None:
        """Drop what this process knows (the integration's settings changed)."""
        self._by_id.pop(integration_id, None)

    def merged(self, integration: Integration) -> dict[str, Any]:
        """The stored snapshot overlaid with what this process saw since: the API's `health`."""
        stored = dict(integration.health or {})
        if not stored and integration.last_test_at is not None and integration.last_test:
            # Tested before health was kept: the test is the one outcome known.
            key = "last_success_at" if integration.last_test.get("ok") else "last_failure_at"
            stored[key] = _iso(integration.last_test_at.timestamp())
            if key == "last_failure_at":
                stored["last_error"] = integration.last_test.get("error")
        entry = self._by_id.get(str(integration.id))
        if entry is not None:
            calls, failures = entry.window(time.time())
            for key, value in (("last_success_at", entry.last_success_at), ("last_failure_at", entry.last_failure_at)):
                if value is not None and (_epoch(stored.get(key)) or 0) < value:
                    stored[key] = _iso(value)
                    if key == "last_failure_at":
                        stored["last_error"] = entry.last_error
            # The stored window came from a flush of this process (or another replica): the larger wins.
            if calls >= int(stored.get("calls_1h") or 0):
                stored["calls_1h"], stored["failures_1h"] = calls, failures
        elif (_epoch(stored.get("window_at")) or 0) < time.time() - WINDOW_S:
            # A snapshot flushed over an hour ago (say, before a restart): its last hour is over.
            stored["calls_1h"], stored["failures_1h"] = 0, 0
        calls = int(stored.get("calls_1h") or 0)
        stored["error_rate_1h"] = round(int(stored.get("failures_1h") or 0) / calls, 3) if calls else None
        stored["status"] = derive_status(stored)
        return stored

    def status_of(self, integration: Integration) -> str:
        """The integration's status: `disabled` stays, else the live health."""
        if integration.status == "disabled":
            return "disabled"
        return str(self.merged(integration)["status"])

    async def flush(self, app: AppContext) -> int:
        """Write the changed entries; returns how many integrations were updated."""
        dirty = [key for key, entry in self._by_id.items() if entry.dirty]
        if not dirty:
            return 0
        ids = []
        for key in dirty:
            with contextlib.suppress(ValueError):
                ids.append(uuid.UUID(key))
        async with app.db.session() as session:
            for integration in await session.scalars(select(Integration).where(Integration.id.in_(ids))):
                snapshot = self.merged(integration)
                kept = {k: v for k, v in snapshot.items() if k not in ("status", "error_rate_1h")}
                integration.health = {**kept, "window_at": _iso(time.time())}
                if integration.status != "disabled":
                    integration.status = snapshot["status"]
            await session.commit()
        for key in dirty:
            self._by_id[key].dirty = False
        return len(dirty)


def tracker_of(app: AppContext) -> HealthTracker:
    """The app's tracker (created on first use, so tests building a bare context get one too)."""
    tracker = app.extras.get("health")
    if tracker is None:
        tracker = app.extras["health"] = HealthTracker()
    return tracker


async def run_flusher(app: AppContext, every_s: float) -> None:
    """Flush forever (a lifespan task); a failed flush is logged and retried next time."""
    tracker = tracker_of(app)
    while True:
        await asyncio.sleep(every_s)
        try:
            await tracker.flush(app)
        except Exception:
            log.exception("flushing integration health failed")


async def check_idle(app: AppContext, idle_s: float) -> int:
    """Test every active integration with no call for `idle_s` (a lightweight connection test)."""
    from backend.integrations.service import run_connection_test  # service imports this module

    tracker = tracker_of(app)
    now = time.time()
    async with app.db.session() as session:
        integrations = list(await session.scalars(select(Integration).where(Integration.is_active.is_(True))))
    checked = 0
    for integration in integrations:
        health = tracker.merged(integration)
        latest = max(_epoch(health.get("last_success_at")) or 0, _epoch(health.get("last_failure_at")) or 0)
        if now - latest < idle_s:
            continue
        result = await run_connection_test(app, integration)
        tracker.record(str(integration.id), result.ok, None if result.ok else f"{result.error_code}: {result.error}")
        checked += 1
    return checked


async def run_idle_checks(app: AppContext, every_s: float) -> None:
    """Keep idle integrations honest (a lifespan task, when the interval is not 0)."""
    while True:
        await asyncio.sleep(every_s)
        try:
            await check_idle(app, every_s)
        except Exception:
            log.exception("checking idle integrations failed")


async def start_health(app: AppContext, stack: contextlib.AsyncExitStack) -> HealthTracker:
    """The tracker, its flusher and (when configured) the idle checks; flushed once more at shutdown."""
    tracker = tracker_of(app)
    tasks = [asyncio.create_task(run_flusher(app, app.settings.health_flush_interval_s), name="health-flush")]
    interval = app.settings.effective_health_check_interval_s
    if interval > 0:
        tasks.append(asyncio.create_task(run_idle_checks(app, interval), name="health-checks"))

    async def stop() -> None:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        with contextlib.suppress(Exception):
            await tracker.flush(app)

    stack.push_async_callback(stop)
    return tracker
