"""The HL7 integration type through the API: step-by-step connection tests and demo mode."""

from __future__ import annotations

from typing import Any

import httpx

from backend.config import Settings
from tests.conftest import TestUser, asgi_client, running_app
from tools.hl7.ack import build_ack
from tools.hl7.mllp import MllpListener
from tools.net import OutboundPolicy


async def _integration(client: httpx.AsyncClient, user: TestUser, port: int) -> str:
    response = await client.post(
        "/api/v1/integrations",
        headers=user.headers,
        json={
            "name": "Lab",
            "integration_type": "hl7",
            "config": {"host": "127.0.0.1", "port": port, "timeout_s": 2},
        },
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def test_connection_test_sends_a_real_query_and_reports_each_step(
    app: Any, client: httpx.AsyncClient, alice: TestUser
) -> None:
    app.state.ctx.outbound = OutboundPolicy.from_entries(["127.0.0.1/32"])
    received: list[str] = []

    async def handler(message: str, peer: str) -> str:
        received.append(message)
        return build_ack(message, "AA")

    listener = MllpListener(handler)
    await listener.start()
    try:
        iid = await _integration(client, alice, listener.port)
        result = (await client.post(f"/api/v1/integrations/{iid}/test", headers=alice.headers)).json()
    finally:
        await listener.stop()
    assert result["ok"] is True, result
    assert [s["name"] for s in result["steps"]] == ["resolve", "connect", "send test message", "acknowledgement"]
    assert all(s["ok"] for s in result["steps"])
    assert result["details"]["ack_code"] == "AA" and result["latency_ms"] > 0
    assert "QRY^A19" in received[0]
    status = (await client.get(f"/api/v1/integrations/{iid}", headers=alice.headers)).json()["status"]
    assert status == "ok"


async def test_rejecting_receiver_fails_the_acknowledgement_step(
    app: Any, client: httpx.AsyncClient, alice: TestUser
) -> None:
    app.state.ctx.outbound = OutboundPolicy.from_entries(["127.0.0.1/32"])

    async def reject(message: str, peer: str) -> str:
        return build_ack(message, "AR", "unknown sender")

    listener = MllpListener(reject)
    await listener.start()
    try:
        iid = await _integration(client, alice, listener.port)
        result = (await client.post(f"/api/v1/integrations/{iid}/test", headers=alice.headers)).json()
    finally:
        await listener.stop()
    assert result["ok"] is False
    last = result["steps"][-1]
    assert last["name"] == "acknowledgement" and not last["ok"] and last["remediation"]
    assert result["details"]["ack_code"] == "AR"


async def test_demo_mode_starts_the_receiver_and_shares_an_integration(settings: Settings, alice: TestUser) -> None:
    async with running_app(settings.model_copy(update={"demo_mode": True})) as demo, asgi_client(demo) as http:
        for username in ("demo_admin", "demo_user"):
            await http.post(
                "/api/v1/auth/register",
                json={"email": f"{username}@example.com", "username": username, "password": "correct horse"},
            )
        token = (
            await http.post("/api/v1/auth/login", json={"username": "demo_user", "password": "correct horse"})
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        items = (await http.get("/api/v1/integrations", headers=headers)).json()["items"]
        demo_hl7 = next(i for i in items if i["name"] == "Demo HL7 receiver")
        assert demo_hl7["visibility"] == "shared" and demo_hl7["owner_id"] is None
        result = (await http.post(f"/api/v1/integrations/{demo_hl7['id']}/test", headers=headers)).json()
        assert result["ok"] is True, result
        denied = await http.patch(f"/api/v1/integrations/{demo_hl7['id']}", json={"name": "mine"}, headers=headers)
        assert denied.status_code == 403
