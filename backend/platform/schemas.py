"""Request and response models of the platform endpoints (API keys, webhooks, deliveries)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .catalog import pattern_problem
from .scopes import Scope

Name = Annotated[str, Field(min_length=1, max_length=100)]
RatePerMinute = Annotated[int, Field(ge=1, le=100_000)]


def _future(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    if value <= datetime.now(UTC):
        raise ValueError("must be in the future")
    return value


def _unique_scopes(value: list[Scope]) -> list[Scope]:
    return list(dict.fromkeys(value))


def _patterns(value: list[str]) -> list[str]:
    for pattern in value:
        problem = pattern_problem(pattern)
        if problem:
            raise ValueError(problem)
    return list(dict.fromkeys(value))


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    scopes: Annotated[list[Scope], Field(min_length=1, max_length=10)]
    expires_at: datetime | None = None
    rate_limit_per_minute: RatePerMinute | None = None

    _scopes = field_validator("scopes")(_unique_scopes)
    _expiry = field_validator("expires_at")(_future)


class ApiKeyUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    scopes: Annotated[list[Scope], Field(min_length=1, max_length=10)] | None = None
    is_active: bool | None = None
    expires_at: datetime | None = None
    rate_limit_per_minute: RatePerMinute | None = None

    _scopes = field_validator("scopes")(lambda v: None if v is None else _unique_scopes(v))
    _expiry = field_validator("expires_at")(_future)


class ApiKeyOut(BaseModel):
    id: uuid.UUID
    name: str
    prefix: str
    scopes: list[str]
    status: Literal["active", "expired", "revoked"]
    is_active: bool
    expires_at: datetime | None
    rate_limit_per_minute: int | None
    usage_count: int
    last_used_at: datetime | None
    created_at: datetime
    updated_at: datetime


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="The key itself. Shown only in this response: store it now.")


EventPatterns = Annotated[list[str], Field(min_length=1, max_length=50)]
WebhookUrl = Annotated[str, Field(min_length=8, max_length=2000, pattern=r"^https?://")]


class WebhookCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name | None = Field(default=None, description="Defaults to the URL's host name.")
    url: WebhookUrl
    events: EventPatterns
    is_active: bool = True
    allow_phi: bool | None = Field(
        default=None,
        description="Admins only: deliver the patient data of events (message text, tool arguments) to "
        "this URL. Changing the URL clears it.",
    )

    _events = field_validator("events")(_patterns)


class WebhookUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    url: WebhookUrl | None = None
    events: EventPatterns | None = None
    is_active: bool | None = Field(default=None, description="true re-enables an auto-disabled webhook")
    allow_phi: bool | None = Field(
        default=None,
        description="Admins only: deliver the patient data of events (message text, tool arguments) to "
        "this URL. Changing the URL clears it.",
    )

    _events = field_validator("events")(lambda v: None if v is None else _patterns(v))


class WebhookOut(BaseModel):
    id: uuid.UUID
    name: str
    url: str
    events: list[str]
    is_active: bool
    allow_phi: bool
    consecutive_failures: int
    disabled_reason: str | None
    last_delivery_at: datetime | None
    created_at: datetime
    updated_at: datetime


class WebhookCreated(WebhookOut):
    secret: str = Field(description="The signing secret. Shown only in this response: store it now.")


class DeliveryOut(BaseModel):
    id: uuid.UUID
    webhook_id: uuid.UUID
    event: str
    status: Literal["pending", "retrying", "delivered", "failed"]
    attempts: int
    response_code: int | None
    duration_ms: float | None
    error: str | None
    created_at: datetime
    updated_at: datetime
    next_attempt_at: datetime | None
    delivered_at: datetime | None
