"""Creating, changing and listing HL7 channels (admins only, every change audited)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from backend.audit.service import record_audit
from backend.errors import AppError, Conflict, NotFound
from backend.integrations.access import visible_to
from backend.models.hl7_channel import Hl7Channel
from backend.models.integration import Integration
from backend.models.user import User

from .channel_schemas import ChannelDestinationOut, ChannelFilter, ChannelIn, ChannelOut, ChannelPatch


def _as_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value.strip())
    except ValueError:
        return None


async def resolve_destinations(session: AsyncSession, user: User, references: list[str]) -> list[Integration]:
    """HL7 integrations by name or id (as `user` may see them), in the given order, each once."""
    ids = [i for i in (_as_uuid(r) for r in references) if i is not None]
    names = [r.strip() for r in references]
    rows = list(
        await session.scalars(
            select(Integration).where(
                visible_to(user),
                Integration.integration_type == "hl7",
                Integration.id.in_(ids) | Integration.name.in_(names),
            )
        )
    )
    by_key: dict[str, Integration] = {}
    for row in rows:
        by_key.setdefault(row.name, row)
        by_key[str(row.id)] = row
    found: dict[uuid.UUID, Integration] = {}
    missing: list[str] = []
    for reference in references:
        key = str(_as_uuid(reference) or reference.strip())
        match = by_key.get(key)
        if match is None:
            missing.append(reference)
        else:
            found.setdefault(match.id, match)
    if missing:
        raise AppError(
            f"Unknown HL7 destination(s): {', '.join(missing)}. Use the names or ids of HL7 integrations.",
            code="unknown_destination",
            status_code=400,
        )
    return list(found.values())


async def channel_out(session: AsyncSession, channel: Hl7Channel) -> ChannelOut:
    ids = [uuid.UUID(i) for i in channel.destination_ids]
    names = dict((await session.execute(select(Integration.id, Integration.name).where(Integration.id.in_(ids)))).all())
    details = [ChannelDestinationOut(id=i, name=names[i]) for i in ids if i in names]
    return ChannelOut(
        id=channel.id,
        name=channel.name,
        enabled=channel.enabled,
        sources=list(channel.sources),
        filter=ChannelFilter.model_validate(channel.filter),
        transform=list(channel.transform),
        destinations=[d.name for d in details],
        destination_details=details,
        ordering=channel.ordering,
        validation=channel.validation,
        on_negative_ack=channel.on_negative_ack,
        created_at=channel.created_at,
        updated_at=channel.updated_at,
    )


async def _flush_unique(session: AsyncSession, name: str) -> None:
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise Conflict(f"A channel called {name!r} already exists", code="channel_exists") from None


async def create(session: AsyncSession, admin: User, body: ChannelIn) -> Hl7Channel:
    destinations = await resolve_destinations(session, admin, body.destinations)
    if await session.scalar(select(Hl7Channel.id).where(Hl7Channel.name == body.name)):
        raise Conflict(f"A channel called {body.name!r} already exists", code="channel_exists")
    channel = Hl7Channel(
        name=body.name,
        enabled=body.enabled,
        sources=list(body.sources),
        filter=body.filter.model_dump(),
        transform=[step.raw() for step in body.transform],
        destination_ids=[str(d.id) for d in destinations],
        ordering=body.ordering,
        validation=body.validation,
        on_negative_ack=body.on_negative_ack,
        created_by=admin.id,
    )
    session.add(channel)
    await _flush_unique(session, body.name)
    await _audit(session, admin, "hl7.channel.created", channel, {"destinations": [d.name for d in destinations]})
    return channel


async def get(session: AsyncSession, channel_id: uuid.UUID) -> Hl7Channel:
    channel = await session.get(Hl7Channel, channel_id)
    if channel is None:
        raise NotFound("Channel not found")
    return channel


async def update(session: AsyncSession, admin: User, channel: Hl7Channel, body: ChannelPatch) -> Hl7Channel:
    changes = body.model_dump(exclude_unset=True, by_alias=True)
    if "name" in changes and changes["name"] != channel.name:
        if await session.scalar(select(Hl7Channel.id).where(Hl7Channel.name == body.name)):
            raise Conflict(f"A channel called {body.name!r} already exists", code="channel_exists")
        channel.name = str(body.name).strip()
    if body.destinations is not None:
        destinations = await resolve_destinations(session, admin, body.destinations)
        channel.destination_ids = [str(d.id) for d in destinations]
    if body.filter is not None:
        channel.filter = body.filter.model_dump()
    if body.transform is not None:
        channel.transform = [step.raw() for step in body.transform]
    for name in ("enabled", "sources", "ordering", "validation", "on_negative_ack"):
        value = getattr(body, name)
        if value is not None:
            setattr(channel, name, list(value) if name == "sources" else value)
    await _flush_unique(session, channel.name)
    await _audit(session, admin, "hl7.channel.updated", channel, {"changed": sorted(changes)})
    return channel


async def remove(session: AsyncSession, admin: User, channel: Hl7Channel) -> None:
    await _audit(session, admin, "hl7.channel.deleted", channel, {})
    await session.delete(channel)
    await session.flush()


async def list_all(session: AsyncSession) -> list[Hl7Channel]:
    return list(await session.scalars(select(Hl7Channel).order_by(Hl7Channel.name)))


async def _audit(session: AsyncSession, admin: User, action: str, channel: Hl7Channel, extra: dict[str, Any]) -> None:
    await record_audit(
        session,
        action=action,
        actor=admin,
        details={"channel_id": str(channel.id), "name": channel.name, **extra},
    )
