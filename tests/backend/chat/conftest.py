"""Chat fixtures: the app whose offline model streams at a human pace (for cancel and reconnect tests)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from backend.config import Settings
from tests.conftest import asgi_client, running_app, serving


@pytest.fixture
async def slow_app(settings: Settings) -> AsyncIterator[Any]:
    async with running_app(settings.model_copy(update={"offline_token_delay_ms": 15.0})) as application:
        yield application


@pytest.fixture
async def slow_server(slow_app: Any) -> AsyncIterator[str]:
    async with serving(slow_app) as url:
        yield url


@pytest.fixture
async def slow_client(slow_app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(slow_app) as http:
        yield http
