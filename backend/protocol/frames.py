"""Every frame of the chat stream (WebSocket and SSE) and of the events socket, as pydantic models.

The server builds frames as plain dicts on the hot path (`backend.chat.hub.Frame`); these models are
the contract those dicts keep. Metadata models allow extra keys: the server may add fields (clients
must ignore what they do not know), never remove or retype the ones declared here.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from agents.approvals import ApprovalRequest

JsonObject = dict[str, JsonValue]
FinishReason = Literal["stop", "cancelled", "error"]
Decision = Literal["approve", "edit", "reject"]


# Server frames always carry their defaulted fields, so the exported schema lists them as required.
_SENT = ConfigDict(extra="allow", json_schema_serialization_defaults_required=True)


class _Metadata(BaseModel):
    """Metadata: fields without a default are always sent; defaulted ones may be left out."""

    model_config = ConfigDict(extra="allow")


class ConnectionEstablishedMetadata(_Metadata):
    session_id: str


class AgentEventMetadata(_Metadata):
    event_type: str = Field(description="`thinking`, `approval_decision`, ...")
    details: JsonValue = None


Risk = Literal["read", "write", "destructive", "patient_data"]


class ToolWording(_Metadata):
    """How the server words a tool, from its metadata (never the model): for people, not machines."""

    tool_label: str | None = Field(default=None, description="`Demo Jira · my open issues`")
    integration_name: str | None = None
    integration_type: str | None = None
    risk: Risk | None = None
    summary: str | None = Field(default=None, description="what this call does, in one line")


class ToolCallMetadata(ToolWording):
    tool_name: str
    tool_call_id: str
    args: JsonObject
    status: Literal["started"]


class ToolResultMetadata(ToolWording):
    tool_name: str
    tool_call_id: str
    status: Literal["completed", "failed"]
    result: JsonValue = Field(description="the tool's result: parsed JSON, or its text")


class ApprovalRequiredMetadata(ApprovalRequest):
    """The agent's approval contract (`agents.approvals.ApprovalRequest`), as the frame carries it."""

    model_config = _SENT


class TokenMetadata(_Metadata):
    token_index: int
    message_id: str


class Usage(_Metadata):
    input: int = 0
    output: int = 0
    total: int = 0


class FinalMetadata(_Metadata):
    session_id: str
    message_id: str
    tokens_used: int
    finish_reason: FinishReason
    usage: Usage | None = None


class ErrorMetadata(_Metadata):
    code: str = Field(description="stable snake_case, e.g. `agent_error`, `rate_limit_exceeded`")
    recoverable: bool | None = None


class _Frame(BaseModel):
    """Every server frame: `{type, content, metadata, timestamp, seq, run_id}`."""

    model_config = _SENT

    content: str = ""
    timestamp: str = Field(description="ISO-8601 UTC with `Z`")
    seq: int = Field(description="per-session counter that only grows")
    run_id: str = ""


class ConnectionEstablishedFrame(_Frame):
    type: Literal["connection_established"]
    metadata: ConnectionEstablishedMetadata


class AgentEventFrame(_Frame):
    type: Literal["agent_event"]
    metadata: AgentEventMetadata


class ToolCallFrame(_Frame):
    type: Literal["tool_call"]
    metadata: ToolCallMetadata


class ToolResultFrame(_Frame):
    type: Literal["tool_result"]
    metadata: ToolResultMetadata


class ApprovalRequiredFrame(_Frame):
    type: Literal["approval_required"]
    metadata: ApprovalRequiredMetadata


class TokenFrame(_Frame):
    type: Literal["token"]
    metadata: TokenMetadata


class FinalFrame(_Frame):
    type: Literal["final"]
    metadata: FinalMetadata


class ErrorFrame(_Frame):
    type: Literal["error"]
    metadata: ErrorMetadata


class PongFrame(_Frame):
    type: Literal["pong"]
    metadata: JsonObject = Field(default_factory=dict)


ServerFrame = Annotated[
    ConnectionEstablishedFrame
    | AgentEventFrame
    | ToolCallFrame
    | ToolResultFrame
    | ApprovalRequiredFrame
    | TokenFrame
    | FinalFrame
    | ErrorFrame
    | PongFrame,
    Field(discriminator="type"),
]
SERVER_FRAME_TYPES = (
    "connection_established",
    "agent_event",
    "tool_call",
    "tool_result",
    "approval_required",
    "token",
    "final",
    "error",
    "pong",
)


class MessageFrame(BaseModel):
    """A user turn (a bare `{"message": ...}` is accepted too)."""

    type: Literal["message"]
    message: str
    metadata: JsonObject | None = None


class CancelFrame(BaseModel):
    type: Literal["cancel"]


class RegenerateFrame(BaseModel):
    type: Literal["regenerate"]


class EditFrame(BaseModel):
    type: Literal["edit"]
    message_id: str
    message: str


class ApprovalFrame(BaseModel):
    type: Literal["approval"]
    tool_call_id: str
    decision: Decision
    args: JsonObject | None = None
    reason: str | None = None


class ResumeFrame(BaseModel):
    type: Literal["resume"]
    after_seq: int


class PingFrame(BaseModel):
    type: Literal["ping"]


class AuthFrame(BaseModel):
    type: Literal["auth"]
    token: str


ClientFrame = Annotated[
    MessageFrame | CancelFrame | RegenerateFrame | EditFrame | ApprovalFrame | ResumeFrame | PingFrame | AuthFrame,
    Field(discriminator="type"),
]


class EventFrame(BaseModel):
    """A frame of `WS /events/ws`: a platform event, or a control reply (`connection.established`,
    `subscribed`, `pong`, `error`)."""

    model_config = ConfigDict(extra="allow")

    event: str
    timestamp: str
    data: JsonObject


class EventClientFrame(BaseModel):
    """Client → server on `WS /events/ws`: `subscribe` / `unsubscribe` take `events` (patterns such
    as `hl7.*`); `auth` takes `token` or `api_key` as the first frame."""

    action: Literal["subscribe", "unsubscribe", "ping", "auth"]
    events: list[str] | None = None
    token: str | None = None
    api_key: str | None = None


class Protocol(BaseModel):
    """The root the JSON Schema is exported from: one document with every frame in `$defs`."""

    server_frame: ServerFrame
    client_frame: ClientFrame
    event_frame: EventFrame
    event_client_frame: EventClientFrame
