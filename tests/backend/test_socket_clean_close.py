"""A client that closes a WebSocket cleanly is not an error: no ERROR line, no traceback in the log.

Two closes used to log a traceback that would page someone: every clean close of
`WS /api/v1/events/ws`, and a chat socket closed before it authenticated (`_authenticate` did not
expect the disconnect while waiting for the auth frame). Both run over real sockets (uvicorn).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import websockets

from tests.conftest import TestUser, serving


@contextlib.asynccontextmanager
async def served(app: Any, caplog: pytest.LogCaptureFixture) -> AsyncIterator[str]:
    """The app over real sockets, with uvicorn's own error log captured too.

    uvicorn logs "Exception in ASGI application" on `uvicorn.error`, whose records never reach the root
    logger, and it re-configures its loggers when the server is created: attach only after that.
    """
    caplog.set_level(logging.DEBUG)
    async with serving(app) as base:
        uvicorn_errors = logging.getLogger("uvicorn.error")
        uvicorn_errors.addHandler(caplog.handler)
        try:
            yield base.replace("http://", "ws://")
        finally:
            uvicorn_errors.removeHandler(caplog.handler)


def errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [f"{r.name}: {r.getMessage()}" for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


async def settle() -> None:
    """Let the server run the socket handler's clean-up (after the client already saw the close)."""
    await asyncio.sleep(0.3)


async def test_events_socket_closed_by_the_client_logs_no_error(
    app: Any, alice: TestUser, caplog: pytest.LogCaptureFixture
) -> None:
    async with served(app, caplog) as base:
        url = base + f"/api/v1/events/ws?token={alice.access_token}"
        for close in ("after the greeting", "after a subscription"):
            connection = await websockets.connect(url)
            assert json.loads(await connection.recv())["event"] == "connection.established"
            if close == "after a subscription":
                await connection.send(json.dumps({"action": "subscribe", "events": ["hl7.*"]}))
                assert json.loads(await connection.recv())["event"] == "subscribed"
            await connection.close(code=1000)
            await settle()
        # Closed before sending its auth frame.
        connection = await websockets.connect(base + "/api/v1/events/ws")
        await connection.close(code=1000)
        await settle()
    assert errors(caplog) == []


async def test_chat_socket_closed_before_it_authenticates_logs_no_error(
    app: Any, client: httpx.AsyncClient, alice: TestUser, caplog: pytest.LogCaptureFixture
) -> None:
    created = await client.post("/api/v1/chat/sessions", json={"message": "hello"}, headers=alice.headers)
    assert created.status_code == 201, created.text
    session_id = created.json()["session_id"]
    async with served(app, caplog) as base:
        url = base + f"/api/v1/chat/ws/{session_id}"
        for _ in range(2):
            connection = await websockets.connect(url)  # no token: the server waits for an auth frame
            await connection.close(code=1000)
            await settle()
        # A socket that does authenticate and then closes cleanly is quiet too.
        connection = await websockets.connect(url)
        await connection.send(json.dumps({"type": "auth", "token": alice.access_token}))
        assert json.loads(await connection.recv())["type"] == "connection_established"
        await connection.close(code=1000)
        await settle()
    assert errors(caplog) == []
