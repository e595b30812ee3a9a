"""Integrations over HTTP: types from the registry, CRUD, visibility, encryption at rest, SSRF guard,
connection tests that never 500."""

from __future__ import annotations

import socket
import uuid
from typing import Any

import httpx

from backend.models.integration import Integration
from tests.conftest import TestUser

SECRET = "planted-secret-token-123"
LIS = {
    "name": "Acme LIS",
    "integration_type": "hl7",
    "config": {"host": "lis.example.com", "port": 2575, "tls": True},
    "credentials": {"tls_ca_pem": SECRET},
}


async def _create(client: httpx.AsyncClient, user: TestUser, **overrides: Any) -> httpx.Response:
    return await client.post("/api/v1/integrations", json={**LIS, **overrides}, headers=user.headers)


async def test_types_come_from_the_connector_registry(client: httpx.AsyncClient, alice: TestUser) -> None:
    types = (await client.get("/api/v1/integrations/types", headers=alice.headers)).json()
    by_name = {t["name"]: t for t in types}
    assert "hl7" in by_name
    for entry in types:
        assert entry["description"]
        assert entry["config_schema"]["type"] == "object"
        assert entry["credentials_schema"]["type"] == "object"
    assert {"host", "port", "version"} <= set(by_name["hl7"]["config_schema"]["properties"])
    assert by_name["hl7"]["credentials_schema"]["properties"]["tls_ca_pem"]["writeOnly"] is True


async def test_create_read_update_delete_and_credentials_are_write_only(
    client: httpx.AsyncClient, alice: TestUser, app: Any
) -> None:
    created = await _create(client, alice)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["has_credentials"] is True
    assert "credentials" not in body
    assert SECRET not in created.text
    iid = body["id"]

    # Encrypted at rest: the stored column is a Fernet token, not the secret.
    async with app.state.ctx.db.session() as session:
        row = await session.get(Integration, uuid.UUID(body["id"]))
        assert row is not None and row.credentials_encrypted
        assert SECRET not in row.credentials_encrypted
        assert app.state.ctx.cipher.decrypt(row.credentials_encrypted)["tls_ca_pem"] == SECRET

    fetched = await client.get(f"/api/v1/integrations/{iid}", headers=alice.headers)
    assert SECRET not in fetched.text
    patched = await client.patch(f"/api/v1/integrations/{iid}", json={"name": "Acme LIS (prod)"}, headers=alice.headers)
    assert patched.json()["name"] == "Acme LIS (prod)"
    assert patched.json()["has_credentials"] is True  # omitted credentials are kept
    replaced = await client.put(
        f"/api/v1/integrations/{iid}",
        json={"name": "Acme", "config": {"host": "lis2.example.com", "port": 2576}},
        headers=alice.headers,
    )
    assert replaced.status_code == 200 and replaced.json()["config"]["host"] == "lis2.example.com"
    listing = (await client.get("/api/v1/integrations", headers=alice.headers)).json()
    assert [i["id"] for i in listing["items"]] == [iid]
    assert (await client.delete(f"/api/v1/integrations/{iid}", headers=alice.headers)).status_code == 204
    assert (await client.get(f"/api/v1/integrations/{iid}", headers=alice.headers)).status_code == 404


async def test_invalid_config_is_422_and_unknown_type_is_rejected(client: httpx.AsyncClient, alice: TestUser) -> None:
    bad = await _create(client, alice, config={"host": "lis.example.com", "port": 70000})
    assert bad.status_code == 422 and bad.json()["code"] == "validation_error"
    unknown = await _create(client, alice, integration_type="salesforce")
    assert unknown.status_code == 422 and unknown.json()["code"] == "unknown_integration_type"


async def test_visibility_private_and_shared(
    client: httpx.AsyncClient, admin: TestUser, alice: TestUser, bob: TestUser
) -> None:
    private = (await _create(client, alice)).json()
    assert (await _create(client, alice, visibility="shared")).status_code == 403
    shared = await _create(client, admin, name="Company LIS", visibility="shared")
    assert shared.status_code == 201
    shared_id = shared.json()["id"]

    bob_sees = {i["id"] for i in (await client.get("/api/v1/integrations", headers=bob.headers)).json()["items"]}
    assert bob_sees == {shared_id}
    assert (await client.get(f"/api/v1/integrations/{private['id']}", headers=bob.headers)).status_code == 404
    assert (await client.delete(f"/api/v1/integrations/{private['id']}", headers=bob.headers)).status_code == 404
    assert (
        await client.patch(f"/api/v1/integrations/{shared_id}", json={"name": "x"}, headers=bob.headers)
    ).status_code == 403
    assert (
        await client.patch(f"/api/v1/integrations/{shared_id}", json={"name": "LIS"}, headers=admin.headers)
    ).status_code == 200


async def test_private_targets_are_refused_without_allowlist(client: httpx.AsyncClient, alice: TestUser) -> None:
    for host in ("127.0.0.1", "10.1.2.3", "169.254.169.254", "::1", "localhost"):
        response = await _create(client, alice, config={"host": host, "port": 2575})
        assert response.status_code == 422, host
        assert response.json()["code"] == "outbound_blocked", host


async def test_connection_test_of_unreachable_system_is_ok_false_not_500(
    client: httpx.AsyncClient, alice: TestUser, app: Any
) -> None:
    created = (await _create(client, alice)).json()
    # Point it at a loopback port nobody listens on, allow-listing loopback for this app only.
    from tools.net import OutboundPolicy

    app.state.ctx.outbound = OutboundPolicy.from_entries(["127.0.0.1/32"])
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    await client.patch(
        f"/api/v1/integrations/{created['id']}",
        json={"config": {"host": "127.0.0.1", "port": port}},
        headers=alice.headers,
    )
    response = await client.post(f"/api/v1/integrations/{created['id']}/test", headers=alice.headers)
    assert response.status_code == 200
    result = response.json()
    assert result["ok"] is False
    assert result["error"]
    assert any(not step["ok"] for step in result["steps"])
    refreshed = (await client.get(f"/api/v1/integrations/{created['id']}", headers=alice.headers)).json()
    assert refreshed["status"] == "error"
    assert refreshed["last_test"]["ok"] is False
