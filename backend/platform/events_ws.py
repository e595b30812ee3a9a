"""`WS /api/v1/events/ws`: live platform events for the signed-in user (JWT, or an API key with `events`).

Auth: `Authorization: Bearer <jwt>` / `?token=<jwt>`, an `X-API-Key` header, or a first frame
`{"action": "auth", "token": "..."}` / `{"action": "auth", "api_key": "sb_..."}`. Failure closes with
4401 (4403 for a key without the `events` scope).

Client frames: `{"action": "subscribe", "events": ["hl7.*", ...]}`, `{"action": "unsubscribe",
"events": [...]}`, `{"action": "ping"}`. Every server frame is `{event, timestamp, data}`: the platform
events, plus the control frames `connection.established`, `subscribed`, `pong` and `error`
(`data: {code, detail}`). A client receives only events about resources it may see.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any, Literal

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import BaseModel, Field, ValidationError
from starlette.websockets import WebSocketState

from backend.context import AppContext
from backend.limits.sockets import claim_user_socket
from backend.security.principals import ChannelGuard, Refusal

from .catalog import pattern_problem
from .events import EventBus, EventSubscription, now_iso
from .socket_auth import SocketKeyResult, socket_key_auth, socket_token_auth

log = logging.getLogger("switchboard.platform.events_ws")
router = APIRouter()

AUTH_TIMEOUT_S = 10
MAX_FRAME_BYTES = 16 * 1024
MAX_PATTERNS = 50


class SubscriptionFrame(BaseModel):
    action: Literal["subscribe", "unsubscribe"]
    events: list[str] = Field(min_length=1, max_length=MAX_PATTERNS)


class AuthFrame(BaseModel):
    action: Literal["auth"]
    token: str | None = Field(default=None, max_length=4096)
    api_key: str | None = Field(default=None, max_length=200)


def control(event: str, data: dict[str, Any]) -> str:
    return json.dumps({"event": event, "timestamp": now_iso(), "data": data})


async def _authenticate(websocket: WebSocket, app: AppContext) -> SocketKeyResult:
    header = websocket.headers.get("authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else websocket.query_params.get("token")
    api_key = websocket.headers.get("x-api-key")
    if not token and not api_key:
        try:
            frame = AuthFrame.model_validate_json(await asyncio.wait_for(websocket.receive_text(), AUTH_TIMEOUT_S))
        except WebSocketDisconnect:  # the client left before authenticating: nothing to answer
            return SocketKeyResult(None, 0, "")
        except (TimeoutError, ValidationError, ValueError, KeyError):
            return SocketKeyResult(None, 4401, "authentication required")
        token, api_key = frame.token, frame.api_key
    if api_key:
        return await socket_key_auth(app, api_key, "events")
    return await socket_token_auth(app, token or "")


async def _writer(
    websocket: WebSocket, subscription: EventSubscription, lock: asyncio.Lock, guard: ChannelGuard
) -> None:
    while True:
        envelope = await subscription.queue.get()
        if envelope is None:
            await websocket.close(code=1013, reason="slow consumer; reconnect")
            return
        # The audience was checked when the event was queued; a demotion or a disable since then
        # must not let it out (the guard closes the socket instead).
        if not await guard.check():
            return
        async with lock:
            await websocket.send_text(json.dumps(envelope.frame(), default=str))


def _handle(raw: str, subscription: EventSubscription) -> str:
    """Apply one client frame; return the reply frame."""
    if len(raw.encode()) > MAX_FRAME_BYTES:
        return control("error", {"code": "frame_too_large", "detail": "Frames are limited to 16 KiB."})
    try:
        data = json.loads(raw)
    except ValueError:
        return control("error", {"code": "invalid_frame", "detail": "Malformed frame: not valid JSON"})
    if isinstance(data, dict) and data.get("action") == "ping":
        return control("pong", {})
    try:
        frame = SubscriptionFrame.model_validate(data)
    except ValidationError as exc:
        return control("error", {"code": "invalid_frame", "detail": f"Malformed frame: {exc.errors()[0]['msg']}"})
    problems = [p for p in (pattern_problem(e) for e in frame.events) if p]
    if problems:
        return control("error", {"code": "unknown_event", "detail": problems[0]})
    if frame.action == "subscribe":
        if len(subscription.patterns | set(frame.events)) > MAX_PATTERNS:
            return control("error", {"code": "too_many_patterns", "detail": f"At most {MAX_PATTERNS} patterns."})
        subscription.patterns.update(frame.events)
    else:
        subscription.patterns.difference_update(frame.events)
    return control("subscribed", {"events": sorted(subscription.patterns)})


async def _close(websocket: WebSocket, code: int = 1000, reason: str | None = None) -> None:
    """Close our side unless the client already did (closing then raises, and used to log a traceback)."""
    if WebSocketState.DISCONNECTED in (websocket.client_state, websocket.application_state):
        return
    with contextlib.suppress(RuntimeError, OSError, WebSocketDisconnect):  # the client left meanwhile
        await websocket.close(code=code, reason=reason)


@router.websocket("/events/ws")
async def events_socket(websocket: WebSocket) -> None:
    app: AppContext = websocket.app.state.ctx
    await websocket.accept()
    auth = await _authenticate(websocket, app)
    if auth.principal is None:
        await _close(websocket, code=auth.close_code or 4401, reason=auth.reason or "authentication required")
        return
    user = auth.principal.user
    if not await claim_user_socket(websocket, user.id):
        return  # closed 4409: this user has too many sockets open
    bus: EventBus = app.extras["event_bus"]
    subscription = bus.subscribe(str(user.id), user.is_admin)
    lock = asyncio.Lock()

    async def refused(refusal: Refusal) -> None:
        subscription.is_admin = False  # nothing admin-only is queued meanwhile
        async with lock:
            if websocket.application_state == WebSocketState.CONNECTED:
                await websocket.close(code=refusal.code, reason=refusal.reason)

    guard = ChannelGuard(app, auth.principal, refused)
    guard.start()
    writer: asyncio.Task[None] | None = None
    try:
        await websocket.send_text(control("connection.established", {"user_id": str(user.id)}))
        writer = asyncio.create_task(_writer(websocket, subscription, lock, guard))
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            if not await guard.check():
                return
            text = message.get("text")
            if text is None and message.get("bytes") is not None:
                text = bytes(message["bytes"]).decode("utf-8", errors="replace")
            reply = _handle(text or "", subscription)
            async with lock:
                await websocket.send_text(reply)
    except WebSocketDisconnect:
        pass
    except (RuntimeError, OSError) as exc:  # sending on a socket the client already closed (uvicorn: OSError)
        log.debug("events socket closed: %s", exc)
    finally:
        guard.stop()
        bus.unsubscribe(subscription)
        if writer is not None:
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await writer
        await _close(websocket)
