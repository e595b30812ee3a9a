"""Two `switchboard serve` replicas on one PostgreSQL database and one Redis, behind no load balancer:
a client may talk to either. Checked in one place: event fan-out, a conversation that moves between
replicas, live frames and `after_seq` resume of a turn running on the other replica, `cancel` and
`run_in_progress` across replicas, one chat rate limit for both, and HL7 messages submitted to both
delivered once per destination.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
import websockets

from backend.config import Settings
from tests.backend.chat.chat_client import ChatSocket, of_type
from tests.conftest import empty_database
from tests.server_process import ServerProcess
from tools.hl7.ack import build_ack
from tools.hl7.mllp import MllpListener

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
CHAT_LIMIT = 8  # per user per minute, shared by both replicas
ADT = "MSH|^~\\&|EMR|HOSP|LIS|LAB|20250101120000||ADT^A01|{cid}|P|2.5.1\rPID|1||12345^^^HOSP^MR||DOE^JANE"
pytestmark = [pytest.mark.redis, pytest.mark.postgres]


class Receiver:
    """An MLLP system that ACKs everything and records each control id it receives."""

    def __init__(self) -> None:
        self.control_ids: list[str] = []
        self.listener = MllpListener(self.handle)

    async def handle(self, message: str, peer: str) -> str:
        self.control_ids.append(message.split("\r")[0].split("|")[9])
        return build_ack(message, "AA")


@pytest.fixture
async def replicas(settings: Settings, tmp_path: Path) -> AsyncIterator[tuple[str, str]]:
    url = settings.resolved_database_url
    if not url.startswith("postgresql"):
        pytest.skip("replicas share PostgreSQL; on SQLite the server runs as one process (no replicas)")
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"Redis is not reachable at {REDIS_URL}: {exc}")
    await empty_database(url)
    prefix = f"sbreplicas-{uuid.uuid4().hex[:8]}"
    env = {
        "REDIS_URL": REDIS_URL,
        "REDIS_PREFIX": prefix,
        "RATE_LIMIT_CHAT": f"{CHAT_LIMIT}/minute",
        "RATE_LIMIT_AUTH": "100/minute",
        "RATE_LIMIT_DEFAULT": "1000/minute",
        "OFFLINE_TOKEN_DELAY_MS": "8",
        "OUTBOUND_ALLOWLIST": "127.0.0.1",
    }
    servers = [ServerProcess(url, tmp_path, **env), ServerProcess(url, tmp_path, **env)]
    try:
        await asyncio.gather(*(server.start() for server in servers))
        yield servers[0].url, servers[1].url
    finally:
        await asyncio.gather(*(server.stop() for server in servers))
        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(f"{prefix}:*"):
            client.delete(key)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    r = Receiver()
    await r.listener.start()
    yield r
    await r.listener.stop()


async def _user(http: httpx.AsyncClient, base: str, name: str) -> str:
    credentials = {"username": name, "password": "correct horse battery"}
    registered = await http.post(f"{base}/api/v1/auth/register", json={**credentials, "email": f"{name}@example.com"})
    assert registered.status_code == 201, registered.text
    return str((await http.post(f"{base}/api/v1/auth/login", json=credentials)).json()["access_token"])


async def _session(http: httpx.AsyncClient, base: str, token: str, message: str) -> str:
    created = await http.post(
        f"{base}/api/v1/chat/sessions", json={"message": message}, headers={"Authorization": f"Bearer {token}"}
    )
    assert created.status_code == 201, created.text
    return str(created.json()["session_id"])


def _turn(frames: list[dict[str, Any]], run_id: str) -> list[int]:
    return [f["seq"] for f in frames if f.get("run_id") == run_id]


async def test_two_replicas_share_events_conversations_turns_limits_and_hl7(
    replicas: tuple[str, str], receiver: Receiver
) -> None:
    a, b = replicas
    async with httpx.AsyncClient(timeout=15) as http:
        alice = await _user(http, a, "alice")
        auth = {"Authorization": f"Bearer {alice}"}

        # --- events raised on A reach subscribers on both replicas, once each
        events = [
            await websockets.connect(base.replace("http://", "ws://") + f"/api/v1/events/ws?token={alice}")
            for base in (a, b)
        ]
        for ws in events:
            assert json.loads(await ws.recv())["event"] == "connection.established"
            await ws.send(json.dumps({"action": "subscribe", "events": ["integration.created"]}))
            assert json.loads(await ws.recv())["event"] == "subscribed"
        lis = {"host": "127.0.0.1", "port": receiver.listener.port}
        created = await http.post(
            f"{a}/api/v1/integrations", headers=auth, json={"name": "LIS", "integration_type": "hl7", "config": lis}
        )
        assert created.status_code == 201, created.text
        for ws in events:
            frame = json.loads(await asyncio.wait_for(ws.recv(), 10))
            assert frame["event"] == "integration.created" and frame["data"]["id"] == created.json()["id"]
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(ws.recv(), 0.3)
            await ws.close()

        # --- a conversation started on A continues on B: the agent remembers turn 1 (checkpointer)
        first = await _session(http, a, alice, "explain this\n" + ADT.format(cid="MEMO42").replace("\r", "\n"))
        on_a = await ChatSocket.open(a, first, alice)
        answered = await on_a.until_type("final", 30)
        assert of_type(answered, "tool_call"), answered
        await on_a.close()
        on_b = await ChatSocket.open(b, first, alice)
        await on_b.until_type("connection_established")
        await on_b.send({"type": "message", "message": "is it valid?"})
        follow_up = await on_b.until_type("final", 30)
        calls = of_type(follow_up, "tool_call")
        assert calls and "MEMO42" in json.dumps(calls[0]["metadata"]["args"]), follow_up  # turn 1's message
        await on_b.close()
        histories = [
            (await http.get(f"{base}/api/v1/chat/sessions/{first}/messages", headers=auth)).json() for base in (a, b)
        ]
        assert histories[0] == histories[1]
        roles = [m["role"] for m in histories[0]["items"] if m["role"] != "tool"]
        assert roles == ["user", "assistant", "user", "assistant"], histories[0]

        # --- a turn running on A: live frames on B, run_in_progress on B, resume on B, cancel from B
        # (an explanation streams ~180 tokens at 8 ms each: the turn is still running when cancelled)
        second = await _session(http, a, alice, "explain this\n" + ADT.format(cid="LIVE1").replace("\r", "\n"))
        runner = await ChatSocket.open(a, second, alice)
        started = await runner.until_type("token")
        run_id = started[-1]["run_id"]
        watcher = await ChatSocket.open(b, second, alice)
        await watcher.until(lambda f: f["type"] == "token" and f["run_id"] == run_id)  # relayed from A
        await watcher.send({"type": "message", "message": "and another thing"})
        refused = await watcher.until(lambda f: f["type"] == "error")
        assert refused[-1]["metadata"]["code"] == "run_in_progress"
        await watcher.send({"type": "ping"})
        await watcher.until_type("pong")
        missed_after = max(f["seq"] for f in watcher.frames if f.get("run_id") == run_id)
        resumed = await ChatSocket.open(b, second, alice, after_seq=missed_after - 5)
        await resumed.until(lambda f: f.get("run_id") == run_id and f["seq"] > missed_after + 3)
        listed = await http.get(f"{b}/api/v1/chat/sessions/{second}/events?after_seq={missed_after}", headers=auth)
        assert [f["seq"] for f in listed.json()][:2] == [missed_after + 1, missed_after + 2]  # REST, from Redis

        sent_at = time.monotonic()
        await watcher.send({"type": "cancel"})
        closing = await runner.until_type("final", 10)
        cancel_ms = (time.monotonic() - sent_at) * 1000
        final = closing[-1]
        assert final["metadata"]["finish_reason"] == "cancelled" and final["content"], final
        assert cancel_ms < 1000, cancel_ms  # 200 ms budget + persistence + Redis, with CI headroom
        print(f"cross-replica cancel → final on the running replica: {cancel_ms:.0f} ms")
        for socket in (watcher, resumed):
            await socket.until(lambda f: f["type"] == "final")
        # Everyone saw the same turn: B live, B resumed (replay of what it missed, then live), A itself.
        expected = [s for s in _turn(runner.frames, run_id) if s > missed_after - 5]
        assert _turn(resumed.frames, run_id) == expected
        watched = _turn(watcher.frames, run_id)
        assert watched == [s for s in _turn(runner.frames, run_id) if s >= watched[0]]
        seen = [f["seq"] for f in watcher.frames]  # its own error and pong frames included
        assert seen == sorted(seen) and of_type(watcher.frames, "pong"), watcher.frames
        stored = (await http.get(f"{b}/api/v1/chat/sessions/{second}/messages", headers=auth)).json()["items"]
        assert stored[-1]["content"] == final["content"]
        assert stored[-1]["metadata"]["finish_reason"] == "cancelled"
        for socket in (runner, watcher, resumed):
            await socket.close()

        # --- one chat limit for both replicas: chat turns over the socket count, wherever they land
        bob = await _user(http, b, "bob")
        third = await _session(http, a, bob, "hi")  # hit 1
        sockets = [await ChatSocket.open(base, third, bob) for base in (a, b)]
        await sockets[0].until_type("final", 30)
        codes = []
        for attempt in range(CHAT_LIMIT):  # hits 2..9, alternating replicas
            socket = sockets[attempt % 2]
            await socket.send({"type": "edit", "message_id": str(uuid.uuid4()), "message": "changed"})
            codes.append((await socket.until(lambda f: f["type"] == "error"))[-1]["metadata"])
        assert [c["code"] for c in codes] == ["not_found"] * (CHAT_LIMIT - 1) + ["rate_limit_exceeded"], codes
        assert codes[-1]["retry_after"] >= 1
        await sockets[1].send({"type": "ping"})
        await sockets[1].until_type("pong")  # the socket stays open
        for socket in sockets:
            await socket.close()

        # --- HL7 messages submitted to both replicas: each delivered once to the destination
        ids = []
        for index in range(6):
            submitted = await http.post(
                f"{(a, b)[index % 2]}/api/v1/messages",
                headers=auth,
                json={
                    "content_type": "application/hl7-v2",
                    "message": ADT.format(cid=f"R{index}"),
                    "metadata": {"source": "emr", "destination": ["LIS"]},
                },
            )
            assert submitted.status_code in (201, 202), submitted.text
            ids.append(submitted.json()["message_id"])
        for message_id in ids:
            for _ in range(200):
                body = (await http.get(f"{a}/api/v1/messages/{message_id}", headers=auth)).json()
                if body["status"] == "delivered":
                    break
                await asyncio.sleep(0.05)
            assert body["status"] == "delivered", body
        await asyncio.sleep(0.3)
        assert sorted(receiver.control_ids) == [f"R{i}" for i in range(6)]
