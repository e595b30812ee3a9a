"""SDK fixtures: clients of the live test server, an HL7 receiver with an integration pointing at it.

The live server runs inside the test's event loop, so the synchronous client is driven from a worker
thread (`in_thread`) while the loop keeps serving.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

import pytest
from switchboard_client import AsyncSwitchboard, RetryPolicy, Switchboard

from backend.config import Settings
from tests.conftest import TestUser, running_app, serving
from tools.hl7.ack import build_ack
from tools.hl7.mllp import MllpListener
from tools.net import OutboundPolicy

T = TypeVar("T")

ADT = "MSH|^~\\&|EMR|HOSP|LIS|LAB|20250101120000||ADT^A01|MSG777|P|2.5.1\rPID|1||12345^^^HOSP^MR||DOE^JANE"
FAST_RETRY = RetryPolicy(max_attempts=3, backoff_s=0.05, max_backoff_s=0.2)


async def in_thread(scenario: Callable[[], T]) -> T:
    """Run blocking client code off the loop that serves the app."""
    return await asyncio.to_thread(scenario)


def sync_client(base_url: str, user: TestUser, **options: Any) -> Switchboard:
    return Switchboard(base_url, username=user.username, password=user.password, retry=FAST_RETRY, **options)


@pytest.fixture
async def alice_client(live_server: str, alice: TestUser) -> AsyncIterator[AsyncSwitchboard]:
    """Alice's async client, signing in with her password on first use."""
    async with AsyncSwitchboard(
        live_server, username=alice.username, password=alice.password, retry=FAST_RETRY
    ) as client:
        yield client


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[MllpListener, list[str]]]:
    """An MLLP receiver that ACKs (AA) and records every message."""
    received: list[str] = []

    async def handler(message: str, peer: str) -> str:
        received.append(message)
        return build_ack(message, "AA", "ok")

    listener = MllpListener(handler)
    await listener.start()
    yield listener, received
    await listener.stop()


@pytest.fixture
def allow_loopback(app: Any) -> None:
    """Let integrations reach the receiver on 127.0.0.1 (the outbound guard refuses loopback)."""
    app.state.ctx.outbound = OutboundPolicy.from_entries(["127.0.0.1/32"])


@pytest.fixture
async def lab_lis(
    alice_client: AsyncSwitchboard, receiver: tuple[MllpListener, list[str]], allow_loopback: None
) -> dict[str, Any]:
    """Alice's HL7 integration "Lab LIS" pointing at the receiver (its send tool asks for approval)."""
    integration = await alice_client.integrations.create(
        "Lab LIS", "hl7", {"host": "127.0.0.1", "port": receiver[0].port, "receiving_application": "LIS"}
    )
    return {"id": str(integration.id), "name": integration.name, "port": receiver[0].port}


@pytest.fixture
async def slow_app(settings: Settings) -> AsyncIterator[Any]:
    """The app with the offline model streaming at a human pace (for cancel and resume)."""
    async with running_app(settings.model_copy(update={"offline_token_delay_ms": 15.0})) as application:
        yield application


@pytest.fixture
async def slow_server(slow_app: Any) -> AsyncIterator[str]:
    async with serving(slow_app) as url:
        yield url
