"""`ChatStream`: a chat turn as a synchronous iterator of typed events, over WebSocket or SSE."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any

import httpx
from httpx_sse import EventSource, ServerSentEvent
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection

from . import _operations as ops
from ._core import Call
from ._errors import APIConnectionError, StreamError
from ._stream import ControlExchange, Transport, TurnTracker, close_error, encode, message_frame
from .events import ApprovalRequiredEvent, FinalEvent, StreamEvent, parse_event

if TYPE_CHECKING:
    from ._sync_client import Switchboard


class ChatStream:
    """Iterate the events of a turn; answer approvals, cancel, or resume after a dropped connection.

    Iteration ends at the turn's `final`, or at `approval_required` when no decision was sent
    before asking for the next event (call `approve()`, `reject()` or `edit()` and iterate again).
    """

    def __init__(self, client: Switchboard, session_id: str, transport: Transport, idle_timeout: float) -> None:
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
        self._events: Iterator[ServerSentEvent] | None = None
        self._next_call: Call[httpx.Response] | None = None

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

    def start(self, message: str | None, metadata: Mapping[str, Any] | None = None) -> ChatStream:
        if message is not None:
            self.send(message, metadata)
        elif self.transport == "ws":
            self._ensure_socket(None)
            self._probe()
        else:
            self._next_call = ops.open_sse_follow(self.session_id, None)
        return self

    def send(self, message: str, metadata: Mapping[str, Any] | None = None) -> None:
        """Start a turn with a new user message."""
        self.tracker.sent_turn()
        if self.transport == "ws":
            self._ensure_socket(None)
            self._send_frame(message_frame(message, dict(metadata or {})))
        else:
            self._close_response()
            self._next_call = ops.open_sse_message(self.session_id, message, metadata)

    def approve(self, tool_call_id: str | None = None) -> None:
        """Run the pending tool call as proposed."""
        self._decide(self.tracker.approval_frame("approve", tool_call_id))

    def reject(self, tool_call_id: str | None = None, reason: str | None = None) -> None:
        """Do not run the pending tool call; the model is told why."""
        self._decide(self.tracker.approval_frame("reject", tool_call_id, reason=reason))

    def edit(self, args: dict[str, Any], tool_call_id: str | None = None) -> None:
        """Run the pending tool call with changed arguments."""
        self._decide(self.tracker.approval_frame("edit", tool_call_id, args=args))

    def cancel(self) -> None:
        """Stop the running turn; its partial answer is kept and it ends with `finish_reason="cancelled"`."""
        if self.transport == "ws":
            self._ensure_socket(None)
            self._send_frame({"type": "cancel"})
        else:
            self._control({"type": "cancel"})

    def resume(self, after_seq: int | None = None) -> None:
        """Receive the frames after `after_seq` (default: the last one seen), then follow live."""
        after = self.tracker.last_seq if after_seq is None else after_seq
        self.tracker.last_seq = after
        if self.transport == "sse":
            self._close_response()
            self._next_call = ops.open_sse_follow(self.session_id, after)
            return
        if self._socket is None:
            self._ensure_socket(after)
        else:
            self._send_frame({"type": "resume", "after_seq": after})
        self._probe()

    def _decide(self, frame: dict[str, Any]) -> None:
        if self.transport == "ws":
            self._send_frame(frame)
        else:
            self._control(frame)
            self._next_call = ops.open_sse_follow(self.session_id, self.tracker.last_seq)
        self.tracker.sent_turn()

    # ---------------------------------------------------------------- iteration

    def __iter__(self) -> ChatStream:
        return self

    def __next__(self) -> StreamEvent:
        while True:
            if self._backlog:
                return self._backlog.pop(0)
            event = self._next_ws() if self.transport == "ws" else self._next_sse()
            if event is None:
                raise StopIteration
            if self.tracker.is_duplicate(event):
                continue
            if self.tracker.observe(event):
                return event

    def _next_ws(self) -> StreamEvent | None:
        if self.tracker.needs_status_check:
            self.tracker.status_checked(self._client.sessions.get(self.session_id).status)
        if self.tracker.idle:
            return None
        if self._socket is None:
            raise StreamError("the stream is closed; call resume()", code="stream_closed")
        try:
            return parse_event(self._socket.recv(timeout=self.idle_timeout))
        except ConnectionClosed as exc:
            self._socket = None
            raise close_error(exc.rcvd.code if exc.rcvd else None, exc.rcvd.reason if exc.rcvd else "") from None
        except TimeoutError:
            raise StreamError(f"no frame for {self.idle_timeout} s", code="stream_timeout") from None

    def _next_sse(self) -> StreamEvent | None:
        while True:
            if self._events is None:
                if self._next_call is None:
                    return None
                call, self._next_call = self._next_call, None
                self._response = self._client._run(call)
                self._events = EventSource(self._response).iter_sse()
            try:
                sse = next(self._events)
            except StopIteration:
                self._close_response()
                continue
            except httpx.TransportError as exc:
                self._close_response()
                raise APIConnectionError(f"the event stream broke: {exc}") from exc
            if sse.data:
                return parse_event(sse.data)

    # ---------------------------------------------------------------- plumbing

    def _ensure_socket(self, after_seq: int | None) -> None:
        if self._socket is not None:
            return
        query = f"?after_seq={after_seq}" if after_seq is not None else ""
        socket, first = self._client._connect_ws(f"/chat/ws/{ops.segment(self.session_id)}{query}", self.idle_timeout)
        self._socket = socket
        event = parse_event(first)
        self.tracker.observe(event)
        self._backlog.append(event)

    def _send_frame(self, frame: dict[str, Any]) -> None:
        if self._socket is None:
            raise StreamError("the stream is closed; call resume()", code="stream_closed")
        self._socket.send(encode(frame))

    def _probe(self) -> None:
        self.tracker.probing = True
        self._send_frame({"type": "ping"})

    def _control(self, frame: dict[str, Any]) -> None:
        """SSE has no upstream: send a control frame on a short-lived socket and wait for its answer."""
        exchange = ControlExchange(frame)
        socket, _ = self._client._connect_ws(f"/chat/ws/{ops.segment(self.session_id)}", self.idle_timeout)
        try:
            for text in exchange.outgoing:
                socket.send(text)
            while not exchange.receive(parse_event(socket.recv(timeout=self.idle_timeout))):
                pass
        except (ConnectionClosed, TimeoutError) as exc:
            raise StreamError(f"the control socket failed: {exc}", code="stream_closed") from None
        finally:
            socket.close()
        exchange.raise_for_error()

    def _close_response(self) -> None:
        if self._response is not None:
            self._response.close()
        self._response, self._events = None, None

    def close(self) -> None:
        """Close the connection (a running turn continues on the server; `resume` picks it up)."""
        self._close_response()
        if self._socket is not None:
            self._socket.close()
            self._socket = None

    def __enter__(self) -> ChatStream:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
