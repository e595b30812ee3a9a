"""`WS /api/v1/chat/ws/{session_id}`: the chat stream and its client frames (see docs/api.md).

Auth by `Authorization: Bearer`, `?token=` or a first `{"type": "auth"}` frame. One writer drains the
connection's subscription; the reader handles frames. Malformed frames get an `error` frame and the
socket stays open; frames over 64 KiB are refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import TypeAdapter, ValidationError
from starlette.websockets import WebSocketState

from backend.context import AppContext
from backend.errors import AppError
from backend.limits.sockets import claim_user_socket
from backend.models.chat import ChatSession
from backend.models.user import User
from backend.platform.rate_limits import RateLimiter
from backend.platform.socket_auth import SocketKeyResult, socket_key_auth, socket_token_auth
from backend.security.principals import ChannelGuard, Refusal

from . import service
from .admission import TurnAdmission
from .agent_port import Decision
from .hub import Frame, StreamHub, Subscription
from .replay import missed_frames
from .schemas import (
    ApprovalFrame,
    AuthFrame,
    EditFrame,
    MessageFrame,
    ResumeFrame,
    SimpleFrame,
)
from .turns import TurnManager, TurnRequest

log = logging.getLogger("switchboard.chat.ws")
router = APIRouter()

MAX_FRAME_BYTES = 64 * 1024
WRITER_BATCH = 64  # frames sent per hold of the send lock (a replay waits at most this long)
AUTH_TIMEOUT_S = 10
CLOSE_UNAUTHENTICATED, CLOSE_FORBIDDEN, CLOSE_NOT_FOUND = 4401, 4403, 4404

_CONNECTION_ONLY = {"connection_established", "pong", "error"}
ClientFrame = ApprovalFrame | EditFrame | ResumeFrame | SimpleFrame | MessageFrame
_client_frame: TypeAdapter[ClientFrame] = TypeAdapter(ClientFrame)


def _bearer(websocket: WebSocket) -> str | None:
    header = websocket.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return websocket.query_params.get("token") or None


async def _authenticate(websocket: WebSocket, app: AppContext) -> SocketKeyResult:
    """The principal, or the close code (4403 for an API key without the `chat` scope or a pending account)."""
    api_key = websocket.headers.get("x-api-key")
    if api_key:  # an API key authenticates as its owner when it holds the `chat` scope
        return await socket_key_auth(app, api_key, "chat")
    token = _bearer(websocket)
    if token is None:
        try:
            raw = await asyncio.wait_for(websocket.receive_text(), AUTH_TIMEOUT_S)
            token = AuthFrame.model_validate_json(raw).token
        except WebSocketDisconnect:  # closed before authenticating: a clean end, nothing to answer
            return SocketKeyResult(None, 0, "")
        except (TimeoutError, ValidationError, ValueError):
            return SocketKeyResult(None, CLOSE_UNAUTHENTICATED, "authentication required")
    return await socket_token_auth(app, token)


class ChatConnection:
    """One socket: a reader of client frames and a writer of hub frames."""

    def __init__(self, websocket: WebSocket, app: AppContext, user: User, session_id: uuid.UUID) -> None:
        self.ws = websocket
        self.app = app
        self.user = user
        self.session_id = session_id
        self.key = str(session_id)
        self.hub: StreamHub = app.extras["hub"]
        self.turns: TurnManager = app.extras["turns"]
        self.subscription: Subscription | None = None
        # Highest seq sent by a replay: live frames up to it were already delivered by that replay.
        self.replayed_seq = 0
        self.send_lock = asyncio.Lock()
        self.guard: ChannelGuard | None = None  # re-checks the principal on every frame (revocation)

    async def refused(self, refusal: Refusal) -> None:
        """The principal lost access (disabled, demoted, deleted, key revoked, token expired): close."""
        async with self.send_lock:
            if self.ws.application_state == WebSocketState.CONNECTED:
                await self.ws.close(code=refusal.code, reason=refusal.reason)

    def key_grant(self) -> tuple[frozenset[str] | None, str | None]:
        """The API key's scopes and id when a key opened the socket (None, None for a person)."""
        principal = self.guard.principal if self.guard else None
        if principal is None or principal.api_key_id is None:
            return None, None
        return principal.scopes, str(principal.api_key_id)

    async def send(self, frame: Frame) -> None:
        async with self.send_lock:
            await self.ws.send_text(frame.text)

    def direct(self, type: str, content: str = "", metadata: dict[str, Any] | None = None) -> None:
        assert self.subscription is not None
        self.hub.send_direct(self.subscription, self.key, type, content, metadata)

    def error(self, code: str, message: str) -> None:
        self.direct("error", message, {"code": code})

    async def replay(self, after_seq: int, buffered: list[Frame] | None = None) -> None:
        if buffered is None:
            stream = self.hub.stream(self.key)
            buffered = list(stream.run.frames) if stream and stream.run else []
            if not buffered and self.turns.relay is not None:  # a turn running on another replica
                buffered = await self.turns.relay.buffered(self.key)
        for frame in await missed_frames(self.app, self.session_id, after_seq, buffered):
            self.replayed_seq = max(self.replayed_seq, frame.seq)
            await self.send(frame)

    async def writer(self) -> None:
        assert self.subscription is not None
        queue = self.subscription.queue
        while True:
            # What is already queued goes out under one lock: a burst of tokens costs one wake-up.
            frames = [await queue.get()]
            while len(frames) < WRITER_BATCH and not queue.empty():
                frames.append(queue.get_nowait())
            async with self.send_lock:
                for frame in frames:
                    if frame is None:  # fell too far behind: let the client reconnect and resume
                        await self.ws.close(code=1013, reason="slow consumer; reconnect with after_seq")
                        return
                    if frame.seq > self.replayed_seq or frame.type in _CONNECTION_ONLY:
                        await self.ws.send_text(frame.text)

    async def start_turn(self, request: TurnRequest) -> None:
        if request.kind != "approval" and not await self.within_chat_limit():
            return
        request.scopes, request.api_key_id = self.key_grant()
        try:
            await self.turns.start(self.user, self.session_id, request)
        except AppError as exc:
            self.error(exc.code, str(exc.detail))

    async def within_chat_limit(self) -> bool:
        """A turn from this socket counts against `RATE_LIMIT_CHAT` like a REST chat POST."""
        limiter: RateLimiter | None = self.app.extras.get("rate_limiter")
        if limiter is None:
            return True
        state = await limiter.hit(limiter.chat, f"chat:{self.user.id}")
        if not state.allowed:
            self.direct(
                "error",
                f"Too many chat turns; retry in {state.retry_after} s.",
                {"code": "rate_limit_exceeded", "retry_after": state.retry_after, "limit": state.limit},
            )
        return state.allowed

    async def start_first_turn(self) -> None:
        """Answer the message the session was created with (another connection may have just done so)."""
        try:
            scopes, key_id = self.key_grant()
            await self.turns.start(
                self.user, self.session_id, TurnRequest(kind="first", scopes=scopes, api_key_id=key_id)
            )
        except AppError as exc:
            if exc.code not in ("run_in_progress", "nothing_to_answer"):
                self.error(exc.code, str(exc.detail))

    async def handle(self, raw: str) -> None:
        if self.guard is not None and not await self.guard.check():
            return  # the socket is being closed with 4401/4403
        if len(raw.encode()) > MAX_FRAME_BYTES:
            self.error("frame_too_large", f"Frames are limited to {MAX_FRAME_BYTES // 1024} KiB.")
            return
        try:
            data = json.loads(raw)
            if isinstance(data, dict) and "type" not in data and "message" in data:
                data = {**data, "type": "message"}  # a bare {"message": ...} is accepted
            frame = _client_frame.validate_python(data)
        except (ValueError, ValidationError) as exc:
            detail = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else "not valid JSON"
            self.error("invalid_frame", f"Malformed frame: {detail}")
            return
        if isinstance(frame, MessageFrame):
            await self.start_turn(TurnRequest(kind="message", message=frame.message, metadata=frame.metadata))
        elif isinstance(frame, EditFrame):
            await self.start_turn(TurnRequest(kind="edit", message=frame.message, edit_message_id=frame.message_id))
        elif isinstance(frame, ApprovalFrame):
            decision = Decision(frame.tool_call_id, frame.decision, frame.args, frame.reason)
            await self.start_turn(TurnRequest(kind="approval", decision=decision))
        elif isinstance(frame, ResumeFrame):
            await self.replay(frame.after_seq)
        elif frame.type == "cancel":
            if not await self.turns.cancel(self.user, self.session_id):
                self.error("no_run_in_progress", "Nothing is running in this session.")
        elif frame.type == "regenerate":
            await self.start_turn(TurnRequest(kind="regenerate"))
        elif frame.type == "ping":
            self.direct("pong")

    async def reader(self) -> None:
        while True:
            message = await self.ws.receive()
            if message["type"] == "websocket.disconnect":
                return
            text = message.get("text")
            if text is None and message.get("bytes") is not None:
                raw_bytes: bytes = message["bytes"]
                if len(raw_bytes) > MAX_FRAME_BYTES:
                    self.error("frame_too_large", f"Frames are limited to {MAX_FRAME_BYTES // 1024} KiB.")
                    continue
                text = raw_bytes.decode("utf-8", errors="replace")
            await self.handle(text or "")


