"""The registration policy (REGISTRATION=open|approval|invite|closed), approvals and invites."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import websockets

from backend.config import Settings, load_settings
from tests.conftest import asgi_client, running_app, serving

PASSWORD = "correct horse battery"


@pytest.fixture(params=["approval", "invite", "closed"])
async def policy_client(request: pytest.FixtureRequest, settings: Settings) -> AsyncIterator[tuple[str, Any]]:
    async with (
        running_app(settings.model_copy(update={"registration": request.param})) as app,
        asgi_client(app) as http,
    ):
        yield request.param, http


async def _register(http: httpx.AsyncClient, name: str, **extra: Any) -> httpx.Response:
    return await http.post(
        "/api/v1/auth/register", json={"email": f"{name}@example.com", "username": name, "password": PASSWORD, **extra}
    )


async def _login(http: httpx.AsyncClient, name: str) -> dict[str, str]:
    response = await http.post("/api/v1/auth/login", json={"username": name, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def test_the_default_policy_follows_the_environment() -> None:
    assert load_settings(_env_file=None).registration_policy == "open"
    production = load_settings(environment="production", secret_key="k" * 40, _env_file=None)
    assert production.registration_policy == "approval"
    assert load_settings(registration="closed", _env_file=None).registration_policy == "closed"


async def test_the_first_account_is_the_admin_under_every_policy(policy_client: tuple[str, Any]) -> None:
    policy, http = policy_client
    first = await _register(http, "root")
    assert first.status_code == 201, first.text
    assert (first.json()["role"], first.json()["approval_status"]) == ("admin", "approved")
    assert (await http.get("/api/v1/auth/registration")).json()["policy"] == policy


async def test_a_stranger_under_approval_waits_and_sees_nothing(settings: Settings) -> None:
    async with running_app(settings.model_copy(update={"registration": "approval"})) as app, asgi_client(app) as http:
        assert (await _register(http, "root")).status_code == 201
        admin = await _login(http, "root")
        await http.post(
            "/api/v1/integrations",
            headers=admin,
            json={
                "name": "Shared EMR",
                "integration_type": "emr",
                "visibility": "shared",
                "config": {"base_url": "https://fhir.example.org/r4"},
            },
        )
        stranger = await _register(http, "mallory")
        assert stranger.status_code == 201 and stranger.json()["approval_status"] == "pending"
        headers = await _login(http, "mallory")  # a pending account may sign in...
        me = await http.get("/api/v1/auth/me", headers=headers)
        assert me.status_code == 200 and me.json()["approval_status"] == "pending"  # ...and see that it waits
        for method, path in [
            ("GET", "/api/v1/integrations"),
            ("POST", "/api/v1/patients/aggregate"),
            ("GET", "/api/v1/messages"),
            ("POST", "/api/v1/chat/sessions"),
            ("POST", "/api/v1/api-keys"),
        ]:
            response = await http.request(method, path, headers=headers, json={"message": "hi", "name": "k"})
            assert response.status_code == 403 and response.json()["code"] == "account_pending", (path, response.text)

        pending = await http.get("/api/v1/admin/users?approval_status=pending", headers=admin)
        assert [u["username"] for u in pending.json()["items"]] == ["mallory"]
        user_id = stranger.json()["id"]
        approved = await http.post(f"/api/v1/admin/users/{user_id}/approve", headers=admin)
        assert approved.status_code == 200 and approved.json()["approval_status"] == "approved"
        assert (await http.post(f"/api/v1/admin/users/{user_id}/approve", headers=admin)).status_code == 409
        listed = await http.get("/api/v1/integrations", headers=headers)  # the same token now works
        assert listed.status_code == 200 and [i["name"] for i in listed.json()["items"]] == ["Shared EMR"]
        audit = (await http.get("/api/v1/audit?action=user.approved", headers=admin)).json()["items"]
        assert audit and audit[0]["details"]["user_id"] == user_id


async def test_a_rejected_account_cannot_sign_in(settings: Settings) -> None:
    async with running_app(settings.model_copy(update={"registration": "approval"})) as app, asgi_client(app) as http:
        await _register(http, "root")
        admin = await _login(http, "root")
        pending = (await _register(http, "eve")).json()
        headers = await _login(http, "eve")
        rejected = await http.post(f"/api/v1/admin/users/{pending['id']}/reject", headers=admin, json={"reason": "?"})
        assert rejected.status_code == 200 and rejected.json()["approval_status"] == "rejected"
        again = await http.post("/api/v1/auth/login", json={"username": "eve", "password": PASSWORD})
        assert again.status_code == 401 and again.json()["code"] == "account_rejected"
        assert (await http.get("/api/v1/auth/me", headers=headers)).status_code == 401
        assert (await http.post(f"/api/v1/admin/users/{pending['id']}/reject", headers=admin)).status_code == 409


async def test_invites_are_one_time_expiring_and_required_under_invite(settings: Settings) -> None:
    async with running_app(settings.model_copy(update={"registration": "invite"})) as app, asgi_client(app) as http:
        await _register(http, "root")
        admin = await _login(http, "root")
        refused = await _register(http, "walkin")
        assert refused.status_code == 403 and refused.json()["code"] == "invite_required"
        invite = await http.post("/api/v1/admin/invites", headers=admin, json={"email": "nurse@example.com"})
        assert invite.status_code == 201, invite.text
        token = invite.json()["token"]
        wrong_email = await _register(http, "other", invite_token=token)
        assert wrong_email.status_code == 422 and wrong_email.json()["code"] == "invalid_invite"
        nurse = await _register(http, "nurse", invite_token=token)
        assert nurse.status_code == 201 and nurse.json()["approval_status"] == "approved"
        reused = await http.post(
            "/api/v1/auth/register",
            json={"email": "nurse@example.com", "username": "nurse2", "password": PASSWORD, "invite_token": token},
        )
        assert reused.status_code == 422 and reused.json()["code"] == "invalid_invite"
        listed = (await http.get("/api/v1/admin/invites", headers=admin)).json()["items"]
        assert listed[0]["used_at"] is not None and "token" not in listed[0]

        spare = (await http.post("/api/v1/admin/invites", headers=admin, json={})).json()
        assert (await http.delete(f"/api/v1/admin/invites/{spare['id']}", headers=admin)).status_code == 204
        revoked = await _register(http, "late", invite_token=spare["token"])
        assert revoked.status_code == 422 and revoked.json()["code"] == "invalid_invite"
        actions = {e["action"] for e in (await http.get("/api/v1/audit", headers=admin)).json()["items"]}
        assert {"invite.created", "invite.revoked", "user.registered"} <= actions


async def test_closed_registration_refuses_everyone_after_the_admin(settings: Settings) -> None:
    async with running_app(settings.model_copy(update={"registration": "closed"})) as app, asgi_client(app) as http:
        await _register(http, "root")
        refused = await _register(http, "walkin")
        assert refused.status_code == 403 and refused.json()["code"] == "registration_closed"


async def test_open_registration_in_development_keeps_todays_behaviour(client: httpx.AsyncClient) -> None:
    await _register(client, "root")
    second = await _register(client, "guest")
    assert second.status_code == 201 and second.json()["approval_status"] == "approved"
    listed = await client.get("/api/v1/integrations", headers=await _login(client, "guest"))
    assert listed.status_code == 200


async def test_a_pending_account_cannot_open_either_socket(settings: Settings) -> None:
    async with (
        running_app(settings.model_copy(update={"registration": "approval"})) as app,
        asgi_client(app) as http,
        serving(app) as base,
    ):
        await _register(http, "root")
        await _register(http, "mallory")
        token = (await _login(http, "mallory"))["Authorization"][7:]
        sid = uuid.uuid4()
        for path in (f"/api/v1/chat/ws/{sid}", "/api/v1/events/ws"):
            url = base.replace("http://", "ws://") + f"{path}?token={token}"
            async with websockets.connect(url) as socket:
                with pytest.raises(websockets.ConnectionClosed) as closed:
                    await asyncio.wait_for(socket.recv(), 5)
            assert closed.value.rcvd is not None
            assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (4403, "account_pending"), path
