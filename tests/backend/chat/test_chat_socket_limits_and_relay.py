"""Chat turns over the WebSocket count against the chat rate limit; the Redis relay on one process:
a turn claims and frees its session in Redis, and with Redis down chat works as on a single replica.
(Two replicas: tests/reliability/test_replicas.py.)"""

from __future__ import annotations

import os
import uuid

import httpx
import pytest
import redis

from backend.config import Settings
from tests.backend.chat.chat_client import ChatSocket
from tests.conftest import asgi_client, running_app, serving

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


async def _user(http: httpx.AsyncClient, name: str) -> str:
    credentials = {"username": name, "password": "correct horse battery"}
    await http.post("/api/v1/auth/register", json={**credentials, "email": f"{name}@example.com"})
    return str((await http.post("/api/v1/auth/login", json=credentials)).json()["access_token"])


async def _session(http: httpx.AsyncClient, token: str, message: str) -> str:
    created = await http.post(
        "/api/v1/chat/sessions", json={"message": message}, headers={"Authorization": f"Bearer {token}"}
    )
    assert created.status_code == 201, created.text
    return str(created.json()["session_id"])


async def test_socket_turns_count_against_the_chat_limit(settings: Settings) -> None:
    limited = settings.model_copy(update={"rate_limit_chat": "3/minute"})
    async with running_app(limited) as app, asgi_client(app) as http, serving(app) as base:
        token = await _user(http, "alice")
        sid = await _session(http, token, "hello")  # 1 of 3 (REST)
        socket = await ChatSocket.open(base, sid, token)
        await socket.until_type("final")
        errors = []
        for frame in (
            {"type": "edit", "message_id": str(uuid.uuid4()), "message": "x"},  # 2: counted, then not found
            {"type": "regenerate"},  # 3: counted, starts a turn
            {"type": "message", "message": "again"},  # 4: over the limit
        ):
            await socket.send(frame)
            if frame["type"] == "regenerate":
                await socket.until_type("final")
            else:
                errors.append((await socket.until_type("error"))[-1])
        assert errors[0]["metadata"]["code"] == "not_found"
        refused = errors[1]["metadata"]
        assert refused["code"] == "rate_limit_exceeded" and 1 <= refused["retry_after"] <= 60 and refused["limit"] == 3
        await socket.send({"type": "ping"})
        assert (await socket.until_type("pong"))[-1]["type"] == "pong"  # the socket stays open
        # The same counter as the REST chat endpoints.
        rest = await http.post(
            f"/api/v1/chat/sessions/{sid}/messages",
            json={"message": "via REST"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert rest.status_code == 429 and rest.json()["code"] == "rate_limit_exceeded"
        await socket.close()


@pytest.mark.redis
async def test_a_turn_claims_its_session_in_redis_and_frees_it(settings: Settings) -> None:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"Redis is not reachable at {REDIS_URL}: {exc}")
    prefix = f"sbrelay-{uuid.uuid4().hex[:8]}"
    relayed = settings.model_copy(update={"redis_url": REDIS_URL, "redis_prefix": prefix, "offline_token_delay_ms": 5})
    client = redis.Redis.from_url(REDIS_URL)
    try:
        async with running_app(relayed) as app, asgi_client(app) as http, serving(app) as base:
            token = await _user(http, "alice")
            sid = await _session(http, token, "hello")
            socket = await ChatSocket.open(base, sid, token)
            await socket.until_type("token")
            marker = client.get(f"{prefix}:chat:{sid}:run")
            relay = app.state.ctx.extras["turns"].relay
            assert isinstance(marker, bytes) and marker.decode().endswith("|" + relay.replica)  # claimed here
            final = (await socket.until_type("final"))[-1]
            assert final["metadata"]["finish_reason"] == "stop"
            # Freed, and the final relayed, before this client got the final: a next message to any
            # replica is not refused.
            assert client.get(f"{prefix}:chat:{sid}:run") is None
            entries = client.xrange(f"{prefix}:chat:{sid}:buffer") or []
            assert entries and b'"type":"final"' in (entries[-1][1] or {}).get(b"f", b"")
            assert 0 < client.ttl(f"{prefix}:chat:{sid}:buffer") <= 60  # the database has the turn now
            # A turn that fails to start (here: editing an unknown message) frees its claim too.
            await socket.send({"type": "edit", "message_id": str(uuid.uuid4()), "message": "x"})
            assert (await socket.until_type("error"))[-1]["metadata"]["code"] == "not_found"
            assert client.get(f"{prefix}:chat:{sid}:run") is None
            await socket.close()
    finally:
        for key in client.scan_iter(f"{prefix}:*"):
            client.delete(key)


async def test_chat_works_as_a_single_replica_when_redis_is_down(settings: Settings) -> None:
    down = settings.model_copy(update={"redis_url": "redis://127.0.0.1:1/0"})  # nothing listens there
    async with running_app(down) as app, asgi_client(app) as http, serving(app) as base:
        token = await _user(http, "alice")
        sid = await _session(http, token, "hello")
        socket = await ChatSocket.open(base, sid, token, after_seq=0)
        assert (await socket.until_type("final"))[-1]["metadata"]["finish_reason"] == "stop"
        await socket.send({"type": "message", "message": "hello again"})
        assert (await socket.until_type("final"))[-1]["metadata"]["finish_reason"] == "stop"
        await socket.send({"type": "cancel"})
        assert (await socket.until_type("error"))[-1]["metadata"]["code"] == "no_run_in_progress"
        await socket.close()
        assert app.state.ctx.extras["turns"].relay.down
