"""Server-sent events carrying the same frames as the WebSocket (`id: seq`, `event: type`)."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator

from sse_starlette import EventSourceResponse, ServerSentEvent

from backend.context import AppContext
from backend.deps import Principal
from backend.security.principals import ChannelGuard, Refusal, channel_principal

from .hub import Frame, StreamHub, now_iso
from .replay import missed_frames
from .turns import TurnManager, TurnRequest

_TURN_END = {"final"}


async def stream_turn_events(
    app: AppContext,
    hub: StreamHub,
    turns: TurnManager,
    principal: Principal,
    session_id: uuid.UUID,
    request: TurnRequest | None,
    *,
    after_seq: int | None = None,
    last_event_id: str | None = None,
) -> EventSourceResponse:
    """Subscribe first (so nothing is missed), start the turn if asked, replay, then follow live."""
    user = principal.user
    key = str(session_id)
    if after_seq is None and last_event_id and last_event_id.isdigit():
        after_seq = int(last_event_id)
    subscription, buffered = hub.subscribe(key, next_seq=1)
    try:
        run = await turns.start(user, session_id, request) if request is not None else hub.running(key)
        if request is None and run is not None and run.closing:
            await run.done.wait()  # its frames are all out and now stored: replay them from the database
            run, buffered = None, []
        replay = await missed_frames(app, session_id, after_seq, buffered) if after_seq is not None else []
    except BaseException:
        hub.unsubscribe(key, subscription)
        raise

    async def wake(_: Refusal) -> None:
        subscription.queue.put_nowait(None)  # the loop below sees the refusal and ends the stream

    guard = ChannelGuard(app, channel_principal(principal, "chat"), wake)

    async def events() -> AsyncIterator[ServerSentEvent]:
        sent = after_seq or 0
        guard.start()
        try:
            for old in replay:
                sent = old.seq
                yield _event(old)
            if run is None:
                return
            while True:
                frame = await subscription.queue.get()
                if not await guard.check():  # revoked, disabled, demoted or expired: say so, then end
                    yield _refused(guard.refused)
                    return
                if frame is None:
                    return
                if frame.seq <= sent:
                    continue
                sent = frame.seq
                yield _event(frame)
                if frame.data["run_id"] == run.run_id and (
                    frame.type in _TURN_END or frame.type == "approval_required"
                ):
                    return
        finally:
            guard.stop()
            hub.unsubscribe(key, subscription)

    return EventSourceResponse(events(), ping=15, headers={"X-Accel-Buffering": "no"})


def _refused(refusal: Refusal | None) -> ServerSentEvent:
    code = refusal.reason if refusal is not None else "access_revoked"
    data = {
        "type": "error",
        "content": "Access to this stream was revoked; sign in again.",
        "metadata": {"code": code, "recoverable": False},
        "timestamp": now_iso(),
    }
    return ServerSentEvent(data=json.dumps(data), event="error")


def _event(frame: Frame) -> ServerSentEvent:
    return ServerSentEvent(data=frame.text, event=frame.type, id=str(frame.seq))
