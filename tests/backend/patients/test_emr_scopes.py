"""An API key's scopes bind the agent: a key reaches through chat only what its scopes reach over REST."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from backend.chat.toolset import build_toolset
from backend.models.user import User
from backend.platform.scopes import ALL_SCOPES
from tests.conftest import TestUser
from tools.tooling import tool_policy


async def _key(client: httpx.AsyncClient, user: TestUser, *scopes: str) -> dict[str, str]:
    created = await client.post("/api/v1/api-keys", headers=user.headers, json={"name": "k", "scopes": list(scopes)})
    assert created.status_code == 201, created.text
    return {"X-API-Key": created.json()["key"]}


async def _ask_with(client: httpx.AsyncClient, headers: dict[str, str], message: str) -> dict[str, Any]:
    sid = (await client.post("/api/v1/chat/sessions", json={"message": "hello"}, headers=headers)).json()["session_id"]
    await client.post(f"/api/v1/chat/sessions/{sid}/messages", json={"message": "hello"}, headers=headers)
    answer = await client.post(f"/api/v1/chat/sessions/{sid}/messages", json={"message": message}, headers=headers)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


async def test_a_chat_only_key_reads_no_patient_through_the_agent(
    client: httpx.AsyncClient, alice: TestUser, emrs: dict[str, str]
) -> None:
    chat_only = await _key(client, alice, "chat")
    rest = await client.get(
        f"/api/v1/integrations/{emrs['Epic sandbox']}/patients/eHQ1001/medications", headers=chat_only
    )
    assert rest.status_code == 403  # the REST door was already closed...
    answer = await _ask_with(client, chat_only, "what medications is Harold Quimby taking?")
    assert not answer["tool_calls"], "...and the agent offers the key no EMR tool"
    assert "Metformin" not in answer["content"] and "Lisinopril" not in answer["content"]

    reader = await _key(client, alice, "chat", "patients:read")
    allowed = await _ask_with(client, reader, "what medications is Harold Quimby taking?")
    assert allowed["tool_calls"] and "Harold Quimby" in allowed["content"]
    person = await _ask_with(client, alice.headers, "what medications is Harold Quimby taking?")
    assert person["content"] == allowed["content"]  # a person's own session is not limited by scopes


async def test_the_toolset_of_a_key_holds_only_tools_its_scopes_allow(
    app: Any, alice: TestUser, emrs: dict[str, str]
) -> None:
    ctx = app.state.ctx
    async with ctx.db.session() as session:
        user = await session.get(User, uuid.UUID(alice.id))
    everything = await build_toolset(ctx, user, hl7_store=ctx.extras["hl7_store"])
    declared = {tool.name: tool_policy(tool).scope for tool in everything.tools}
    assert declared and set(declared.values()) <= set(ALL_SCOPES), declared
    assert declared["emr_aggregate"] == "patients:read" and declared["hl7_recent_messages"] == "messages:read"
    chat_only = await build_toolset(ctx, user, hl7_store=ctx.extras["hl7_store"], scopes=frozenset({"chat"}))
    assert sorted(t.name for t in chat_only.tools) == ["hl7_build", "hl7_explain", "hl7_validate"]
