"""Forged tokens on every transport, and sign-in throttling at its default limit.

tests/backend/test_auth.py already proves, on `/auth/me`: `alg: none`, a wrong key, expiry, a tampered
payload, HS512, a refresh token used as an access token, and refresh reuse revoking the family. Here:
the same forgeries on the two WebSockets and on an API route behind a scope, a correctly signed token
for a user who does not exist or of the wrong type, an access token used as a refresh token, and
reuse after the family was revoked."""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any

import httpx
import websockets
from jose import jwt

from backend.config import Settings
from tests.conftest import TEST_SECRET, TestUser, running_app, serving


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def forged_tokens(user: TestUser) -> dict[str, str]:
    now = int(time.time())
    claims = {"sub": user.id, "type": "access", "iat": now, "exp": now + 600}
    return {
        "none_alg": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}.",
        "none_alg_signed": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}.{user.access_token.split('.')[2]}",
        "wrong_key": jwt.encode(claims, "another-secret-" + "y" * 40, algorithm="HS256"),
        "expired": jwt.encode({**claims, "exp": now - 5}, TEST_SECRET, algorithm="HS256"),
        "refresh_type": jwt.encode({**claims, "type": "refresh"}, TEST_SECRET, algorithm="HS256"),
        "no_type": jwt.encode({k: v for k, v in claims.items() if k != "type"}, TEST_SECRET, algorithm="HS256"),
        "unknown_user": jwt.encode({**claims, "sub": str(uuid.uuid4())}, TEST_SECRET, algorithm="HS256"),
        "not_a_uuid": jwt.encode({**claims, "sub": "admin"}, TEST_SECRET, algorithm="HS256"),
        "refresh_as_access": user.refresh_token,
    }


async def _close_code(url: str, headers: dict[str, str]) -> int | None:
    async with websockets.connect(url, additional_headers=headers) as socket:
        try:
            await socket.recv()
        except websockets.ConnectionClosed:
            return socket.close_code
    return None


async def test_forged_tokens_are_refused_on_http_and_websockets(app: Any, alice: TestUser) -> None:
    async with serving(app) as url, httpx.AsyncClient(base_url=url) as http:
        session_id = (await http.post("/api/v1/chat/sessions", json={"message": "hi"}, headers=alice.headers)).json()[
            "session_id"
        ]
        ws = url.replace("http://", "ws://")
        for name, token in forged_tokens(alice).items():
            bearer = {"Authorization": f"Bearer {token}"}
            for path in ("/api/v1/auth/me", "/api/v1/integrations", f"/api/v1/chat/sessions/{session_id}"):
                response = await http.get(path, headers=bearer)
                assert response.status_code == 401, (name, path, response.text)
                assert response.json()["code"] == "invalid_token", (name, path)
            assert await _close_code(f"{ws}/api/v1/chat/ws/{session_id}", bearer) == 4401, name
            assert await _close_code(f"{ws}/api/v1/chat/ws/{session_id}?token={token}", {}) == 4401, name
            assert await _close_code(f"{ws}/api/v1/events/ws", bearer) == 4401, name
        # The genuine token still works everywhere: the refusals above are about the forgeries.
        assert (await http.get(f"/api/v1/chat/sessions/{session_id}", headers=alice.headers)).status_code == 200


async def test_an_access_token_is_not_a_refresh_token_and_a_revoked_family_stays_revoked(
    client: httpx.AsyncClient, alice: TestUser
) -> None:
    as_refresh = await client.post("/api/v1/auth/refresh", json={"refresh_token": alice.access_token})
    assert as_refresh.status_code == 401 and as_refresh.json()["code"] == "invalid_refresh_token"
    rotated = (await client.post("/api/v1/auth/refresh", json={"refresh_token": alice.refresh_token})).json()
    reuse = await client.post("/api/v1/auth/refresh", json={"refresh_token": alice.refresh_token})
    assert reuse.json()["code"] == "refresh_token_reused"
    for token in (rotated["refresh_token"], alice.refresh_token, rotated["refresh_token"]):
        again = await client.post("/api/v1/auth/refresh", json={"refresh_token": token})
        assert again.status_code == 401, token
    # Signing in again starts a new, working family.
    login = await client.post("/api/v1/auth/login", json={"username": "alice", "password": alice.password})
    fresh = await client.post("/api/v1/auth/refresh", json={"refresh_token": login.json()["refresh_token"]})
    assert fresh.status_code == 200


async def test_failed_sign_ins_are_throttled_per_account_with_back_off(settings: Settings) -> None:
    """Defaults: five wrong passwords lock the account for 30 s, whatever address the guesses come from;
    the right password is refused too while locked (a guess then learns nothing)."""
    assert Settings.model_fields["login_max_failures"].default == 5
    assert Settings.model_fields["login_lockout_base_s"].default == 30
    async with running_app(settings) as app, serving(app) as url, httpx.AsyncClient(base_url=url) as http:
        body = {"email": "v@example.com", "username": "victim", "password": "correct horse battery"}
        assert (await http.post("/api/v1/auth/register", json=body)).status_code == 201
        good = {"username": "victim", "password": body["password"]}
        token = (await http.post("/api/v1/auth/login", json=good)).json()["access_token"]
        guesses = []
        for i in range(5):
            spoofed = {"X-Forwarded-For": f"203.0.113.{i}"}  # not believed: no TRUSTED_PROXIES
            guess = await http.post("/api/v1/auth/login", json={**good, "password": f"guess {i}"}, headers=spoofed)
            guesses.append(guess.status_code)
        assert guesses == [401] * 5
        for attempt in (
            http.post("/api/v1/auth/login", json=good),
            http.post("/api/v1/auth/login", data=good),  # the form-encoded variant too
            http.post("/api/v1/auth/login", json={"username": "V@Example.com", "password": "x"}),  # by email
        ):
            refused = await attempt
            assert refused.status_code == 429, refused.text
            assert refused.json()["code"] == "login_throttled" and refused.json()["detail"]
            assert 1 <= int(refused.headers["retry-after"]) <= 30
        # The throttle is on signing in only: the account keeps working with the token it has.
        assert (await http.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})).status_code == 200
        # Another account behind the same address is not locked by the victim's lock.
        other = {"email": "o@example.com", "username": "other", "password": "correct horse battery"}
        assert (await http.post("/api/v1/auth/register", json=other)).status_code == 201
        assert (await http.post("/api/v1/auth/login", json=other)).status_code == 200
