"""Transport-independent state of a chat stream: which frames to send, when an iteration ends.

`TurnTracker` watches the events of one session and answers one question for every transport:
is there still something to wait for? An iteration over a stream ends when no turn is running,
nothing the client sent is unanswered and no probe is outstanding — in particular after `final`,
and after `approval_required` unless the caller already sent a decision.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

from ._errors import AuthenticationError, NotFoundError, PermissionDeniedError, StreamError, SwitchboardError
from .events import ApprovalRequiredEvent, ErrorEvent, FinalEvent, PongEvent, StreamEvent

Transport = Literal["ws", "sse"]
Decision = Literal["approve", "reject", "edit"]
MAX_FRAME_BYTES = 2**22


def encode(frame: dict[str, Any]) -> str:
    return json.dumps(frame, separators=(",", ":"))


def message_frame(message: str, metadata: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"type": "message", "message": message, "metadata": metadata or {}}


@dataclass
class TurnTracker:
    """Follows the turns of one session from the events a transport delivers."""

    last_seq: int = 0
    open_runs: set[str] = field(default_factory=set)
    expecting: bool = False  # a message or decision was sent and its turn has not shown up yet
    probing: bool = False  # a ping was sent to learn when a replay is complete
    pending_approval: ApprovalRequiredEvent | None = None
    final: FinalEvent | None = None
    needs_status_check: bool = False

    @property
    def idle(self) -> bool:
        return not self.open_runs and not self.expecting and not self.probing and not self.needs_status_check

    def is_duplicate(self, event: StreamEvent) -> bool:
        """A frame already delivered (a live frame that a replay also carried)."""
        return bool(event.run_id) and event.seq <= self.last_seq

    def observe(self, event: StreamEvent) -> bool:
        """Take one event into account; False for a probe's own pong (not shown to the caller)."""
        if event.run_id:
            # Only turn frames count: a connection's own frames (connection_established, pong) take
            # a number too, and a replay that follows them carries lower ones that must not be dropped.
            self.last_seq = max(self.last_seq, event.seq)
        if isinstance(event, PongEvent) and self.probing:
            self.probing = False
            self.needs_status_check = not self.open_runs and not self.expecting
            return False
        if not event.run_id:  # a frame about this connection, not about a turn
            if isinstance(event, ErrorEvent) and not self.open_runs:
                self.expecting = False  # what we sent was refused: nothing will run
            return True
        if isinstance(event, FinalEvent):
            self.open_runs.discard(event.run_id)
            self.final = event
            self.pending_approval = None
        elif isinstance(event, ApprovalRequiredEvent):
            self.open_runs.discard(event.run_id)  # paused until a decision arrives
            self.pending_approval = event
        else:
            self.open_runs.add(event.run_id)
        self.expecting = False
        return True

    def status_checked(self, session_status: str) -> None:
        """After a probe: a turn running with no frames seen yet is still to be followed."""
        self.needs_status_check = False
        if session_status == "running":
            self.expecting = True

    def sent_turn(self) -> None:
        self.expecting = True
        self.final = None

    def approval_frame(
        self,
        decision: Decision,
        tool_call_id: str | None,
        *,
        args: dict[str, Any] | None = None,
        reason: str | None = None,
    ) -> dict[str, Any]:
        """The `approval` frame answering the pending (or the named) tool call."""
        pending = self.pending_approval
        if tool_call_id is None:
            if pending is None:
                raise StreamError(
                    "No approval is pending in this stream; pass tool_call_id", code="no_pending_approval"
                )
            tool_call_id = pending.metadata.tool_call_id
        answering_pending = pending is not None and pending.metadata.tool_call_id == tool_call_id
        if answering_pending and pending is not None and decision not in pending.metadata.allowed_decisions:
            raise StreamError(f"'{decision}' is not allowed for this tool call", code="decision_not_allowed")
        frame: dict[str, Any] = {"type": "approval", "tool_call_id": tool_call_id, "decision": decision}
        if args is not None:
            frame["args"] = args
        if reason is not None:
            frame["reason"] = reason
        return frame


def close_error(code: int | None, reason: str) -> SwitchboardError:
    """The exception for a WebSocket closed by the server before or during a stream."""
    if code == 4401:
        return AuthenticationError(reason or "authentication required", status_code=401, code="not_authenticated")
    if code == 4403:
        return PermissionDeniedError(reason or "forbidden", status_code=403, code="forbidden")
    if code == 4404:
        return NotFoundError(reason or "unknown session", status_code=404, code="not_found")
    return StreamError(f"the stream closed ({code}): {reason}".rstrip(": "), code="stream_closed")


class ControlExchange:
    """A short control exchange on its own socket (SSE streams answer approvals and cancel this way):
    send the frame and a ping, read until the pong; an `error` frame before it means refused."""

    def __init__(self, frame: dict[str, Any]) -> None:
        self.outgoing = [encode(frame), encode({"type": "ping"})]
        self.error: ErrorEvent | None = None

    def receive(self, event: StreamEvent) -> bool:
        """Take one event; True once the exchange is complete."""
        if isinstance(event, ErrorEvent) and self.error is None:
            self.error = event
        return isinstance(event, PongEvent)

    def raise_for_error(self) -> None:
        if self.error is not None:
            raise StreamError(self.error.content or self.error.metadata.code, code=self.error.metadata.code)
