"""Access grants on shared integrations: everyone (the default), named users, or groups. A user without a
grant does not see a shared EMR in REST nor through the agent; every grant change is audited."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.backend.platform.test_platform_events_ws import EventsSocket
from tests.conftest import TestUser
from tests.tools.fhir.fhir_sandboxes import LOOPBACK, Sandboxes, running_sandboxes


@pytest.fixture
async def shared_emr(app: Any, client: httpx.AsyncClient, admin: TestUser) -> AsyncIterator[str]:
    """The admin's shared EMR on the Epic sandbox (open to all users, as every existing one is)."""
    app.state.ctx.outbound = LOOPBACK
    sandboxes: Sandboxes
    async with running_sandboxes() as sandboxes:
        spec = sandboxes.epic_spec
        body = {
            "name": "Ward EMR",
            "integration_type": "emr",
            "visibility": "shared",
            "config": spec.config,
            "credentials": spec.credentials,
        }
        created = await client.post("/api/v1/integrations", headers=admin.headers, json=body)
        assert created.status_code == 201, created.text
        yield str(created.json()["id"])


async def _names(client: httpx.AsyncClient, user: TestUser) -> list[str]:
    listed = await client.get("/api/v1/integrations", headers=user.headers)
    assert listed.status_code == 200, listed.text
    return [i["name"] for i in listed.json()["items"]]


async def _ask(client: httpx.AsyncClient, user: TestUser, message: str) -> dict[str, Any]:
    created = await client.post("/api/v1/chat/sessions", json={"message": "hello"}, headers=user.headers)
    sid = created.json()["session_id"]
    await client.post(f"/api/v1/chat/sessions/{sid}/messages", json={"message": "hello"}, headers=user.headers)
    answer = await client.post(f"/api/v1/chat/sessions/{sid}/messages", json={"message": message}, headers=user.headers)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


async def _set_access(client: httpx.AsyncClient, admin: TestUser, integration_id: str, **body: Any) -> httpx.Response:
    return await client.put(f"/api/v1/integrations/{integration_id}/access", headers=admin.headers, json=body)


async def test_shared_integrations_stay_open_to_all_by_default(
    client: httpx.AsyncClient, admin: TestUser, alice: TestUser, shared_emr: str
) -> None:
    assert await _names(client, alice) == ["Ward EMR"]
    access = await client.get(f"/api/v1/integrations/{shared_emr}/access", headers=admin.headers)
    assert access.json() == {"integration_id": shared_emr, "access": "all", "user_ids": [], "group_ids": []}
    answer = await _ask(client, alice, "show vitals for Harold Quimby")
    assert "latest vital signs from **Ward EMR**" in answer["content"]


async def test_without_a_grant_a_shared_emr_is_invisible_in_rest_and_to_the_agent(
    client: httpx.AsyncClient, admin: TestUser, alice: TestUser, bob: TestUser, shared_emr: str
) -> None:
    granted = await _set_access(client, admin, shared_emr, access="restricted", user_ids=[bob.id])
    assert granted.status_code == 200, granted.text
    assert granted.json()["user_ids"] == [bob.id]

    assert await _names(client, alice) == []
    assert (await client.get(f"/api/v1/integrations/{shared_emr}", headers=alice.headers)).status_code == 404
    search = await client.post(
        f"/api/v1/integrations/{shared_emr}/patients/search",
        headers=alice.headers,
        json={"criteria": {"name": "quimby"}},
    )
    assert search.status_code == 404
    aggregate = await client.post(
        "/api/v1/patients/aggregate", headers=alice.headers, json={"search": {"name": "Harold Quimby"}}
    )
    assert aggregate.status_code in (200, 404, 422) and "1958-03-14" not in aggregate.text
    answer = await _ask(client, alice, "show vitals for Harold Quimby")
    assert not answer["tool_calls"], "the agent has no EMR tool for alice"
    assert "Ward EMR" not in answer["content"] and "| Heart rate | 76" not in answer["content"]

    assert await _names(client, bob) == ["Ward EMR"]
    assert (
        "latest vital signs from **Ward EMR**" in (await _ask(client, bob, "show vitals for Harold Quimby"))["content"]
    )
    assert await _names(client, admin) == ["Ward EMR"]  # admins manage it, so they always see it

    audit = (await client.get("/api/v1/audit?action=integration.access_changed", headers=admin.headers)).json()
    change = audit["items"][0]
    assert change["integration_id"] == shared_emr
    assert change["details"]["before"]["access"] == "all" and change["details"]["after"]["user_ids"] == [bob.id]


