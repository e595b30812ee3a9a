"""Revocation on the platform channels: the events socket of a demoted or disabled user is closed, a
disabled admin's webhooks get no admin events, and with Redis a change made on one replica closes the
sockets held by another."""

from __future__ import annotations

import os
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import redis
import websockets
from sqlalchemy import func, select

from backend.config import Settings
from backend.models.webhook import WebhookDelivery
from backend.platform.events import Audience, publish
from tests.backend.platform.receiver import Receiver
from tests.backend.platform.test_platform_events_ws import EventsSocket
from tests.conftest import TestUser, UserFactory, asgi_client, running_app, serving

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


async def _close_code(socket: EventsSocket, timeout: float = 5) -> tuple[int, str]:
    try:
        while True:
            await socket.next(timeout)
    except websockets.ConnectionClosed as closed:
        assert closed.rcvd is not None, "the server must close the socket"
        return closed.rcvd.code, closed.rcvd.reason


async def _patch(client: httpx.AsyncClient, admin: TestUser, user: TestUser, **changes: Any) -> None:
    response = await client.patch(f"/api/v1/admin/users/{user.id}", headers=admin.headers, json=changes)
    assert response.status_code == 200, response.text


async def test_a_demoted_admins_events_socket_is_closed_before_another_admin_event(
    app: Any, live_server: str, client: httpx.AsyncClient, make_user: UserFactory
) -> None:
    admin, second = await make_user("admin"), await make_user("second")
    await _patch(client, admin, second, role="admin")
    socket = await EventsSocket.open(live_server, second.access_token)
    await socket.send({"action": "subscribe", "events": ["*"]})
    await _patch(client, admin, second, role="user")
    # Another user's HL7 traffic, for admins only: the demoted admin must not see it.
    await publish(app.state.ctx, "hl7.message.delivered", {"message_id": "m-1"}, Audience(admins=True))
    assert await _close_code(socket) == (4403, "role_changed")
    assert not [f for f in socket.frames if f["event"] == "hl7.message.delivered"]


async def test_a_disabled_users_events_socket_is_closed(
    live_server: str, client: httpx.AsyncClient, admin: TestUser, alice: TestUser
) -> None:
    socket = await EventsSocket.open(live_server, alice.access_token)
    await socket.send({"action": "subscribe", "events": ["integration.*"]})
    started = time.monotonic()
    await _patch(client, admin, alice, is_active=False)
    assert await _close_code(socket) == (4401, "account_disabled")
    assert time.monotonic() - started < 2


async def test_a_disabled_admins_webhooks_get_no_admin_events(
    app: Any, client: httpx.AsyncClient, make_user: UserFactory
) -> None:
    admin, second = await make_user("admin"), await make_user("second")
    await _patch(client, admin, second, role="admin")
    hook = await client.post(
        "/api/v1/webhooks",
        headers=second.headers,
        json={"name": "audit feed", "url": "http://127.0.0.1:9/hook", "events": ["hl7.*"]},
    )
    assert hook.status_code == 201, hook.text
    await _patch(client, admin, second, is_active=False)
    ctx = app.state.ctx
    async with ctx.db.session() as session:
        await publish(ctx, "hl7.message.delivered", {"message_id": "m-2"}, Audience(admins=True), session)
    async with ctx.db.session() as session:
        queued = await session.scalar(
            select(func.count())
            .select_from(WebhookDelivery)
            .where(WebhookDelivery.webhook_id == uuid.UUID(hook.json()["id"]))
        )
    assert queued == 0


async def test_a_delivery_queued_before_the_owner_was_disabled_is_not_sent(
    app: Any, client: httpx.AsyncClient, admin: TestUser, alice: TestUser
) -> None:
    receiver = Receiver()
    receiver.start()
    try:
        hook = await client.post(
            "/api/v1/webhooks",
            headers=alice.headers,
            json={"name": "mine", "url": receiver.url, "events": ["integration.*"]},
        )
        assert hook.status_code == 201, hook.text
        ctx = app.state.ctx
        worker = ctx.extras["webhook_worker"]
        later = datetime.now(UTC) + timedelta(hours=1)  # not due: the worker's loop leaves it alone
        async with ctx.db.session() as session:
            delivery = WebhookDelivery(
                webhook_id=uuid.UUID(hook.json()["id"]),
                event="integration.created",
                payload={"event": "integration.created", "data": {}},
                next_attempt_at=later,
                locked_by=worker.worker_id,
                locked_until=later,
            )
            session.add(delivery)
        await _patch(client, admin, alice, is_active=False)
        await worker.deliver(delivery.id)
        async with ctx.db.session() as session:
            stored = await session.get(WebhookDelivery, delivery.id)
        assert stored is not None and stored.status == "failed" and "owner" in (stored.error or "")
        assert receiver.received == []
    finally:
        receiver.stop()


def _redis_or_skip() -> None:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"Redis is not reachable at {REDIS_URL}: {exc}")


@pytest.mark.redis
async def test_a_disable_on_one_replica_closes_the_socket_on_another(settings: Settings) -> None:
    _redis_or_skip()
    shared = settings.model_copy(update={"redis_url": REDIS_URL, "redis_prefix": f"sbtest-{uuid.uuid4().hex[:8]}"})
    async with (
        running_app(shared) as first,
        running_app(shared, wipe=False) as second,
        asgi_client(first) as http_first,
        asgi_client(second) as http_second,
        serving(first) as base_first,
    ):
        password = "correct horse battery"
        tokens = {}
        for name in ("admin", "alice"):
            registered = await http_first.post(
                "/api/v1/auth/register", json={"email": f"{name}@example.com", "username": name, "password": password}
            )
            assert registered.status_code == 201, registered.text
            login = await http_first.post("/api/v1/auth/login", json={"username": name, "password": password})
            tokens[name] = (registered.json()["id"], login.json()["access_token"])
        socket = await EventsSocket.open(base_first, tokens["alice"][1])
        await socket.send({"action": "subscribe", "events": ["*"]})
        disabled = await http_second.patch(
            f"/api/v1/admin/users/{tokens['alice'][0]}",
            headers={"Authorization": f"Bearer {tokens['admin'][1]}"},
            json={"is_active": False},
        )
        assert disabled.status_code == 200
        assert await _close_code(socket) == (4401, "account_disabled")
