"""Admin-only routes: role checks, user management, the last-admin rule, the audit log."""

from __future__ import annotations

import httpx

from tests.conftest import TestUser


async def test_non_admin_gets_403_on_admin_routes(client: httpx.AsyncClient, alice: TestUser) -> None:
    for method, path in [
        ("GET", "/api/v1/admin/users"),
        ("PATCH", f"/api/v1/admin/users/{alice.id}"),
        ("GET", "/api/v1/audit"),
    ]:
        response = await client.request(method, path, headers=alice.headers, json={"role": "admin"})
        assert response.status_code == 403, path
        assert response.json()["code"] == "forbidden"


async def test_admin_lists_and_searches_users(client: httpx.AsyncClient, admin: TestUser, alice: TestUser) -> None:
    page = (await client.get("/api/v1/admin/users", headers=admin.headers)).json()
    assert page["total"] == 2 and page["page"] == 1 and page["pages"] == 1
    found = (await client.get("/api/v1/admin/users?q=ali", headers=admin.headers)).json()
    assert [u["username"] for u in found["items"]] == ["alice"]


async def test_promote_and_last_admin_protection(client: httpx.AsyncClient, admin: TestUser, alice: TestUser) -> None:
    demote_self = await client.patch(f"/api/v1/admin/users/{admin.id}", json={"role": "user"}, headers=admin.headers)
    assert demote_self.status_code == 409
    assert demote_self.json()["code"] == "last_admin"
    promoted = await client.patch(f"/api/v1/admin/users/{alice.id}", json={"role": "admin"}, headers=admin.headers)
    assert promoted.json()["role"] == "admin"
    demoted = await client.patch(f"/api/v1/admin/users/{admin.id}", json={"role": "user"}, headers=admin.headers)
    assert demoted.status_code == 200


async def test_audit_log_records_logins_and_filters(
    client: httpx.AsyncClient, admin: TestUser, alice: TestUser
) -> None:
    page = (await client.get("/api/v1/audit?action=auth.login", headers=admin.headers)).json()
    assert {e["actor"] for e in page["items"]} == {"admin", "alice"}
    only_alice = (await client.get("/api/v1/audit?actor=alice&action=auth.*", headers=admin.headers)).json()
    assert only_alice["total"] >= 1
    assert all(e["actor"] == "alice" for e in only_alice["items"])
