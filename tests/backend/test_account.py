"""First-run setup state, password change (other sessions signed out) and admin reset links."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import update

from backend.models.password_reset import PasswordResetToken
from tests.conftest import TestUser, UserFactory


async def _login(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await client.post("/api/v1/auth/login", json={"username": username, "password": password})


async def test_setup_says_when_the_administrator_is_still_missing(
    client: httpx.AsyncClient, make_user: UserFactory
) -> None:
    assert (await client.get("/api/v1/auth/setup")).json() == {"needs_admin": True}
    first = await make_user("first")
    assert first.role == "admin"
    assert (await client.get("/api/v1/auth/setup")).json() == {"needs_admin": False}


async def test_change_password_signs_out_the_other_sessions(client: httpx.AsyncClient, alice: TestUser) -> None:
    other = (await _login(client, "alice", alice.password)).json()
    body = {"current_password": "wrong one", "new_password": "a much better secret"}
    wrong = await client.post("/api/v1/account/password", json=body, headers=alice.headers)
    assert wrong.status_code == 403 and wrong.json()["code"] == "invalid_current_password"
    short = {"current_password": alice.password, "new_password": "short"}
    assert (await client.post("/api/v1/account/password", json=short, headers=alice.headers)).status_code == 422
    same = {"current_password": alice.password, "new_password": alice.password}
    assert (await client.post("/api/v1/account/password", json=same, headers=alice.headers)).json()["code"] == (
        "password_unchanged"
    )

    changed = await client.post(
        "/api/v1/account/password",
        json={**body, "current_password": alice.password, "refresh_token": alice.refresh_token},
        headers=alice.headers,
    )
    assert changed.status_code == 204, changed.text
    assert (await _login(client, "alice", alice.password)).status_code == 401
    assert (await _login(client, "alice", "a much better secret")).status_code == 200
    # This session goes on; the other one is signed out.
    assert (await client.post("/api/v1/auth/refresh", json={"refresh_token": alice.refresh_token})).status_code == 200
    stale = await client.post("/api/v1/auth/refresh", json={"refresh_token": other["refresh_token"]})
    assert stale.status_code == 401


async def test_reset_link_is_one_time_expiring_and_audited(
    app: Any, client: httpx.AsyncClient, admin: TestUser, alice: TestUser
) -> None:
    url = f"/api/v1/admin/users/{alice.id}/password-reset"
    assert (await client.post(url, headers=alice.headers)).status_code == 403
    assert (
        await client.post(f"/api/v1/admin/users/{uuid.uuid4()}/password-reset", headers=admin.headers)
    ).status_code == 404
    first = (await client.post(url, headers=admin.headers)).json()
    link = (await client.post(url, headers=admin.headers)).json()
    assert link["path"] == f"/reset-password#token={link['token']}"

    replaced = await client.post("/api/v1/auth/password-reset", json={"token": first["token"], "new_password": "x" * 9})
    assert replaced.status_code == 400 and replaced.json()["code"] == "invalid_reset_token"
    done = await client.post(
        "/api/v1/auth/password-reset", json={"token": link["token"], "new_password": "reset secret 1"}
    )
    assert done.status_code == 204
    assert (await _login(client, "alice", "reset secret 1")).status_code == 200
    assert (await client.post("/api/v1/auth/refresh", json={"refresh_token": alice.refresh_token})).status_code == 401
    again = await client.post("/api/v1/auth/password-reset", json={"token": link["token"], "new_password": "y" * 9})
    assert again.status_code == 400

    late = (await client.post(url, headers=admin.headers)).json()
    async with app.state.ctx.db.session() as session:
        await session.execute(update(PasswordResetToken).values(expires_at=datetime.now(UTC) - timedelta(minutes=1)))
        await session.commit()
    expired = await client.post("/api/v1/auth/password-reset", json={"token": late["token"], "new_password": "z" * 9})
    assert expired.status_code == 400

    actions = [e["action"] for e in (await client.get("/api/v1/audit?limit=50", headers=admin.headers)).json()["items"]]
    assert actions.count("auth.password_reset_link") == 3 and actions.count("auth.password_reset") == 1
