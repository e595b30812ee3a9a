"""`AsyncChatStream`: a chat turn as an async iterator of typed events, over WebSocket or SSE.

It mirrors `ChatStream` (same commands, same end-of-iteration rule from `TurnTracker`); only the
I/O is awaited.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any

import httpx
from httpx_sse import EventSource, ServerSentEvent
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from . import _operations as ops
from ._core import Call
from ._errors import APIConnectionError, StreamError
from ._stream import ControlExchange, Transport, TurnTracker, close_error, encode, message_frame
from .events import ApprovalRequiredEvent, FinalEvent, StreamEvent, parse_event

if TYPE_CHECKING:
    from ._async_client import AsyncSwitchboard


class AsyncChatStream:
    """Iterate the events of a turn; answer approvals, cancel, or resume after a dropped connection.

    Iteration ends at the turn's `final`, or at `approval_required` when no decision was sent
    before asking for the next event (await `approve()`, `reject()` or `edit()` and iterate again).
    """

    def __init__(self, client: AsyncSwitchboard, session_id: str, transport: Transport, idle_timeout: float) -> None:
        if transport not in ("ws", "sse"):
            raise ValueError("transport must be 'ws' or 'sse'")
        self._client = client
        self.session_id = session_id
        self.transport = transport
        self.idle_timeout = idle_timeout
        self.tracker = TurnTracker()
        self._socket: ClientConnection | None = None
        self._backlog: list[StreamEvent] = []
        self._response: httpx.Response | None = None
        self._events: AsyncIterator[ServerSentEvent] | None = None
        self._next_call: Call[httpx.Response] | None = None
        self._starter: Callable[[], Awaitable[None]] | None = None

    def deferred(self, starter: Callable[[], Awaitable[None]]) -> AsyncChatStream:
        """Run `starter` (connect, send) on `async with` or on the first event asked for."""
        self._starter = starter
        return self

    async def _started(self) -> None:
        if self._starter is not None:
            starter, self._starter = self._starter, None
            await starter()

    @property
    def final(self) -> FinalEvent | None:
        """The last turn's `final` event once it arrived."""
        return self.tracker.final

    @property
    def last_seq(self) -> int:
        """The seq of the last turn frame received (what `resume()` continues after)."""
        return self.tracker.last_seq

    @property
    def pending_approval(self) -> ApprovalRequiredEvent | None:
        """The `approval_required` waiting for a decision, if any."""
        return self.tracker.pending_approval

    # ---------------------------------------------------------------- commands

    async def start(self, message: str | None, metadata: Mapping[str, Any] | None = None) -> None:
        if message is not None:
            await self.send(message, metadata)
        elif self.transport == "ws":
            await self._ensure_socket(None)
            await self._probe()
        else:
            self._next_call = ops.open_sse_follow(self.session_id, None)

    async def send(self, message: str, metadata: Mapping[str, Any] | None = None) -> None:
        """Start a turn with a new user message."""
        await self._started()
        self.tracker.sent_turn()
        if self.transport == "ws":
            await self._ensure_socket(None)
            await self._send_frame(message_frame(message, dict(metadata or {})))
        else:
            await self._close_response()
            self._next_call = ops.open_sse_message(self.session_id, message, metadata)

    async def approve(self, tool_call_id: str | None = None) -> None:
        """Run the pending tool call as proposed."""
        await self._decide(self.tracker.approval_frame("approve", tool_call_id))

    async def reject(self, tool_call_id: str | None = None, reason: str | None = None) -> None:
        """Do not run the pending tool call; the model is told why."""
        await self._decide(self.tracker.approval_frame("reject", tool_call_id, reason=reason))

    async def edit(self, args: dict[str, Any], tool_call_id: str | None = None) -> None:
        """Run the pending tool call with changed arguments."""
        await self._decide(self.tracker.approval_frame("edit", tool_call_id, args=args))

    async def cancel(self) -> None:
        """Stop the running turn; its partial answer is kept and it ends with `finish_reason="cancelled"`."""
        await self._started()
        if self.transport == "ws":
            await self._ensure_socket(None)
            await self._send_frame({"type": "cancel"})
        else:
            await self._control({"type": "cancel"})

    async def resume(self, after_seq: int | None = None) -> None:
        """Receive the frames after `after_seq` (default: the last one seen), then follow live."""
        await self._started()
        after = self.tracker.last_seq if after_seq is None else after_seq
        self.tracker.last_seq = after
        if self.transport == "sse":
            await self._close_response()
            self._next_call = ops.open_sse_follow(self.session_id, after)
            return
        if self._socket is None:
            await self._ensure_socket(after)
        else:
            await self._send_frame({"type": "resume", "after_seq": after})
        await self._probe()

    async def _decide(self, frame: dict[str, Any]) -> None:
        await self._started()
        if self.transport == "ws":
            await self._send_frame(frame)
        else:
            await self._control(frame)
            self._next_call = ops.open_sse_follow(self.session_id, self.tracker.last_seq)
        self.tracker.sent_turn()

    # ---------------------------------------------------------------- iteration

    def __aiter__(self) -> AsyncChatStream:
        return self

    async def __anext__(self) -> StreamEvent:
        await self._started()
        while True:
            if self._backlog:
                return self._backlog.pop(0)
            event = await (self._next_ws() if self.transport == "ws" else self._next_sse())
            if event is None:
                raise StopAsyncIteration
            if self.tracker.is_duplicate(event):
                continue
            if self.tracker.observe(event):
                return event

    async def _next_ws(self) -> StreamEvent | None:
        if self.tracker.needs_status_check:
            self.tracker.status_checked((await self._client.sessions.get(self.session_id)).status)
        if self.tracker.idle:
            return None
        if self._socket is None:
            raise StreamError("the stream is closed; call resume()", code="stream_closed")
        try:
            return parse_event(await asyncio.wait_for(self._socket.recv(), self.idle_timeout))
        except ConnectionClosed as exc:
            self._socket = None
            raise close_error(exc.rcvd.code if exc.rcvd else None, exc.rcvd.reason if exc.rcvd else "") from None
        except TimeoutError:
            raise StreamError(f"no frame for {self.idle_timeout} s", code="stream_timeout") from None

    async def _next_sse(self) -> StreamEvent | None:
        while True:
            if self._events is None:
                if self._next_call is None:
                    return None
                call, self._next_call = self._next_call, None
                self._response = await self._client._run(call)
                self._events = EventSource(self._response).aiter_sse()
            try:
                sse = await anext(self._events)
            except StopAsyncIteration:
                await self._close_response()
                continue
            except httpx.TransportError as exc:
                await self._close_response()
                raise APIConnectionError(f"the event stream broke: {exc}") from exc
            if sse.data:
                return parse_event(sse.data)

    # ---------------------------------------------------------------- plumbing

    async def _ensure_socket(self, after_seq: int | None) -> None:
        if self._socket is not None:
            return
        query = f"?after_seq={after_seq}" if after_seq is not None else ""
        socket, first = await self._client._connect_ws(
            f"/chat/ws/{ops.segment(self.session_id)}{query}", self.idle_timeout
        )
        self._socket = socket
        event = parse_event(first)
        self.tracker.observe(event)
        self._backlog.append(event)

    async def _send_frame(self, frame: dict[str, Any]) -> None:
        if self._socket is None:
            raise StreamError("the stream is closed; call resume()", code="stream_closed")
        await self._socket.send(encode(frame))

    async def _probe(self) -> None:
        self.tracker.probing = True
        await self._send_frame({"type": "ping"})

    async def _control(self, frame: dict[str, Any]) -> None:
        """SSE has no upstream: send a control frame on a short-lived socket and wait for its answer."""
        exchange = ControlExchange(frame)
        socket, _ = await self._client._connect_ws(f"/chat/ws/{ops.segment(self.session_id)}", self.idle_timeout)
        try:
            for text in exchange.outgoing:
                await socket.send(text)
            while not exchange.receive(parse_event(await asyncio.wait_for(socket.recv(), self.idle_timeout))):
                pass
        except (ConnectionClosed, TimeoutError) as exc:
            raise StreamError(f"the control socket failed: {exc}", code="stream_closed") from None
        finally:
            await socket.close()
        exchange.raise_for_error()

    async def _close_response(self) -> None:
        if self._events is not None and hasattr(self._events, "aclose"):
            await self._events.aclose()
        if self._response is not None:
            await self._response.aclose()
        self._response, self._events = None, None

    async def aclose(self) -> None:
        """Close the connection (a running turn continues on the server; `resume` picks it up)."""
        self._starter = None
        await self._close_response()
        if self._socket is not None:
            await self._socket.close()
            self._socket = None

    async def __aenter__(self) -> AsyncChatStream:
        await self._started()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()
