"""Chat fixtures: a live server whose offline model streams at a human pace (for cancel/reconnect)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from backend.config import Settings
from backend.main import create_app
from tests.conftest import _truncate
from tools.sandbox_server import LoopbackServer


@pytest.fixture
async def slow_app(settings: Settings) -> AsyncIterator[Any]:
    application = create_app(settings.model_copy(update={"offline_token_delay_ms": 15.0}))
    async with application.router.lifespan_context(application):
        await _truncate(application)
        yield application


@pytest.fixture
async def slow_server(slow_app: Any) -> AsyncIterator[str]:
    server = LoopbackServer(slow_app)
    server._server.config.lifespan = "off"
    await server.start()
    try:
        yield server.url
    finally:
        await server.stop()


@pytest.fixture
async def slow_client(slow_app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=slow_app), base_url="http://testserver") as http:
        yield http
