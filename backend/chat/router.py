"""`/api/v1/chat/sessions`: sessions, messages, regenerate, edit, export, replay (REST and SSE)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query, Response, status
from fastapi.responses import JSONResponse, PlainTextResponse
from sqlalchemy import func, select
from sse_starlette import EventSourceResponse

from backend.deps import ContextDep, CurrentUser, Principal, PrincipalDep, SessionDep
from backend.errors import AppError
from backend.models.chat import ChatMessage, ChatSession
from backend.pagination import Page, PageDep

from . import service
from .deps import HubDep, TurnsDep
from .replay import missed_frames
from .schemas import MessageIn, MessageOut, SessionCreated, SessionOut, SessionUpdate
from .sse import stream_turn_events
from .turns import TurnRequest, latest_assistant_message

router = APIRouter(prefix="/chat", tags=["chat"])


@router.post("/sessions", status_code=status.HTTP_201_CREATED, response_model=SessionCreated)
async def create_session(body: MessageIn, user: CurrentUser, session: SessionDep) -> SessionCreated:
    """Start a session with its first message; the first stream opened for it answers that message."""
    chat, first = await service.create_session(session, user, body.message, body.metadata)
    return SessionCreated(
        session_id=chat.id, message_id=first.id, content=first.content, metadata={"session_title": chat.title}
    )


@router.get("/sessions", response_model=Page[SessionOut])
async def list_sessions(
    user: CurrentUser,
    session: SessionDep,
    params: PageDep,
    q: Annotated[str | None, Query(max_length=200)] = None,
) -> Any:
    """The caller's sessions, most recent activity first; `q` searches titles and messages."""
    items, total = await service.list_sessions(session, user, q=q, offset=params.offset, limit=params.size)
    return Page[SessionOut].build(items, total, params)


@router.get("/sessions/{session_id}", response_model=SessionOut)
async def get_session(session_id: uuid.UUID, user: CurrentUser, session: SessionDep, hub: HubDep) -> SessionOut:
    chat = await service.get_owned(session, user.id, session_id)
    active = [m for m in await service.active_messages(session, chat.id) if m.role != "tool"]
    out = service.session_out(chat, len(active), active[-1].content if active else None)
    if hub.busy(str(session_id)):  # started here, its `running` row still on its way (start_writes.py)
        out.status = "running"
    return out


@router.patch("/sessions/{session_id}", response_model=SessionOut)
async def rename_session(
    session_id: uuid.UUID, body: SessionUpdate, user: CurrentUser, session: SessionDep
) -> SessionOut:
    chat = await service.get_owned(session, user.id, session_id)
    chat.title = body.title.strip()
    await session.flush()
    active = [m for m in await service.active_messages(session, chat.id) if m.role != "tool"]
    return service.session_out(chat, len(active), active[-1].content if active else None)


