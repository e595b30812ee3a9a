"""Security suite fixtures: an app that may reach one loopback port range on purpose, served over real
sockets, with helpers to create the resources whose access the tests probe."""

from __future__ import annotations

import socket
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from backend.config import Settings
from tests.conftest import running_app, serving


def closed_port() -> int:
    """A loopback port nobody listens on (bound, then released): connections to it are refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture
def security_settings(settings: Settings) -> Settings:
    # Integrations and webhooks in these tests point at 127.0.0.1, which only an allow-list opens.
    return settings.model_copy(update={"outbound_allowlist": ["127.0.0.1"], "webhook_max_attempts": 1})


@pytest.fixture
async def app(security_settings: Settings) -> AsyncIterator[Any]:
    """Overrides the suite's `app`: same lifespan, the security settings."""
    async with running_app(security_settings) as application:
        yield application


@pytest.fixture
async def base_url(app: Any) -> AsyncIterator[str]:
    async with serving(app) as url:
        yield url


@pytest.fixture
async def http(base_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        yield client


def marker(kind: str) -> str:
    """A distinctive name for a planted resource, easy to grep for in bodies and logs."""
    return f"planted-{kind}-{uuid.uuid4().hex[:10]}"
