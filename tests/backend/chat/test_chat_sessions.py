"""Chat sessions over REST: create, list, search, rename, delete, per-user isolation, export."""

from __future__ import annotations

import httpx

from tests.conftest import TestUser


async def _create(client: httpx.AsyncClient, user: TestUser, message: str) -> dict:
    response = await client.post("/api/v1/chat/sessions", json={"message": message}, headers=user.headers)
    assert response.status_code == 201, response.text
    return response.json()


async def test_create_session_stores_first_message_and_title(client: httpx.AsyncClient, alice: TestUser) -> None:
    long_message = "Please summarise every open ticket in the OPS project that mentions the login page " * 2
    created = await _create(client, alice, long_message)
    assert created["message_type"] == "user"
    assert created["content"] == long_message
    title = created["metadata"]["session_title"]
    assert len(title) <= 60 and title.startswith("Please summarise every open ticket")
    messages = (
        await client.get(f"/api/v1/chat/sessions/{created['session_id']}/messages", headers=alice.headers)
    ).json()
    assert messages["total"] == 1
    assert messages["items"][0]["role"] == "user"
    assert messages["items"][0]["message_id"] == created["message_id"]


async def test_list_search_rename_delete(client: httpx.AsyncClient, alice: TestUser) -> None:
    first = await _create(client, alice, "hello there")
    second = await _create(client, alice, "find jira issues about login")
    page = (await client.get("/api/v1/chat/sessions", headers=alice.headers)).json()
    assert [s["session_id"] for s in page["items"]] == [second["session_id"], first["session_id"]]
    assert page["items"][0]["last_message_preview"] == "find jira issues about login"
    found = (await client.get("/api/v1/chat/sessions?q=LOGIN", headers=alice.headers)).json()
    assert [s["session_id"] for s in found["items"]] == [second["session_id"]]

    renamed = await client.patch(
        f"/api/v1/chat/sessions/{first['session_id']}", json={"title": "Greetings"}, headers=alice.headers
    )
    assert renamed.json()["title"] == "Greetings"
    assert (
        await client.delete(f"/api/v1/chat/sessions/{first['session_id']}", headers=alice.headers)
    ).status_code == 204
    assert (await client.get(f"/api/v1/chat/sessions/{first['session_id']}", headers=alice.headers)).status_code == 404


async def test_other_users_sessions_are_invisible(client: httpx.AsyncClient, alice: TestUser, bob: TestUser) -> None:
    created = await _create(client, alice, "my private question")
    sid = created["session_id"]
    for method, path, body in [
        ("GET", f"/api/v1/chat/sessions/{sid}", None),
        ("PATCH", f"/api/v1/chat/sessions/{sid}", {"title": "mine now"}),
        ("DELETE", f"/api/v1/chat/sessions/{sid}", None),
        ("GET", f"/api/v1/chat/sessions/{sid}/messages", None),
        ("GET", f"/api/v1/chat/sessions/{sid}/export", None),
        ("GET", f"/api/v1/chat/sessions/{sid}/events", None),
        ("POST", f"/api/v1/chat/sessions/{sid}/messages", {"message": "hi"}),
    ]:
        response = await client.request(method, path, json=body, headers=bob.headers)
        assert response.status_code == 404, (method, path)
        assert response.json()["code"] == "not_found"
    assert (await client.get("/api/v1/chat/sessions", headers=bob.headers)).json()["total"] == 0
    assert (await client.get(f"/api/v1/chat/sessions/{sid}", headers=alice.headers)).status_code == 200


async def test_invalid_input(client: httpx.AsyncClient, alice: TestUser) -> None:
    assert (await client.post("/api/v1/chat/sessions", json={"message": ""}, headers=alice.headers)).status_code == 422
    too_long = await client.post("/api/v1/chat/sessions", json={"message": "x" * 40_000}, headers=alice.headers)
    assert too_long.status_code == 422
    bad_id = await client.get("/api/v1/chat/sessions/not-a-uuid", headers=alice.headers)
    assert bad_id.status_code == 422 and bad_id.json()["code"] == "validation_error"
    page = await client.get("/api/v1/chat/sessions?size=1000", headers=alice.headers)
    assert page.status_code == 422