@router.delete("/sessions/{session_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_session(session_id: uuid.UUID, user: CurrentUser, session: SessionDep, turns: TurnsDep) -> None:
    chat = await service.get_owned(session, user.id, session_id)
    await turns.cancel(user, session_id)
    await session.delete(chat)


@router.get("/sessions/{session_id}/messages", response_model=Page[MessageOut])
async def list_messages(
    session_id: uuid.UUID,
    user: CurrentUser,
    session: SessionDep,
    params: PageDep,
    include_superseded: bool = False,
) -> Any:
    """Messages in order; superseded ones (replaced by an edit or regenerate) on request."""
    chat = await service.get_owned(session, user.id, session_id)
    query = select(ChatMessage).where(ChatMessage.session_id == chat.id)
    if not include_superseded:
        query = query.where(ChatMessage.superseded.is_(False))
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.scalars(query.order_by(ChatMessage.position).offset(params.offset).limit(params.size))
    return Page[MessageOut].build([service.message_out(m) for m in rows], int(total), params)


def _key_id(principal: Principal) -> str | None:
    return str(principal.api_key_id) if principal.api_key_id else None


async def _blocking(
    turns: TurnsDep, ctx: ContextDep, principal: Principal, session_id: uuid.UUID, request: TurnRequest
) -> MessageOut:
    user = principal.user
    # An API key's turn gets only the tools its scopes allow, and stops when the key is revoked.
    request.scopes, request.api_key_id = principal.scopes, _key_id(principal)
    if request.kind == "message" and await turns.has_unanswered_first_message(session_id):
        first = await turns.start(
            user, session_id, TurnRequest(kind="first", scopes=principal.scopes, api_key_id=_key_id(principal))
        )  # the contract: answer it here
        await first.done.wait()
    run = await turns.start(user, session_id, request)
    await run.done.wait()
    message = await latest_assistant_message(ctx, session_id)
    if message is None or message.run_id != run.run_id:
        raise AppError(
            "The turn is waiting for an approval; answer it over the WebSocket or SSE stream",
            code="approval_required",
            status_code=409,
        )
    return service.message_out(message)


@router.post("/sessions/{session_id}/messages", response_model=MessageOut)
async def send_message(
    session_id: uuid.UUID, body: MessageIn, _: CurrentUser, principal: PrincipalDep, turns: TurnsDep, ctx: ContextDep
) -> MessageOut:
    """Send a message and wait for the assistant's final answer (blocking)."""
    return await _blocking(
        turns,
        ctx,
        principal,
        session_id,
        TurnRequest(kind="message", message=body.message, metadata=body.metadata),
    )


@router.post(
    "/sessions/{session_id}/messages/stream",
    response_class=EventSourceResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def stream_message(
    session_id: uuid.UUID,
    body: MessageIn,
    _: CurrentUser,
    principal: PrincipalDep,
    turns: TurnsDep,
    hub: HubDep,
    ctx: ContextDep,
) -> EventSourceResponse:
    """Send a message and receive the turn as server-sent events (`id: seq`, `event: type`)."""
    return await stream_turn_events(
        ctx,
        hub,
        turns,
        principal,
        session_id,
        TurnRequest(
            kind="message",
            message=body.message,
            metadata=body.metadata,
            scopes=principal.scopes,
            api_key_id=_key_id(principal),
        ),
    )


@router.get(
    "/sessions/{session_id}/stream",
    response_class=EventSourceResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def observe_stream(
    session_id: uuid.UUID,
    user: CurrentUser,
    principal: PrincipalDep,
    turns: TurnsDep,
    hub: HubDep,
    ctx: ContextDep,
    session: SessionDep,
    after_seq: Annotated[int | None, Query(ge=0)] = None,
    last_event_id: Annotated[str | None, Header(max_length=20)] = None,
) -> EventSourceResponse:
    """Follow the session over SSE: replays after `Last-Event-ID`/`after_seq`, answers an unanswered
    first message, then streams until the current turn ends."""
    await service.get_owned(session, user.id, session_id)
    unanswered = await turns.has_unanswered_first_message(session_id)
    request = TurnRequest(kind="first", scopes=principal.scopes, api_key_id=_key_id(principal)) if unanswered else None
    return await stream_turn_events(
        ctx, hub, turns, principal, session_id, request, after_seq=after_seq, last_event_id=last_event_id
    )


@router.post("/sessions/{session_id}/regenerate", response_model=MessageOut)
async def regenerate(
    session_id: uuid.UUID, _: CurrentUser, principal: PrincipalDep, turns: TurnsDep, ctx: ContextDep
) -> MessageOut:
    """Answer the last user message again; the previous answer is kept (superseded)."""
    return await _blocking(turns, ctx, principal, session_id, TurnRequest(kind="regenerate"))


@router.put("/sessions/{session_id}/messages/{message_id}", response_model=MessageOut)
async def edit_message(
    session_id: uuid.UUID,
    message_id: uuid.UUID,
    body: MessageIn,
    _: CurrentUser,
    principal: PrincipalDep,
    turns: TurnsDep,
    ctx: ContextDep,
) -> MessageOut:
    """Edit a user message and re-run from there; later messages are superseded, not destroyed."""
    return await _blocking(
        turns,
        ctx,
        principal,
        session_id,
        TurnRequest(kind="edit", message=body.message, edit_message_id=message_id),
    )


@router.get("/sessions/{session_id}/events")
async def list_events(
    session_id: uuid.UUID,
    user: CurrentUser,
    session: SessionDep,
    hub: HubDep,
    turns: TurnsDep,
    ctx: ContextDep,
    after_seq: Annotated[int, Query(ge=0)] = 0,
) -> JSONResponse:
    """The frames after `after_seq` as JSON (finished turns with tokens folded into `final`)."""
    await service.get_owned(session, user.id, session_id)
    stream = hub.stream(str(session_id))
    buffered = list(stream.run.frames) if stream and stream.run else []
    if not buffered and turns.relay is not None:  # a turn running on another replica
        buffered = await turns.relay.buffered(str(session_id))
    frames = await missed_frames(ctx, session_id, after_seq, buffered)
    return JSONResponse([f.data for f in frames])


@router.get("/sessions/{session_id}/export", response_model=None)
async def export_session(
    session_id: uuid.UUID,
    user: CurrentUser,
    session: SessionDep,
    format: Literal["markdown", "json"] = "markdown",
) -> Response:
    """Download the conversation as Markdown or JSON."""
    chat: ChatSession = await service.get_owned(session, user.id, session_id)
    messages = await service.active_messages(session, chat.id)
    filename = f"switchboard-chat-{chat.id}"
    if format == "json":
        return JSONResponse(
            service.export_json(chat, messages),
            headers={"Content-Disposition": f'attachment; filename="{filename}.json"'},
        )
    return PlainTextResponse(
        service.export_markdown(chat, messages),
        media_type="text/markdown",
        headers={"Content-Disposition": f'attachment; filename="{filename}.md"'},
    )