@router.websocket("/chat/ws/{session_id}")
async def chat_socket(websocket: WebSocket, session_id: str) -> None:
    app: AppContext = websocket.app.state.ctx
    admission: TurnAdmission = app.extras["turns"].admission
    await websocket.accept()
    # Set-up work takes a slot (first tokens before more tokens: see admission.py), but never while
    # waiting for a client's auth frame.
    presented = websocket.headers.get("x-api-key") or _bearer(websocket)
    async with admission.setup_slot() if presented else contextlib.nullcontext():
        auth = await _authenticate(websocket, app)
    if auth.principal is None and websocket.client_state == WebSocketState.DISCONNECTED:
        return
    if auth.principal is None:
        await websocket.close(code=auth.close_code or CLOSE_UNAUTHENTICATED, reason=auth.reason)
        return
    user = auth.principal.user
    if not await claim_user_socket(websocket, user.id):
        return  # closed 4409: this user has too many sockets open
    try:
        parsed_id = uuid.UUID(session_id)
    except ValueError:
        await websocket.close(code=CLOSE_NOT_FOUND, reason="unknown session")
        return
    async with admission.setup_slot(), app.db.session() as session:  # one short transaction for all it reads
        chat = await session.get(ChatSession, parsed_id)
        unanswered = chat is not None and chat.user_id == user.id and await service.first_unanswered(session, chat)
    if chat is None:
        await websocket.close(code=CLOSE_NOT_FOUND, reason="unknown session")
        return
    if chat.user_id != user.id:
        await websocket.close(code=CLOSE_FORBIDDEN, reason="not your session")
        return

    connection = ChatConnection(websocket, app, user, parsed_id)
    connection.guard = ChannelGuard(app, auth.principal, connection.refused)
    connection.guard.start()
    hub = connection.hub
    stream = hub.ensure(connection.key, chat.next_seq)
    stream.next_seq = max(stream.next_seq, chat.next_seq)
    subscription, buffered = hub.subscribe(connection.key, chat.next_seq)
    connection.subscription = subscription
    relay = connection.turns.relay
    if relay is not None:  # live frames and the buffer of a turn running on another replica
        buffered.extend(await relay.follow(connection.key))
    closing = hub.running(connection.key)
    if closing is not None and closing.closing:
        await closing.done.wait()  # a finished turn being stored: replay it from the database instead
        buffered = []
    writer: asyncio.Task[None] | None = None
    try:
        # connection_established first, then what was missed, then live frames (the writer).
        established = hub.direct_frame(
            connection.key, "connection_established", "connected", {"session_id": connection.key}
        )
        # The first turn is scheduled before the client can see `connection_established`: it claims the
        # session first, so a status read prompted by that frame already says `running`. Its frames
        # queue on the subscription behind connection_established and the replay.
        first_turn = None
        if unanswered and hub.running(connection.key) is None:
            first_turn = asyncio.create_task(connection.start_first_turn(), name=f"first-turn-{connection.key}")
        await connection.send(established)
        after = websocket.query_params.get("after_seq")
        if after is not None and after.isdigit():
            await connection.replay(int(after), buffered)
        writer = asyncio.create_task(connection.writer())
        if first_turn is not None:
            await first_turn
        await connection.reader()
    except WebSocketDisconnect:
        pass
    except RuntimeError as exc:  # sending on a socket the client already closed
        log.debug("socket closed: %s", exc)
    finally:
        connection.guard.stop()
        hub.unsubscribe(connection.key, subscription)
        if relay is not None:
            relay.unfollow(connection.key)
        if writer is not None:
            writer.cancel()
        # Not after the client closed: closing then raises WebSocketDisconnect (a traceback in the log).
        if websocket.application_state == websocket.client_state == WebSocketState.CONNECTED:
            try:
                await websocket.close()
            except (RuntimeError, WebSocketDisconnect):
                pass
