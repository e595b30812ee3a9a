"""`/api/v1/messages` (routing engine) and `/api/v1/hl7/explain`."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, status

from backend.deps import ContextDep, CurrentUser, SessionDep
from backend.pagination import Page, PageDep, paginate

from . import service
from .schemas import Accepted, ExplainRequest, MessageOut, MessageSummaryOut, SubmitMessage
from .transport import explain_message

router = APIRouter(tags=["hl7"])


@router.post(
    "/messages",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Accepted,
    responses={400: {"description": "Invalid HL7: the validation problems, with locations"}},
)
async def submit_message(body: SubmitMessage, user: CurrentUser, session: SessionDep, ctx: ContextDep) -> Accepted:
    """Accept an HL7 v2 message for delivery to one or more HL7 integrations (asynchronous)."""
    message = await service.submit(session, user, body)
    await session.commit()  # durable before we say "accepted" and before the worker looks
    worker = ctx.extras.get("hl7_outbox")
    if worker is not None:
        worker.wake()
    return Accepted(message_id=message.id, timestamp=message.received_at)


@router.get("/messages", response_model=Page[MessageSummaryOut])
async def list_messages(
    user: CurrentUser,
    session: SessionDep,
    params: PageDep,
    status_filter: Annotated[str | None, Query(alias="status", max_length=32)] = None,
    message_type: Annotated[str | None, Query(max_length=16, description="ADT or ADT^A01")] = None,
    patient_id: Annotated[str | None, Query(max_length=128)] = None,
    direction: Literal["inbound", "outbound"] | None = None,
    control_id: Annotated[str | None, Query(max_length=64)] = None,
    since: datetime | None = None,
) -> Any:
    """Stored messages, newest first, with filters."""
    query = service.filtered(
        user,
        status=status_filter,
        message_type=message_type,
        patient_id=patient_id,
        direction=direction,
        since=since,
        control_id=control_id,
    )
    items, total = await paginate(session, query, params)
    return Page[MessageSummaryOut].build([service.summary_out(m) for m in items], total, params)


@router.get("/messages/{message_id}", response_model=MessageOut)
async def get_message(message_id: uuid.UUID, user: CurrentUser, session: SessionDep) -> MessageOut:
    """A message with the state of each destination."""
    message = await service.get_visible(session, user, message_id)
    return service.message_out(message, await service.deliveries(session, message.id))


@router.post("/messages/{message_id}/replay", status_code=status.HTTP_202_ACCEPTED, response_model=Accepted)
async def replay_message(message_id: uuid.UUID, user: CurrentUser, session: SessionDep, ctx: ContextDep) -> Accepted:
    """Send the message to all its destinations again (audited)."""
    message = await service.get_visible(session, user, message_id)
    await service.replay(session, user, message)
    await session.commit()
    worker = ctx.extras.get("hl7_outbox")
    if worker is not None:
        worker.wake()
    return Accepted(message_id=message.id, timestamp=datetime.now(UTC))


@router.post("/hl7/explain")
async def explain(body: ExplainRequest, _: CurrentUser) -> dict[str, Any]:
    """Parse, validate and explain a message: segments, named fields, problems."""
    return await explain_message(body.message)
