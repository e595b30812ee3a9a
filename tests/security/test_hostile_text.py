"""NUL characters in any text the API stores or filters by: PostgreSQL refuses them, and that must be a
422 `invalid_value`, never a 500 (SQLite stores them; either way the caller gets a clear answer)."""

from __future__ import annotations

import httpx

from tests.conftest import TestUser

NUL = "a\u0000b"


async def test_nul_characters_are_bad_input_not_a_server_error(
    client: httpx.AsyncClient, admin: TestUser, alice: TestUser
) -> None:
    requests = [
        ("POST", "/api/v1/chat/sessions", {"message": NUL}),
        (
            "POST",
            "/api/v1/integrations",
            {"name": NUL, "integration_type": "hl7", "config": {"host": "lis.example.com", "port": 2575}},
        ),
        ("POST", "/api/v1/api-keys", {"name": NUL, "scopes": ["chat"]}),
        ("POST", "/api/v1/webhooks", {"name": NUL, "url": "https://example.com/hook", "events": ["*"]}),
        ("POST", "/api/v1/auth/login", {"username": NUL, "password": "whatever"}),
        ("GET", "/api/v1/messages?patient_id=a%00b", None),
        ("GET", "/api/v1/admin/users?q=a%00b", None),
    ]
    for method, path, body in requests:
        caller = admin if path.startswith("/api/v1/admin") else alice
        response = await client.request(method, path, json=body, headers=caller.headers)
        assert response.status_code < 500, (path, response.text)
        if response.status_code == 422 and response.json()["code"] == "invalid_value":
            assert "NUL" in response.json()["detail"]
