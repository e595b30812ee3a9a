"""Replaying stored messages: to named destinations, to their old ones, or through today's channels.

A replay re-sends the same message (same MSH-10, so receivers can spot a repeat). FIFO deliveries
go to the back of their destination's queue with a fresh sequence number: a replay never jumps
the queue. Every replay is audited.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend.audit.service import record_audit
from backend.context import AppContext
from backend.errors import Forbidden
from backend.integrations.access import visible_to
from backend.models.hl7 import Hl7Delivery, Hl7Message
from backend.models.integration import Integration
from backend.models.user import User
from tools.hl7.message import summarize

from .engine import delivery_row, route_rows
from .ingest import assign_sequences
from .routing import ChannelCache, Destination

MAX_REPLAY = 1000


async def replay(
    app: AppContext,
    session: AsyncSession,
    user: User,
    messages: list[Hl7Message],
    *,
    destinations: list[Integration] | None,
    channels: ChannelCache,
) -> dict[str, Any]:
    """Queue every message again; returns counts and the ids replayed (or skipped, with why)."""
    new_rows: list[dict[str, Any]] = []
    requeued: list[Hl7Delivery] = []
    replayed: list[uuid.UUID] = []
    skipped: list[dict[str, str]] = []
    now = datetime.now(UTC)
    existing = await _deliveries_of(session, [m.id for m in messages])
    for message in messages:
        if message.direction == "inbound" and not user.is_admin:
            raise Forbidden("Only admins can replay inbound traffic")
        if message.status == "rejected":
            skipped.append({"message_id": str(message.id), "reason": "rejected messages are not replayed"})
            continue
        if destinations:
            rows = [delivery_row(message.id, Destination(i.id, i.name), None, message.raw) for i in destinations]
            await ensure_still_usable(session, message, [(r["integration_id"], r["system"]) for r in rows])
            new_rows += rows
        elif existing.get(message.id):
            rows_before = existing[message.id]
            await ensure_still_usable(
                session, message, [(d.integration_id, d.system) for d in rows_before if d.channel_id is None]
            )
            await ensure_still_usable(
                session,
                message,
                [(d.integration_id, d.system) for d in rows_before if d.channel_id is not None],
                routed=True,
            )
            requeued += existing[message.id]
        else:
            source = "api" if message.direction == "outbound" else "mllp"
            summary = _summary_of(message)
            rows = route_rows(message.id, await channels.matching(summary, source), message.raw)
            if not rows:
                skipped.append({"message_id": str(message.id), "reason": "no destination and no channel matches"})
                continue
            await ensure_still_usable(session, message, [(r["integration_id"], r["system"]) for r in rows], routed=True)
            new_rows += rows
        replayed.append(message.id)
        message.status = "accepted"
        message.completed_at = None
    for delivery in requeued:
        row = {"ordering": delivery.ordering, "integration_id": delivery.integration_id, "id": delivery.id}
        if delivery.ordering == "fifo" and delivery.integration_id is not None:
            await assign_sequences(session, [row], app.settings.is_sqlite)
        await session.execute(
            update(Hl7Delivery)
            .where(Hl7Delivery.id == delivery.id)
            .values(
                status="queued",
                attempts=0,
                error=None,
                next_attempt_at=now,
                locked_by=None,
                locked_until=None,
                updated_at=now,
                seq=row.get("seq", delivery.seq),
            )
        )
    if new_rows:
        await assign_sequences(session, new_rows, app.settings.is_sqlite)
        session.add_all(Hl7Delivery(**{"seq": None, **row}) for row in new_rows)
    await session.flush()
    await record_audit(
        session,
        action="hl7.message.replayed",
        actor=user,
        patient_id=messages[0].patient_id if len(messages) == 1 else None,
        details={
            "message_ids": [str(i) for i in replayed[:MAX_REPLAY]],
            "count": len(replayed),
            "destinations": [i.name for i in destinations] if destinations else None,
        },
    )
    return {"replayed": len(replayed), "message_ids": [str(i) for i in replayed], "skipped": skipped}


async def ensure_still_usable(
    session: AsyncSession, message: Hl7Message, targets: list[tuple[uuid.UUID | None, str]], *, routed: bool = False
) -> None:
    """A replay sends again as the message's sender: they must still be an active account allowed to use
    every destination they named (owned, or shared and granted to them), and each destination must still
    be active. An admin replaying someone's message is held to the same rule: it goes out in the sender's
    name. Destinations an admin's channel chose (`routed`) are the channel's, as at ingest, so only their
    being active is checked; inbound traffic has no sender and is checked the same way."""
    sender: User | None = None
    if message.owner_id is not None:
        sender = await session.get(User, message.owner_id)
        if sender is None or not sender.is_active or not sender.is_approved:
            raise Forbidden("The message's sender can no longer send; nothing was replayed.", code="sender_disabled")
    wanted = {integration_id for integration_id, _ in targets if integration_id is not None}
    query = select(Integration.id).where(Integration.id.in_(wanted), Integration.is_active.is_(True))
    if sender is not None and not routed:
        query = query.where(visible_to(sender))
    usable = set(await session.scalars(query))
    refused = sorted(system for integration_id, system in targets if integration_id not in usable)
    if refused:
        raise Forbidden(
            f"These destinations may no longer be used: {', '.join(refused)}; nothing was replayed.",
            code="destination_not_allowed",
        )


async def _deliveries_of(session: AsyncSession, ids: list[uuid.UUID]) -> dict[uuid.UUID, list[Hl7Delivery]]:
    found: dict[uuid.UUID, list[Hl7Delivery]] = {}
    if ids:
        for row in await session.scalars(select(Hl7Delivery).where(Hl7Delivery.message_id.in_(ids))):
            found.setdefault(row.message_id, []).append(row)
    return found


def _summary_of(message: Hl7Message) -> Any:

    return summarize(message.raw)
