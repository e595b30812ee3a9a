"""Jira through the whole product: an integration saved over the API, a WebSocket chat with the offline
model, an approval, and the result checked in the Jira sandbox over its own REST API (as the browser
end-to-end test does in demo mode)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from backend.config import Settings
from tests.backend.chat.chat_client import ChatSocket, of_type
from tests.conftest import TestUser, asgi_client, running_app, serving
from tools.jira.sandbox import JiraSandbox
from tools.jira.sandbox_seed import DEMO_API_TOKEN, DEMO_EMAIL
from tools.net import OutboundPolicy

DANAS_OPEN = ["OPS-2", "SB-1", "OPS-5", "SB-7", "SB-4", "MKT-3"]


@pytest.fixture
async def jira_sandbox() -> AsyncIterator[JiraSandbox]:
    server = JiraSandbox()
    await server.start()
    yield server
    await server.stop()


async def _ask(client: httpx.AsyncClient, base: str, user: TestUser, message: str) -> tuple[str, ChatSocket]:
    created = await client.post("/api/v1/chat/sessions", json={"message": message}, headers=user.headers)
    assert created.status_code in (200, 201), created.text
    session_id = created.json()["session_id"]
    return session_id, await ChatSocket.open(base, session_id, user.access_token)


async def _jira_issue(base_url: str, key: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=base_url, auth=(DEMO_EMAIL, DEMO_API_TOKEN)) as http:
        response = await http.get(f"/rest/api/3/issue/{key}")
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_open_tickets_and_create_after_approval(
    app: Any, client: httpx.AsyncClient, live_server: str, alice: TestUser, jira_sandbox: JiraSandbox
) -> None:
    app.state.ctx.outbound = OutboundPolicy.from_entries(["127.0.0.1/32"])
    saved = await client.post(
        "/api/v1/integrations",
        headers=alice.headers,
        json={
            "name": "Team Jira",
            "integration_type": "jira",
            "config": {"base_url": jira_sandbox.url, "deployment": "cloud", "default_project": "SB"},
            "credentials": {"email": DEMO_EMAIL, "api_token": DEMO_API_TOKEN},
        },
    )
    assert saved.status_code == 201, saved.text
    assert "api_token" not in saved.text and saved.json()["has_credentials"] is True
    tested = (await client.post(f"/api/v1/integrations/{saved.json()['id']}/test", headers=alice.headers)).json()
    assert tested["ok"] is True and tested["details"]["user"] == "Dana Demo"

    _, socket = await _ask(client, live_server, alice, "what are my open Jira tickets?")
    frames = await socket.until_type("final")
    await socket.close()
    result = of_type(frames, "tool_result")[0]["metadata"]
    assert result["tool_name"] == "team_jira__my_open_issues" and result["status"] == "completed"
    assert [i["key"] for i in result["result"]["issues"]] == DANAS_OPEN
    answer = frames[-1]["content"]
    assert answer.startswith("You have **6** open Jira issues") and all(f"[{k}]" in answer for k in DANAS_OPEN)

    session_id, socket = await _ask(client, live_server, alice, "create a task: Rotate the staging API keys")
    request = (await socket.until_type("approval_required"))[-1]["metadata"]
    assert (
        request["tool_name"] == "team_jira__create_issue"
        and request["args"]["summary"] == "Rotate the staging API keys"
    )
    async with httpx.AsyncClient(base_url=jira_sandbox.url, auth=(DEMO_EMAIL, DEMO_API_TOKEN)) as http:
        assert (await http.get("/rest/api/3/issue/SB-19")).status_code == 404  # not before the approval
    await socket.send({"type": "approval", "tool_call_id": request["tool_call_id"], "decision": "approve"})
    frames = await socket.until_type("final")
    await socket.close()
    assert frames[-1]["content"].startswith("Created **[SB-19]")
    issue = await _jira_issue(jira_sandbox.url, "SB-19")
    assert issue["fields"]["summary"] == "Rotate the staging API keys"
    assert issue["fields"]["reporter"]["displayName"] == "Dana Demo"
    history = (await client.get(f"/api/v1/chat/sessions/{session_id}/messages", headers=alice.headers)).json()
    assert [m["role"] for m in history["items"]] == ["user", "tool", "assistant"]


async def test_demo_mode_ships_a_demo_jira(settings: Settings) -> None:
    async with running_app(settings.model_copy(update={"demo_mode": True})) as demo, asgi_client(demo) as http:
        for username in ("demo_admin", "demo_user"):
            await http.post(
                "/api/v1/auth/register",
                json={"email": f"{username}@example.com", "username": username, "password": "correct horse"},
            )
        login = await http.post("/api/v1/auth/login", json={"username": "demo_user", "password": "correct horse"})
        token = login.json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        items = (await http.get("/api/v1/integrations", headers=headers)).json()["items"]
        demo_jira = next(i for i in items if i["name"] == "Demo Jira")
        assert demo_jira["visibility"] == "shared" and demo_jira["integration_type"] == "jira"
        base_url = demo_jira["config"]["base_url"]
        tested = (await http.post(f"/api/v1/integrations/{demo_jira['id']}/test", headers=headers)).json()
        assert tested["ok"] is True, tested
        assert tested["details"]["server_title"] == "Switchboard Demo Jira"

        user = TestUser("", "demo_user", "", "", "user", token, "")
        async with serving(demo) as live:
            _, socket = await _ask(http, live, user, "create a task in OPS: VPN drops every hour")
            request = (await socket.until_type("approval_required"))[-1]["metadata"]
            assert request["tool_name"] == "demo_jira__create_issue"
            await socket.send({"type": "approval", "tool_call_id": request["tool_call_id"], "decision": "approve"})
            frames = await socket.until_type("final")
            await socket.close()
        assert "Created **[OPS-13]" in frames[-1]["content"]
        issue = await _jira_issue(base_url, "OPS-13")
        assert issue["fields"]["summary"] == "VPN drops every hour" and issue["fields"]["issuetype"]["name"] == "Task"
