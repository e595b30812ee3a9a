"""Security headers on the web app and on API responses (errors included), and CORS: closed unless
`CORS_ORIGINS` names an origin, and then exactly that origin."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from backend.config import Settings
from backend.frontend import mount_frontend
from tests.conftest import TestUser, running_app, serving

EVIL = "https://evil.example"
PREFLIGHT = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization,content-type"}


def _directives(csp: str) -> dict[str, str]:
    return {part.strip().split(" ", 1)[0]: part.strip() for part in csp.split(";") if part.strip()}


def assert_hardened(response: httpx.Response, *, what: str) -> None:
    headers = response.headers
    assert headers.get("x-content-type-options") == "nosniff", what
    assert headers.get("x-frame-options") == "DENY", what
    assert headers.get("referrer-policy") == "no-referrer", what
    csp = _directives(headers.get("content-security-policy", ""))
    assert csp.get("frame-ancestors") == "frame-ancestors 'none'", what


async def test_the_app_and_the_api_send_security_headers(app: Any, tmp_path: Path, alice: TestUser) -> None:
    if getattr(app.state, "spa_index", None) is None:  # the web app is not built here: a stand-in
        (tmp_path / "assets").mkdir()
        (tmp_path / "index.html").write_text("<!doctype html><div id=root></div>")
        (tmp_path / "assets" / "app-1.js").write_text("console.log(1)")
        mount_frontend(app, tmp_path)
    async with serving(app) as url, httpx.AsyncClient(base_url=url) as http:
        page = await http.get("/", headers={"Accept": "text/html"})
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert_hardened(page, what="the app")
        csp = _directives(page.headers["content-security-policy"])
        # The app may run only its own scripts: no inline script, no eval, no other origin.
        assert csp["script-src"] == "script-src 'self'"
        assert csp["default-src"] == "default-src 'self'"
        assert "base-uri" in csp and "form-action" in csp
        deep_link = await http.get("/chat/some-session", headers={"Accept": "text/html"})
        assert_hardened(deep_link, what="an SPA deep link")
        asset = next(iter(app.state.spa_index.parent.joinpath("assets").iterdir())).name
        assert_hardened(await http.get(f"/assets/{asset}"), what="a static asset")

        api = [
            await http.get("/", headers={"Accept": "application/json"}),
            await http.get("/health"),
            await http.get("/api/v1/auth/me"),  # 401
            await http.get("/api/v1/auth/me", headers=alice.headers),
            await http.get("/api/v1/nope"),  # 404
            await http.post("/api/v1/auth/login", json={}),  # 422
            await http.get("/openapi.json"),
        ]
        for response in api:
            assert_hardened(response, what=f"{response.request.url.path} {response.status_code}")
            assert _directives(response.headers["content-security-policy"])["script-src"] == "script-src 'self'"
        docs = await http.get("/docs")
        assert_hardened(docs, what="/docs")  # Swagger UI needs its CDN, but still cannot be framed


async def test_cors_is_closed_by_default(settings: Settings) -> None:
    async with running_app(settings) as app, serving(app) as url, httpx.AsyncClient(base_url=url) as http:
        for path in ("/api/v1/auth/login", "/api/v1/integrations", "/health"):
            preflight = await http.options(path, headers={"Origin": EVIL, **PREFLIGHT})
            assert "access-control-allow-origin" not in preflight.headers, path
            assert "access-control-allow-credentials" not in preflight.headers, path
            simple = await http.get(path, headers={"Origin": EVIL})
            assert "access-control-allow-origin" not in simple.headers, path


async def test_cors_allows_exactly_the_configured_origin(settings: Settings) -> None:
    allowed = "https://app.example.org"
    config = settings.model_copy(update={"cors_origins": [allowed]})
    async with running_app(config) as app, serving(app) as url, httpx.AsyncClient(base_url=url) as http:
        ok = await http.options("/api/v1/auth/login", headers={"Origin": allowed, **PREFLIGHT})
        assert ok.status_code == 200
        assert ok.headers["access-control-allow-origin"] == allowed  # the origin itself, never "*"
        simple = await http.get("/health", headers={"Origin": allowed})
        assert simple.headers["access-control-allow-origin"] == allowed
        for origin in (EVIL, "https://app.example.org.evil.example", "http://app.example.org", "null"):
            refused = await http.options("/api/v1/auth/login", headers={"Origin": origin, **PREFLIGHT})
            assert refused.headers.get("access-control-allow-origin") != origin, origin
            assert "access-control-allow-origin" not in refused.headers, origin
            assert "access-control-allow-origin" not in (await http.get("/health", headers={"Origin": origin})).headers
        assert_hardened(ok, what="a preflight answer")
