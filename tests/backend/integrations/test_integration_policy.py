"""An integration's tools and the admin's approval policy for them, through the API and into the agent."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from agents.policy import decisions_for
from backend.chat.engine import policy_from
from backend.chat.toolset import build_toolset
from backend.models.user import User
from tests.conftest import TestUser
from tools.net import OutboundPolicy


async def _hl7_integration(client: httpx.AsyncClient, user: TestUser, name: str, visibility: str = "private") -> str:
    response = await client.post(
        "/api/v1/integrations",
        headers=user.headers,
        json={
            "name": name,
            "integration_type": "hl7",
            "visibility": visibility,
            "config": {"host": "127.0.0.1", "port": 2575},
        },
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def test_tools_list_what_each_declares_and_the_decision(
    app: Any, client: httpx.AsyncClient, alice: TestUser
) -> None:
    app.state.ctx.outbound = OutboundPolicy.from_entries(["127.0.0.1/32"])
    iid = await _hl7_integration(client, alice, "Lab Feed")
    response = await client.get(f"/api/v1/integrations/{iid}/tools", headers=alice.headers)
    assert response.status_code == 200, response.text
    (tool,) = response.json()
    # The description is the connector's wording; the integration it acts on is named in it.
    assert tool.pop("description").endswith("(integration: Lab Feed)")
    assert tool == {
        "name": "lab_feed__send",
        "operation": "hl7.send",
        "access": "write",
        "phi": True,
        "default_decision": "ask",
        "effective_decision": "ask",
    }


async def test_policy_is_admin_only_and_invisible_integrations_are_404(
    app: Any, client: httpx.AsyncClient, admin: TestUser, alice: TestUser, bob: TestUser
) -> None:
    app.state.ctx.outbound = OutboundPolicy.from_entries(["127.0.0.1/32"])
    private = await _hl7_integration(client, alice, "Alice Lab")
    body = {"overrides": [{"tool": "hl7.send", "decision": "deny"}]}
    forbidden = await client.put(f"/api/v1/integrations/{private}/policy", json=body, headers=alice.headers)
    assert forbidden.status_code == 403 and forbidden.json()["code"] == "forbidden"
    # Someone else's private integration does not exist for the admin or for another user.
    hidden = await client.put(f"/api/v1/integrations/{private}/policy", json=body, headers=admin.headers)
    assert hidden.status_code == 404 and hidden.json()["code"] == "not_found"
    assert (await client.get(f"/api/v1/integrations/{private}/tools", headers=bob.headers)).status_code == 404
    missing = await client.get(f"/api/v1/integrations/{uuid.uuid4()}/tools", headers=admin.headers)
    assert missing.status_code == 404


async def test_bad_overrides_are_422_with_a_code(app: Any, client: httpx.AsyncClient, admin: TestUser) -> None:
    app.state.ctx.outbound = OutboundPolicy.from_entries(["127.0.0.1/32"])
    iid = await _hl7_integration(client, admin, "Shared Lab", "shared")
    url = f"/api/v1/integrations/{iid}/policy"
    cases = [
        ({"tool": "hl7.send", "decision": "maybe"}, "validation_error"),
        ({"tool": "jira.delete_everything", "decision": "deny"}, "unknown_tool"),
        ({"tool": "shared_lab__send", "decision": "allow"}, "decision_not_allowed"),
    ]
    for entry, code in cases:
        response = await client.put(url, json={"overrides": [entry]}, headers=admin.headers)
        assert response.status_code == 422, entry
        assert response.json()["code"] == code, response.json()
        assert response.json()["detail"]
    twice = [{"tool": "hl7.send", "decision": "deny"}, {"tool": "shared_lab__send", "decision": "ask"}]
    duplicate = await client.put(url, json={"overrides": twice}, headers=admin.headers)
    assert duplicate.status_code == 422 and duplicate.json()["code"] == "duplicate_tool"
    not_a_list = await client.put(url, json={"overrides": "deny"}, headers=admin.headers)
    assert not_a_list.status_code == 422
    # Nothing was stored by the failed attempts.
    tools = (await client.get(f"/api/v1/integrations/{iid}/tools", headers=admin.headers)).json()
    assert tools[0]["effective_decision"] == "ask"


async def test_saved_policy_is_audited_and_reaches_the_agent(
    app: Any, client: httpx.AsyncClient, admin: TestUser, alice: TestUser
) -> None:
    app.state.ctx.outbound = OutboundPolicy.from_entries(["127.0.0.1/32"])
    iid = await _hl7_integration(client, admin, "Shared Lab", "shared")
    url = f"/api/v1/integrations/{iid}/policy"
    saved = await client.put(
        url, json={"overrides": [{"tool": "shared_lab__send", "decision": "deny"}]}, headers=admin.headers
    )
    assert saved.status_code == 200, saved.text
    assert saved.json()[0]["effective_decision"] == "deny" and saved.json()[0]["default_decision"] == "ask"
    # Every user of the shared integration sees the decision, and their agent applies it.
    seen = (await client.get(f"/api/v1/integrations/{iid}/tools", headers=alice.headers)).json()
    assert seen[0]["effective_decision"] == "deny"
    ctx = app.state.ctx
    async with ctx.db.session() as session:
        user = await session.get(User, uuid.UUID(alice.id))
        assert user is not None
    toolset = await build_toolset(ctx, user)
    assert decisions_for(toolset.tools, policy_from(toolset.overrides))["shared_lab__send"] == "deny"

    audit = (await client.get("/api/v1/audit?action=integration.policy_changed", headers=admin.headers)).json()
    assert audit["total"] == 1
    assert audit["items"][0]["details"]["overrides"] == [{"tool": "hl7.send", "decision": "deny"}]

    cleared = await client.put(url, json={"overrides": []}, headers=admin.headers)
    assert cleared.json()[0]["effective_decision"] == "ask"
    toolset = await build_toolset(ctx, user)
    assert decisions_for(toolset.tools, policy_from(toolset.overrides))["shared_lab__send"] == "ask"
