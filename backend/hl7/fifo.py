"""In-order delivery per destination: one lane drains each FIFO queue, across every process.

A queue (`Hl7Queue`, one per destination) is leased to one process at a time by a conditional
UPDATE, renewed by a heartbeat while that process drains it; a process that dies (kill -9) stops
renewing and, once the lease runs out, another takes over from the first delivery not yet final.
Inside the lane, message n+1 goes on the wire only after message n is final: delivered (AA/CA),
failed (AR/CR, AE when the channel says `fail`, or out of attempts) or skipped by an admin. A message
that must be retried blocks its queue until its back-off ends — that is the point of FIFO.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update

from backend.context import AppContext
from backend.models.hl7 import Hl7Delivery, Hl7Message
from backend.models.hl7_channel import Hl7Queue
from backend.models.integration import Integration

from .outcomes import EventCallback, Outcome, OutcomeRecorder, retry_time
from .transport import DeliveryOutcome, Sender

log = logging.getLogger("switchboard.hl7.fifo")

PENDING = ("queued", "retrying", "sent")
RUN_SIZE = 200


@dataclass(frozen=True)
class LaneSettings:
    poll_interval_s: float
    lease_s: float
    max_attempts: int
    backoff_base_s: float
    backoff_max_s: float


@dataclass
class Row:
    id: uuid.UUID
    message_id: uuid.UUID
    seq: int
    attempts: int
    next_attempt_at: datetime
    on_negative_ack: str
    raw: str


def classify(outcome: DeliveryOutcome, attempts: int, on_negative_ack: str, max_attempts: int) -> str:
    """delivered, failed (final) or retrying."""
    if outcome.delivered:
        return "delivered"
    if outcome.final or (outcome.negative and on_negative_ack == "fail") or attempts >= max_attempts:
        return "failed"
    return "retrying"


class FifoLanes:
    """This process's share of the FIFO queues: `schedule()` claims free queues, one task drains each."""

    def __init__(
        self,
        app: AppContext,
        worker_id: str,
        settings: Callable[[], LaneSettings],
        sender_for: Callable[[Integration], Sender],
        on_event: Callable[[], EventCallback | None],
    ) -> None:
        self.app = app
        self.worker_id = worker_id
        self.settings = settings
        self.sender_for = sender_for
        self.on_event = on_event
        self.lanes: dict[uuid.UUID, asyncio.Task[None]] = {}
        self.send_locks: dict[uuid.UUID, asyncio.Lock] = {}
        self.last_send: dict[uuid.UUID, float] = {}
        self.wake: Callable[[], None] = lambda: None

    async def schedule(self) -> int:
        """Claim every due, unpaused queue no process holds and start a lane on it; returns how many."""
        now = datetime.now(UTC)
        free = or_(Hl7Queue.locked_until.is_(None), Hl7Queue.locked_until < now)
        due = or_(Hl7Queue.next_attempt_at.is_(None), Hl7Queue.next_attempt_at <= now)
        has_work = (
            select(Hl7Delivery.id)
            .where(
                Hl7Delivery.integration_id == Hl7Queue.integration_id,
                Hl7Delivery.ordering == "fifo",
                Hl7Delivery.status.in_(PENDING),
            )
            .exists()
        )
        started = 0
        async with self.app.db.session() as session:
            candidates = list(
                await session.scalars(select(Hl7Queue.integration_id).where(~Hl7Queue.paused, free, due, has_work))
            )
            for integration_id in candidates:
                if integration_id in self.lanes:
                    continue
                claimed = await session.execute(
                    update(Hl7Queue)
                    .where(Hl7Queue.integration_id == integration_id, ~Hl7Queue.paused, free, due)
                    .values(locked_by=self.worker_id, locked_until=now + timedelta(seconds=self.settings().lease_s))
                )
                if getattr(claimed, "rowcount", 0) == 1:
                    self.lanes[integration_id] = asyncio.create_task(
                        self._lane(integration_id), name=f"hl7-fifo-{integration_id}"
                    )
                    started += 1
        return started

    async def stop(self) -> None:
        for task in list(self.lanes.values()):
            task.cancel()
        for task in list(self.lanes.values()):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self.lanes.clear()

    async def _lane(self, integration_id: uuid.UUID) -> None:
        lease = _Lease(self, integration_id)
        heartbeat = asyncio.create_task(lease.keep())
        recorder = OutcomeRecorder(self.app, self.on_event)
        blocked_until: datetime | None = None
        try:
            blocked_until = await self._drain(integration_id, lease, recorder)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("the FIFO lane of %s failed; its lease will run out and it is retried", integration_id)
            lease.lost = True
        finally:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await recorder.flush()
            self.lanes.pop(integration_id, None)
            if not lease.lost:
                with contextlib.suppress(Exception):
                    await lease.release(blocked_until)
                self.wake()  # anything that arrived while we were finishing

    async def _drain(self, integration_id: uuid.UUID, lease: _Lease, recorder: OutcomeRecorder) -> datetime | None:
        """Send in sequence until the queue is empty, blocked (returns when it is due) or the lease is lost."""
        after: int | None = None
        while not lease.stopped:
            async with self.app.db.session() as session:
                queue = await session.get(Hl7Queue, integration_id)
                if queue is None or queue.paused:
                    return None
                integration = await session.get(Integration, integration_id)
                rows = await self._run(session, integration_id, after)
                if rows and (integration is None or not integration.is_active):
                    await recorder.flush()
                    await self._fail_all(rows, "The destination no longer exists or is disabled.")
                    after = rows[-1].seq
                    continue
            if not rows:
                return None
            assert integration is not None
            sender = self.sender_for(integration)
            for index, row in enumerate(rows):
                if lease.stopped:
                    return None
                if row.next_attempt_at > datetime.now(UTC):
                    await recorder.flush()
                    return row.next_attempt_at
                if index == 0:
                    await self._mark_sent(row)  # the head of each run shows as on the wire, with its attempt
                outcome = await self._send(integration_id, sender, row.raw)
                settings = self.settings()
                attempts = row.attempts + 1
                status = classify(outcome, attempts, row.on_negative_ack, settings.max_attempts)
                now = datetime.now(UTC)
                retry_at = retry_time(attempts, settings.backoff_base_s, settings.backoff_max_s)
                recorder.add(
                    Outcome(
                        row.id,
                        row.message_id,
                        status,
                        attempts,
                        outcome,
                        now,
                        retry_at if status == "retrying" else None,
                    )
                )
                after = row.seq
                if status == "retrying":
                    await recorder.flush()
                    return retry_at
        return None

    async def _run(self, session: Any, integration_id: uuid.UUID, after: int | None) -> list[Row]:
        query = (
            select(
                Hl7Delivery.id,
                Hl7Delivery.message_id,
                Hl7Delivery.seq,
                Hl7Delivery.attempts,
                Hl7Delivery.next_attempt_at,
                Hl7Delivery.on_negative_ack,
                Hl7Delivery.payload,
                Hl7Message.raw,
            )
            .join(Hl7Message, Hl7Message.id == Hl7Delivery.message_id)
            .where(
                Hl7Delivery.integration_id == integration_id,
                Hl7Delivery.ordering == "fifo",
                Hl7Delivery.status.in_(PENDING),
            )
            .order_by(Hl7Delivery.seq)
            .limit(RUN_SIZE)
        )
        if after is not None:
            query = query.where(Hl7Delivery.seq > after)
        return [
            Row(r.id, r.message_id, r.seq, r.attempts, r.next_attempt_at, r.on_negative_ack, r.payload or r.raw)
            for r in (await session.execute(query)).all()
        ]

    async def _mark_sent(self, row: Row) -> None:
        async with self.app.db.session() as session:
            await session.execute(
                update(Hl7Delivery)
                .where(Hl7Delivery.id == row.id)
                .values(status="sent", attempts=row.attempts + 1, updated_at=datetime.now(UTC))
            )

    async def _fail_all(self, rows: list[Row], error: str) -> None:
        now = datetime.now(UTC)
        outcome = DeliveryOutcome(delivered=False, final=True, error=error)
        recorder = OutcomeRecorder(self.app, self.on_event)
        for row in rows:
            recorder.add(Outcome(row.id, row.message_id, "failed", row.attempts, outcome, now))
        await recorder.flush()

    async def _send(self, integration_id: uuid.UUID, sender: Sender, raw: str) -> DeliveryOutcome:
        # The same lock as parallel sends to this destination: one connection, one message at a time.
        lock = self.send_locks.setdefault(integration_id, asyncio.Lock())
        async with lock:
            wait = self.last_send.get(integration_id, -math.inf) + sender.min_interval_s - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            outcome = await sender.send(raw)
            self.last_send[integration_id] = time.monotonic()
        return outcome


