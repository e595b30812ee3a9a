"""The HL7 agent tools wired through the app: build, send through the message store, recent messages.

Tools are built exactly as a chat turn builds them (`build_toolset` with `app.extras["hl7_store"]`),
then a whole conversation runs over the WebSocket with the offline model.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from langchain_core.tools import BaseTool

from backend.chat.toolset import build_toolset
from backend.models.user import User
from tests.backend.chat.chat_client import ChatSocket, of_type
from tests.backend.hl7.test_hl7_routing import ADT, Receiver, fast
from tests.conftest import TestUser
from tools.sandbox_server import free_port


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    r = Receiver()
    await r.listener.start()
    yield r
    await r.listener.stop()


async def _integration(client: httpx.AsyncClient, user: TestUser, port: int, name: str = "Lab LIS") -> None:
    response = await client.post(
        "/api/v1/integrations",
        headers=user.headers,
        json={
            "name": name,
            "integration_type": "hl7",
            "config": {"host": "127.0.0.1", "port": port, "receiving_application": "LIS", "timeout_s": 5},
        },
    )
    assert response.status_code == 201, response.text


async def _tools(app: Any, user: TestUser) -> dict[str, BaseTool]:
    ctx = app.state.ctx
    async with ctx.db.session() as session:
        row = await session.get(User, uuid.UUID(user.id))
        assert row is not None
        session.expunge(row)
    toolset = await build_toolset(ctx, row, hl7_store=ctx.extras["hl7_store"])
    return {t.name: t for t in toolset.tools}


async def _call(tool: BaseTool, **args: Any) -> Any:
    return json.loads(await tool.ainvoke(args))


async def test_send_is_recorded_like_routed_messages_and_recent_finds_it(
    app: Any, client: httpx.AsyncClient, alice: TestUser, bob: TestUser, receiver: Receiver
) -> None:
    fast(app)
    await _integration(client, alice, receiver.listener.port)
    tools = await _tools(app, alice)
    assert {"hl7_build", "hl7_recent_messages", "hl7_explain", "hl7_validate", "lab_lis__send"} <= set(tools)

    sent = await _call(tools["lab_lis__send"], message=ADT.format(cid="CHAT1"))
    assert (sent["sent"], sent["code"], sent["accepted"], sent["status"]) == (True, "AA", True, "delivered")
    assert len(receiver.messages) == 1 and "CHAT1" in receiver.messages[0]

    stored = (await client.get(f"/api/v1/messages/{sent['message_id']}", headers=alice.headers)).json()
    assert (stored["direction"], stored["source"], stored["status"], stored["control_id"]) == (
        "outbound",
        "chat",
        "delivered",
        "CHAT1",
    )
    assert [(d["system"], d["ack_code"], d["attempts"]) for d in stored["destinations"]] == [("Lab LIS", "AA", 1)]

    found = await _call(tools["hl7_recent_messages"], patient_id="12345", message_type="ADT", since_hours=1)
    assert found["count"] == 1 and found["messages"][0]["control_id"] == "CHAT1"
    assert found["messages"][0]["destinations"] == [{"system": "Lab LIS", "status": "delivered", "ack_code": "AA"}]
    assert (await _call(tools["hl7_recent_messages"], message_type="ORU"))["count"] == 0

    # Bob's tools act as Bob: he sees none of Alice's outbound traffic and cannot send through her integration.
    bobs = await _tools(app, bob)
    assert "lab_lis__send" not in bobs
    assert (await _call(bobs["hl7_recent_messages"], patient_id="12345"))["count"] == 0
    store = app.state.ctx.extras["hl7_store"]
    integration_id = stored["destinations"][0]["integration_id"]
    with pytest.raises(Exception, match="not available to you"):
        await store.send(integration_id, ADT.format(cid="SNEAK"), user_id=bob.id)
    assert len(receiver.messages) == 1


async def test_invalid_and_undeliverable_sends_are_reported_and_kept(
    app: Any, client: httpx.AsyncClient, alice: TestUser
) -> None:
    fast(app)
    await _integration(client, alice, free_port(), name="Down LIS")
    tools = await _tools(app, alice)
    rejected = await _call(tools["down_lis__send"], message="MSH|^~\\&|A|B|C|D|2025||ADT^A01|X|P|9.9")
    assert rejected["sent"] is False and rejected["problems"][0]["location"] == "MSH-12"

    queued = await _call(tools["down_lis__send"], message=ADT.format(cid="LATER1"))
    assert queued["sent"] is True and "code" not in queued and queued["will_retry"] is True  # None is dropped
    assert "Cannot connect" in queued["error"]
    listed = (await client.get("/api/v1/messages?control_id=LATER1", headers=alice.headers)).json()["items"]
    assert [m["status"] for m in listed] == ["retrying"]  # in the outbox, retried like any routed message


async def test_build_uses_the_destination_header_and_fhir_summaries(
    app: Any, client: httpx.AsyncClient, alice: TestUser, receiver: Receiver
) -> None:
    fast(app)
    await _integration(client, alice, receiver.listener.port)
    build = (await _tools(app, alice))["hl7_build"]
    built = await _call(
        build,
        message_type="ADT^A04",
        fhir_patient={"id": "p1", "name": "Ada Lovelace", "gender": "female", "identifiers": [{"value": "A-77"}]},
        destination="lab lis",
    )
    msh = built["message"].split("\n")[0].split("|")
    assert msh[2:6] == ["SWITCHBOARD", "SWITCHBOARD", "LIS", ""] and msh[8] == "ADT^A04^ADT_A01"
    assert built["patient_id"] == "A-77" and "problems" not in built  # an empty list is dropped
    missing = await build.ainvoke(
        {"message_type": "ADT^A01", "patient": {"mrn": "1", "family_name": "X"}, "destination": "Nowhere"}
    )
    assert "No HL7 integration called 'Nowhere'" in str(missing)


async def test_conversation_build_send_with_approval_then_ask_the_store(
    app: Any, client: httpx.AsyncClient, live_server: str, alice: TestUser, receiver: Receiver
) -> None:
    fast(app)
    await _integration(client, alice, receiver.listener.port)
    opened = await client.post(
        "/api/v1/chat/sessions",
        headers=alice.headers,
        json={"message": "build an ADT A01 for John Smith born 1980-02-03 MRN 12345"},
    )
    socket = await ChatSocket.open(live_server, opened.json()["session_id"], alice.access_token)
    try:
        frames = await socket.until_type("final")
        assert of_type(frames, "tool_call")[0]["metadata"]["tool_name"] == "hl7_build"
        answer = frames[-1]["content"]
        assert "**ADT^A01**" in answer and "PID|1||12345^^^^MR||Smith^John||19800203" in answer
        assert "validates cleanly" in answer and receiver.messages == []

        await socket.send({"type": "message", "message": "send it to Lab LIS"})
        request = (await socket.until_type("approval_required"))[-1]["metadata"]
        assert request["tool_name"] == "lab_lis__send" and receiver.messages == []
        await socket.send({"type": "approval", "tool_call_id": request["tool_call_id"], "decision": "approve"})
        sent = (await socket.until_type("final"))[-1]["content"]
        assert "ACK **AA**" in sent and "Recorded in the message store" in sent
        assert len(receiver.messages) == 1 and "Smith^John" in receiver.messages[0]

        await socket.send({"type": "message", "message": "any ADT for patient 12345 today?"})
        frames = await socket.until_type("final")
        call = of_type(frames, "tool_call")[0]["metadata"]
        assert call["tool_name"] == "hl7_recent_messages"
        recent = frames[-1]["content"]
        assert "Yes: 1 ADT^A01 message" not in recent  # the filter is the type the user asked for
        assert "Yes: 1 ADT message for patient `12345`" in recent and "| outbound | ADT^A01 |" in recent

        await socket.send({"type": "message", "message": "any ORU for patient 12345 today?"})
        none = (await socket.until_type("final"))[-1]["content"]
        assert "No ORU messages for patient `12345`" in none
    finally:
        await socket.close()