async def test_a_group_grant_follows_the_groups_members(
    client: httpx.AsyncClient, admin: TestUser, alice: TestUser, bob: TestUser, shared_emr: str
) -> None:
    group = await client.post(
        "/api/v1/admin/groups", headers=admin.headers, json={"name": "Ward 7 nurses", "user_ids": [alice.id]}
    )
    assert group.status_code == 201, group.text
    group_id = group.json()["id"]
    assert (await _set_access(client, admin, shared_emr, access="restricted", group_ids=[group_id])).status_code == 200
    assert await _names(client, alice) == ["Ward EMR"] and await _names(client, bob) == []

    moved = await client.put(
        f"/api/v1/admin/groups/{group_id}", headers=admin.headers, json={"name": "Ward 7 nurses", "user_ids": [bob.id]}
    )
    assert moved.status_code == 200 and moved.json()["user_ids"] == [bob.id]
    assert await _names(client, alice) == [] and await _names(client, bob) == ["Ward EMR"]

    duplicate = await client.post("/api/v1/admin/groups", headers=admin.headers, json={"name": "ward 7 NURSES"})
    assert duplicate.status_code == 409 and duplicate.json()["code"] == "group_exists"
    assert (await client.delete(f"/api/v1/admin/groups/{group_id}", headers=admin.headers)).status_code == 204
    assert await _names(client, bob) == []  # the group's grant went with it; access stays restricted
    actions = [
        e["action"] for e in (await client.get("/api/v1/audit?action=group.*", headers=admin.headers)).json()["items"]
    ]
    assert sorted(actions) == ["group.created", "group.deleted", "group.updated"]


async def test_only_admins_change_access_and_only_on_shared_integrations(
    client: httpx.AsyncClient, admin: TestUser, alice: TestUser, shared_emr: str
) -> None:
    refused = await _set_access(client, alice, shared_emr, access="restricted")
    assert refused.status_code == 403
    private = await client.post(
        "/api/v1/integrations",
        headers=admin.headers,
        json={"name": "Mine", "integration_type": "hl7", "config": {"host": "127.0.0.1", "port": 9}},
    )
    not_shared = await _set_access(client, admin, private.json()["id"], access="restricted")
    assert not_shared.status_code == 409 and not_shared.json()["code"] == "not_shared"
    unknown = await _set_access(
        client, admin, shared_emr, access="restricted", user_ids=["00000000-0000-0000-0000-000000000000"]
    )
    assert unknown.status_code == 422 and unknown.json()["code"] == "unknown_grantee"
    mixed = await _set_access(client, admin, shared_emr, access="all", user_ids=[alice.id])
    assert mixed.status_code == 422 and mixed.json()["code"] == "grants_need_restricted"
    reopened = await _set_access(client, admin, shared_emr, access="all")
    assert reopened.status_code == 200 and await _names(client, alice) == ["Ward EMR"]


async def test_events_about_a_restricted_integration_reach_only_its_grantees(
    client: httpx.AsyncClient, live_server: str, admin: TestUser, alice: TestUser, bob: TestUser, shared_emr: str
) -> None:
    await _set_access(client, admin, shared_emr, access="restricted", user_ids=[bob.id])
    sockets = {
        name: await EventsSocket.open(live_server, user.access_token) for name, user in (("alice", alice), ("bob", bob))
    }
    try:
        for socket in sockets.values():
            await socket.send({"action": "subscribe", "events": ["integration.*"]})
        renamed = await client.patch(
            f"/api/v1/integrations/{shared_emr}", headers=admin.headers, json={"description": "ward 7 only"}
        )
        assert renamed.status_code == 200
        assert (await sockets["bob"].until("integration.updated"))["data"]["id"] == shared_emr
        assert await sockets["alice"].quiet(0.5) == []
    finally:
        for socket in sockets.values():
            await socket.close()
