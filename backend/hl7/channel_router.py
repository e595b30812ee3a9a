"""`/api/v1/hl7/channels`: the engine's channels, managed by admins (every change audited)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response, status

from backend.deps import AdminUser, ContextDep, SessionDep

from . import channel_service, queues
from .channel_schemas import ChannelIn, ChannelOut, ChannelPatch
from .queues import QueueOut
from .stats import TrafficStats, traffic

router = APIRouter(prefix="/hl7/channels", tags=["hl7"])


def _changed(ctx: Any) -> None:
    engine = ctx.extras.get("hl7_engine")
    if engine is not None:
        engine.channels.invalidate()


@router.get("", response_model=list[ChannelOut])
async def list_channels(_: AdminUser, session: SessionDep) -> list[ChannelOut]:
    """Every channel, by name."""
    return [await channel_service.channel_out(session, c) for c in await channel_service.list_all(session)]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ChannelOut)
async def create_channel(body: ChannelIn, admin: AdminUser, session: SessionDep, ctx: ContextDep) -> ChannelOut:
    """A new channel (defaults: enabled, fifo, validation off, AE retried)."""
    channel = await channel_service.create(session, admin, body)
    await session.commit()
    _changed(ctx)
    return await channel_service.channel_out(session, channel)


@router.get("/{channel_id}", response_model=ChannelOut)
async def get_channel(channel_id: uuid.UUID, _: AdminUser, session: SessionDep) -> ChannelOut:
    return await channel_service.channel_out(session, await channel_service.get(session, channel_id))


@router.patch("/{channel_id}", response_model=ChannelOut)
async def update_channel(
    channel_id: uuid.UUID, body: ChannelPatch, admin: AdminUser, session: SessionDep, ctx: ContextDep
) -> ChannelOut:
    """Change any fields (e.g. `{"enabled": false}`); the rest stay."""
    channel = await channel_service.update(session, admin, await channel_service.get(session, channel_id), body)
    await session.commit()
    _changed(ctx)
    return await channel_service.channel_out(session, channel)


@router.delete("/{channel_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_channel(channel_id: uuid.UUID, admin: AdminUser, session: SessionDep, ctx: ContextDep) -> Response:
    """Remove the channel; messages it routed keep their deliveries (their channel shows as gone)."""
    await channel_service.remove(session, admin, await channel_service.get(session, channel_id))
    await session.commit()
    _changed(ctx)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


queues_router = APIRouter(prefix="/hl7/queues", tags=["hl7"])


@queues_router.get("", response_model=list[QueueOut])
async def list_queues(_: AdminUser, session: SessionDep) -> list[QueueOut]:
    """Every destination's FIFO queue: depth, oldest age, the head and why it waits."""
    return await queues.queue_views(session)


@queues_router.post("/{integration_id}/{action}", response_model=QueueOut)
async def queue_action(
    integration_id: uuid.UUID,
    action: Literal["retry-now", "skip-head", "pause", "resume"],
    admin: AdminUser,
    session: SessionDep,
    ctx: ContextDep,
) -> QueueOut:
    """Retry the head now, skip it (it ends `skipped`), pause or resume the queue. Audited."""
    await queues.act(session, admin, integration_id, action)
    await session.commit()
    worker = ctx.extras.get("hl7_outbox")
    if worker is not None:
        worker.wake()
    return (await queues.queue_views(session, [integration_id]))[0]


stats_router = APIRouter(prefix="/hl7/stats", tags=["hl7"])


@stats_router.get("", response_model=TrafficStats)
async def traffic_stats(
    _: AdminUser, session: SessionDep, minutes: Annotated[int, Query(ge=1, le=24 * 60)] = 60
) -> TrafficStats:
    """Messages per minute and destinations' ACK codes per minute (each destination's latest outcome)."""
    return await traffic(session, minutes)
