"""Platform fixtures: an app that may call loopback receivers, with quick webhook retries."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from backend.config import Settings
from tests.backend.platform.receiver import Receiver
from tests.conftest import asgi_client, running_app


@pytest.fixture
def platform_settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "outbound_allowlist": ["127.0.0.1"],
            "webhook_backoff_base_s": 0.05,
            "webhook_backoff_max_s": 0.2,
            "webhook_poll_interval_s": 0.05,
            "webhook_max_attempts": 20,
            "webhook_timeout_s": 3.0,
        }
    )


@pytest.fixture
async def app(platform_settings: Settings) -> AsyncIterator[Any]:
    """Overrides the suite's `app`: same lifespan, platform settings."""
    async with running_app(platform_settings) as application:
        yield application


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(app) as http:
        yield http


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver().start()
    yield server
    server.stop()
