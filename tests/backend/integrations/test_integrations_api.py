"""Integrations over HTTP: types from the registry, CRUD, visibility, encryption at rest, SSRF guard,
connection tests that never 500."""

from __future__ import annotations

import socket
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from backend.models.integration import Integration
from tests.conftest import TestUser

pytest.importorskip("tools.jira.connector", reason="the Jira connector package is not installed")

JIRA = {
    "name": "Acme Jira",
    "integration_type": "jira",
    "config": {"base_url": "https://acme.atlassian.net", "deployment": "cloud"},
    "credentials": {"email": "ada@acme.com", "api_token": "planted-secret-token-123"},
}


async def _create(client: httpx.AsyncClient, user: TestUser, **overrides: Any) -> httpx.Response:
    return await client.post("/api/v1/integrations", json={**JIRA, **overrides}, headers=user.headers)


async def test_types_come_from_the_connector_registry(client: httpx.AsyncClient, alice: TestUser) -> None:
    types = (await client.get("/api/v1/integrations/types", headers=alice.headers)).json()
    by_name = {t["name"]: t for t in types}
    assert "jira" in by_name
    for entry in types:
        assert entry["description"]
        assert entry["config_schema"]["type"] == "object"
        assert entry["credentials_schema"]["type"] == "object"
    assert "base_url" in by_name["jira"]["config_schema"]["properties"]


async def test_create_read_update_delete_and_credentials_are_write_only(
    client: httpx.AsyncClient, alice: TestUser, app: Any
) -> None:
    created = await _create(client, alice)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["has_credentials"] is True
    assert "credentials" not in body
    assert "planted-secret-token-123" not in created.text
    iid = body["id"]

    # Encrypted at rest: the stored column is a Fernet token, not the secret.
    async with app.state.ctx.db.session() as session:
        row = await session.scalar(select(Integration).where(Integration.id == body["id"]))  # type: ignore[arg-type]
        assert row is not None and row.credentials_encrypted
        assert "planted-secret-token-123" not in row.credentials_encrypted
        assert app.state.ctx.cipher.decrypt(row.credentials_encrypted)["api_token"] == "planted-secret-token-123"

    fetched = await client.get(f"/api/v1/integrations/{iid}", headers=alice.headers)
    assert "planted-secret-token-123" not in fetched.text
    patched = await client.patch(
        f"/api/v1/integrations/{iid}", json={"name": "Acme Jira (prod)"}, headers=alice.headers
    )
    assert patched.json()["name"] == "Acme Jira (prod)"
    assert patched.json()["has_credentials"] is True  # omitted credentials are kept
    replaced = await client.put(
        f"/api/v1/integrations/{iid}",
        json={"name": "Acme", "config": {"base_url": "https://acme2.atlassian.net", "deployment": "cloud"}},
        headers=alice.headers,
    )
    assert replaced.status_code == 200 and replaced.json()["config"]["base_url"].startswith("https://acme2")
    listing = (await client.get("/api/v1/integrations", headers=alice.headers)).json()
    assert [i["id"] for i in listing["items"]] == [iid]
    assert (await client.delete(f"/api/v1/integrations/{iid}", headers=alice.headers)).status_code == 204
    assert (await client.get(f"/api/v1/integrations/{iid}", headers=alice.headers)).status_code == 404


async def test_invalid_config_is_422_and_unknown_type_is_rejected(client: httpx.AsyncClient, alice: TestUser) -> None:
    bad = await _create(client, alice, config={"deployment": "cloud"})
    assert bad.status_code == 422 and bad.json()["code"] == "validation_error"
    unknown = await _create(client, alice, integration_type="salesforce")
    assert unknown.status_code == 422 and unknown.json()["code"] == "unknown_integration_type"


async def test_visibility_private_and_shared(
    client: httpx.AsyncClient, admin: TestUser, alice: TestUser, bob: TestUser
) -> None:
    private = (await _create(client, alice)).json()
    assert (await _create(client, alice, visibility="shared")).status_code == 403
    shared = await _create(client, admin, name="Company Jira", visibility="shared")
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
        await client.patch(f"/api/v1/integrations/{shared_id}", json={"name": "Jira"}, headers=admin.headers)
    ).status_code == 200


async def test_private_targets_are_refused_without_allowlist(client: httpx.AsyncClient, alice: TestUser) -> None:
    for url in ("http://127.0.0.1:8080", "http://10.1.2.3", "http://169.254.169.254", "http://[::1]:9000"):
        response = await _create(client, alice, config={"base_url": url, "deployment": "cloud"})
        assert response.status_code == 422, url
        assert response.json()["code"] == "outbound_blocked", url


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
        json={"config": {"base_url": f"http://127.0.0.1:{port}", "deployment": "cloud"}},
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
