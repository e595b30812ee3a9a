"""The platform event channel through the client: subscribe with wildcards, isolation between users."""

from __future__ import annotations

import asyncio

import pytest
from switchboard_client import AsyncSwitchboard, PermissionDeniedError, StreamError, Switchboard

from tests.conftest import TestUser
from tests.sdk.conftest import FAST_RETRY, in_thread, sync_client


async def test_events_reach_their_owner_only(
    alice_client: AsyncSwitchboard, live_server: str, bob: TestUser, allow_loopback: None
) -> None:
    async with (
        AsyncSwitchboard(live_server, username=bob.username, password=bob.password, retry=FAST_RETRY) as bob_client,
        alice_client.events.subscribe(["integration.*"], idle_timeout=10) as alice_events,
        bob_client.events.subscribe(["integration.*"], idle_timeout=10) as bob_events,
    ):
        await alice_client.integrations.create("Alice LIS", "hl7", {"host": "127.0.0.1", "port": 2575})
        await bob_client.integrations.create("Bob LIS", "hl7", {"host": "127.0.0.1", "port": 2575})
        alice_first = await anext(alice_events)
        bob_first = await anext(bob_events)  # had alice's event leaked, it would come first
        assert alice_first.event == "integration.created" and "Alice LIS" in str(alice_first.data)
        assert bob_first.event == "integration.created" and "Bob LIS" in str(bob_first.data)

        with pytest.raises(StreamError) as bad:
            await alice_events.subscribe(["nonsense.*"])
        assert bad.value.code == "unknown_event"


async def test_sync_subscription_and_key_scope(live_server: str, alice: TestUser, allow_loopback: None) -> None:
    def scenario() -> None:
        with sync_client(live_server, alice) as client:
            key = client.api_keys.create("no-events", ["integrations:read"])
            with client.events.subscribe(["integration.created"], idle_timeout=10) as events:
                client.integrations.create("Lab", "hl7", {"host": "127.0.0.1", "port": 2575})
                assert next(events).event == "integration.created"
        with Switchboard(live_server, api_key=key.key, retry=FAST_RETRY) as robot, pytest.raises(PermissionDeniedError):
            robot.events.subscribe(["hl7.*"])  # the key lacks the `events` scope: closed with 4403

    await in_thread(scenario)


async def test_idle_subscription_times_out_cleanly(alice_client: AsyncSwitchboard) -> None:
    async with alice_client.events.subscribe(["hl7.*"], idle_timeout=0.2) as events:
        with pytest.raises(StreamError) as idle:
            await asyncio.wait_for(anext(events), 5)
    assert idle.value.code == "stream_timeout"
