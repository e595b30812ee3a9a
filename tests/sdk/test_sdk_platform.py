"""API keys, webhooks and rate limits through the client against the live server."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from switchboard_client import (
    AsyncSwitchboard,
    AuthenticationError,
    FinalEvent,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RetryPolicy,
    ValidationError,
    WebhookVerificationError,
    verify_webhook_signature,
)

from backend.config import Settings
from tests.conftest import UserFactory, running_app, serving
from tests.sdk.conftest import FAST_RETRY
from tests.sdk.scripted_server import Reply, Seen, scripted


async def test_api_key_lifecycle_and_scoped_client(alice_client: AsyncSwitchboard, live_server: str) -> None:
    expires = datetime.now(UTC) + timedelta(days=7)
    created = await alice_client.api_keys.create(
        "ci", ["integrations:read", "chat"], expires_at=expires, rate_limit_per_minute=500
    )
    assert created.key.startswith("sb_") and created.key.startswith(created.prefix)
    assert created.status == "active" and created.rate_limit_per_minute == 500
    listed = await alice_client.api_keys.list()
    assert [k.id for k in listed.items] == [created.id] and "key" not in listed.items[0].model_dump()

    async with AsyncSwitchboard(live_server, api_key=created.key, retry=FAST_RETRY) as robot:
        assert (await robot.integrations.list()).total >= 0
        sid = (await robot.sessions.create("hello")).session_id
        async with robot.chat.stream(sid) as stream:  # the socket takes X-API-Key too
            events = [event async for event in stream]
        assert isinstance(events[-1], FinalEvent) and events[-1].content
        with pytest.raises(PermissionDeniedError) as out_of_scope:
            await robot.messages.submit("MSH|^~\\&|A|B|C|D|20250101||ADT^A01|1|P|2.5.1", ["x"])
        assert out_of_scope.value.code == "insufficient_scope"

        renamed = await alice_client.api_keys.update(created.id, name="ci-2", scopes=["integrations:read"])
        assert (renamed.name, renamed.scopes) == ("ci-2", ["integrations:read"])
        with pytest.raises(PermissionDeniedError):
            await robot.sessions.list()

        await alice_client.api_keys.update(created.id, is_active=False)
        with pytest.raises(AuthenticationError) as revoked:
            await robot.integrations.list()
        assert revoked.value.status_code == 401 and revoked.value.code == "invalid_api_key"

    assert (await alice_client.api_keys.get(created.id)).is_active is False
    await alice_client.api_keys.delete(created.id)
    with pytest.raises(NotFoundError):
        await alice_client.api_keys.get(created.id)
    with pytest.raises(ValidationError):
        await alice_client.api_keys.create("bad", ["everything"])


def _verify(secret: str, seen: Seen) -> dict[str, Any]:
    headers = seen.headers
    verify_webhook_signature(secret, headers["x-switchboard-timestamp"], seen.body, headers["x-switchboard-signature"])
    body: dict[str, Any] = json.loads(seen.body)
    return body


async def test_webhook_crud_test_delivery_and_signature(alice_client: AsyncSwitchboard, allow_loopback: None) -> None:
    with scripted(Reply(200, {"ok": True})) as receiver:
        hook = await alice_client.webhooks.create("ci", receiver.url + "/hook", ["integration.*"])
        assert hook.secret and hook.is_active and hook.events == ["integration.*"]

        delivery = await alice_client.webhooks.test(hook.id)
        assert (delivery.status, delivery.response_code, delivery.event) == ("delivered", 200, "webhook.test")
        seen = receiver.seen[0]
        assert seen.path == "/hook" and seen.headers["x-switchboard-event"] == "webhook.test"
        assert seen.headers["x-switchboard-delivery"] == str(delivery.id)
        _verify(hook.secret, seen)
        with pytest.raises(WebhookVerificationError):
            verify_webhook_signature(
                hook.secret,
                seen.headers["x-switchboard-timestamp"],
                seen.body + b" ",
                seen.headers["x-switchboard-signature"],
            )

        # A real event: creating an integration is delivered, signed, from the outbox.
        await alice_client.integrations.create("Lab LIS", "hl7", {"host": "127.0.0.1", "port": 2575})
        for _ in range(100):
            if len(receiver.seen) >= 2:
                break
            await asyncio.sleep(0.05)
        event = receiver.seen[1]
        assert event.headers["x-switchboard-event"] == "integration.created"
        assert "Lab LIS" in json.dumps(_verify(hook.secret, event))

    deliveries = [d async for d in alice_client.webhooks.iter_deliveries(hook.id)]
    assert {d.event for d in deliveries} >= {"webhook.test", "integration.created"}
    paused = await alice_client.webhooks.update(hook.id, is_active=False, events=["hl7.*"])
    assert (paused.is_active, paused.events) == (False, ["hl7.*"])
    assert [w.id for w in (await alice_client.webhooks.list()).items] == [hook.id]
    await alice_client.webhooks.delete(hook.id)
    with pytest.raises(NotFoundError):
        await alice_client.webhooks.get(hook.id)


@pytest.fixture
async def limited_server(settings: Settings) -> AsyncIterator[str]:
    """The app with a general limit of 2 requests a second per user (sign-in stays unlimited)."""
    limited = settings.model_copy(update={"rate_limit_default": "2/second"})
    async with running_app(limited) as application, serving(application) as url:
        yield url


async def test_client_waits_out_the_real_rate_limiter(limited_server: str, make_user: UserFactory) -> None:
    user = await make_user()
    async with AsyncSwitchboard(limited_server, access_token=user.access_token, retry=FAST_RETRY) as client:
        for _ in range(5):  # 5 requests at 2/s: the client waits on 429s instead of failing
            assert (await client.auth.me()).username == user.username
    impatient = RetryPolicy(max_attempts=1)
    async with AsyncSwitchboard(limited_server, access_token=user.access_token, retry=impatient) as client:
        with pytest.raises(RateLimitError) as caught:
            for _ in range(5):
                await client.auth.me()
    error = caught.value
    assert error.status_code == 429 and error.code == "rate_limit_exceeded"
    assert error.retry_after is not None and 0 < error.retry_after <= 2
