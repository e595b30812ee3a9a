"""Recording delivery outcomes in batches: deliveries, their messages' status, and the events.

A FIFO lane sends one message after another on its connection; committing each ACK separately
would cost a WAL flush per message. The lane hands outcomes to an `OutcomeRecorder`, which writes
whatever has gathered in one transaction while the lane goes on sending (at most one write in
flight). The lane still decides order from what it saw on the wire; the database catches up within
one batch. A process killed with ACKs not yet written re-sends those messages on restart, in order
(same bytes, same MSH-10).
"""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from backend.context import AppContext
from backend.models.hl7 import Hl7Delivery, Hl7Message

from .transport import DeliveryOutcome

TERMINAL = frozenset({"delivered", "failed", "skipped"})
EventCallback = Callable[[str, Hl7Message, Hl7Delivery], Awaitable[None]]


@dataclass
class Outcome:
    delivery_id: uuid.UUID
    status: str  # delivered | failed | retrying
    attempts: int
    result: DeliveryOutcome
    at: datetime
    retry_at: datetime | None = None


def message_status(statuses: list[str]) -> str | None:
    """The message's status once every destination is final (None while one is still pending)."""
    if not all(s in TERMINAL for s in statuses):
        return "retrying" if "retrying" in statuses else None
    if all(s in ("delivered", "skipped") for s in statuses):
        return "delivered" if "delivered" in statuses else "skipped"
    if all(s == "failed" for s in statuses):
        return "failed"
    return "partially_delivered"


async def apply_outcomes(app: AppContext, outcomes: list[Outcome], on_event: EventCallback | None) -> None:
    """Write the outcomes, settle each affected message, announce each final delivery — one transaction."""
    by_id = {o.delivery_id: o for o in outcomes}
    async with app.db.session() as session:
        deliveries = list(await session.scalars(select(Hl7Delivery).where(Hl7Delivery.id.in_(list(by_id)))))
        for delivery in deliveries:
            outcome = by_id[delivery.id]
            delivery.status = outcome.status
            delivery.attempts = outcome.attempts
            delivery.ack = outcome.result.raw_ack
            delivery.ack_code = outcome.result.ack_code
            delivery.latency_ms = outcome.result.latency_ms
            delivery.error = None if outcome.status == "delivered" else outcome.result.error
            delivery.updated_at = outcome.at
            delivery.locked_by = delivery.locked_until = None
            if outcome.status == "delivered":
                delivery.delivered_at = outcome.at
            if outcome.retry_at is not None:
                delivery.next_attempt_at = outcome.retry_at
        await session.flush()
        message_ids = list({d.message_id for d in deliveries})
        await settle_messages(session, message_ids)
        if on_event is not None:
            messages = {
                m.id: m
                for m in await session.scalars(
                    select(Hl7Message).options(defer(Hl7Message.raw)).where(Hl7Message.id.in_(message_ids))
                )
            }
            for delivery in deliveries:
                if delivery.status in ("delivered", "failed"):
                    event = "hl7.message.delivered" if delivery.status == "delivered" else "hl7.message.failed"
                    await on_event(event, messages[delivery.message_id], delivery)


async def settle_messages(session: AsyncSession, message_ids: list[uuid.UUID]) -> None:
    """Set each message's status (and completion time) from all of its deliveries."""

    if not message_ids:
        return
    statuses: dict[uuid.UUID, list[str]] = defaultdict(list)
    for message_id, status in (
        await session.execute(
            select(Hl7Delivery.message_id, Hl7Delivery.status).where(Hl7Delivery.message_id.in_(message_ids))
        )
    ).all():
        statuses[message_id].append(status)
    now = datetime.now(UTC)
    for message in await session.scalars(
        select(Hl7Message).options(defer(Hl7Message.raw)).where(Hl7Message.id.in_(message_ids))
    ):
        settled = message_status(statuses[message.id])
        if settled is None or settled == message.status:
            continue
        message.status = settled
        if settled in ("delivered", "failed", "partially_delivered", "skipped"):
            message.completed_at = now
            message.processing_time_ms = round((now - message.received_at).total_seconds() * 1000, 2)
    await session.flush()


class OutcomeRecorder:
    """Batches one lane's outcomes; `add` never waits for the database, `flush` does."""

    def __init__(self, app: AppContext, on_event: Callable[[], EventCallback | None]) -> None:
        self.app = app
        self.on_event = on_event
        self._pending: list[Outcome] = []
        self._writing: asyncio.Task[None] | None = None

    def add(self, outcome: Outcome) -> None:
        self._pending.append(outcome)
        if self._writing is None or self._writing.done():
            self._start()

    def _start(self) -> None:
        batch, self._pending = self._pending, []
        self._writing = asyncio.create_task(apply_outcomes(self.app, batch, self.on_event()))

    async def flush(self) -> None:
        """Everything added so far is committed when this returns (raises if a write failed)."""
        while True:
            if self._writing is not None:
                writing, self._writing = self._writing, None
                await writing
            if not self._pending:
                return
            self._start()


def retry_time(attempts: int, base_s: float, max_s: float) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=min(max_s, base_s * 2 ** max(0, attempts - 1)))
