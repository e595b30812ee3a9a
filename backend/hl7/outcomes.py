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
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from backend.context import AppContext
from backend.models.hl7 import Hl7Delivery, Hl7Message

from .transport import DeliveryOutcome

TERMINAL = frozenset({"delivered", "failed", "skipped"})
EventCallback = Callable[..., Awaitable[None]]  # (event, message, delivery, session)


@dataclass
class Outcome:
    delivery_id: uuid.UUID
    message_id: uuid.UUID
    status: str  # delivered | failed | retrying
    attempts: int
    result: DeliveryOutcome
    at: datetime
    retry_at: datetime | None = None


@dataclass
class _Row:
    """A plain stand-in for the ORM objects the event callback reads (attributes only)."""

    id: uuid.UUID
    direction: str | None = None
    message_type: str | None = None
    trigger_event: str | None = None
    control_id: str | None = None
    status: str | None = None
    source: str | None = None
    owner_id: uuid.UUID | None = None
    system: str | None = None
    integration_id: uuid.UUID | None = None
    attempts: int = 0
    ack_code: str | None = None
    error: str | None = None


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
    """Write the outcomes, settle each affected message, announce each final delivery — one transaction,
    bulk statements by primary key (no ORM objects: this runs once per batch of ACKs on the hot path)."""
    async with app.db.session() as session:
        await session.execute(
            update(Hl7Delivery),
            [
                {
                    "id": o.delivery_id,
                    "status": o.status,
                    "attempts": o.attempts,
                    "ack": o.result.raw_ack,
                    "ack_code": o.result.ack_code,
                    "latency_ms": o.result.latency_ms,
                    "error": None if o.status == "delivered" else o.result.error,
                    "updated_at": o.at,
                    "locked_by": None,
                    "locked_until": None,
                    "delivered_at": o.at if o.status == "delivered" else None,
                    "next_attempt_at": o.retry_at or o.at,
                }
                for o in outcomes
            ],
        )
        messages = await settle_messages(session, list({o.message_id for o in outcomes}))
        if on_event is None:
            return
        rows = (
            await session.execute(
                select(Hl7Delivery.id, Hl7Delivery.system, Hl7Delivery.integration_id).where(
                    Hl7Delivery.id.in_([o.delivery_id for o in outcomes if o.status != "retrying"])
                )
            )
        ).all()
        where = {r.id: (r.system, r.integration_id) for r in rows}
        for outcome in outcomes:
            if outcome.status == "retrying" or outcome.delivery_id not in where:
                continue
            system, integration_id = where[outcome.delivery_id]
            delivery = _Row(
                outcome.delivery_id,
                status=outcome.status,
                system=system,
                integration_id=integration_id,
                attempts=outcome.attempts,
                ack_code=outcome.result.ack_code,
                error=None if outcome.status == "delivered" else outcome.result.error,
            )
            event = "hl7.message.delivered" if outcome.status == "delivered" else "hl7.message.failed"
            await on_event(event, messages[outcome.message_id], delivery, session)


async def settle_messages(session: AsyncSession, message_ids: list[uuid.UUID]) -> dict[uuid.UUID, Any]:
    """Set each message's status (and completion time) from all of its deliveries; returns the messages
    (event fields, as plain rows) by id."""
    if not message_ids:
        return {}
    statuses: dict[uuid.UUID, list[str]] = defaultdict(list)
    for message_id, status in (
        await session.execute(
            select(Hl7Delivery.message_id, Hl7Delivery.status).where(Hl7Delivery.message_id.in_(message_ids))
        )
    ).all():
        statuses[message_id].append(status)
    columns = (
        Hl7Message.id,
        Hl7Message.direction,
        Hl7Message.message_type,
        Hl7Message.trigger_event,
        Hl7Message.control_id,
        Hl7Message.status,
        Hl7Message.source,
        Hl7Message.owner_id,
        Hl7Message.received_at,
    )
    now = datetime.now(UTC)
    found: dict[uuid.UUID, Any] = {}
    changes: list[dict[str, Any]] = []
    for row in (await session.execute(select(*columns).where(Hl7Message.id.in_(message_ids)))).all():
        message = _Row(row.id, row.direction, row.message_type, row.trigger_event, row.control_id, row.status,
                       row.source, row.owner_id)  # fmt: skip
        found[row.id] = message
        settled = message_status(statuses[row.id])
        if settled is None or settled == row.status:
            continue
        message.status = settled
        change: dict[str, Any] = {"id": row.id, "status": settled, "completed_at": None, "processing_time_ms": None}
        if settled in ("delivered", "failed", "partially_delivered", "skipped"):
            change["completed_at"] = now
            change["processing_time_ms"] = round((now - row.received_at).total_seconds() * 1000, 2)
        changes.append(change)
    if changes:
        await session.execute(update(Hl7Message), changes)
    # ORM objects of these messages already in this session (the parallel path) show the new values.
    by_id = {c["id"]: c for c in changes}
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Hl7Message) and obj.id in by_id:
            for name in ("status", "completed_at", "processing_time_ms"):
                set_committed_value(obj, name, by_id[obj.id][name])
    return found


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
