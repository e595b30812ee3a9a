"""The agent's HL7 tools answer "why is the lab feed stuck?" and "did my message go through?" from the
engine's own state: the blocked queue's head with its last ACK, a message's destinations."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import httpx

from tests.backend.hl7.test_hl7_chat_tools import _call, _tools
from tests.backend.hl7.test_hl7_routing import _channel, _submit, _until, fast
from tests.conftest import TestUser
from tools.hl7.ack import build_ack
from tools.hl7.mllp import MllpListener


async def test_queue_and_message_status_tools_explain_a_stuck_feed_and_a_delivered_message(
    app: Any, client: httpx.AsyncClient, admin: TestUser, alice: TestUser, bob: TestUser
) -> None:
    worker = fast(app)
    worker.settings = dataclasses.replace(worker.settings, max_attempts=10_000, backoff_base_s=5, backoff_max_s=5)
    refusing = MllpListener(lambda message, peer: _answer(message, "AE"))
    port = await refusing.start()
    try:
        created = await client.post(
            "/api/v1/integrations",
            headers=admin.headers,
            json={"name": "Lab feed", "integration_type": "hl7", "visibility": "shared",
                  "config": {"host": "127.0.0.1", "port": port, "timeout_s": 2}},
        )  # fmt: skip
        assert created.status_code == 201, created.text
        await _channel(client, admin, destinations=["Lab feed"], sources=["api"])
        first = (await _submit(client, alice, "LAB1", None)).json()["message_id"]
        second = (await _submit(client, alice, "LAB2", None)).json()["message_id"]
        await _until(client, alice, first, "retrying")

        tools = await _tools(app, alice)
        stuck = await _call(tools["hl7_queue_status"], destination="lab feed")
        assert stuck["blocked"] == ["Lab feed"]
        queue = stuck["queues"][0]
        assert queue["depth"] == 2 and queue["head"]["control_id"] == "LAB1"
        assert queue["head"]["ack_code"] == "AE" and queue["head"]["meaning"] == "Application Error"
        assert "LAB1" in queue["why"] and "AE" in queue["why"]

        # Bob sees why the shared feed is stuck, not whose message blocks it.
        for_bob = (await _call((await _tools(app, bob))["hl7_queue_status"]))["queues"][0]
        assert for_bob["head"]["ack_code"] == "AE" and "control_id" not in for_bob["head"]
        assert "LAB1" not in for_bob["why"]

        pending = await _call(tools["hl7_message_status"], control_id="LAB1")
        assert pending["went_through"] is False and pending["status"] == "retrying"
        assert pending["destinations"][0]["ack_code"] == "AE" and pending["channels"] == ["all"]
        missing = await tools["hl7_message_status"].ainvoke({"control_id": "NOPE"})
        assert "No message" in missing
    finally:
        await refusing.stop()

    accepting = MllpListener(lambda message, peer: _answer(message, "AA"), port=port)
    await accepting.start()
    try:
        integration_id = queue["integration_id"]
        await client.post(f"/api/v1/hl7/queues/{integration_id}/retry-now", headers=admin.headers)
        await _until(client, alice, second, "delivered")
        done = await _call(tools["hl7_message_status"], message_id=first)
        assert done["went_through"] is True and done["meaning"] == {"Lab feed": "Application Accept"}
        recent = await _call(tools["hl7_recent_messages"], status="delivered")
        assert [m["control_id"] for m in recent["messages"]] == ["LAB2", "LAB1"]
    finally:
        await accepting.stop()


async def _answer(message: str, code: str) -> str:
    await asyncio.sleep(0)
    return build_ack(message, code)  # type: ignore[arg-type]
