"""Request and response bodies of the integration endpoints."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from tools.base import ConnectionTestResult

Visibility = Literal["private", "shared"]


class IntegrationType(BaseModel):
    name: str
    description: str
    config_schema: dict[str, Any]
    credentials_schema: dict[str, Any]


class IntegrationCreate(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    integration_type: str = Field(min_length=1, max_length=32)
    config: dict[str, Any] = Field(default_factory=dict)
    credentials: dict[str, Any] | None = None
    visibility: Visibility = "private"
    description: str | None = Field(default=None, max_length=500)

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "Acme Jira",
                    "integration_type": "jira",
                    "config": {"base_url": "https://acme.atlassian.net", "deployment": "cloud"},
                    "credentials": {"email": "ada@acme.com", "api_token": "..."},
                }
            ]
        }
    )


class IntegrationUpdate(BaseModel):
    """PATCH body; PUT requires name and config. Omitted credentials keep the stored ones."""

    name: str | None = Field(default=None, min_length=1, max_length=100)
    config: dict[str, Any] | None = None
    credentials: dict[str, Any] | None = None
    visibility: Visibility | None = None
    description: str | None = Field(default=None, max_length=500)
    is_active: bool | None = None


class IntegrationReplace(IntegrationUpdate):
    name: str = Field(min_length=1, max_length=100)
    config: dict[str, Any]


class IntegrationHealthOut(BaseModel):
    """Live health from real calls and tests (`status`: ok / degraded / error / untested)."""

    status: str = "untested"
    last_success_at: datetime | None = None
    last_failure_at: datetime | None = None
    last_error: str | None = None
    calls_1h: int = 0
    failures_1h: int = 0
    error_rate_1h: float | None = None


class IntegrationOut(BaseModel):
    id: uuid.UUID
    name: str
    integration_type: str
    visibility: Visibility
    owner_id: uuid.UUID | None
    status: str
    health: IntegrationHealthOut
    is_active: bool
    description: str | None
    config: dict[str, Any]
    has_credentials: bool
    created_at: datetime
    updated_at: datetime
    last_sync: datetime | None
    last_test: dict[str, Any] | None


class TestResultOut(ConnectionTestResult):
    """The contract's test result (ok, latency_ms, steps, details, error)."""

    __test__ = False
