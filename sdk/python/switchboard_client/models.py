"""Typed response bodies (pydantic v2). Unknown fields the server adds are kept, never an error."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")


class Model(BaseModel):
    """Base of every response model: tolerant of fields newer servers add."""

    model_config = ConfigDict(extra="allow")


class Page(Model, Generic[T]):
    """One page of a list endpoint: `{items, total, page, size, pages}`."""

    items: list[T]
    total: int
    page: int
    size: int
    pages: int

    @property
    def next_page(self) -> int | None:
        """The number of the page after this one, or None on the last page."""
        return self.page + 1 if self.page < self.pages and self.items else None


# ------------------------------------------------------------------ auth


class User(Model):
    id: uuid.UUID
    email: str
    username: str
    full_name: str | None = None
    role: str
    is_verified: bool = False
    is_active: bool = True
    approval_status: str = "approved"  # pending: waiting for an admin (REGISTRATION=approval)
    created_at: datetime


class TokenPair(Model):
    access_token: str
    refresh_token: str
    token_type: str = "bearer"
    expires_in: int


# ------------------------------------------------------------------ chat


class SessionCreated(Model):
    session_id: uuid.UUID
    message_id: uuid.UUID
    content: str
    message_type: str = "user"
    metadata: dict[str, Any] = Field(default_factory=dict)


class Session(Model):
    session_id: uuid.UUID
    title: str
    status: str
    total_messages: int
    created_at: datetime
    updated_at: datetime
    last_message_preview: str | None = None


class Message(Model):
    message_id: uuid.UUID
    role: Literal["user", "assistant", "tool"]
    content: str
    tool_calls: list[dict[str, Any]] | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime


# ------------------------------------------------------------------ integrations


class IntegrationType(Model):
    name: str
    description: str
    config_schema: dict[str, Any]
    credentials_schema: dict[str, Any]


class Integration(Model):
    id: uuid.UUID
    name: str
    integration_type: str
    visibility: str
    owner_id: uuid.UUID | None = None
    status: str
    config: dict[str, Any] = Field(default_factory=dict)
    has_credentials: bool
    is_active: bool = True
    description: str | None = None
    created_at: datetime
    updated_at: datetime
    last_sync: datetime | None = None
    last_test: dict[str, Any] | None = None


class TestStep(Model):
    __test__ = False  # not a pytest test class

    name: str
    ok: bool
    latency_ms: float | None = None
    detail: str | None = None
    remediation: str | None = None


class ConnectionTestResult(Model):
    ok: bool
    latency_ms: float | None = None
    steps: list[TestStep] = Field(default_factory=list)
    details: dict[str, Any] = Field(default_factory=dict)
    error: str | None = None
    error_code: str | None = None


class PatientSummary(Model):
    id: str
    name: str | None = None
    birth_date: str | None = None
    gender: str | None = None
    identifiers: list[Any] = Field(default_factory=list)
    source: Any = None


# ------------------------------------------------------------------ HL7 messages


class MessageAccepted(Model):
    message_id: uuid.UUID
    status: str
    timestamp: datetime


class Destination(Model):
    system: str
    status: str
    timestamp: datetime | None = None
    ack_code: str | None = None
    attempts: int = 0
    error: str | None = None


class HL7MessageSummary(Model):
    message_id: uuid.UUID
    status: str
    timestamp: datetime
    processing_time_ms: float | None = None
    control_id: str | None = None
    message_type: str | None = None
    direction: str | None = None


class HL7Message(HL7MessageSummary):
    destinations: list[Destination] = Field(default_factory=list)
    raw: str | None = None
    problems: list[dict[str, Any]] = Field(default_factory=list)


# ------------------------------------------------------------------ platform


class ApiKey(Model):
    id: uuid.UUID
    name: str
    prefix: str
    scopes: list[str] = Field(default_factory=list)
    status: str = "active"  # active | expired | revoked
    is_active: bool = True
    expires_at: datetime | None = None
    rate_limit_per_minute: int | None = None
    usage_count: int = 0
    last_used_at: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


class ApiKeyCreated(ApiKey):
    key: str = Field(description="The secret key: shown once, store it now")


class Webhook(Model):
    id: uuid.UUID
    name: str
    url: str
    events: list[str] = Field(default_factory=list)
    is_active: bool = True
    allow_phi: bool = False
    consecutive_failures: int = 0
    disabled_reason: str | None = None
    last_delivery_at: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


class WebhookCreated(Webhook):
    secret: str = Field(description="The signing secret: shown once, store it now")


class WebhookDelivery(Model):
    id: uuid.UUID
    webhook_id: uuid.UUID | None = None
    event: str
    status: str  # pending | retrying | delivered | failed
    attempts: int = 0
    response_code: int | None = None
    duration_ms: float | None = None
    error: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    next_attempt_at: datetime | None = None
    delivered_at: datetime | None = None
