"""Accepting, storing and querying HL7 messages."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.audit.service import record_audit
from backend.errors import AppError, Forbidden, NotFound
from backend.integrations.access import visible_to
from backend.models.hl7 import Hl7Delivery, Hl7Message
from backend.models.integration import Integration
from backend.models.user import User
from tools.hl7.message import Inspection

from .schemas import DestinationOut, MessageOut, MessageSummaryOut, SubmitMessage
from .transport import inspect_message


class InvalidHl7(AppError):
    status_code = 400
    code = "invalid_hl7"


def visible_messages(user: User) -> Any:
    """Admins see all traffic; users see what they submitted and what arrived on the listener."""
    if user.is_admin:
        return True
    return or_(Hl7Message.owner_id == user.id, Hl7Message.direction == "inbound")


async def resolve_destinations(session: AsyncSession, user: User, names: list[str]) -> list[Integration]:
    rows = list(
        await session.scalars(
            select(Integration).where(
                visible_to(user), Integration.integration_type == "hl7", Integration.name.in_(names)
            )
        )
    )
    by_name = {i.name: i for i in rows}
    missing = [n for n in names if n not in by_name]
    if missing:
        raise AppError(
            f"Unknown HL7 destination(s): {', '.join(missing)}. Use the names of your HL7 integrations.",
            code="unknown_destination",
            status_code=400,
        )
    return [by_name[n] for n in dict.fromkeys(names)]


async def submit(session: AsyncSession, user: User, body: SubmitMessage) -> Hl7Message:
    """Validate, store and enqueue one delivery per destination (delivered by the outbox worker)."""
    inspection = await inspect_message(body.message)
    if inspection.errors:
        raise InvalidHl7(inspection.errors)
    destinations = await resolve_destinations(session, user, body.metadata.destination)
    message, _ = await enqueue(session, user, inspection, destinations, source=body.metadata.source)
    return message


async def enqueue(
    session: AsyncSession,
    user: User,
    inspection: Inspection,
    destinations: list[Integration],
    *,
    source: str | None,
    lease: tuple[str, datetime] | None = None,
) -> tuple[Hl7Message, list[Hl7Delivery]]:
    """Store a valid outbound message with one queued delivery per destination (the outbox), audited.
    With `lease` (worker id, until) the deliveries start claimed by that worker."""
    summary = inspection.summary
    message = Hl7Message(
        direction="outbound",
        owner_id=user.id,
        source=source,
        message_type=summary.message_type,
        trigger_event=summary.trigger_event,
        version=summary.version,
        control_id=summary.control_id,
        patient_id=summary.patient_id,
        status="accepted",
        raw=inspection.normalized,
        problems=inspection.warnings,
    )
    session.add(message)
    await session.flush()
    locked_by, locked_until = lease or (None, None)
    rows = [
        Hl7Delivery(
            message_id=message.id,
            integration_id=i.id,
            system=i.name,
            locked_by=locked_by,
            locked_until=locked_until,
        )
        for i in destinations
    ]
    session.add_all(rows)
    await session.flush()
    await record_audit(
        session,
        action="hl7.message.submitted",
        actor=user,
        patient_id=summary.patient_id,
        details={
            "message_id": str(message.id),
            "type": summary.message_type,
            "source": source,
            "destinations": [i.name for i in destinations],
        },
    )
    return message, rows


async def get_visible(session: AsyncSession, user: User, message_id: uuid.UUID) -> Hl7Message:
    message = await session.scalar(select(Hl7Message).where(Hl7Message.id == message_id, visible_messages(user)))
    if message is None:
        raise NotFound("Message not found")
    return message


async def deliveries(session: AsyncSession, message_id: uuid.UUID) -> list[Hl7Delivery]:
    rows = await session.scalars(
        select(Hl7Delivery).where(Hl7Delivery.message_id == message_id).order_by(Hl7Delivery.system)
    )
    return list(rows)


def summary_out(message: Hl7Message) -> MessageSummaryOut:
    return MessageSummaryOut(
        message_id=message.id,
        direction=message.direction,
        status=message.status,
        timestamp=message.received_at,
        processing_time_ms=message.processing_time_ms,
        control_id=message.control_id,
        message_type=message.message_type,
        trigger_event=message.trigger_event,
        patient_id=message.patient_id,
        source=message.source,
    )


def message_out(message: Hl7Message, rows: list[Hl7Delivery]) -> MessageOut:
    return MessageOut(
        **summary_out(message).model_dump(),
        version=message.version,
        raw=message.raw,
        ack=message.ack,
        ack_code=message.ack_code,
        error=message.error,
        problems=message.problems or [],
        destinations=[
            DestinationOut(
                system=d.system,
                integration_id=d.integration_id,
                status=d.status,
                timestamp=d.updated_at,
                ack_code=d.ack_code,
                attempts=d.attempts,
                error=d.error,
                latency_ms=d.latency_ms,
            )
            for d in rows
        ],
    )


def filtered(
    user: User,
    *,
    status: str | None = None,
    message_type: str | None = None,
    patient_id: str | None = None,
    direction: str | None = None,
    since: datetime | None = None,
    control_id: str | None = None,
) -> Select[Any]:
    conditions: list[Any] = []
    if status:
        conditions.append(Hl7Message.status == status)
    if message_type:
        kind, _, trigger = message_type.upper().partition("^")
        conditions.append(Hl7Message.message_type == kind)
        if trigger:
            conditions.append(Hl7Message.trigger_event == trigger)
    if patient_id:
        conditions.append(Hl7Message.patient_id == patient_id)
    if direction:
        conditions.append(Hl7Message.direction == direction)
    if since:
        conditions.append(Hl7Message.received_at >= since)
    if control_id:
        conditions.append(Hl7Message.control_id == control_id)
    query = select(Hl7Message).where(visible_messages(user))
    if conditions:
        query = query.where(and_(*conditions))
    return query.order_by(Hl7Message.received_at.desc(), Hl7Message.id)


async def replay(session: AsyncSession, user: User, message: Hl7Message) -> int:
    """Queue every destination of the message again (same bytes, same control id)."""
    if message.direction != "outbound":
        raise AppError("Only outbound messages can be replayed", code="not_replayable", status_code=409)
    rows = await deliveries(session, message.id)
    await _ensure_still_usable(session, message, rows)
    now = datetime.now(UTC)
    for delivery in rows:
        delivery.status = "queued"
        delivery.attempts = 0
        delivery.error = None
        delivery.next_attempt_at = now
        delivery.locked_by = None
        delivery.locked_until = None
        delivery.updated_at = now
    message.status = "accepted"
    message.completed_at = None
    await record_audit(
        session,
        action="hl7.message.replayed",
        actor=user,
        patient_id=message.patient_id,
        details={"message_id": str(message.id), "destinations": [d.system for d in rows]},
    )
    await session.flush()
    return len(rows)


async def _ensure_still_usable(session: AsyncSession, message: Hl7Message, rows: list[Hl7Delivery]) -> None:
    """A replay sends again as the message's sender: they must still be an active account allowed to use
    every destination (owned, or shared and granted to them), and each destination must still be active.
    An admin replaying someone's message is held to the same rule: it goes out in the sender's name."""
    sender = await session.get(User, message.owner_id) if message.owner_id else None
    if sender is None or not sender.is_active or not sender.is_approved:
        raise Forbidden("The message's sender can no longer send; nothing was replayed.", code="sender_disabled")
    wanted = {d.integration_id for d in rows if d.integration_id is not None}
    usable = set(
        await session.scalars(
            select(Integration.id).where(
                Integration.id.in_(wanted), visible_to(sender), Integration.is_active.is_(True)
            )
        )
    )
    refused = sorted(d.system for d in rows if d.integration_id is None or d.integration_id not in usable)
    if refused:
        raise Forbidden(
            f"These destinations may no longer be used: {', '.join(refused)}; nothing was replayed.",
            code="destination_not_allowed",
        )


def since_hours(hours: float | None) -> datetime | None:
    return datetime.now(UTC) - timedelta(hours=hours) if hours else None
