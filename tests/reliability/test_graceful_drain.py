"""SIGTERM while 20 answers are streaming: the server drains — every answer completes and is stored."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import httpx

from backend.config import Settings
from tests.backend.chat.chat_client import ChatSocket
from tests.conftest import empty_database
from tests.server_process import server_process

TURNS = 20


async def _register(http: httpx.AsyncClient, base: str) -> dict[str, str]:
    credentials = {"email": "drain@example.com", "username": "drain", "password": "correct horse battery"}
    assert (await http.post(f"{base}/api/v1/auth/register", json=credentials)).status_code == 201
    login = await http.post(f"{base}/api/v1/auth/login", json=credentials)
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


async def test_sigterm_during_streaming_turns_stores_every_answer(settings: Settings, tmp_path: Path) -> None:
    database_url = settings.resolved_database_url
    await empty_database(database_url)
    async with (
        server_process(database_url, tmp_path, OFFLINE_TOKEN_DELAY_MS="25") as server,
        httpx.AsyncClient(timeout=10) as http,
    ):
        headers = await _register(http, server.url)
        sessions = []
        for index in range(TURNS):
            created = await http.post(
                f"{server.url}/api/v1/chat/sessions", json={"message": f"hello number {index}"}, headers=headers
            )
            assert created.status_code == 201, created.text
            sessions.append(created.json()["session_id"])
        token = headers["Authorization"].removeprefix("Bearer ")
        sockets = [await ChatSocket.open(server.url, sid, token) for sid in sessions]
        # Every turn is streaming when the signal arrives.
        await asyncio.gather(*(s.until_type("token") for s in sockets))

        server.terminate()
        exit_code = await server.wait(timeout=40)
        # uvicorn re-raises the signal after its graceful shutdown, so -SIGTERM is a clean exit too.
        assert exit_code in (0, -signal.SIGTERM), server.log()
        for socket in sockets:
            await socket.close()

    # The answers are in the database, complete, for a restarted server to serve.
    async with server_process(database_url, tmp_path) as restarted, httpx.AsyncClient(timeout=10) as http:
        login = await http.post(
            f"{restarted.url}/api/v1/auth/login", json={"username": "drain", "password": "correct horse battery"}
        )
        again = {"Authorization": f"Bearer {login.json()['access_token']}"}
        for sid in sessions:
            page = await http.get(f"{restarted.url}/api/v1/chat/sessions/{sid}/messages", headers=again)
            messages = page.json()["items"]
            assert [m["role"] for m in messages] == ["user", "assistant"], (sid, messages)
            answer = messages[-1]
            assert answer["metadata"]["finish_reason"] == "stop"
            assert answer["content"].strip()
