"""Tool-using turns and approvals over the WebSocket, with a real HL7 integration and MLLP receiver."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from backend.models.integration import Integration
from tests.backend.chat.chat_client import ChatSocket, of_type
from tests.conftest import TestUser
from tools.hl7.ack import build_ack
from tools.hl7.mllp import MllpListener
from tools.net import OutboundPolicy

ADT = "MSH|^~\\&|EMR|HOSP|LIS|LAB|20250101120000||ADT^A01|MSG777|P|2.5.1\nPID|1||12345^^^HOSP^MR||DOE^JANE"


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[MllpListener, list[str]]]:
    received: list[str] = []

    async def handler(message: str, peer: str) -> str:
        received.append(message)
        return build_ack(message, "AA", "ok")

    listener = MllpListener(handler)
    await listener.start()
    yield listener, received
    await listener.stop()


@pytest.fixture
async def hl7_integration(
    app: Any, client: httpx.AsyncClient, alice: TestUser, receiver: tuple[MllpListener, list[str]]
) -> dict[str, Any]:
    app.state.ctx.outbound = OutboundPolicy.from_entries(["127.0.0.1/32"])
    response = await client.post(
        "/api/v1/integrations",
        headers=alice.headers,
        json={
            "name": "Lab LIS",
            "integration_type": "hl7",
            "config": {"host": "127.0.0.1", "port": receiver[0].port, "receiving_application": "LIS"},
        },
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def _open(client: httpx.AsyncClient, live_server: str, user: TestUser, message: str) -> tuple[str, ChatSocket]:
    sid = (await client.post("/api/v1/chat/sessions", json={"message": message}, headers=user.headers)).json()
    return sid["session_id"], await ChatSocket.open(live_server, sid["session_id"], user.access_token)


async def test_tool_turn_exact_event_sequence(client: httpx.AsyncClient, live_server: str, alice: TestUser) -> None:
    sid, socket = await _open(client, live_server, alice, "Explain this message:\n" + ADT)
    frames = await socket.until_type("final")
    await socket.close()
    kinds = [f["type"] for f in frames]
    assert kinds[:4] == ["connection_established", "agent_event", "tool_call", "tool_result"]
    assert set(kinds[4:-1]) == {"token"} and kinds[-1] == "final"
    call, result, final = frames[2], frames[3], frames[-1]
    assert call["metadata"]["tool_name"] == "hl7_explain" and call["metadata"]["status"] == "started"
    assert result["metadata"]["tool_call_id"] == call["metadata"]["tool_call_id"]
    assert result["metadata"]["status"] == "completed"
    assert "".join(f["content"] for f in of_type(frames, "token")) == final["content"]
    assert "Patient Name" in final["content"] and "DOE^JANE" in final["content"]
    assert [f["seq"] for f in frames] == sorted({f["seq"] for f in frames})
    messages = (await client.get(f"/api/v1/chat/sessions/{sid}/messages", headers=alice.headers)).json()["items"]
    assert [m["role"] for m in messages] == ["user", "tool", "assistant"]
    assert messages[2]["tool_calls"][0]["status"] == "completed"


async def test_send_needs_approval_then_delivers(
    client: httpx.AsyncClient,
    live_server: str,
    alice: TestUser,
    hl7_integration: dict[str, Any],
    receiver: tuple[MllpListener, list[str]],
) -> None:
    sid, socket = await _open(client, live_server, alice, "Please send this to Lab LIS:\n" + ADT)
    paused = await socket.until_type("approval_required")
    request = paused[-1]["metadata"]
    assert request["tool_name"] == "lab_lis__send" and request["allowed_decisions"] == ["approve", "edit", "reject"]
    assert receiver[1] == []  # nothing sent before the user says so
    assert (await client.get(f"/api/v1/chat/sessions/{sid}", headers=alice.headers)).json()[
        "status"
    ] == "awaiting_approval"

    await socket.send({"type": "approval", "tool_call_id": "nope", "decision": "approve"})
    assert (await socket.until_type("error"))[-1]["metadata"]["code"] == "unknown_tool_call"
    await socket.send(
        {"type": "approval", "tool_call_id": request["tool_call_id"], "decision": "edit", "args": {"message": "x"}}
    )
    assert (await socket.until_type("error"))[-1]["metadata"]["code"] == "invalid_edit"

    await socket.send({"type": "approval", "tool_call_id": request["tool_call_id"], "decision": "approve"})
    frames = await socket.until_type("final")
    await socket.close()
    result = of_type(frames, "tool_result")[0]
    assert result["metadata"]["status"] == "completed" and result["metadata"]["result"]["code"] == "AA"
    assert "ACK **AA**" in frames[-1]["content"]
    assert len(receiver[1]) == 1 and "MSG777" in receiver[1][0]
    # The paused and the resumed part are one turn: one run id.
    assert frames[-1]["run_id"] == paused[-1]["run_id"]
    # The stored answer records the call with the arguments that ran, though its tool_call frame came earlier.
    stored = (await client.get(f"/api/v1/chat/sessions/{sid}/messages", headers=alice.headers)).json()["items"]
    call = stored[-1]["tool_calls"][0]
    assert call["name"] == "lab_lis__send" and "MSG777" in call["args"]["message"]


async def test_reject_and_policy_deny(
    client: httpx.AsyncClient,
    live_server: str,
    alice: TestUser,
    admin: TestUser,
    app: Any,
    hl7_integration: dict[str, Any],
    receiver: tuple[MllpListener, list[str]],
) -> None:
    _, socket = await _open(client, live_server, alice, "send this to Lab LIS:\n" + ADT)
    request = (await socket.until_type("approval_required"))[-1]["metadata"]
    await socket.send(
        {"type": "approval", "tool_call_id": request["tool_call_id"], "decision": "reject", "reason": "wrong patient"}
    )
    frames = await socket.until_type("final")
    await socket.close()
    assert of_type(frames, "tool_result")[0]["metadata"]["status"] == "failed"
    assert "rejected" in frames[-1]["content"] and receiver[1] == []
    assert "Do not retry" not in frames[-1]["content"], "the text meant for the model never reaches the user"

    async with app.state.ctx.db.session() as session:
        row = await session.get(Integration, uuid.UUID(hl7_integration["id"]))
        row.approval_overrides = [{"tool": "hl7.send", "decision": "deny"}]
    _, socket = await _open(client, live_server, alice, "send this to Lab LIS:\n" + ADT)
    frames = await socket.until_type("final")
    await socket.close()
    assert "approval_required" not in [f["type"] for f in frames]
    assert "denied_by_policy" in of_type(frames, "tool_result")[0]["content"]
    assert "policy does not allow it" in frames[-1]["content"]
    assert receiver[1] == []
    audit = (await client.get("/api/v1/audit?action=approval.decision", headers=admin.headers)).json()["items"]
    assert {e["details"]["decision"] for e in audit} >= {"reject", "deny"}
