"""`/api/v1/messages` (routing engine) and `/api/v1/hl7/explain`."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, Field

from backend.deps import ContextDep, CurrentUser, SessionDep
from backend.errors import AppError
from backend.pagination import Page, PageDep, paginate

from . import service
from .channel_service import resolve_destinations
from .engine import Hl7Engine, InvalidHl7
from .replay import MAX_REPLAY, replay
from .schemas import (
    Accepted,
    BatchAccepted,
    BatchItem,
    ExplainRequest,
    MessageOut,
    MessageSummaryOut,
    SubmitBatch,
    SubmitMessage,
)
from .transport import explain_message

router = APIRouter(tags=["hl7"])


def engine_of(ctx: Any) -> Hl7Engine:
    engine: Hl7Engine = ctx.extras["hl7_engine"]
    return engine


@router.post(
    "/messages",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Accepted,
    responses={400: {"description": "Invalid HL7 (or refused by a channel's validation): the located problems"}},
)
async def submit_message(body: SubmitMessage, user: CurrentUser, session: SessionDep, ctx: ContextDep) -> Accepted:
    """Accept an HL7 v2 message: to `metadata.destination` when given, else through the matching channels.

    Committed before the 202; `status: "filtered"` when no channel takes it (kept, searchable, replayable)."""
    names = body.metadata.destination
    explicit = await resolve_destinations(session, user, names) if names else None
    await session.commit()  # hand the connection back: the group commit writes on its own
    routed = await engine_of(ctx).submit(user, body.message, source=body.metadata.source, explicit=explicit)
    return Accepted(
        message_id=routed.message_id,
        status="filtered" if routed.status == "filtered" else "accepted",
        timestamp=routed.timestamp,
        channels=routed.channels,
        destinations=routed.destinations,
    )


@router.post("/messages/batch", status_code=status.HTTP_202_ACCEPTED, response_model=BatchAccepted)
async def submit_batch(body: SubmitBatch, user: CurrentUser, session: SessionDep, ctx: ContextDep) -> BatchAccepted:
    """Up to 1,000 messages in one request, one answer each (in order): a bad one is `rejected` with its
    problems and does not stop the others. All accepted ones are committed before the 202."""
    engine = engine_of(ctx)
    results: list[BatchItem] = []
    pending = []
    cache: dict[tuple[str, ...], Any] = {}
    for index, item in enumerate(body.messages):
        try:
            names = item.metadata.destination
            explicit = None
            if names:
                key = tuple(names)
                if key not in cache:
                    cache[key] = await resolve_destinations(session, user, names)
                explicit = cache[key]
            inspection = engine.check(item.message)
            routes, verdict = await engine.plan_api(inspection, explicit)
            if verdict.rejected:
                raise InvalidHl7([p for p in verdict.problems if p["severity"] == "error"])
        except AppError as exc:
            results.append(BatchItem(index=index, status="rejected", code=exc.code, problems=exc.detail))
            continue
        rows, routed = engine.pending_api(
            user, inspection, source=item.metadata.source, routes=routes, explicit=explicit, verdict=verdict
        )
        pending.append(rows)
        results.append(
            BatchItem(
                index=index,
                message_id=routed.message_id,
                status="filtered" if routed.status == "filtered" else "accepted",
                timestamp=routed.timestamp,
                channels=routed.channels,
                destinations=routed.destinations,
            )
        )
    await session.commit()  # hand the connection back: the group commit writes on its own
    await asyncio.gather(*(engine.writer.write(p) for p in pending))
    return BatchAccepted(
        accepted=sum(r.status == "accepted" for r in results),
        filtered=sum(r.status == "filtered" for r in results),
        rejected=sum(r.status == "rejected" for r in results),
        results=results,
    )


@router.get("/messages", response_model=Page[MessageSummaryOut])
async def list_messages(
    user: CurrentUser,
    session: SessionDep,
    params: PageDep,
    status_filter: Annotated[str | None, Query(alias="status", max_length=32)] = None,
    message_type: Annotated[str | None, Query(max_length=16, description="ADT or ADT^A01")] = None,
    patient_id: Annotated[str | None, Query(max_length=128, description="PID-3 (MRN)")] = None,
    mrn: Annotated[str | None, Query(max_length=128, description="the same as patient_id")] = None,
    direction: Literal["inbound", "outbound"] | None = None,
    control_id: Annotated[str | None, Query(max_length=64)] = None,
    channel: Annotated[str | None, Query(max_length=100, description="channel name or id")] = None,
    destination: Annotated[str | None, Query(max_length=100, description="destination (integration) name")] = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Any:
    """Stored messages, newest first, with filters."""
    query = service.filtered(
        user,
        status=status_filter,
        message_type=message_type,
        patient_id=patient_id or mrn,
        direction=direction,
        since=since,
        until=until,
        control_id=control_id,
        channel=channel,
        destination=destination,
    )
    items, total = await paginate(session, query, params)
    return Page[MessageSummaryOut].build([service.summary_out(m) for m in items], total, params)


@router.get("/messages/{message_id}", response_model=MessageOut)
async def get_message(message_id: uuid.UUID, user: CurrentUser, session: SessionDep) -> MessageOut:
    """A message with its channels and the state of each destination."""
    message = await service.get_visible(session, user, message_id)
    rows = await service.deliveries(session, message.id)
    return service.message_out(message, rows, await service.channel_names(session, rows))


class ReplayBody(BaseModel):
    destination: list[str] | None = Field(
        default=None, min_length=1, max_length=20, description="send here instead of the message's own destinations"
    )


class ReplayFilter(ReplayBody):
    """Replay every message matching these filters (as `GET /messages` takes them), at most `limit`."""

    status: str | None = Field(default=None, max_length=32)
    message_type: str | None = Field(default=None, max_length=16)
    patient_id: str | None = Field(default=None, max_length=128)
    direction: Literal["inbound", "outbound"] | None = None
    control_id: str | None = Field(default=None, max_length=64)
    channel: str | None = Field(default=None, max_length=100)
    destination_filter: str | None = Field(default=None, max_length=100, description="messages that went here")
    since: datetime | None = None
    until: datetime | None = None
    limit: int = Field(default=100, ge=1, le=MAX_REPLAY)


class ReplayResult(BaseModel):
    replayed: int
    message_ids: list[str]
    skipped: list[dict[str, str]]


@router.post("/messages/{message_id}/replay", status_code=status.HTTP_202_ACCEPTED, response_model=Accepted)
async def replay_message(
    message_id: uuid.UUID,
    user: CurrentUser,
    session: SessionDep,
    ctx: ContextDep,
    body: ReplayBody | None = None,
) -> Accepted:
    """Send the message again: to `destination` when given, else to its destinations, else through the
    channels (a `filtered` message). Audited."""
    message = await service.get_visible(session, user, message_id)
    explicit = await resolve_destinations(session, user, body.destination) if body and body.destination else None
    result = await replay(ctx, session, user, [message], destinations=explicit, channels=engine_of(ctx).channels)
    if not result["replayed"]:
        raise AppError(result["skipped"][0]["reason"], code="not_replayable", status_code=409)
    await session.commit()
    _wake(ctx)
    rows = await service.deliveries(session, message.id)
    return Accepted(
        message_id=message.id,
        timestamp=datetime.now(message.received_at.tzinfo),
        destinations=sorted({d.system for d in rows if d.status == "queued"}),
    )


@router.post("/messages/replay", status_code=status.HTTP_202_ACCEPTED, response_model=ReplayResult)
async def replay_messages(body: ReplayFilter, user: CurrentUser, session: SessionDep, ctx: ContextDep) -> Any:
    """Replay a filtered set (oldest first, so FIFO queues keep their order). Audited."""
    query = service.filtered(
        user,
        status=body.status,
        message_type=body.message_type,
        patient_id=body.patient_id,
        direction=body.direction,
        since=body.since,
        until=body.until,
        control_id=body.control_id,
        channel=body.channel,
        destination=body.destination_filter,
        oldest_first=True,
    ).limit(body.limit)
    messages = list(await session.scalars(query))
    if not messages:
        return ReplayResult(replayed=0, message_ids=[], skipped=[])
    explicit = await resolve_destinations(session, user, body.destination) if body.destination else None
    result = await replay(ctx, session, user, messages, destinations=explicit, channels=engine_of(ctx).channels)
    await session.commit()
    _wake(ctx)
    return result


def _wake(ctx: Any) -> None:
    worker = ctx.extras.get("hl7_outbox")
    if worker is not None:
        worker.wake()


@router.post("/hl7/explain")
async def explain(body: ExplainRequest, _: CurrentUser) -> dict[str, Any]:
    """Parse, validate and explain a message: segments, named fields, problems."""
    return await explain_message(body.message)
