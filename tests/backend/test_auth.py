"""Auth round trips over HTTP: register, login (form and JSON), refresh rotation, logout, me, roles."""

from __future__ import annotations

import base64
import json
import time
import uuid

import httpx
from jose import jwt

from backend.security.tokens import create_access_token
from tests.conftest import TEST_SECRET, TestUser, UserFactory


async def test_first_user_is_admin_and_later_ones_are_users(make_user: UserFactory) -> None:
    first = await make_user("first")
    second = await make_user("second")
    assert first.role == "admin"
    assert second.role == "user"


async def test_register_returns_user_without_secrets(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/auth/register",
        json={"email": "Ada@Example.com", "username": "ada", "password": "correct horse", "full_name": "Ada L"},
    )
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {
        "id",
        "email",
        "username",
        "full_name",
        "role",
        "is_verified",
        "is_active",
        "approval_status",
        "created_at",
    }
    assert body["approval_status"] == "approved"  # the first account: the admin, approved
    assert body["email"] == "ada@example.com"
    assert body["created_at"].endswith("Z")


async def test_duplicate_registration_is_409(client: httpx.AsyncClient, alice: TestUser) -> None:
    response = await client.post(
        "/api/v1/auth/register", json={"email": alice.email, "username": "other", "password": "correct horse"}
    )
    assert response.status_code == 409
    assert response.json()["code"] == "user_exists"


async def test_register_validates_input(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/auth/register", json={"email": "nope", "username": "x", "password": "1"})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_error"
    assert {tuple(e["loc"])[-1] for e in body["detail"]} >= {"email", "username", "password"}


async def test_login_with_form_json_and_email(client: httpx.AsyncClient, alice: TestUser) -> None:
    form = await client.post("/api/v1/auth/login", data={"username": alice.username, "password": alice.password})
    as_json = await client.post("/api/v1/auth/login", json={"username": alice.email, "password": alice.password})
    for response in (form, as_json):
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["token_type"] == "bearer"
        assert body["expires_in"] == 1800
        me = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
        assert me.json()["username"] == "alice"


async def test_wrong_password_is_401_with_code(client: httpx.AsyncClient, alice: TestUser) -> None:
    response = await client.post("/api/v1/auth/login", json={"username": "alice", "password": "wrong password"})
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_credentials"
    assert response.headers["www-authenticate"] == "Bearer"
    unknown = await client.post("/api/v1/auth/login", json={"username": "nobody", "password": "whatever1"})
    assert unknown.json()["code"] == "invalid_credentials"


async def test_malformed_login_bodies_are_422(client: httpx.AsyncClient) -> None:
    broken = await client.post("/api/v1/auth/login", content=b"{not json", headers={"content-type": "application/json"})
    missing = await client.post("/api/v1/auth/login", data={"username": "x"})
    assert broken.status_code == missing.status_code == 422
    assert broken.json()["code"] == missing.json()["code"] == "validation_error"


async def test_refresh_rotates_and_reuse_revokes_the_family(client: httpx.AsyncClient, alice: TestUser) -> None:
    first = await client.post("/api/v1/auth/refresh", json={"refresh_token": alice.refresh_token})
    assert first.status_code == 200
    rotated = first.json()["refresh_token"]
    assert rotated != alice.refresh_token

    reused = await client.post("/api/v1/auth/refresh", json={"refresh_token": alice.refresh_token})
    assert reused.status_code == 401
    assert reused.json()["code"] == "refresh_token_reused"

    # The reuse revoked the whole family, including the token issued by the rotation.
    after = await client.post("/api/v1/auth/refresh", json={"refresh_token": rotated})
    assert after.status_code == 401


async def test_unknown_refresh_token_is_401(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/auth/refresh", json={"refresh_token": "rt_nope"})
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_refresh_token"


async def test_logout_revokes_refresh_token(client: httpx.AsyncClient, alice: TestUser) -> None:
    response = await client.post(
        "/api/v1/auth/logout", json={"refresh_token": alice.refresh_token}, headers=alice.headers
    )
    assert response.status_code == 204
    again = await client.post("/api/v1/auth/refresh", json={"refresh_token": alice.refresh_token})
    assert again.status_code == 401


def _forge(claims: dict[str, object], header: dict[str, object]) -> str:
    def b64(data: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{b64(header)}.{b64(claims)}."


async def test_tampered_none_alg_wrong_key_and_expired_tokens_are_rejected(
    client: httpx.AsyncClient, alice: TestUser
) -> None:
    now = int(time.time())
    claims = {"sub": alice.id, "type": "access", "iat": now, "exp": now + 600}
    head, payload, signature = alice.access_token.split(".")
    tampered_claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    tampered_claims["sub"] = str(uuid.uuid4())
    tampered_payload = base64.urlsafe_b64encode(json.dumps(tampered_claims).encode()).rstrip(b"=").decode()
    candidates = {
        "none_alg": _forge(claims, {"alg": "none", "typ": "JWT"}),
        "wrong_key": jwt.encode(claims, "another-secret-" + "y" * 40, algorithm="HS256"),
        "expired": jwt.encode({**claims, "exp": now - 5}, TEST_SECRET, algorithm="HS256"),
        "tampered": f"{head}.{tampered_payload}.{signature}",
        "hs512": jwt.encode(claims, TEST_SECRET, algorithm="HS512"),
        "refresh_as_access": alice.refresh_token,
        "garbage": "not-a-token",
    }
    for name, token in candidates.items():
        response = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, name
        assert response.json()["code"] == "invalid_token", name


async def test_token_expiry_is_enforced(client: httpx.AsyncClient, alice: TestUser) -> None:
    token, lifetime = create_access_token(uuid.UUID(alice.id), TEST_SECRET, minutes=1)
    assert lifetime == 60
    assert (await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})).status_code == 200
    expired = jwt.encode(
        {"sub": alice.id, "type": "access", "iat": int(time.time()) - 120, "exp": int(time.time()) - 60},
        TEST_SECRET,
        algorithm="HS256",
    )
    response = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {expired}"})
    assert response.status_code == 401


async def test_deactivated_user_loses_access(client: httpx.AsyncClient, admin: TestUser, alice: TestUser) -> None:
    response = await client.patch(f"/api/v1/admin/users/{alice.id}", json={"is_active": False}, headers=admin.headers)
    assert response.status_code == 200
    assert (await client.get("/api/v1/auth/me", headers=alice.headers)).status_code == 401
    login = await client.post("/api/v1/auth/login", json={"username": "alice", "password": alice.password})
    assert login.json()["code"] == "account_disabled"
