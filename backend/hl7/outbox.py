"""The durable delivery outbox: claim due deliveries, send over MLLP, record the ACK, retry with back-off.

Two kinds of delivery share this worker, its connections and its wake-up: `parallel` deliveries are
claimed row by row (below) and sent independently; `fifo` deliveries are drained in sequence by one
lane per destination (`fifo.FifoLanes`).

Deliveries are rows, so a message accepted is never lost across a restart. Claiming uses
`FOR UPDATE SKIP LOCKED` on PostgreSQL, so several server processes share the work without two of them
sending the same delivery; on SQLite one in-process lock serialises claims. A retry re-sends the same
bytes (same MSH-10), so the receiver can recognise a duplicate; an ACK whose MSA-2 does not match the
control id is a failure, never a success.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_

from backend.context import AppContext
from backend.models.hl7 import Hl7Delivery, Hl7Message
from backend.models.integration import Integration
from backend.platform.outbox import OutboxLoop, OutboxTable
from backend.platform.outbox import backoff as outbox_backoff

from .fifo import FifoLanes, LaneSettings
from .outcomes import TERMINAL, settle_messages
from .transport import DeliveryOutcome, Sender

log = logging.getLogger("switchboard.hl7.outbox")

EventCallback = Callable[[str, Hl7Message, Hl7Delivery], Awaitable[None]]


@dataclass(frozen=True)
class OutboxSettings:
    poll_interval_s: float = 0.5
    batch_size: int = 20
    lease_s: float = 60.0
    max_attempts: int = 8
    backoff_base_s: float = 1.0
    backoff_max_s: float = 300.0


def backoff(attempt: int, settings: OutboxSettings) -> float:
    """Exponential back-off: base · 2^(attempt-1), capped."""
    return outbox_backoff(attempt, settings.backoff_base_s, settings.backoff_max_s)


def _due(now: datetime) -> ColumnElement[bool]:
    return and_(Hl7Delivery.ordering == "parallel", Hl7Delivery.status.in_(("queued", "retrying", "sent")))


class DeliveryWorker:
    """One per process, on the shared outbox loop: parallel rows claimed one by one, FIFO queues by lane.
    `wake()` after enqueueing so delivery does not wait for the next poll."""

    def __init__(self, app: AppContext, settings: OutboxSettings | None = None) -> None:
        self.app = app
        self.settings = settings or OutboxSettings()
        self._senders: dict[uuid.UUID, Sender] = {}
        self.on_event: EventCallback | None = None
        self.loop = OutboxLoop(
            app,
            OutboxTable(Hl7Delivery, _due),
            self.deliver,
            name="hl7-outbox",
            settings=lambda: self.settings,
            ordered_pass=self._schedule_lanes,
        )
        self.worker_id = self.loop.worker_id
        self.lanes = FifoLanes(app, self.worker_id, self._lane_settings, self._sender_for, lambda: self.on_event)
        self.lanes.wake = self.wake
        # Shared with the lanes: one connection per destination, one message on it at a time, paced.
        self._destination_locks = self.lanes.send_locks
        self._last_send = self.lanes.last_send  # monotonic time of the last send, for pacing

    def _lane_settings(self) -> LaneSettings:
        s = self.settings
        return LaneSettings(s.poll_interval_s, s.lease_s, s.max_attempts, s.backoff_base_s, s.backoff_max_s)

    async def _schedule_lanes(self) -> None:
        await self.lanes.schedule()

    def start(self) -> None:
        self.loop.start()

    async def stop(self) -> None:
        await self.loop.stop()
        await self.lanes.stop()
        for sender in self._senders.values():
            await sender.close()
        self._senders.clear()

    def wake(self) -> None:
        self.loop.wake()

    async def claim(self) -> list[uuid.UUID]:
        """Lease due parallel deliveries to this worker and return their ids."""
        return await self.loop.claim()

    def lease(self) -> tuple[str, datetime]:
        """A lease to store with a new delivery that this worker will send itself (`deliver` right away):
        no other worker claims it meanwhile, and if this process dies the lease runs out and one does."""
        return self.loop.lease()

    async def deliver(self, delivery_id: uuid.UUID) -> None:
        async with self.app.db.session() as session:
            delivery = await session.get(Hl7Delivery, delivery_id)
            if delivery is None or delivery.locked_by != self.worker_id or delivery.status in TERMINAL:
                return
            message = await session.get(Hl7Message, delivery.message_id)
            integration = await session.get(Integration, delivery.integration_id) if delivery.integration_id else None
            if message is None:
                return
            raw = message.raw
            if integration is None or not integration.is_active:
                await self._finish(
                    session, message, delivery, "failed", error="The destination no longer exists or is disabled."
                )
                return
            delivery.status = "sent"
            delivery.attempts += 1
            delivery.updated_at = datetime.now(UTC)
            integration_id = integration.id
            sender = self._sender_for(integration)
        # Sends to one destination go one at a time, in order, at most one per `min_interval_ms`.
        lock = self._destination_locks.setdefault(integration_id, asyncio.Lock())
        async with lock:
            wait = self._last_send.get(integration_id, -math.inf) + sender.min_interval_s - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            outcome = await sender.send(raw)
            self._last_send[integration_id] = time.monotonic()
        async with self.app.db.session() as session:
            delivery = await session.get(Hl7Delivery, delivery_id)
            message = await session.get(Hl7Message, delivery.message_id) if delivery else None
            if delivery is None or message is None:
                return
            await self._record(session, message, delivery, outcome)

    def _sender_for(self, integration: Integration) -> Sender:
        sender = self._senders.get(integration.id)
        if sender is None or sender.stale(integration):
            sender = Sender.for_integration(integration, self.app)
            self._senders[integration.id] = sender
        return sender

    async def _record(self, session: Any, message: Hl7Message, delivery: Hl7Delivery, outcome: DeliveryOutcome) -> None:
        delivery.ack = outcome.raw_ack
        delivery.ack_code = outcome.ack_code
        delivery.latency_ms = outcome.latency_ms
        if outcome.delivered:
            await self._finish(session, message, delivery, "delivered")
            return
        refused = outcome.negative and delivery.on_negative_ack == "fail"
        if outcome.final or refused or delivery.attempts >= self.settings.max_attempts:
            await self._finish(session, message, delivery, "failed", error=outcome.error)
            return
        delivery.status = "retrying"
        delivery.error = outcome.error
        delivery.next_attempt_at = datetime.now(UTC) + timedelta(seconds=backoff(delivery.attempts, self.settings))
        delivery.locked_by = None
        delivery.locked_until = None
        delivery.updated_at = datetime.now(UTC)
        message.status = "retrying"

    async def _finish(
        self, session: Any, message: Hl7Message, delivery: Hl7Delivery, status: str, error: str | None = None
    ) -> None:
        now = datetime.now(UTC)
        delivery.status = status
        delivery.error = error
        delivery.locked_by = None
        delivery.locked_until = None
        delivery.updated_at = now
        if status == "delivered":
            delivery.delivered_at = now
        await session.flush()
        await settle_messages(session, [message.id])
        if self.on_event is not None:
            await self.on_event(
                "hl7.message.delivered" if status == "delivered" else "hl7.message.failed", message, delivery
            )
