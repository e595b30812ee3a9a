"""Group commit for accepted HL7 messages: many requests, one transaction, each told after the commit.

Every accepted message must be durable before its 202 or ACK. A commit per message costs a WAL
flush each (PostgreSQL) and serialises on SQLite's one writer, which capped the engine at tens of
messages a second. Here each request hands its rows to `IngestWriter.write` and waits; one task
writes whatever has gathered meanwhile — a single message when traffic is light, hundreds under
load — in one transaction with bulk inserts, then resolves every waiter. FIFO sequence numbers are
handed out inside that transaction (`Hl7Queue.next_seq`), so commit order is sequence order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from backend.context import AppContext
from backend.models.audit import AuditEvent
from backend.models.hl7 import Hl7Delivery, Hl7Message
from backend.models.hl7_channel import Hl7Queue
from backend.platform.events import Audience, publish

log = logging.getLogger("switchboard.hl7.ingest")

MAX_BATCH = 500


@dataclass
class PendingMessage:
    """Rows for one accepted message: the message, its deliveries, its audit row and its events."""

    message: dict[str, Any]
    deliveries: list[dict[str, Any]] = field(default_factory=list)
    audit: dict[str, Any] | None = None
    events: list[tuple[str, dict[str, Any], Audience]] = field(default_factory=list)


async def assign_sequences(session: AsyncSession, deliveries: list[dict[str, Any]], sqlite: bool) -> None:
    """Number the fifo deliveries per destination, in list order, from each queue's counter."""
    by_queue: dict[uuid.UUID, list[dict[str, Any]]] = defaultdict(list)
    for delivery in deliveries:
        if delivery["ordering"] == "fifo":
            by_queue[delivery["integration_id"]].append(delivery)
    make_insert = sqlite_insert if sqlite else pg_insert
    for integration_id in sorted(by_queue, key=str):  # one lock order for every writer: no deadlocks
        rows = by_queue[integration_id]
        await session.execute(
            make_insert(Hl7Queue).values(integration_id=integration_id, next_seq=1).on_conflict_do_nothing()
        )
        end = await session.scalar(
            update(Hl7Queue)
            .where(Hl7Queue.integration_id == integration_id)
            .values(next_seq=Hl7Queue.next_seq + len(rows))
            .returning(Hl7Queue.next_seq)
        )
        assert end is not None
        for offset, delivery in enumerate(rows):
            delivery["seq"] = end - len(rows) + offset


class IngestWriter:
    """One per process: `write()` returns once the message is committed (or raises)."""

    def __init__(self, app: AppContext, on_committed: Callable[[], None], max_batch: int = MAX_BATCH) -> None:
        self.app = app
        self.on_committed = on_committed
        self.max_batch = max_batch
        self._queue: asyncio.Queue[tuple[PendingMessage, asyncio.Future[None]]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self.batches = 0  # for the benchmark and tests: how well commits are shared
        self.written = 0

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="hl7-ingest")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        while not self._queue.empty():
            _, waiter = self._queue.get_nowait()
            if not waiter.done():
                waiter.set_exception(RuntimeError("the server is shutting down"))

    async def write(self, pending: PendingMessage) -> None:
        if self._task is None or self._task.done():
            # No writer task (library use, or stopped): write alone, still durable before returning.
            await self._write([pending])
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        await self._queue.put((pending, waiter))
        await waiter

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self.max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                await self._write([p for p, _ in batch])
                outcomes: list[BaseException | None] = [None] * len(batch)
            except Exception as exc:
                if len(batch) == 1:
                    outcomes = [exc]
                else:
                    # One bad row must not sink its neighbours: write them one by one.
                    log.warning("an HL7 ingest batch of %d failed; writing one by one", len(batch), exc_info=True)
                    outcomes = [await self._write_alone(p) for p, _ in batch]
            for (_, waiter), error in zip(batch, outcomes, strict=True):
                if waiter.done():
                    continue
                if error is None:
                    waiter.set_result(None)
                else:
                    waiter.set_exception(error)

    async def _write_alone(self, pending: PendingMessage) -> BaseException | None:
        try:
            await self._write([pending])
        except Exception as exc:
            log.exception("storing HL7 message %s failed", pending.message.get("id"))
            return exc
        return None

    async def _write(self, batch: list[PendingMessage]) -> None:
        deliveries = [d for p in batch for d in p.deliveries]
        audits = [p.audit for p in batch if p.audit is not None]
        async with self.app.db.session() as session:
            await session.execute(insert(Hl7Message), [p.message for p in batch])
            if deliveries:
                await assign_sequences(session, deliveries, self.app.settings.is_sqlite)
                for delivery in deliveries:
                    delivery.setdefault("seq", None)
                await session.execute(insert(Hl7Delivery), deliveries)
            if audits:
                await session.execute(insert(AuditEvent), audits)
            for pending in batch:
                for event, data, audience in pending.events:
                    await publish(self.app, event, data, audience, session)
        self.batches += 1
        self.written += len(batch)
        if deliveries:
            self.on_committed()
