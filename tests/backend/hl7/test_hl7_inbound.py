"""The inbound listener: stores what arrives with the ACK it answered; demo mode can send to it."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from backend.config import Settings
from tests.backend.hl7.test_hl7_routing import ADT, fast
from tests.conftest import asgi_client, running_app
from tools.hl7.mllp import MllpClient


async def _login(http: httpx.AsyncClient) -> dict[str, str]:
    await http.post(
        "/api/v1/auth/register", json={"email": "ops@example.com", "username": "ops", "password": "correct horse"}
    )
    token = (await http.post("/api/v1/auth/login", json={"username": "ops", "password": "correct horse"})).json()[
        "access_token"
    ]
    return {"Authorization": f"Bearer {token}"}


async def _inbound(http: httpx.AsyncClient, headers: dict[str, str], count: int) -> list[dict[str, Any]]:
    for _ in range(100):
        items = (await http.get("/api/v1/messages?direction=inbound", headers=headers)).json()["items"]
        if len(items) >= count:
            return list(items)
        await asyncio.sleep(0.05)
    raise AssertionError("inbound messages were not stored")


async def test_demo_sends_to_the_listener_and_every_inbound_message_is_stored(settings: Settings) -> None:
    config = settings.model_copy(update={"demo_mode": True, "hl7_listen_port": 0})
    async with running_app(config) as app, asgi_client(app) as http:
        fast(app)
        headers = await _login(http)
        names = [i["name"] for i in (await http.get("/api/v1/integrations", headers=headers)).json()["items"]]
        assert "Switchboard inbound listener" in names
        accepted = await http.post(
            "/api/v1/messages",
            headers=headers,
            json={"message": ADT.format(cid="IN1"), "metadata": {"destination": ["Switchboard inbound listener"]}},
        )
        assert accepted.status_code == 202
        stored = await _inbound(http, headers, 1)
        assert stored[0]["control_id"] == "IN1" and stored[0]["status"] == "received"

        listener_port = next(
            i
            for i in (await http.get("/api/v1/integrations", headers=headers)).json()["items"]
            if i["name"] == "Switchboard inbound listener"
        )["config"]["port"]
        client = MllpClient("127.0.0.1", listener_port, timeout_s=3)
        result = await client.send(ADT.format(cid="BAD1").replace("2.5.1", "9.9"))
        await client.close()
        assert result.code == "AE"
        rejected = next(m for m in await _inbound(http, headers, 2) if m["control_id"] == "BAD1")
        detail = (await http.get(f"/api/v1/messages/{rejected['message_id']}", headers=headers)).json()
        assert detail["status"] == "rejected" and detail["ack_code"] == "AE"
        assert detail["problems"][0]["location"] == "MSH-12"

        # Seed 000's SDK example, no destination: the demo channel takes it to the demo receiver.
        routed = await http.post("/api/v1/messages", headers=headers, json={"message": ADT.format(cid="SDK1")})
        assert routed.status_code == 202 and routed.json()["channels"] == ["Demo ADT and ORU feed"]
        assert routed.json()["destinations"] == ["Demo HL7 receiver"]
