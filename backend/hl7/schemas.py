"""Bodies of the routing API (`/api/v1/messages`), compatible with the engine seed's shapes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

MAX_MESSAGE_CHARS = 1_000_000


class RoutingMetadata(BaseModel):
    source: str | None = Field(default=None, max_length=200)
    destination: list[str] | None = Field(
        default=None,
        min_length=1,
        max_length=20,
        description="names or ids of HL7 integrations; leave out to route through the channels",
    )

    @field_validator("destination", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


class SubmitMessage(BaseModel):
    content_type: Literal["application/hl7-v2"] = "application/hl7-v2"
    message: str = Field(min_length=8, max_length=MAX_MESSAGE_CHARS)
    metadata: RoutingMetadata = Field(default_factory=RoutingMetadata)

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "content_type": "application/hl7-v2",
                    "message": "MSH|^~\\&|EMR|HOSP|LIS|LAB|20250101120000||ADT^A01|MSG00001|P|2.5.1\rPID|1||12345",
                    "metadata": {"source": "emr-system", "destination": ["Demo HL7 listener"]},
                }
            ]
        }
    )


class Accepted(BaseModel):
    message_id: uuid.UUID
    status: Literal["accepted", "filtered"] = "accepted"
    timestamp: datetime
    channels: list[str] = Field(default_factory=list, description="channels that took it (none: explicit)")
    destinations: list[str] = Field(default_factory=list, description="where it is queued")


class SubmitBatch(BaseModel):
    """Many messages in one request: one group commit, one answer per message, in order."""

    messages: list[SubmitMessage] = Field(min_length=1, max_length=1000)


class BatchItem(BaseModel):
    index: int
    message_id: uuid.UUID | None = None
    status: Literal["accepted", "filtered", "rejected"]
    timestamp: datetime | None = None
    channels: list[str] = Field(default_factory=list)
    destinations: list[str] = Field(default_factory=list)
    code: str | None = None
    problems: list[dict[str, Any]] | str | None = None


class BatchAccepted(BaseModel):
    accepted: int
    filtered: int
    rejected: int
    results: list[BatchItem]


class DestinationOut(BaseModel):
    system: str
    integration_id: uuid.UUID | None
    channel_id: uuid.UUID | None = None
    channel: str | None = None
    ordering: str = "parallel"
    seq: int | None = None
    status: str
    timestamp: datetime
    ack_code: str | None = None
    attempts: int
    error: str | None = None
    latency_ms: float | None = None


class MessageSummaryOut(BaseModel):
    message_id: uuid.UUID
    direction: str
    status: str
    timestamp: datetime
    processing_time_ms: float | None
    control_id: str | None
    message_type: str | None
    trigger_event: str | None
    patient_id: str | None
    source: str | None
    sending_application: str | None = None
    sending_facility: str | None = None


class MessageOut(MessageSummaryOut):
    version: str | None
    raw: str
    ack: str | None
    ack_code: str | None
    error: str | None
    problems: list[dict[str, Any]]
    channels: list[str] = Field(default_factory=list)
    destinations: list[DestinationOut]


class ExplainRequest(BaseModel):
    message: str = Field(min_length=3, max_length=MAX_MESSAGE_CHARS)
