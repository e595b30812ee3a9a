"""Every error has the contract's shape; health checks are real; the API is closed by default."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import TestUser


async def test_root_and_health(client: httpx.AsyncClient) -> None:
    root = (await client.get("/")).json()
    assert root["status"] == "running" and root["version"]
    health = await client.get("/health")
    assert health.status_code == 200
    body = health.json()
    assert body["status"] == "healthy"
    assert body["components"]["database"]["status"] == "ok"
    assert body["components"]["llm"]["model"] == "offline"
    assert body["timestamp"].endswith("Z")


async def test_health_reports_database_down(client: httpx.AsyncClient, app: object) -> None:
    ctx = app.state.ctx  # type: ignore[attr-defined]
    real = ctx.db.ping

    async def broken() -> None:
        raise ConnectionError("database is gone")

    ctx.db.ping = broken
    try:
        response = await client.get("/health")
    finally:
        ctx.db.ping = real
    assert response.status_code == 503
    assert response.json()["status"] == "unhealthy"


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/api/v1/nope", 404, "not_found"),
        ("DELETE", "/health", 405, "method_not_allowed"),
        ("GET", "/api/v1/auth/me", 401, "not_authenticated"),
        ("GET", "/api/v1/integrations", 401, "not_authenticated"),
        ("GET", "/api/v1/admin/users", 401, "not_authenticated"),
        ("POST", "/api/v1/auth/register", 422, "validation_error"),
    ],
)
async def test_errors_have_codes(client: httpx.AsyncClient, method: str, path: str, status: int, code: str) -> None:
    response = await client.request(method, path)
    assert response.status_code == status
    body = response.json()
    assert body["code"] == code
    assert "detail" in body


async def test_unhandled_errors_are_500_without_trace(settings: object) -> None:
    from backend.main import create_app

    app = create_app(settings)  # type: ignore[arg-type]

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret internals")

    app.router.routes.insert(0, app.router.routes.pop())  # ahead of the SPA fallback when the app is built

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        response = await http.get("/boom")
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal server error", "code": "internal_error"}


async def test_public_routes_only(client: httpx.AsyncClient) -> None:
    for path in ("/", "/health", "/docs", "/redoc", "/openapi.json"):
        assert (await client.get(path)).status_code == 200, path


async def test_request_id_echoed_and_security_headers(client: httpx.AsyncClient) -> None:
    response = await client.get("/health", headers={"X-Request-ID": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    generated = await client.get("/health", headers={"X-Request-ID": "bad id with spaces\n"})
    assert generated.headers["x-request-id"] != "bad id with spaces\n"
    assert len(generated.headers["x-request-id"]) == 32


async def test_cors_closed_by_default(client: httpx.AsyncClient) -> None:
    response = await client.options(
        "/api/v1/auth/login",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in response.headers


async def test_openapi_documents_tags(client: httpx.AsyncClient, alice: TestUser) -> None:
    spec = (await client.get("/openapi.json")).json()
    assert {t["name"] for t in spec["tags"]} >= {"auth", "integrations", "health"}
    assert "/api/v1/auth/login" in spec["paths"]
