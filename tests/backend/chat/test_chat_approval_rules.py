"""Approvals: every pending approval is answerable in any order; approving a write needs that write's
scope; another user's running session is a 404, never a 409 that tells it exists."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import websockets

from tests.backend.chat.chat_client import ChatSocket, of_type, ws_url
from tests.conftest import TestUser, UserFactory
from tools.hl7.ack import build_ack
from tools.hl7.mllp import MllpListener
from tools.jira.sandbox import JiraSandbox
from tools.jira.sandbox_seed import DEMO_API_TOKEN, DEMO_EMAIL
from tools.net import OutboundPolicy

ADT = "MSH|^~\\&|EMR|HOSP|LIS|LAB|20250101120000||ADT^A01|MSG881|P|2.5.1\nPID|1||12345^^^HOSP^MR||DOE^JANE"


@pytest.fixture
async def jira_sandbox() -> AsyncIterator[JiraSandbox]:
    server = JiraSandbox()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def receiver() -> AsyncIterator[list[str]]:
    received: list[str] = []

    async def handler(message: str, peer: str) -> str:
        received.append(message)
        return build_ack(message, "AA", "ok")

    listener = MllpListener(handler)
    await listener.start()
    received.append(str(listener.port))  # the first item is the port, the rest what arrived
    yield received
    await listener.stop()


async def _two_asking_jira_sites(client: httpx.AsyncClient, admin: TestUser, base_url: str) -> None:
    """Two shared Jira sites whose "my open issues" asks first: one question, two pending approvals."""
    for name in ("Acme Jira", "Beta Jira"):
        created = await client.post(
            "/api/v1/integrations",
            headers=admin.headers,
            json={
                "name": name,
                "integration_type": "jira",
                "visibility": "shared",
                "config": {"base_url": base_url, "deployment": "cloud"},
                "credentials": {"email": DEMO_EMAIL, "api_token": DEMO_API_TOKEN},
            },
        )
        assert created.status_code == 201, created.text
        policy = await client.put(
            f"/api/v1/integrations/{created.json()['id']}/policy",
            headers=admin.headers,
            json={"overrides": [{"tool": "jira.my_open_issues", "decision": "ask"}]},
        )
        assert policy.status_code == 200, policy.text


@pytest.mark.parametrize("order", ["first_then_second", "second_then_first"])
async def test_every_pending_approval_is_answerable_in_any_order(
    app: Any,
    client: httpx.AsyncClient,
    live_server: str,
    admin: TestUser,
    alice: TestUser,
    jira_sandbox: JiraSandbox,
    order: str,
) -> None:
    app.state.ctx.outbound = OutboundPolicy.from_entries(["127.0.0.1/32"])
    await _two_asking_jira_sites(client, admin, jira_sandbox.url)
    sid = (await client.post("/api/v1/chat/sessions", json={"message": "my open issues"}, headers=alice.headers)).json()
    socket = await ChatSocket.open(live_server, sid["session_id"], alice.access_token)
    await socket.until(lambda _: len(of_type(socket.frames, "approval_required")) == 2)
    asks = [f["metadata"] for f in of_type(socket.frames, "approval_required")]
    assert {a["tool_name"] for a in asks} == {"acme_jira__my_open_issues", "beta_jira__my_open_issues"}
    assert {a["scope"] for a in asks} == {"jira:read"}
    first, second = asks if order == "first_then_second" else asks[::-1]

    await socket.send({"type": "approval", "tool_call_id": first["tool_call_id"], "decision": "approve"})
    frames = await socket.until(lambda f: f["type"] in ("approval_required", "error", "final"))
    assert frames[-1]["type"] == "approval_required", frames[-1]
    assert frames[-1]["metadata"]["tool_call_id"] == second["tool_call_id"]
    assert of_type(frames, "tool_result")[0]["metadata"]["tool_call_id"] == first["tool_call_id"]

    await socket.send({"type": "approval", "tool_call_id": second["tool_call_id"], "decision": "reject"})
    frames = await socket.until(lambda f: f["type"] in ("error", "final"))
    await socket.close()
    assert frames[-1]["type"] == "final", frames[-1]
    stored = (await client.get(f"/api/v1/chat/sessions/{sid['session_id']}/messages", headers=alice.headers)).json()
    results = {m["metadata"]["tool_call_id"]: m["metadata"]["status"] for m in stored["items"] if m["role"] == "tool"}
    assert results == {first["tool_call_id"]: "completed", second["tool_call_id"]: "failed"}


async def test_approving_a_write_needs_the_writes_scope(
    app: Any, client: httpx.AsyncClient, live_server: str, alice: TestUser, receiver: list[str]
) -> None:
    app.state.ctx.outbound = OutboundPolicy.from_entries(["127.0.0.1/32"])
    port = int(receiver.pop(0))
    created = await client.post(
        "/api/v1/integrations",
        headers=alice.headers,
        json={"name": "Lab LIS", "integration_type": "hl7", "config": {"host": "127.0.0.1", "port": port}},
    )
    assert created.status_code == 201, created.text
    sid = (
        await client.post(
            "/api/v1/chat/sessions", json={"message": "Please send this to Lab LIS:\n" + ADT}, headers=alice.headers
        )
    ).json()["session_id"]
    person = await ChatSocket.open(live_server, sid, alice.access_token)
    request = (await person.until_type("approval_required"))[-1]["metadata"]
    assert request["scope"] == "messages:write"
    await person.close()

    keys = {}
    for name, scopes in (("chat", ["chat"]), ("writer", ["chat", "messages:write"])):
        made = await client.post("/api/v1/api-keys", headers=alice.headers, json={"name": name, "scopes": scopes})
        keys[name] = made.json()["key"]
    chat_only = ChatSocket(
        await websockets.connect(ws_url(live_server, sid), additional_headers={"X-API-Key": keys["chat"]})
    )
    await chat_only.send({"type": "approval", "tool_call_id": request["tool_call_id"], "decision": "approve"})
    refused = (await chat_only.until_type("error"))[-1]
    assert refused["metadata"]["code"] == "insufficient_scope"
    await chat_only.close()
    assert receiver == [], "nothing is sent on a key that may not send"

    writer = ChatSocket(
        await websockets.connect(ws_url(live_server, sid), additional_headers={"X-API-Key": keys["writer"]})
    )
    await writer.send({"type": "approval", "tool_call_id": request["tool_call_id"], "decision": "approve"})
    final = (await writer.until_type("final"))[-1]
    await writer.close()
    assert "ACK **AA**" in final["content"] and len(receiver) == 1


async def test_another_users_running_session_is_not_found(
    slow_client: httpx.AsyncClient, slow_server: str, make_user: UserFactory
) -> None:
    await make_user("admin")
    alice, mallory = await make_user("alice"), await make_user("mallory")
    sid = (
        await slow_client.post("/api/v1/chat/sessions", json={"message": "what can you do?"}, headers=alice.headers)
    ).json()["session_id"]
    socket = await ChatSocket.open(slow_server, sid, alice.access_token)
    await socket.until_type("token")
    for path in (f"/api/v1/chat/sessions/{sid}/messages", f"/api/v1/chat/sessions/{sid}/messages/stream"):
        probe = await slow_client.post(path, json={"message": "hi"}, headers=mallory.headers)
        assert probe.status_code == 404, (path, probe.status_code, probe.text)
        assert probe.json()["code"] == "not_found"
    own = await slow_client.post(f"/api/v1/chat/sessions/{sid}/messages", json={"message": "hi"}, headers=alice.headers)
    assert own.status_code == 409 and own.json()["code"] == "run_in_progress"  # the owner still hears why
    await socket.until_type("final")
    await socket.close()
