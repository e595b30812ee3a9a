"""Typed chat stream events: one class per server frame `type`, discriminated on `type`.

Every frame carries `{type, content, metadata, timestamp, seq, run_id}`; `metadata` is typed per
event. A frame type this client does not know yet becomes an `UnknownEvent` instead of an error.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter


class _Meta(BaseModel):
    model_config = ConfigDict(extra="allow")


class _Event(BaseModel):
    model_config = ConfigDict(extra="allow")

    content: str = ""
    timestamp: str | None = None
    seq: int = 0
    run_id: str | None = None


class ConnectionMetadata(_Meta):
    session_id: str | None = None


class ConnectionEstablishedEvent(_Event):
    type: Literal["connection_established"]
    metadata: ConnectionMetadata = Field(default_factory=ConnectionMetadata)


class AgentMetadata(_Meta):
    event_type: str = ""
    details: Any = None


class AgentEvent(_Event):
    type: Literal["agent_event"]
    metadata: AgentMetadata = Field(default_factory=AgentMetadata)


class ToolCallMetadata(_Meta):
    tool_name: str
    tool_call_id: str
    args: dict[str, Any] = Field(default_factory=dict)
    status: str = "started"


class ToolCallEvent(_Event):
    type: Literal["tool_call"]
    metadata: ToolCallMetadata


class ToolResultMetadata(_Meta):
    tool_name: str
    tool_call_id: str
    status: str  # "completed" or "failed"
    result: Any = None


class ToolResultEvent(_Event):
    type: Literal["tool_result"]
    metadata: ToolResultMetadata


class ApprovalMetadata(_Meta):
    tool_call_id: str
    tool_name: str
    args: dict[str, Any] = Field(default_factory=dict)
    description: str | None = None
    allowed_decisions: list[str] = Field(default_factory=lambda: ["approve", "edit", "reject"])


class ApprovalRequiredEvent(_Event):
    type: Literal["approval_required"]
    metadata: ApprovalMetadata


class TokenMetadata(_Meta):
    token_index: int = 0
    message_id: str | None = None


class TokenEvent(_Event):
    type: Literal["token"]
    metadata: TokenMetadata = Field(default_factory=TokenMetadata)


class FinalMetadata(_Meta):
    session_id: str | None = None
    message_id: str | None = None
    tokens_used: int | None = None
    finish_reason: str = "stop"


class FinalEvent(_Event):
    type: Literal["final"]
    metadata: FinalMetadata = Field(default_factory=FinalMetadata)


class ErrorMetadata(_Meta):
    code: str = "error"


class ErrorEvent(_Event):
    type: Literal["error"]
    metadata: ErrorMetadata = Field(default_factory=ErrorMetadata)


class PongEvent(_Event):
    type: Literal["pong"]
    metadata: dict[str, Any] = Field(default_factory=dict)


class UnknownEvent(_Event):
    """A frame type newer than this client; its fields are kept as sent."""

    type: str
    metadata: dict[str, Any] = Field(default_factory=dict)


KnownEvent = Annotated[
    ConnectionEstablishedEvent
    | AgentEvent
    | ToolCallEvent
    | ToolResultEvent
    | ApprovalRequiredEvent
    | TokenEvent
    | FinalEvent
    | ErrorEvent
    | PongEvent,
    Field(discriminator="type"),
]
StreamEvent = (
    ConnectionEstablishedEvent
    | AgentEvent
    | ToolCallEvent
    | ToolResultEvent
    | ApprovalRequiredEvent
    | TokenEvent
    | FinalEvent
    | ErrorEvent
    | PongEvent
    | UnknownEvent
)

_known: TypeAdapter[KnownEvent] = TypeAdapter(KnownEvent)
_KNOWN_TYPES = frozenset(
    {
        "connection_established",
        "agent_event",
        "tool_call",
        "tool_result",
        "approval_required",
        "token",
        "final",
        "error",
        "pong",
    }
)


def parse_event(data: dict[str, Any] | str | bytes) -> StreamEvent:
    """Build the typed event for one server frame (a dict or its JSON text)."""
    frame: Any = json.loads(data) if isinstance(data, str | bytes) else data
    if not isinstance(frame, dict):
        raise ValueError("a stream frame must be a JSON object")
    if frame.get("type") in _KNOWN_TYPES:
        return _known.validate_python(frame)
    return UnknownEvent.model_validate(frame)


# ------------------------------------------------------------------ platform events (`/events/ws`)


class PlatformEvent(BaseModel):
    """One frame of the platform event channel: `{event, timestamp, data}` (e.g. `hl7.message.received`)."""

    model_config = ConfigDict(extra="allow")

    event: str
    timestamp: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)


def parse_platform_event(data: str | bytes) -> PlatformEvent:
    return PlatformEvent.model_validate_json(data)
