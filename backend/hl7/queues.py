"""The FIFO queues as people see them: depth, age, the head and why it is stuck; the admin's actions."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.audit.service import record_audit
from backend.errors import AppError, NotFound
from backend.models.hl7 import Hl7Delivery, Hl7Message
from backend.models.hl7_channel import Hl7Queue
from backend.models.integration import Integration
from backend.models.user import User

from .outcomes import settle_messages

PENDING = ("queued", "retrying", "sent")


class QueueHead(BaseModel):
    delivery_id: uuid.UUID
    message_id: uuid.UUID
    seq: int | None
    control_id: str | None
    message_type: str | None
    status: str
    attempts: int
    ack_code: str | None
    ack: str | None
    error: str | None
    next_attempt_at: datetime
    waiting_since: datetime


class QueueOut(BaseModel):
    integration_id: uuid.UUID
    destination: str | None
    depth: int
    oldest_age_s: float | None
    paused: bool
    paused_by: str | None
    held_by: str | None  # the worker process draining it now
    blocked: bool
    why: str
    head: QueueHead | None


def _why(queue: Hl7Queue, head: QueueHead | None, now: datetime) -> tuple[bool, str]:
    if queue.paused:
        return True, f"Paused by {queue.paused_by or 'an admin'}."
    if head is None:
        return False, "Empty."
    if head.status == "retrying":
        wait = max(0.0, (head.next_attempt_at - now).total_seconds())
        return True, (
            f"The head (control id {head.control_id}) failed {head.attempts} time(s), last "
            f"{head.ack_code or 'no ACK'}: {head.error or 'unknown error'}; next attempt in {wait:.0f} s."
        )
    if head.status == "sent":
        return False, f"Sending the head (control id {head.control_id}); waiting for its ACK."
    return False, "Delivering."


async def queue_views(session: AsyncSession, integration_ids: list[uuid.UUID] | None = None) -> list[QueueOut]:
    """Every FIFO queue (or the ones asked for), with its head."""
    query = select(Hl7Queue, Integration.name).outerjoin(Integration, Integration.id == Hl7Queue.integration_id)
    if integration_ids is not None:
        query = query.where(Hl7Queue.integration_id.in_(integration_ids))
    now = datetime.now(UTC)
    views: list[QueueOut] = []
    for queue, name in (await session.execute(query.order_by(Integration.name))).all():
        pending = (
            Hl7Delivery.integration_id == queue.integration_id,
            Hl7Delivery.ordering == "fifo",
            Hl7Delivery.status.in_(PENDING),
        )
        depth, oldest = (
            await session.execute(
                select(func.count(Hl7Delivery.id), func.min(Hl7Message.received_at))
                .join(Hl7Message, Hl7Message.id == Hl7Delivery.message_id)
                .where(*pending)
            )
        ).one()
        row = (
            await session.execute(
                select(Hl7Delivery, Hl7Message.control_id, Hl7Message.message_type, Hl7Message.trigger_event)
                .join(Hl7Message, Hl7Message.id == Hl7Delivery.message_id)
                .where(*pending)
                .order_by(Hl7Delivery.seq)
                .limit(1)
            )
        ).first()
        head = None
        if row is not None:
            delivery, control_id, kind, trigger = row
            head = QueueHead(
                delivery_id=delivery.id,
                message_id=delivery.message_id,
                seq=delivery.seq,
                control_id=control_id,
                message_type="^".join(x for x in (kind, trigger) if x) or None,
                status=delivery.status,
                attempts=delivery.attempts,
                ack_code=delivery.ack_code,
                ack=delivery.ack,
                error=delivery.error,
                next_attempt_at=delivery.next_attempt_at,
                waiting_since=delivery.updated_at,
            )
        blocked, why = _why(queue, head, now)
        held = queue.locked_by if queue.locked_until and queue.locked_until > now else None
        views.append(
            QueueOut(
                integration_id=queue.integration_id,
                destination=name,
                depth=int(depth or 0),
                oldest_age_s=round((now - oldest).total_seconds(), 3) if oldest else None,
                paused=queue.paused,
                paused_by=queue.paused_by,
                held_by=held,
                blocked=blocked,
                why=why,
                head=head,
            )
        )
    return views


async def _queue(session: AsyncSession, integration_id: uuid.UUID) -> Hl7Queue:
    """The destination's queue, made on first use (a feed can be paused before its first message)."""
    queue = await session.get(Hl7Queue, integration_id)
    if queue is None:
        kind = await session.scalar(select(Integration.integration_type).where(Integration.id == integration_id))
        if kind != "hl7":
            raise NotFound("No HL7 destination with that id")
        queue = Hl7Queue(integration_id=integration_id, next_seq=1)
        session.add(queue)
        await session.flush()
    return queue


async def _head(session: AsyncSession, integration_id: uuid.UUID) -> Hl7Delivery | None:
    found: Hl7Delivery | None = await session.scalar(
        select(Hl7Delivery)
        .where(
            Hl7Delivery.integration_id == integration_id,
            Hl7Delivery.ordering == "fifo",
            Hl7Delivery.status.in_(PENDING),
        )
        .order_by(Hl7Delivery.seq)
        .limit(1)
    )
    return found


async def act(session: AsyncSession, admin: User, integration_id: uuid.UUID, action: str) -> dict[str, Any]:
    """retry-now | skip-head | pause | resume, audited; returns what was done."""
    queue = await _queue(session, integration_id)
    now = datetime.now(UTC)
    details: dict[str, Any] = {"integration_id": str(integration_id), "action": action}
    if action == "pause":
        queue.paused, queue.paused_by = True, admin.username
    elif action == "resume":
        queue.paused, queue.paused_by = False, None
        queue.next_attempt_at = None
    else:
        head = await _head(session, integration_id)
        if head is None:
            raise AppError("The queue is empty", code="queue_empty", status_code=409)
        details.update(delivery_id=str(head.id), message_id=str(head.message_id), seq=head.seq)
        if action == "retry-now":
            head.next_attempt_at = now
        else:  # skip-head
            on_the_wire = head.status == "sent" and queue.locked_until is not None and queue.locked_until > now
            if on_the_wire and not queue.paused:
                raise AppError(
                    "The head is on the wire now; pause the queue first, then skip it.",
                    code="head_in_flight",
                    status_code=409,
                )
            head.status = "skipped"
            head.error = f"Skipped by {admin.username}"
            head.updated_at = now
            await session.flush()
            await settle_messages(session, [head.message_id])
        queue.next_attempt_at = None
    queue.updated_at = now
    await record_audit(
        session, action=f"hl7.queue.{action}", actor=admin, integration_id=integration_id, details=details
    )
    return details
