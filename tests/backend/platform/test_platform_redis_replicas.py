"""Two `switchboard serve` processes on one Redis: one shared rate limit, events reach both replicas."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis
import websockets

from tests.backend.platform.receiver import Receiver
from tests.conftest import TEST_SECRET
from tools.sandbox_server import free_port

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
pytestmark = pytest.mark.redis


def _redis_or_skip() -> None:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"Redis is not reachable at {REDIS_URL}: {exc}")


@pytest.fixture
def replicas(tmp_path: Path, database_url: str) -> Iterator[list[str]]:
    """Two server processes sharing one database and one Redis namespace."""
    _redis_or_skip()
    prefix = f"sbtest-{uuid.uuid4().hex[:8]}"
    on_postgres = database_url.startswith("postgres")
    url = database_url if on_postgres else f"sqlite:///{tmp_path / 'replicas.db'}"
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "ENVIRONMENT")},
        "DATABASE_URL": url,
        "DATA_DIR": str(tmp_path / "data"),
        "SECRET_KEY": TEST_SECRET,
        "REDIS_URL": REDIS_URL,
        "REDIS_PREFIX": prefix,
        "RATE_LIMIT_AUTH": "6/minute",
        "LOGIN_MAX_FAILURES": "4",
        "RATE_LIMIT_DEFAULT": "1000/minute",
        "LOG_LEVEL": "WARNING",
        "OUTBOUND_ALLOWLIST": "127.0.0.1",
        "WEBHOOK_POLL_INTERVAL_S": "0.1",
    }
    ports = [free_port(), free_port()]
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "backend.cli", "serve", "--port", str(port), *(["--migrate"] if i == 0 else [])],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for i, port in enumerate(ports)
    ]
    bases = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        deadline = time.monotonic() + 60
        for base, process in zip(bases, processes, strict=True):
            while True:
                if process.poll() is not None:
                    raise AssertionError(f"server exited: {process.stderr.read().decode() if process.stderr else ''}")
                try:
                    if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, "servers did not start"
                time.sleep(0.2)
        if on_postgres:
            _wipe(url)
        yield bases
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(f"{prefix}:*"):
            client.delete(key)


def _wipe(url: str) -> None:
    """The shared PostgreSQL test database may hold rows from earlier tests: start from empty."""
    from backend.config import Settings
    from tests.conftest import empty_database

    asyncio.run(empty_database(Settings(database_url=url).resolved_database_url))


async def test_replicas_share_events_webhooks_and_one_rate_limit(replicas: list[str], receiver: Receiver) -> None:
    """An event raised on one replica reaches sockets on both; two webhook workers never send one delivery
    twice; the sign-in limit is one for both."""
    first, second = replicas
    async with httpx.AsyncClient(timeout=10) as http:
        credentials = {"username": "alice", "password": "correct horse"}
        await http.post(f"{first}/api/v1/auth/register", json={**credentials, "email": "alice@example.com"})
        token = (await http.post(f"{second}/api/v1/auth/login", json=credentials)).json()["access_token"]
        sockets = [
            await websockets.connect(base.replace("http://", "ws://") + f"/api/v1/events/ws?token={token}")
            for base in replicas
        ]
        try:
            for ws in sockets:
                assert json.loads(await ws.recv())["event"] == "connection.established"
                await ws.send(json.dumps({"action": "subscribe", "events": ["integration.created"]}))
                assert json.loads(await ws.recv())["event"] == "subscribed"
            created = await http.post(
                f"{first}/api/v1/integrations",
                headers={"Authorization": f"Bearer {token}"},
                json={"name": "Feed", "integration_type": "hl7", "config": {"host": "feed.invalid", "port": 2575}},
            )
            assert created.status_code == 201, created.text
            for ws in sockets:  # each replica's subscriber gets it exactly once
                frame = json.loads(await asyncio.wait_for(ws.recv(), 10))
                assert frame["event"] == "integration.created" and frame["data"]["id"] == created.json()["id"]
                with pytest.raises(TimeoutError):
                    await asyncio.wait_for(ws.recv(), 0.5)

            headers = {"Authorization": f"Bearer {token}"}
            hook = await http.post(
                f"{first}/api/v1/webhooks",
                headers=headers,
                json={"name": "both", "url": receiver.url, "events": ["integration.updated"]},
            )
            receiver.secret = hook.json()["secret"]
            for index in range(10):  # raised on both replicas; both workers poll the same outbox
                await http.patch(
                    f"{replicas[index % 2]}/api/v1/integrations/{created.json()['id']}",
                    headers=headers,
                    json={"name": f"Feed {index}"},
                )
            hits = await receiver.wait_for(10)
            await asyncio.sleep(0.5)
            assert len(receiver.received) == 10 and all(h.signature_ok for h in hits)
            assert len({h.headers["x-switchboard-delivery"] for h in hits}) == 10
        finally:
            for ws in sockets:
                await ws.close()

    async with httpx.AsyncClient(timeout=10) as http:
        # Four failed sign-ins at one account, spread over both replicas, lock it on both.
        statuses = []
        for attempt in range(8):
            base = replicas[attempt % 2]
            response = await http.post(f"{base}/api/v1/auth/login", json={"username": "x", "password": "wrong pw"})
            statuses.append(response.status_code)
        assert statuses == [401] * 4 + [429] * 4, statuses
        health = (await http.get(f"{second}/health")).json()
        assert health["components"]["rate_limits"] == {"status": "ok", "storage": "redis"}
