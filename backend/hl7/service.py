"""Accepting, storing and querying HL7 messages."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.audit.service import record_audit
from backend.errors import NotFound
from backend.models.hl7 import Hl7Delivery, Hl7Message
from backend.models.hl7_channel import Hl7Channel
from backend.models.integration import Integration
from backend.models.user import User
from tools.hl7.message import Inspection

from .schemas import DestinationOut, MessageOut, MessageSummaryOut


def visible_messages(user: User) -> Any:
    """Admins see all traffic; users see what they submitted and what arrived on the listener."""
    if user.is_admin:
        return True
    return or_(Hl7Message.owner_id == user.id, Hl7Message.direction == "inbound")


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
        sending_application=message.sending_application,
        sending_facility=message.sending_facility,
    )


async def channel_names(session: AsyncSession, rows: list[Hl7Delivery]) -> dict[uuid.UUID, str]:
    ids = {d.channel_id for d in rows if d.channel_id}
    if not ids:
        return {}
    return dict((await session.execute(select(Hl7Channel.id, Hl7Channel.name).where(Hl7Channel.id.in_(ids)))).all())


def message_out(message: Hl7Message, rows: list[Hl7Delivery], channels: dict[uuid.UUID, str]) -> MessageOut:
    return MessageOut(
        **summary_out(message).model_dump(),
        version=message.version,
        raw=message.raw,
        ack=message.ack,
        ack_code=message.ack_code,
        error=message.error,
        problems=message.problems or [],
        channels=sorted({channels[d.channel_id] for d in rows if d.channel_id in channels}),
        destinations=[
            DestinationOut(
                system=d.system,
                integration_id=d.integration_id,
                channel_id=d.channel_id,
                channel=channels.get(d.channel_id) if d.channel_id else None,
                ordering=d.ordering,
                seq=d.seq,
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
    until: datetime | None = None,
    control_id: str | None = None,
    channel: str | None = None,
    destination: str | None = None,
    oldest_first: bool = False,
) -> Select[Any]:
    """Messages the user may see, matching every filter given, newest first (or oldest first)."""
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
    if until:
        conditions.append(Hl7Message.received_at < until)
    if control_id:
        conditions.append(Hl7Message.control_id == control_id)
    if channel:
        channel_id = _as_uuid(channel)
        by_channel = select(Hl7Channel.id).where(
            Hl7Channel.id == channel_id if channel_id else Hl7Channel.name == channel
        )
        conditions.append(
            select(Hl7Delivery.id)
            .where(Hl7Delivery.message_id == Hl7Message.id, Hl7Delivery.channel_id.in_(by_channel))
            .exists()
        )
    if destination:
        conditions.append(
            select(Hl7Delivery.id)
            .where(Hl7Delivery.message_id == Hl7Message.id, Hl7Delivery.system == destination)
            .exists()
        )
    query = select(Hl7Message).where(visible_messages(user))
    if conditions:
        query = query.where(and_(*conditions))
    if oldest_first:
        return query.order_by(Hl7Message.received_at, Hl7Message.id)
    return query.order_by(Hl7Message.received_at.desc(), Hl7Message.id)


def _as_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def since_hours(hours: float | None) -> datetime | None:
    return datetime.now(UTC) - timedelta(hours=hours) if hours else None
