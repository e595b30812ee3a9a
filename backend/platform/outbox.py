"""One outbox loop for every durable delivery queue (HL7 messages, webhooks): claim, lease, back-off, wake.

A delivery is a row, so nothing accepted is lost across a restart. Each process runs one loop per
outbox table; a claim leases due rows to this process (`locked_by`, `locked_until`) with
`FOR UPDATE SKIP LOCKED` on PostgreSQL plus a conditional UPDATE (which is all SQLite needs, under its
single writer), so several processes share the work and no row is sent by two at once. A process
that dies mid-send stops holding its leases; when they run out another process sends again
(at-least-once). `wake()` after enqueueing skips the wait for the next poll.

Work that must keep an order (HL7 FIFO queues: an ordering key per destination) cannot be claimed
row by row; the owner passes `ordered_pass`, run on every turn of the same loop, which leases whole
queues instead (`backend/hl7/fifo.py`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, or_, select, update

from backend.context import AppContext

log = logging.getLogger("switchboard.platform.outbox")


def backoff(attempt: int, base_s: float, max_s: float) -> float:
    """Exponential back-off: base · 2^(attempt-1), capped."""
    return float(min(max_s, base_s * 2 ** max(0, attempt - 1)))


def new_worker_id() -> str:
    return f"{os.getpid()}-{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class OutboxTable:
    """Where the rows live and which of them are due (`due(now)`: an SQL condition)."""

    model: Any  # an ORM class with id, next_attempt_at, locked_by, locked_until
    due: Callable[[datetime], ColumnElement[bool]]


class OutboxLoop:
    """Claims due rows in batches and hands each to `deliver(id)` as its own task."""

    def __init__(
        self,
        app: AppContext,
        table: OutboxTable,
        deliver: Callable[[uuid.UUID], Awaitable[None]],
        *,
        name: str,
        settings: Callable[[], Any],  # batch_size, lease_s, poll_interval_s (read on every turn)
        worker_id: str | None = None,
        ordered_pass: Callable[[], Awaitable[Any]] | None = None,
        periodic: tuple[float, Callable[[], Awaitable[Any]]] | None = None,
    ) -> None:
        self.app = app
        self.table = table
        self.deliver = deliver
        self.name = name
        self.settings = settings
        self.worker_id = worker_id or new_worker_id()
        self.ordered_pass = ordered_pass
        self.periodic = periodic
        self._wake = asyncio.Event()
        self._claim_lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self.inflight: set[asyncio.Task[None]] = set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self.inflight:
            await asyncio.wait(self.inflight, timeout=10)

    def wake(self) -> None:
        self._wake.set()

    def lease(self) -> tuple[str, datetime]:
        """A lease to store with a new row this process sends itself at once: nobody else claims it meanwhile."""
        return self.worker_id, datetime.now(UTC) + timedelta(seconds=self.settings().lease_s)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        next_periodic = 0.0
        while True:
            if self.periodic is not None and loop.time() >= next_periodic:
                next_periodic = loop.time() + self.periodic[0]
                try:
                    await self.periodic[1]()
                except Exception:
                    log.warning("%s: periodic work failed", self.name, exc_info=True)
            try:
                claimed = await self.claim()
            except Exception:
                log.exception("%s: claiming failed; retrying", self.name)
                claimed = []
            for row_id in claimed:
                task = asyncio.create_task(self._deliver_one(row_id))
                self.inflight.add(task)
                task.add_done_callback(self.inflight.discard)
            if self.ordered_pass is not None:
                try:
                    await self.ordered_pass()
                except Exception:
                    log.exception("%s: the ordered pass failed; retrying", self.name)
            settings = self.settings()
            if len(claimed) < settings.batch_size:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), settings.poll_interval_s)

    async def _deliver_one(self, row_id: uuid.UUID) -> None:
        try:
            await self.deliver(row_id)
        except Exception:
            log.exception("%s: delivery %s crashed; it is retried after its lease", self.name, row_id)

    async def claim(self) -> list[uuid.UUID]:
        """Lease due rows to this process and return their ids."""
        model = self.table.model
        settings = self.settings()
        now = datetime.now(UTC)
        lease = now + timedelta(seconds=settings.lease_s)
        free = or_(model.locked_until.is_(None), model.locked_until < now)
        due = (
            select(model.id)
            .where(self.table.due(now), model.next_attempt_at <= now, free)
            .order_by(model.next_attempt_at)
            .limit(settings.batch_size)
        )
        async with self._claim_lock, self.app.db.session() as session:
            if not self.app.settings.is_sqlite:
                due = due.with_for_update(skip_locked=True)
            ids = list(await session.scalars(due))
            if not ids:
                return []
            # Conditional: a process that read the same rows (SQLite has no SKIP LOCKED) finds them
            # leased already and gets none of them.
            await session.execute(
                update(model).where(model.id.in_(ids), free).values(locked_by=self.worker_id, locked_until=lease)
            )
            return list(
                await session.scalars(
                    select(model.id).where(
                        model.id.in_(ids), model.locked_by == self.worker_id, model.locked_until == lease
                    )
                )
            )
