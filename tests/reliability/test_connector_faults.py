"""A connected system that is down or hangs: the tool reports it, the agent says so in plain words,
nothing is invented, and the session keeps working."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.backend.chat.chat_client import ChatSocket, of_type
from tests.conftest import TestUser
from tools.net import OutboundPolicy
from tools.sandbox_server import free_port

SAYS_IT_FAILED = re.compile(r"could not|couldn't|did not answer|timed out|unreachable|not reachable", re.I)


@pytest.fixture
async def black_hole() -> AsyncIterator[int]:
    """A TCP port that accepts connections and never answers (a hung server)."""
    held: list[asyncio.StreamWriter] = []

    async def swallow(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(swallow, "127.0.0.1", 0)
    yield int(server.sockets[0].getsockname()[1])
    for writer in held:
        writer.close()
    server.close()


async def _integration(client: httpx.AsyncClient, user: TestUser, body: dict[str, Any]) -> None:
    saved = await client.post("/api/v1/integrations", headers=user.headers, json=body)
    assert saved.status_code == 201, saved.text


async def _ask(client: httpx.AsyncClient, live_server: str, user: TestUser, message: str) -> list[dict[str, Any]]:
    created = await client.post("/api/v1/chat/sessions", json={"message": message}, headers=user.headers)
    socket = await ChatSocket.open(live_server, created.json()["session_id"], user.access_token)
    try:
        return await socket.until_type("final", timeout=30)
    finally:
        await socket.close()


async def test_a_jira_site_that_is_down_is_reported_not_invented(
    app: Any, client: httpx.AsyncClient, live_server: str, alice: TestUser
) -> None:
    app.state.ctx.outbound = OutboundPolicy.from_entries(["127.0.0.1/32"])
    closed = free_port()  # nothing listens here: connection refused
    await _integration(
        client,
        alice,
        {
            "name": "Ops Jira",
            "integration_type": "jira",
            "config": {"base_url": f"http://127.0.0.1:{closed}", "deployment": "cloud"},
            "credentials": {"email": "dana@example.com", "api_token": "token"},
        },
    )

    frames = await _ask(client, live_server, alice, "what are my open Jira tickets?")

    result = of_type(frames, "tool_result")[0]["metadata"]
    assert result["tool_name"] == "ops_jira__my_open_issues" and result["status"] == "failed"
    answer = frames[-1]["content"]
    assert frames[-1]["metadata"]["finish_reason"] == "stop"
    assert SAYS_IT_FAILED.search(answer), answer
    assert not re.search(r"\b[A-Z]{2,}-\d+\b", answer), "no issue keys out of thin air"
    # The session and the service carry on.
    again = await _ask(client, live_server, alice, "hello")
    assert again[-1]["metadata"]["finish_reason"] == "stop"


async def test_an_emr_that_hangs_times_out_and_is_reported(
    app: Any, client: httpx.AsyncClient, live_server: str, alice: TestUser, black_hole: int
) -> None:
    app.state.ctx.outbound = OutboundPolicy.from_entries(["127.0.0.1/32"])
    await _integration(
        client,
        alice,
        {
            "name": "Slow EMR",
            "integration_type": "emr",
            "config": {"base_url": f"http://127.0.0.1:{black_hole}/fhir", "auth": "none", "timeout_s": 1},
            "credentials": None,
        },
    )

    started = time.monotonic()
    frames = await _ask(client, live_server, alice, "find patient Harold Quimby")
    elapsed = time.monotonic() - started

    results = of_type(frames, "tool_result")
    assert results and all(r["metadata"]["status"] == "failed" for r in results)
    assert all(re.search(r"time|did not answer", r["content"], re.I) for r in results), results[0]["content"]
    answer = frames[-1]["content"]
    assert SAYS_IT_FAILED.search(answer), answer
    assert "1958" not in answer, "no demographics out of thin air"
    assert elapsed < 20, f"a hung EMR held the turn for {elapsed:.1f} s"
