"""API keys: shown once, hashed at rest, exactly their scopes over REST and WebSockets, expiry and revocation."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import websockets
from sqlalchemy import select, update

from backend.models.api_key import ApiKey
from tests.conftest import TestUser, serving

HL7 = {"name": "Lab feed", "integration_type": "hl7", "config": {"host": "127.0.0.1", "port": 2575}}


async def make_key(client: httpx.AsyncClient, user: TestUser, scopes: list[str], **extra: Any) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/api-keys", headers=user.headers, json={"name": "ci", "scopes": scopes, **extra}
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_key_is_shown_once_and_stored_only_as_a_hash(
    app: Any, client: httpx.AsyncClient, alice: TestUser
) -> None:
    created = await make_key(client, alice, ["integrations:read"])
    key = created["key"]
    assert key.startswith("sb_") and len(key) > 40 and key.startswith(created["prefix"])
    assert created["status"] == "active" and created["usage_count"] == 0

    listed = (await client.get("/api/v1/api-keys", headers=alice.headers)).json()
    assert listed["total"] == 1 and "key" not in listed["items"][0]
    fetched = (await client.get(f"/api/v1/api-keys/{created['id']}", headers=alice.headers)).json()
    assert "key" not in fetched and fetched["prefix"] == created["prefix"]

    async with app.state.ctx.db.session() as session:
        row = (await session.scalars(select(ApiKey))).one()
    assert row.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key not in json.dumps({c.name: str(getattr(row, c.name)) for c in ApiKey.__table__.columns})


async def test_key_authenticates_as_its_owner_with_exactly_its_scopes(
    client: httpx.AsyncClient, alice: TestUser, bob: TestUser
) -> None:
    mine = await client.post("/api/v1/integrations", headers=alice.headers, json=HL7)
    theirs = await client.post("/api/v1/integrations", headers=bob.headers, json={**HL7, "name": "Bob feed"})
    reader = {"X-API-Key": (await make_key(client, alice, ["integrations:read"]))["key"]}

    listed = await client.get("/api/v1/integrations", headers=reader)
    assert listed.status_code == 200
    assert [i["name"] for i in listed.json()["items"]] == ["Lab feed"]
    hidden = await client.get(f"/api/v1/integrations/{theirs.json()['id']}", headers=reader)
    assert hidden.status_code == 404

    for method, path, body in [
        ("POST", "/api/v1/integrations", HL7),
        ("DELETE", f"/api/v1/integrations/{mine.json()['id']}", None),
        ("GET", "/api/v1/api-keys", None),
        ("POST", "/api/v1/api-keys", {"name": "escalate", "scopes": ["chat"]}),
        ("GET", "/api/v1/chat/sessions", None),
        ("GET", "/api/v1/webhooks", None),
        ("GET", "/api/v1/auth/me", None),
        ("GET", "/api/v1/admin/users", None),
    ]:
        response = await client.request(method, path, headers=reader, json=body)
        assert response.status_code == 403, (method, path, response.text)
        assert response.json()["code"] == "insufficient_scope"

    writer = {"X-API-Key": (await make_key(client, alice, ["integrations:read", "integrations:write"]))["key"]}
    created = await client.post("/api/v1/integrations", headers=writer, json={**HL7, "name": "Via key"})
    assert created.status_code == 201 and created.json()["owner_id"] == alice.id

    messages = {"X-API-Key": (await make_key(client, alice, ["messages:write"]))["key"]}
    invalid = await client.post(
        "/api/v1/messages", headers=messages, json={"message": "not hl7", "metadata": {"destination": ["Lab feed"]}}
    )
    assert invalid.status_code in (400, 422) and invalid.json()["code"] != "insufficient_scope"  # scope allowed it
    assert (await client.get("/api/v1/integrations", headers=messages)).json()["code"] == "insufficient_scope"

    chat = {"X-API-Key": (await make_key(client, alice, ["chat"]))["key"]}
    session = await client.post("/api/v1/chat/sessions", headers=chat, json={"message": "hello"})
    assert session.status_code == 201


async def test_expired_revoked_deleted_and_unknown_keys_are_refused(
    app: Any, client: httpx.AsyncClient, alice: TestUser
) -> None:
    expiring = await make_key(client, alice, ["integrations:read"], expires_at="2099-01-01T00:00:00Z")
    headers = {"X-API-Key": expiring["key"]}
    assert (await client.get("/api/v1/integrations", headers=headers)).status_code == 200
    async with app.state.ctx.db.session() as session:
        past = datetime.now(UTC) - timedelta(minutes=1)
        await session.execute(update(ApiKey).where(ApiKey.id == uuid.UUID(expiring["id"])).values(expires_at=past))
    expired = await client.get("/api/v1/integrations", headers=headers)
    assert expired.status_code == 401 and expired.json()["code"] == "api_key_expired"
    assert expired.headers["www-authenticate"] == "Bearer"
    shown = (await client.get(f"/api/v1/api-keys/{expiring['id']}", headers=alice.headers)).json()
    assert shown["status"] == "expired"

    revocable = await make_key(client, alice, ["integrations:read"])
    headers = {"X-API-Key": revocable["key"]}
    patched = await client.patch(
        f"/api/v1/api-keys/{revocable['id']}", headers=alice.headers, json={"is_active": False}
    )
    assert patched.json()["status"] == "revoked"
    revoked = await client.get("/api/v1/integrations", headers=headers)
    assert revoked.status_code == 401 and revoked.json()["code"] == "invalid_api_key"
    await client.patch(f"/api/v1/api-keys/{revocable['id']}", headers=alice.headers, json={"is_active": True})
    assert (await client.get("/api/v1/integrations", headers=headers)).status_code == 200

    deleted = await client.delete(f"/api/v1/api-keys/{revocable['id']}", headers=alice.headers)
    assert deleted.status_code == 204
    gone = await client.get("/api/v1/integrations", headers=headers)
    assert gone.status_code == 401 and gone.json()["code"] == "invalid_api_key"

    for bogus in ["sb_" + "x" * 43, "not-a-key", "sb_" + "y" * 500]:
        refused = await client.get("/api/v1/integrations", headers={"X-API-Key": bogus})
        assert refused.status_code == 401 and refused.json()["code"] == "invalid_api_key"


async def test_key_management_validation_ownership_and_audit(
    app: Any, client: httpx.AsyncClient, admin: TestUser, alice: TestUser, bob: TestUser
) -> None:
    for body in [
        {"name": "x", "scopes": []},
        {"name": "x", "scopes": ["root"]},
        {"name": "", "scopes": ["chat"]},
        {"name": "x", "scopes": ["chat"], "expires_at": "2001-01-01T00:00:00Z"},
        {"name": "x", "scopes": ["chat"], "rate_limit_per_minute": 0},
        {"name": "x", "scopes": ["chat"], "owner_id": bob.id},
    ]:
        response = await client.post("/api/v1/api-keys", headers=alice.headers, json=body)
        assert response.status_code == 422 and response.json()["code"] == "validation_error", body

    key = await make_key(client, alice, ["chat", "chat"], rate_limit_per_minute=10)
    assert key["scopes"] == ["chat"] and key["rate_limit_per_minute"] == 10
    for method in ("GET", "PATCH", "DELETE"):
        response = await client.request(method, f"/api/v1/api-keys/{key['id']}", headers=bob.headers, json={})
        assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert (await client.get("/api/v1/api-keys", headers=bob.headers)).json()["total"] == 0

    renamed = await client.patch(
        f"/api/v1/api-keys/{key['id']}", headers=alice.headers, json={"name": "renamed", "scopes": ["events"]}
    )
    assert renamed.json()["name"] == "renamed" and renamed.json()["scopes"] == ["events"]
    await client.delete(f"/api/v1/api-keys/{key['id']}", headers=alice.headers)

    audit = (await client.get("/api/v1/audit?size=100", headers=admin.headers)).json()["items"]
    actions = [(a["action"], a["details"].get("api_key_id")) for a in audit]
    assert ("api_key.created", key["id"]) in actions and ("api_key.revoked", key["id"]) in actions


async def test_usage_is_counted_in_batches(app: Any, client: httpx.AsyncClient, alice: TestUser) -> None:
    key = await make_key(client, alice, ["integrations:read"])
    for _ in range(3):
        assert (await client.get("/api/v1/integrations", headers={"X-API-Key": key["key"]})).status_code == 200
    await app.state.ctx.extras["api_key_usage"].flush()
    shown = (await client.get(f"/api/v1/api-keys/{key['id']}", headers=alice.headers)).json()
    assert shown["usage_count"] == 3 and shown["last_used_at"] is not None


async def _close_code(url: str, headers: dict[str, str]) -> int | None:
    async with websockets.connect(url, additional_headers=headers) as ws:
        try:
            first = json.loads(await ws.recv())
        except websockets.ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd else None
        assert first.get("type") == "connection_established" or first.get("event") == "connection.established"
        return 0


async def test_keys_authenticate_websockets_with_their_scope(
    app: Any, client: httpx.AsyncClient, alice: TestUser
) -> None:
    chat_key = (await make_key(client, alice, ["chat"]))["key"]
    events_key = (await make_key(client, alice, ["events"]))["key"]
    session_id = (await client.post("/api/v1/chat/sessions", headers=alice.headers, json={"message": "hello"})).json()[
        "session_id"
    ]
    async with serving(app) as base:
        ws = base.replace("http://", "ws://")
        chat_url = f"{ws}/api/v1/chat/ws/{session_id}"
        events_url = f"{ws}/api/v1/events/ws"
        assert await _close_code(chat_url, {"X-API-Key": chat_key}) == 0
        assert await _close_code(chat_url, {"X-API-Key": events_key}) == 4403  # valid key, wrong scope
        assert await _close_code(chat_url, {"X-API-Key": "sb_unknown"}) == 4401
        assert await _close_code(events_url, {"X-API-Key": events_key}) == 0
        assert await _close_code(events_url, {"X-API-Key": chat_key}) == 4403
        assert await _close_code(events_url, {"X-API-Key": "sb_unknown"}) == 4401


@pytest.mark.parametrize("header", ["X-API-Key", "x-api-key"])
async def test_header_name_is_case_insensitive(client: httpx.AsyncClient, alice: TestUser, header: str) -> None:
    key = (await make_key(client, alice, ["integrations:read"]))["key"]
    assert (await client.get("/api/v1/integrations", headers={header: key})).status_code == 200