class _Lease:
    """The lane's hold on its queue: renewed every third of its length; lost or paused stops the lane."""

    def __init__(self, lanes: FifoLanes, integration_id: uuid.UUID) -> None:
        self.lanes = lanes
        self.integration_id = integration_id
        self.lost = False
        self.paused = False

    @property
    def stopped(self) -> bool:
        return self.lost or self.paused

    async def keep(self) -> None:
        while True:
            lease_s = self.lanes.settings().lease_s
            await asyncio.sleep(lease_s / 3)
            try:
                async with self.lanes.app.db.session() as session:
                    paused = await session.scalar(
                        update(Hl7Queue)
                        .where(
                            Hl7Queue.integration_id == self.integration_id, Hl7Queue.locked_by == self.lanes.worker_id
                        )
                        .values(locked_until=datetime.now(UTC) + timedelta(seconds=lease_s))
                        .returning(Hl7Queue.paused)
                    )
            except Exception:
                log.warning("renewing the FIFO lease of %s failed", self.integration_id, exc_info=True)
                continue
            if paused is None:
                log.warning("the FIFO lease of %s was lost; this lane stops", self.integration_id)
                self.lost = True
                return
            self.paused = bool(paused)

    async def release(self, blocked_until: datetime | None) -> None:
        async with self.lanes.app.db.session() as session:
            await session.execute(
                update(Hl7Queue)
                .where(Hl7Queue.integration_id == self.integration_id, Hl7Queue.locked_by == self.lanes.worker_id)
                .values(locked_by=None, locked_until=None, next_attempt_at=blocked_until, updated_at=datetime.now(UTC))
            )
