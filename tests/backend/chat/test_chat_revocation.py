"""Revocation reaches open chat channels (WebSocket and SSE): disabling, demoting, an expired token
and a revoked API key close them (4401/4403), and a disabled user's running turn stops at once."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import websockets
from jose import jwt

from tests.backend.chat.chat_client import ChatSocket, ws_url
from tests.conftest import TEST_SECRET, TestUser, UserFactory

QUESTION = "what can you do?"  # the offline model's longest answer: ~1 s at the slow pace


async def _session(client: httpx.AsyncClient, user: TestUser, message: str = QUESTION) -> str:
    created = await client.post("/api/v1/chat/sessions", json={"message": message}, headers=user.headers)
    assert created.status_code == 201, created.text
    return str(created.json()["session_id"])


async def _closed_with(socket: ChatSocket, timeout: float = 5) -> tuple[int | None, str]:
    """Read until the server closes the socket; its close code and reason."""
    try:
        await socket.until(lambda _: False, timeout)
    except websockets.ConnectionClosed as closed:
        assert closed.rcvd is not None, "the server must close the socket, not drop it"
        return closed.rcvd.code, closed.rcvd.reason
    raise AssertionError("the socket stayed open")


async def _disable(client: httpx.AsyncClient, admin: TestUser, user: TestUser, **changes: Any) -> None:
    response = await client.patch(f"/api/v1/admin/users/{user.id}", headers=admin.headers, json=changes)
    assert response.status_code == 200, response.text


async def test_disabling_a_user_closes_their_socket_stops_the_turn_and_revokes_refresh_tokens(
    slow_client: httpx.AsyncClient, slow_server: str, make_user: UserFactory
) -> None:
    admin, alice = await make_user("admin"), await make_user("alice")
    sid = await _session(slow_client, alice)
    socket = await ChatSocket.open(slow_server, sid, alice.access_token)
    await socket.until(lambda f: f["type"] == "token" and f["metadata"]["token_index"] >= 2)
    started = time.monotonic()
    await _disable(slow_client, admin, alice, is_active=False)
    code, reason = await _closed_with(socket)
    assert (code, reason) == (4401, "account_disabled")
    assert time.monotonic() - started < 1.0, "an idle socket is closed at once, not at its next frame"
    streamed = [f for f in socket.frames if f["type"] == "token"]

    # The turn stopped with the user's access: its stored answer is the partial one, marked cancelled.
    await _disable(slow_client, admin, alice, is_active=True)
    relogin = await slow_client.post("/api/v1/auth/login", json={"username": "alice", "password": alice.password})
    headers = {"Authorization": f"Bearer {relogin.json()['access_token']}"}
    for _ in range(50):
        stored = (await slow_client.get(f"/api/v1/chat/sessions/{sid}/messages", headers=headers)).json()["items"]
        if stored[-1]["role"] == "assistant":
            break
        await asyncio.sleep(0.05)
    assert stored[-1]["metadata"]["finish_reason"] == "cancelled"
    assert len(stored[-1]["content"]) < 400 and len(streamed) < 60
    # The refresh token issued before the disable no longer works, even after re-enabling.
    refreshed = await slow_client.post("/api/v1/auth/refresh", json={"refresh_token": alice.refresh_token})
    assert refreshed.status_code == 401


async def test_a_frame_sent_right_after_the_disable_starts_no_turn(
    client: httpx.AsyncClient, live_server: str, make_user: UserFactory
) -> None:
    admin, alice = await make_user("admin"), await make_user("alice")
    sid = await _session(client, alice, "hello")
    socket = await ChatSocket.open(live_server, sid, alice.access_token)
    await socket.until_type("final")
    await _disable(client, admin, alice, is_active=False)
    with contextlib.suppress(websockets.ConnectionClosed):  # the close may already be on its way
        await socket.send({"type": "message", "message": "show vitals for Harold Quimby"})
    code, _ = await _closed_with(socket)
    assert code == 4401
    await _disable(client, admin, alice, is_active=True)
    relogin = await client.post("/api/v1/auth/login", json={"username": "alice", "password": alice.password})
    headers = {"Authorization": f"Bearer {relogin.json()['access_token']}"}
    stored = (await client.get(f"/api/v1/chat/sessions/{sid}/messages", headers=headers)).json()["items"]
    assert [m["content"] for m in stored if m["role"] == "user"] == ["hello"]


async def test_demoting_an_admin_closes_their_chat_socket_with_4403(
    client: httpx.AsyncClient, live_server: str, make_user: UserFactory
) -> None:
    admin, second = await make_user("admin"), await make_user("second")
    await _disable(client, admin, second, role="admin")
    sid = await _session(client, second, "hello")
    socket = await ChatSocket.open(live_server, sid, second.access_token)
    await socket.until_type("final")
    await _disable(client, admin, second, role="user")
    assert await _closed_with(socket) == (4403, "role_changed")


def _short_token(user_id: str, seconds: float) -> str:
    now = datetime.now(UTC)
    claims = {
        "sub": user_id,
        "type": "access",
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(seconds=seconds)).timestamp()),
        "jti": "short",
    }
    return str(jwt.encode(claims, TEST_SECRET, algorithm="HS256"))


async def test_the_socket_closes_when_its_access_token_expires(
    client: httpx.AsyncClient, live_server: str, make_user: UserFactory
) -> None:
    alice = await make_user("alice")
    sid = await _session(client, alice, "hello")
    socket = await ChatSocket.open(live_server, sid, _short_token(alice.id, 2))
    await socket.until_type("final")
    assert await _closed_with(socket, timeout=5) == (4401, "token_expired")


async def test_revoking_an_api_key_closes_the_socket_it_opened(
    client: httpx.AsyncClient, live_server: str, make_user: UserFactory
) -> None:
    alice = await make_user("alice")
    created = await client.post("/api/v1/api-keys", headers=alice.headers, json={"name": "bot", "scopes": ["chat"]})
    key = created.json()
    sid = (
        await client.post("/api/v1/chat/sessions", json={"message": "hello"}, headers={"X-API-Key": key["key"]})
    ).json()["session_id"]
    connection = await websockets.connect(ws_url(live_server, sid), additional_headers={"X-API-Key": key["key"]})
    socket = ChatSocket(connection)
    await socket.until_type("final")
    suspended = await client.patch(f"/api/v1/api-keys/{key['id']}", headers=alice.headers, json={"is_active": False})
    assert suspended.status_code == 200
    assert await _closed_with(socket) == (4401, "api_key_revoked")


async def test_an_sse_stream_ends_with_an_error_when_the_user_is_disabled(
    slow_client: httpx.AsyncClient, slow_server: str, make_user: UserFactory
) -> None:
    admin, alice = await make_user("admin"), await make_user("alice")
    sid = await _session(slow_client, alice)
    events: list[tuple[str, dict[str, Any]]] = []
    async with (
        httpx.AsyncClient(base_url=slow_server, timeout=10) as http,
        http.stream("GET", f"/api/v1/chat/sessions/{sid}/stream", headers=alice.headers) as response,
    ):
        assert response.status_code == 200
        kind = ""
        async for line in response.aiter_lines():
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: "):
                events.append((kind, json.loads(line[6:])))
                if kind == "token" and sum(1 for k, _ in events if k == "token") == 3:
                    await _disable(slow_client, admin, alice, is_active=False)
    kinds = [k for k, _ in events]
    assert kinds[-1] == "error" and events[-1][1]["metadata"]["code"] == "account_disabled"
    assert "final" not in kinds, "the stream ends at the revocation, not at the end of the answer"


async def test_deleting_an_api_key_stops_the_turn_it_started(
    slow_client: httpx.AsyncClient, slow_server: str, make_user: UserFactory
) -> None:
    alice = await make_user("alice")
    made = await slow_client.post("/api/v1/api-keys", headers=alice.headers, json={"name": "bot", "scopes": ["chat"]})
    key = made.json()
    headers = {"X-API-Key": key["key"]}
    sid = (await slow_client.post("/api/v1/chat/sessions", json={"message": QUESTION}, headers=headers)).json()[
        "session_id"
    ]
    socket = ChatSocket(await websockets.connect(ws_url(slow_server, sid), additional_headers=headers))
    await socket.until(lambda f: f["type"] == "token" and f["metadata"]["token_index"] >= 2)
    assert (await slow_client.delete(f"/api/v1/api-keys/{key['id']}", headers=alice.headers)).status_code == 204
    assert await _closed_with(socket) == (4401, "api_key_revoked")
    for _ in range(50):
        stored = (await slow_client.get(f"/api/v1/chat/sessions/{sid}/messages", headers=alice.headers)).json()
        if stored["items"][-1]["role"] == "assistant":
            break
        await asyncio.sleep(0.05)
    assert stored["items"][-1]["metadata"]["finish_reason"] == "cancelled"
