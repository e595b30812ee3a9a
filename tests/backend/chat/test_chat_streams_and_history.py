"""SSE parity with the WebSocket, the blocking endpoint, regenerate, edit-and-rerun, export, and
persistence of sessions and agent memory across an app restart."""

from __future__ import annotations

import json
from typing import Any

import httpx

from backend.config import Settings
from backend.main import create_app
from tests.backend.chat.chat_client import ChatSocket
from tests.conftest import TestUser


def parse_sse(text: str) -> list[dict[str, Any]]:
    events = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        fields: dict[str, str] = {}
        for line in block.split("\n"):
            if ":" in line and not line.startswith(":"):
                key, _, value = line.partition(":")
                fields[key] = value.strip()
        if "data" in fields:
            events.append({"id": fields.get("id"), "event": fields.get("event"), "data": json.loads(fields["data"])})
    return events


async def _session(client: httpx.AsyncClient, user: TestUser, message: str = "hello") -> str:
    return str(
        (await client.post("/api/v1/chat/sessions", json={"message": message}, headers=user.headers)).json()[
            "session_id"
        ]
    )


async def test_sse_emits_the_same_events_as_the_websocket(
    client: httpx.AsyncClient, live_server: str, alice: TestUser
) -> None:
    ws_session = await _session(client, alice, "hello")
    socket = await ChatSocket.open(live_server, ws_session, alice.access_token)
    await socket.until_type("final")
    await socket.send({"type": "message", "message": "what can you do?"})
    ws_frames = await socket.until_type("final")
    await socket.close()

    sse_session = await _session(client, alice, "hello")
    async with httpx.AsyncClient(base_url=live_server, timeout=20) as http:
        first = await http.get(f"/api/v1/chat/sessions/{sse_session}/stream", headers=alice.headers)
        response = await http.post(
            f"/api/v1/chat/sessions/{sse_session}/messages/stream",
            json={"message": "what can you do?"},
            headers=alice.headers,
        )
    assert first.status_code == response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert parse_sse(first.text)[-1]["event"] == "final"  # the first message answered over SSE
    sse = parse_sse(response.text)
    assert [e["event"] for e in sse] == [f["type"] for f in ws_frames]
    assert [e["data"]["content"] for e in sse] == [f["content"] for f in ws_frames]
    assert all(e["id"] == str(e["data"]["seq"]) for e in sse)
    tokens = "".join(e["data"]["content"] for e in sse if e["event"] == "token")
    assert tokens == sse[-1]["data"]["content"]

    # Last-Event-ID replays what was missed (finished turn: tokens folded into final).
    async with httpx.AsyncClient(base_url=live_server, timeout=20) as http:
        resumed = await http.get(
            f"/api/v1/chat/sessions/{sse_session}/stream",
            headers={**alice.headers, "Last-Event-ID": str(sse[0]["data"]["seq"])},
        )
    replay = parse_sse(resumed.text)
    assert [e["event"] for e in replay] == [e["event"] for e in sse[1:] if e["event"] != "token"]


async def test_blocking_endpoint_regenerate_and_edit(client: httpx.AsyncClient, alice: TestUser) -> None:
    sid = await _session(client, alice, "hello")
    answer = await client.post(
        f"/api/v1/chat/sessions/{sid}/messages", json={"message": "thanks"}, headers=alice.headers
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["role"] == "assistant" and "welcome" in answer.json()["content"]

    regenerated = await client.post(f"/api/v1/chat/sessions/{sid}/regenerate", headers=alice.headers)
    assert regenerated.status_code == 200
    assert regenerated.json()["message_id"] != answer.json()["message_id"]
    active = (await client.get(f"/api/v1/chat/sessions/{sid}/messages", headers=alice.headers)).json()["items"]
    assert [m["content"] for m in active if m["role"] == "user"] == ["hello", "thanks"]
    assert answer.json()["message_id"] not in {m["message_id"] for m in active}
    everything = (
        await client.get(f"/api/v1/chat/sessions/{sid}/messages?include_superseded=true", headers=alice.headers)
    ).json()["items"]
    old = next(m for m in everything if m["message_id"] == answer.json()["message_id"])
    assert old["metadata"]["superseded"] is True  # kept as an alternative, not destroyed

    first_user = active[0]["message_id"]
    edited = await client.put(
        f"/api/v1/chat/sessions/{sid}/messages/{first_user}",
        json={"message": "what can you do?"},
        headers=alice.headers,
    )
    assert edited.status_code == 200 and "I'm Switchboard" in edited.json()["content"]
    active = (await client.get(f"/api/v1/chat/sessions/{sid}/messages", headers=alice.headers)).json()["items"]
    assert [m["role"] for m in active] == ["user", "assistant"]
    assert active[0]["content"] == "what can you do?"
    not_found = await client.put(
        f"/api/v1/chat/sessions/{sid}/messages/{first_user}", json={"message": "x"}, headers=alice.headers
    )
    assert not_found.status_code == 404


async def test_export_markdown_and_json(client: httpx.AsyncClient, alice: TestUser) -> None:
    sid = await _session(client, alice, "hello")
    await client.post(f"/api/v1/chat/sessions/{sid}/messages", json={"message": "thanks"}, headers=alice.headers)
    markdown = await client.get(f"/api/v1/chat/sessions/{sid}/export?format=markdown", headers=alice.headers)
    assert markdown.headers["content-type"].startswith("text/markdown")
    assert "## You" in markdown.text and "## Switchboard" in markdown.text and "welcome" in markdown.text
    exported = (await client.get(f"/api/v1/chat/sessions/{sid}/export?format=json", headers=alice.headers)).json()
    assert [m["role"] for m in exported["messages"]] == ["user", "assistant", "user", "assistant"]
    assert (
        await client.get(f"/api/v1/chat/sessions/{sid}/export?format=pdf", headers=alice.headers)
    ).status_code == 422


async def test_sessions_and_agent_memory_survive_an_app_restart(
    settings: Settings, alice: TestUser, client: httpx.AsyncClient
) -> None:
    sid = await _session(client, alice, "hello")
    await client.post(f"/api/v1/chat/sessions/{sid}/messages", json={"message": "thanks"}, headers=alice.headers)
    restarted = create_app(settings)
    async with restarted.router.lifespan_context(restarted):
        transport = httpx.ASGITransport(app=restarted)
        async with httpx.AsyncClient(transport=transport, base_url="http://restarted") as http:
            messages = (await http.get(f"/api/v1/chat/sessions/{sid}/messages", headers=alice.headers)).json()
            assert [m["role"] for m in messages["items"]] == ["user", "assistant", "user", "assistant"]
            reply = await http.post(
                f"/api/v1/chat/sessions/{sid}/messages", json={"message": "what can you do?"}, headers=alice.headers
            )
            assert reply.status_code == 200
        history = await restarted.state.ctx.extras["agent_runner"].history(sid)
        assert [m.type for m in history if m.type in ("human", "ai")] == ["human", "ai"] * 3
