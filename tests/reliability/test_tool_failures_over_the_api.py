"""Over the real API (WebSocket chat, SQLite and PostgreSQL): a Jira site answering with Atlassian's own
example issue is read, and a connector bug is an answer with one logged traceback carrying the request id.

The measured failure: "Show me Jira issue PROJ-1" against a server serving Atlassian's published
examples crashed in `tools/jira/shapes.py` and the user got `error` `agent_error` and an empty `final`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from backend.logging import _ContextFilter
from tests.backend.chat.chat_client import ChatSocket, of_type
from tests.conftest import TestUser
from tests.contracts.jira.mock_spec import response_example, vendor_document
from tests.contracts.json_server import Answer, ScriptedServer, scripted_server
from tools.net import OutboundPolicy

ISSUE = response_example(vendor_document(), "get", "/rest/api/3/issue/{issueIdOrKey}", "200")


@pytest.fixture
def atlassian_example_site() -> Iterator[ScriptedServer]:
    with scripted_server() as server:
        server.answer = Answer(200, json.dumps(ISSUE).encode())
        yield server


async def ask(client: httpx.AsyncClient, live_server: str, user: TestUser, message: str) -> list[dict[str, Any]]:
    created = await client.post("/api/v1/chat/sessions", json={"message": message}, headers=user.headers)
    socket = await ChatSocket.open(live_server, created.json()["session_id"], user.access_token)
    try:
        return await socket.until_type("final", timeout=30)
    finally:
        await socket.close()


async def connect_jira(app: Any, client: httpx.AsyncClient, user: TestUser, url: str) -> None:
    app.state.ctx.outbound = OutboundPolicy.from_entries(["127.0.0.1/32"])
    saved = await client.post(
        "/api/v1/integrations",
        headers=user.headers,
        json={
            "name": "Acme Jira",
            "integration_type": "jira",
            "config": {"base_url": url, "deployment": "cloud"},
            "credentials": {"email": "dana@example.com", "api_token": "token"},
        },
    )
    assert saved.status_code == 201, saved.text


async def test_atlassians_example_issue_is_answered_with_its_data(
    app: Any, client: httpx.AsyncClient, live_server: str, alice: TestUser, atlassian_example_site: ScriptedServer
) -> None:
    await connect_jira(app, client, alice, atlassian_example_site.url)
    frames = await ask(client, live_server, alice, "Show me Jira issue ED-1")
    assert of_type(frames, "error") == []
    assert of_type(frames, "tool_result")[0]["metadata"]["status"] == "completed"
    final = frames[-1]
    assert final["metadata"]["finish_reason"] == "stop"
    assert "Main order flow broken" in final["content"] and "Mia Krystof" in final["content"]


async def test_a_connector_bug_is_an_answer_with_one_traceback_and_the_request_id(
    app: Any,
    client: httpx.AsyncClient,
    live_server: str,
    alice: TestUser,
    atlassian_example_site: ScriptedServer,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken_detail(raw: Any, base_url: str) -> Any:
        return raw["fields"]["no such field"]  # the KeyError an unexpected shape used to raise

    monkeypatch.setattr("tools.jira.operations.detail", broken_detail)
    caplog.set_level(logging.INFO)
    caplog.handler.addFilter(_ContextFilter())  # what the app's log handler stamps on every record
    await connect_jira(app, client, alice, atlassian_example_site.url)

    frames = await ask(client, live_server, alice, "Show me Jira issue ED-1")

    assert of_type(frames, "error") == []
    result = of_type(frames, "tool_result")[0]
    assert result["metadata"]["status"] == "failed" and "tool_failed" in result["content"]
    final = frames[-1]
    assert final["metadata"]["finish_reason"] == "stop"
    assert final["content"].startswith("I could not open ED-1:") and "KeyError" in final["content"]
    tracebacks = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(tracebacks) == 1 and tracebacks[0].exc_info is not None
    assert tracebacks[0].exc_info[0] is KeyError
    assert getattr(tracebacks[0], "request_id", "-") != "-"
