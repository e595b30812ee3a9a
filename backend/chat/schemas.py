"""Request and response bodies of the chat endpoints, and the client → server frames."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

MAX_MESSAGE_CHARS = 32_000
# Client metadata is stored with the message and served back: bounded, or it is free storage.
MAX_METADATA_BYTES = 16 * 1024
MAX_METADATA_KEYS = 50


def _bounded_metadata(value: dict[str, Any]) -> dict[str, Any]:
    if len(value) > MAX_METADATA_KEYS:
        raise ValueError(f"metadata has at most {MAX_METADATA_KEYS} keys")
    if len(json.dumps(value, separators=(",", ":"), default=str).encode()) > MAX_METADATA_BYTES:
        raise ValueError(f"metadata is limited to {MAX_METADATA_BYTES // 1024} KiB of JSON")
    return value


Metadata = Annotated[
    dict[str, Any],
    AfterValidator(_bounded_metadata),
    Field(default_factory=dict, max_length=MAX_METADATA_KEYS, description="Client data, at most 16 KiB of JSON"),
]


class MessageIn(BaseModel):
    message: str = Field(min_length=1, max_length=MAX_MESSAGE_CHARS)
    metadata: Metadata

    model_config = ConfigDict(json_schema_extra={"examples": [{"message": "What are my open Jira tickets?"}]})


class SessionCreated(BaseModel):
    session_id: uuid.UUID
    message_id: uuid.UUID
    content: str
    message_type: Literal["user"] = "user"
    metadata: dict[str, Any]


class SessionOut(BaseModel):
    session_id: uuid.UUID
    title: str
    status: str
    total_messages: int
    created_at: datetime
    updated_at: datetime
    last_message_preview: str | None


class SessionUpdate(BaseModel):
    title: str = Field(min_length=1, max_length=120)


class MessageOut(BaseModel):
    message_id: uuid.UUID
    role: Literal["user", "assistant", "tool"]
    content: str
    tool_calls: list[dict[str, Any]] | None = None
    metadata: dict[str, Any]
    created_at: datetime


# ------------------------------------------------------------------ WebSocket client frames


class ApprovalFrame(BaseModel):
    type: Literal["approval"]
    tool_call_id: str = Field(min_length=1, max_length=200)
    decision: Literal["approve", "reject", "edit"]
    args: dict[str, Any] | None = None
    reason: str | None = Field(default=None, max_length=2000)


class MessageFrame(BaseModel):
    type: Literal["message"] = "message"
    message: str = Field(min_length=1, max_length=MAX_MESSAGE_CHARS)
    metadata: Metadata


class EditFrame(BaseModel):
    type: Literal["edit"]
    message_id: uuid.UUID
    message: str = Field(min_length=1, max_length=MAX_MESSAGE_CHARS)


class SimpleFrame(BaseModel):
    type: Literal["cancel", "ping", "regenerate"]


class ResumeFrame(BaseModel):
    type: Literal["resume"]
    after_seq: int = Field(ge=0)


class AuthFrame(BaseModel):
    type: Literal["auth"]
    token: str = Field(min_length=1, max_length=4096)
