"""Secrets never reach a log line; health checks Redis for real when it is configured."""

from __future__ import annotations

import logging

import httpx
import pytest

from backend.config import Settings
from backend.logging import redact
from tests.conftest import asgi_client, running_app


def test_redaction_masks_passwords_tokens_and_keys() -> None:
    line = redact(
        'login password=hunter2hunter2 token: "abc.def" api_key=sb_0123456789abcdefABCDEF '
        "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"
    )
    for secret in ("hunter2hunter2", "abc.def", "sb_0123456789abcdefABCDEF", "eyJhbGciOiJIUzI1NiJ9"):
        assert secret not in line


async def test_planted_password_and_tokens_never_logged(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    password = "planted-password-9f8e7d"
    await client.post(
        "/api/v1/auth/register", json={"email": "p@example.com", "username": "planted", "password": password}
    )
    tokens = (await client.post("/api/v1/auth/login", data={"username": "planted", "password": password})).json()
    await client.post("/api/v1/auth/login", json={"username": "planted", "password": password + "x"})
    await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert caplog.records, "the requests were logged"
    for secret in (password, tokens["access_token"], tokens["refresh_token"]):
        assert secret not in caplog.text  # not even before redaction


@pytest.mark.redis
async def test_health_checks_redis_and_reports_degraded_when_it_is_down(settings: Settings) -> None:
    up = settings.model_copy(update={"redis_url": "redis://127.0.0.1:6379/15"})
    async with running_app(up) as app, asgi_client(app) as http:
        body = (await http.get("/health")).json()
    assert body["components"]["redis"]["status"] == "ok" and body["status"] == "healthy"
    down = settings.model_copy(update={"redis_url": "redis://127.0.0.1:1/0"})
    async with running_app(down) as app, asgi_client(app) as http:
        response = await http.get("/health")
    assert response.status_code == 200  # Redis is optional: the service keeps serving
    assert response.json()["status"] == "degraded"
    assert response.json()["components"]["redis"]["status"] == "down"
