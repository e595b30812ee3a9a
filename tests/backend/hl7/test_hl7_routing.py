"""The routing API end to end: accept, deliver over MLLP from the durable outbox, retry, replay,
survive a restart, never deliver twice."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from backend.config import Settings
from backend.hl7.outbox import DeliveryWorker
from tests.conftest import TestUser, asgi_client, running_app
from tools.hl7.ack import build_ack
from tools.hl7.mllp import MllpListener
from tools.net import OutboundPolicy
from tools.sandbox_server import free_port

ADT = "MSH|^~\\&|EMR|HOSP|LIS|LAB|20250101120000||ADT^A01|{cid}|P|2.5.1\rPID|1||12345^^^HOSP^MR||DOE^JANE"


class Receiver:
    def __init__(self, port: int = 0) -> None:
        self.messages: list[str] = []
        self.listener = MllpListener(self.handle, port=port)

    async def handle(self, message: str, peer: str) -> str:
        self.messages.append(message)
        return build_ack(message, "AA")


def fast(app: Any) -> DeliveryWorker:
    worker: DeliveryWorker = app.state.ctx.extras["hl7_outbox"]
    worker.settings = dataclasses.replace(worker.settings, poll_interval_s=0.05, backoff_base_s=0.1, backoff_max_s=0.3)
    app.state.ctx.outbound = OutboundPolicy.from_entries(["127.0.0.1/32"])
    return worker


async def _destination(client: httpx.AsyncClient, user: TestUser, port: int, name: str = "LIS") -> None:
    response = await client.post(
        "/api/v1/integrations",
        headers=user.headers,
        json={"name": name, "integration_type": "hl7", "config": {"host": "127.0.0.1", "port": port, "timeout_s": 1}},
    )
    assert response.status_code == 201, response.text


async def _submit(
    client: httpx.AsyncClient, user: TestUser, cid: str, destinations: list[str] | None, template: str = ADT
) -> httpx.Response:
    metadata: dict[str, Any] = {"source": "emr"}
    if destinations is not None:
        metadata["destination"] = destinations
    return await client.post(
        "/api/v1/messages",
        headers=user.headers,
        json={"content_type": "application/hl7-v2", "message": template.format(cid=cid), "metadata": metadata},
    )


async def _channel(client: httpx.AsyncClient, admin: TestUser, **fields: Any) -> dict[str, Any]:
    body = {"name": "all", "sources": ["api", "mllp"], "destinations": ["LIS"], **fields}
    response = await client.post("/api/v1/hl7/channels", headers=admin.headers, json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def _until(client: httpx.AsyncClient, user: TestUser, message_id: str, status: str) -> dict[str, Any]:
    for _ in range(200):
        body = (await client.get(f"/api/v1/messages/{message_id}", headers=user.headers)).json()
        if body["status"] == status:
            return dict(body)
        await asyncio.sleep(0.05)
    raise AssertionError(f"message never reached {status}: {body}")


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    r = Receiver()
    await r.listener.start()
    yield r
    await r.listener.stop()


async def test_accepted_then_delivered_once_with_ack(
    app: Any, client: httpx.AsyncClient, alice: TestUser, bob: TestUser, receiver: Receiver
) -> None:
    fast(app)
    await _destination(client, alice, receiver.listener.port)
    accepted = await _submit(client, alice, "C100", ["LIS"])
    assert accepted.status_code == 202 and accepted.json()["status"] == "accepted"
    mid = accepted.json()["message_id"]
    done = await _until(client, alice, mid, "delivered")
    assert done["control_id"] == "C100" and done["message_type"] == "ADT"
    assert [(d["system"], d["status"], d["ack_code"], d["attempts"]) for d in done["destinations"]] == [
        ("LIS", "delivered", "AA", 1)
    ]
    assert len(receiver.messages) == 1 and "C100" in receiver.messages[0]
    assert (await client.get(f"/api/v1/messages/{mid}", headers=bob.headers)).status_code == 404
    listing = (await client.get("/api/v1/messages?message_type=ADT^A01", headers=alice.headers)).json()
    assert [m["message_id"] for m in listing["items"]] == [mid]

    replay = await client.post(f"/api/v1/messages/{mid}/replay", headers=alice.headers)
    assert replay.status_code == 202
    await _until(client, alice, mid, "delivered")
    for _ in range(100):
        if len(receiver.messages) == 2:
            break
        await asyncio.sleep(0.05)
    assert len(receiver.messages) == 2 and receiver.messages[1] == receiver.messages[0]


async def test_invalid_hl7_and_unknown_destination_are_400(
    app: Any, client: httpx.AsyncClient, alice: TestUser, receiver: Receiver
) -> None:
    fast(app)
    await _destination(client, alice, receiver.listener.port)
    bad = await client.post(
        "/api/v1/messages",
        headers=alice.headers,
        json={"message": "MSH|^~\\&|A|B|C|D|2025||ADT^A01|X1|P|9.9", "metadata": {"destination": ["LIS"]}},
    )
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_hl7"
    assert bad.json()["detail"][0]["location"] == "MSH-12"
    unknown = await _submit(client, alice, "C1", ["Nowhere"])
    assert unknown.status_code == 400 and unknown.json()["code"] == "unknown_destination"
    assert receiver.messages == []


async def test_down_destination_is_retried_then_delivered_once_even_across_a_restart(
    settings: Settings, app: Any, client: httpx.AsyncClient, alice: TestUser
) -> None:
    fast(app)
    port = free_port()
    await _destination(client, alice, port)
    mid = (await _submit(client, alice, "C200", ["LIS"])).json()["message_id"]
    retrying = await _until(client, alice, mid, "retrying")
    assert retrying["destinations"][0]["error"]

    # The process goes away mid-delivery; a new one picks the outbox up when the receiver returns.
    receiver = Receiver(port)
    await receiver.listener.start()
    try:
        async with running_app(settings, wipe=False) as restarted, asgi_client(restarted) as http:
            fast(restarted)
            done = await _until(http, alice, mid, "delivered")
    finally:
        await receiver.listener.stop()
    assert done["destinations"][0]["attempts"] >= 2
    assert len(receiver.messages) == 1


async def test_two_workers_deliver_each_message_exactly_once(
    app: Any, client: httpx.AsyncClient, alice: TestUser, receiver: Receiver
) -> None:
    first = fast(app)
    second = DeliveryWorker(app.state.ctx, first.settings)
    second.start()
    try:
        await _destination(client, alice, receiver.listener.port)
        ids = [(await _submit(client, alice, f"M{i}", ["LIS"])).json()["message_id"] for i in range(12)]
        for mid in ids:
            await _until(client, alice, mid, "delivered")
    finally:
        await second.stop()
    control_ids = sorted(m.split("|")[9] for m in receiver.messages)
    assert control_ids == sorted(f"M{i}" for i in range(12))
