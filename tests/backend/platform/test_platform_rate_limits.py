"""Rate limits: real limits per IP (sign-in), per user, per key and for chat; headers and 429s."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from backend.config import Settings
from tests.conftest import asgi_client, running_app


async def _user(http: httpx.AsyncClient, name: str) -> dict[str, str]:
    registered = await http.post(
        "/api/v1/auth/register", json={"email": f"{name}@example.com", "username": name, "password": "correct horse"}
    )
    assert registered.status_code == 201, registered.text
    tokens = (await http.post("/api/v1/auth/login", json={"username": name, "password": "correct horse"})).json()
    return {"Authorization": f"Bearer {tokens['access_token']}"}


def _limited(settings: Settings, **limits: str) -> Settings:
    return settings.model_copy(
        update={"rate_limit_default": "1000/minute", "rate_limit_auth": "1000/minute", "rate_limit_chat": "1000/minute"}
        | limits
    )


def assert_429(response: httpx.Response, limit: int) -> None:
    assert response.status_code == 429, response.text
    assert response.json()["code"] == "rate_limit_exceeded"
    assert 1 <= int(response.headers["retry-after"]) <= 60
    assert response.headers["x-ratelimit-limit"] == str(limit)
    assert response.headers["x-ratelimit-remaining"] == "0"
    assert int(response.headers["x-ratelimit-reset"]) >= int(time.time())


async def test_registration_allows_five_a_minute_per_ip(settings: Settings) -> None:
    async with running_app(_limited(settings, rate_limit_auth="5/minute")) as app, asgi_client(app) as http:
        statuses = []
        for n in range(5):
            account = {"email": f"u{n}@example.com", "username": f"user{n}", "password": "correct horse"}
            response = await http.post("/api/v1/auth/register", json=account)
            statuses.append(response.status_code)
            assert response.headers["x-ratelimit-limit"] == "5"
        assert statuses == [201] * 5
        blocked = await http.post(
            "/api/v1/auth/register", json={"email": "u9@example.com", "username": "user9", "password": "correct horse"}
        )
        assert_429(blocked, 5)
        # Another client address has its own budget.
        other = httpx.ASGITransport(app=app, client=("10.9.8.7", 4000))
        async with httpx.AsyncClient(transport=other, base_url="http://testserver") as elsewhere:
            account = {"email": "u9@example.com", "username": "user9", "password": "correct horse"}
            assert (await elsewhere.post("/api/v1/auth/register", json=account)).status_code == 201


async def test_general_limit_is_per_user_with_headers_on_every_response(settings: Settings) -> None:
    async with running_app(_limited(settings, rate_limit_default="4/minute")) as app, asgi_client(app) as http:
        alice, bob = await _user(http, "alice"), await _user(http, "bob")
        remaining = []
        for _ in range(4):
            response = await http.get("/api/v1/auth/me", headers=alice)
            assert response.status_code == 200
            assert response.headers["x-ratelimit-limit"] == "4"
            remaining.append(int(response.headers["x-ratelimit-remaining"]))
        assert remaining == [3, 2, 1, 0]
        assert_429(await http.get("/api/v1/integrations", headers=alice), 4)
        missing = await http.get("/api/v1/integrations/00000000-0000-0000-0000-000000000000", headers=bob)
        assert missing.status_code == 404 and missing.headers["x-ratelimit-remaining"] == "3"  # errors count too
        assert (await http.get("/health")).status_code == 200  # probes are not limited


async def test_a_key_has_its_own_limit_and_chat_has_a_tighter_one(settings: Settings) -> None:
    config = _limited(settings, rate_limit_default="50/minute", rate_limit_chat="2/minute")
    async with running_app(config) as app, asgi_client(app) as http:
        alice = await _user(http, "alice")
        created = await http.post(
            "/api/v1/api-keys",
            headers=alice,
            json={"name": "slow", "scopes": ["integrations:read"], "rate_limit_per_minute": 2},
        )
        key = {"X-API-Key": created.json()["key"]}
        assert [(await http.get("/api/v1/integrations", headers=key)).status_code for _ in range(2)] == [200, 200]
        assert_429(await http.get("/api/v1/integrations", headers=key), 2)
        assert (await http.get("/api/v1/integrations", headers=alice)).headers["x-ratelimit-limit"] == "50"

        first = await http.post("/api/v1/chat/sessions", headers=alice, json={"message": "hi"})
        second = await http.post("/api/v1/chat/sessions", headers=alice, json={"message": "hi"})
        assert first.status_code == second.status_code == 201
        assert second.headers["x-ratelimit-limit"] == "2"  # the tightest window is reported
        assert_429(await http.post("/api/v1/chat/sessions", headers=alice, json={"message": "hi"}), 2)
        assert (await http.get("/api/v1/chat/sessions", headers=alice)).status_code == 200  # reads are general


async def test_failed_credentials_are_limited_per_ip(settings: Settings) -> None:
    async with running_app(_limited(settings, rate_limit_default="3/minute")) as app, asgi_client(app) as http:
        codes = [
            (await http.get("/api/v1/integrations", headers={"X-API-Key": f"sb_guess{i}"})).status_code
            for i in range(4)
        ]
        assert codes == [401, 401, 401, 429]


@pytest.mark.redis
async def test_redis_down_falls_back_to_memory_and_health_says_degraded(settings: Settings) -> None:
    config = _limited(settings, rate_limit_default="3/minute").model_copy(update={"redis_url": "redis://127.0.0.1:1/0"})
    async with running_app(config) as app, asgi_client(app) as http:
        alice = await _user(http, "alice")
        codes = [(await http.get("/api/v1/auth/me", headers=alice)).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]  # still enforced, in this process's memory
        health: dict[str, Any] = (await http.get("/health")).json()
        assert health["status"] == "degraded"
        assert health["components"]["rate_limits"]["status"] == "degraded"
