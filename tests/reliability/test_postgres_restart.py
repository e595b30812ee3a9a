"""PostgreSQL restarts under a running server: it recovers without a restart of its own (pool
pre-ping, checkpointer pool checks), and a turn caught in the middle is either stored or clearly failed.

Runs in the PostgreSQL pass only (TEST_DATABASE_URL=postgresql://...), and restarts the machine's
cluster with the command from the environment notes, waiting until it accepts connections again.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from backend.config import Settings
from tests.backend.chat.chat_client import ChatSocket, of_type
from tests.conftest import TestUser, UserFactory, asgi_client, running_app, serving

# The installed cluster version, e.g. "15" (empty where PostgreSQL is not a local Debian cluster).
CLUSTER_VERSION = max((p.name for p in Path("/etc/postgresql").glob("*")), default="")

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.serial,  # restarts the shared cluster: never beside other tests (scripts/test.sh)
    pytest.mark.skipif(
        not os.environ.get("TEST_DATABASE_URL", "").startswith("postgres"), reason="needs the PostgreSQL pass"
    ),
    pytest.mark.skipif(
        shutil.which("pg_ctlcluster") is None or not CLUSTER_VERSION, reason="needs pg_ctlcluster to restart PostgreSQL"
    ),
]


async def restart_postgres() -> None:
    """Restart the local cluster (fast shutdown: open connections are cut) and wait until it answers."""
    version = CLUSTER_VERSION
    process = await asyncio.create_subprocess_exec(
        "pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart", "-m", "fast"
    )
    assert await process.wait() == 0
    for _ in range(100):
        ready = await asyncio.create_subprocess_exec("pg_isready", "-h", "127.0.0.1", "-q")
        if await ready.wait() == 0:
            return
        await asyncio.sleep(0.1)
    raise TimeoutError("PostgreSQL did not come back")


@pytest.fixture
async def paced(settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    async with (
        running_app(settings.model_copy(update={"offline_token_delay_ms": 40.0})) as application,
        asgi_client(application) as http,
        serving(application) as url,
    ):
        yield http, url


async def _answered(http: httpx.AsyncClient, url: str, user: TestUser, message: str) -> list[dict[str, Any]]:
    created = await http.post("/api/v1/chat/sessions", json={"message": message}, headers=user.headers)
    assert created.status_code == 201, created.text
    socket = await ChatSocket.open(url, created.json()["session_id"], user.access_token)
    try:
        return await socket.until_type("final", timeout=30)
    finally:
        await socket.close()


async def test_server_recovers_after_postgres_restarts_while_idle_and_mid_turn(
    paced: tuple[httpx.AsyncClient, str], make_user: UserFactory
) -> None:
    http, url = paced
    user = await make_user("pg_restart")
    assert (await _answered(http, url, user, "hello"))[-1]["metadata"]["finish_reason"] == "stop"

    # Idle: every pooled connection dies; the next requests must simply work.
    await restart_postgres()
    listed = await http.get("/api/v1/chat/sessions", headers=user.headers)
    assert listed.status_code == 200
    assert (await http.get("/health")).json()["components"]["database"]["status"] == "ok"
    assert (await _answered(http, url, user, "hello again"))[-1]["metadata"]["finish_reason"] == "stop"

    # Mid-turn: the outcome is stored (stop) or clearly failed (error frame + finish_reason error).
    created = await http.post("/api/v1/chat/sessions", json={"message": "what can you do?"}, headers=user.headers)
    session_id = created.json()["session_id"]
    socket = await ChatSocket.open(url, session_id, user.access_token)
    await socket.until_type("token", timeout=15)
    await restart_postgres()
    frames = await socket.until_type("final", timeout=30)
    await socket.close()
    final = frames[-1]
    reason = final["metadata"]["finish_reason"]
    stored = (await http.get(f"/api/v1/chat/sessions/{session_id}/messages", headers=user.headers)).json()["items"]
    if reason == "stop":
        assert stored[-1]["role"] == "assistant" and stored[-1]["content"] == final["content"]
    else:
        assert reason == "error" and of_type(socket.frames, "error"), "a failure is reported, never silent"

    # And the service keeps working afterwards.
    assert (await _answered(http, url, user, "still there?"))[-1]["metadata"]["finish_reason"] == "stop"
