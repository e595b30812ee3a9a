"""An HL7 replay re-checks that the sender may still use every destination (grant, active) before
anything is sent again."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests.backend.hl7.test_hl7_routing import Receiver, _submit, _until, fast
from tests.conftest import TestUser


async def _shared_destination(client: httpx.AsyncClient, admin: TestUser, port: int) -> str:
    response = await client.post(
        "/api/v1/integrations",
        headers=admin.headers,
        json={
            "name": "Hospital LIS",
            "integration_type": "hl7",
            "visibility": "shared",
            "config": {"host": "127.0.0.1", "port": port, "timeout_s": 1},
        },
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def _delivered_once(
    app: Any, client: httpx.AsyncClient, alice: TestUser, admin: TestUser
) -> tuple[str, str, Receiver]:
    fast(app)
    receiver = Receiver()
    await receiver.listener.start()
    integration_id = await _shared_destination(client, admin, receiver.listener.port)
    accepted = await _submit(client, alice, "R200", ["Hospital LIS"])
    assert accepted.status_code == 202, accepted.text
    message_id = accepted.json()["message_id"]
    await _until(client, alice, message_id, "delivered")
    return message_id, integration_id, receiver


async def test_a_replay_after_the_grant_was_withdrawn_is_refused(
    app: Any, client: httpx.AsyncClient, admin: TestUser, alice: TestUser, bob: TestUser
) -> None:
    message_id, integration_id, receiver = await _delivered_once(app, client, alice, admin)
    try:
        restricted = await client.put(
            f"/api/v1/integrations/{integration_id}/access",
            headers=admin.headers,
            json={"access": "restricted", "user_ids": [bob.id]},
        )
        assert restricted.status_code == 200
        for who in (alice, admin):  # an admin's replay goes out in alice's name: the same rule holds
            replay = await client.post(f"/api/v1/messages/{message_id}/replay", headers=who.headers)
            assert replay.status_code == 403 and replay.json()["code"] == "destination_not_allowed", replay.text
        await asyncio.sleep(0.3)
        assert len(receiver.messages) == 1, "nothing was sent again"

        await client.put(
            f"/api/v1/integrations/{integration_id}/access",
            headers=admin.headers,
            json={"access": "restricted", "user_ids": [alice.id]},
        )
        assert (await client.post(f"/api/v1/messages/{message_id}/replay", headers=alice.headers)).status_code == 202
    finally:
        await receiver.listener.stop()


async def test_a_replay_to_a_disabled_destination_or_by_a_disabled_sender_is_refused(
    app: Any, client: httpx.AsyncClient, admin: TestUser, alice: TestUser
) -> None:
    message_id, integration_id, receiver = await _delivered_once(app, client, alice, admin)
    try:
        paused = await client.patch(
            f"/api/v1/integrations/{integration_id}", headers=admin.headers, json={"is_active": False}
        )
        assert paused.status_code == 200
        replay = await client.post(f"/api/v1/messages/{message_id}/replay", headers=alice.headers)
        assert replay.status_code == 403 and replay.json()["code"] == "destination_not_allowed"
        await client.patch(f"/api/v1/integrations/{integration_id}", headers=admin.headers, json={"is_active": True})

        disabled = await client.patch(
            f"/api/v1/admin/users/{alice.id}", headers=admin.headers, json={"is_active": False}
        )
        assert disabled.status_code == 200
        replay = await client.post(f"/api/v1/messages/{message_id}/replay", headers=admin.headers)
        assert replay.status_code == 403 and replay.json()["code"] == "sender_disabled"
        assert len(receiver.messages) == 1
    finally:
        await receiver.listener.stop()
