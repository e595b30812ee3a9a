"""The WebSocket chat protocol end to end with the real agent (offline model) over real sockets."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest
import websockets

from tests.backend.chat.chat_client import ChatSocket, of_type, ws_url
from tests.conftest import TestUser, UserFactory


async def _session(client: httpx.AsyncClient, user: TestUser, message: str = "hello") -> str:
    response = await client.post("/api/v1/chat/sessions", json={"message": message}, headers=user.headers)
    assert response.status_code == 201, response.text
    return str(response.json()["session_id"])


def _assert_turn(frames: list[dict], session_id: str) -> dict:
    types = [f["type"] for f in frames]
    assert types[0] == "connection_established" or types[0] == "agent_event"
    assert types[-1] == "final"
    assert types.count("final") == 1
    seqs = [f["seq"] for f in frames]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs), "seq strictly increasing"
    final = frames[-1]
    tokens = of_type(frames, "token")
    assert tokens, "the answer streams token by token"
    assert "".join(t["content"] for t in tokens) == final["content"]
    assert [t["metadata"]["token_index"] for t in tokens] == list(range(len(tokens)))
    assert {t["metadata"]["message_id"] for t in tokens} == {final["metadata"]["message_id"]}
    assert final["metadata"]["session_id"] == session_id
    assert final["metadata"]["finish_reason"] == "stop"
    assert final["metadata"]["tokens_used"] > 0
    for frame in frames:
        assert set(frame) == {"type", "content", "metadata", "timestamp", "seq", "run_id"}
        assert frame["timestamp"].endswith("Z")
    assert len({f["run_id"] for f in frames if f["type"] != "connection_established"}) == 1
    return final


async def test_first_message_is_answered_on_connect_and_stored(
    client: httpx.AsyncClient, live_server: str, alice: TestUser
) -> None:
    sid = await _session(client, alice, "hello")
    socket = await ChatSocket.open(live_server, sid, alice.access_token)
    frames = await socket.until_type("final")
    await socket.close()
    assert frames[0]["type"] == "connection_established"
    assert frames[0]["metadata"] == {"session_id": sid}
    assert frames[1]["type"] == "agent_event" and frames[1]["metadata"]["event_type"] == "thinking"
    final = _assert_turn(frames, sid)
    assert "Switchboard" in final["content"]
    messages = (await client.get(f"/api/v1/chat/sessions/{sid}/messages", headers=alice.headers)).json()["items"]
    assert [m["role"] for m in messages] == ["user", "assistant"]
    assert messages[1]["message_id"] == final["metadata"]["message_id"]
    assert messages[1]["content"] == final["content"]
    assert messages[1]["metadata"]["tokens_used"] == final["metadata"]["tokens_used"]


async def test_follow_up_turns_and_session_order(client: httpx.AsyncClient, live_server: str, alice: TestUser) -> None:
    older = await _session(client, alice, "hi")
    sid = await _session(client, alice, "hello")
    socket = await ChatSocket.open(live_server, sid, alice.access_token)
    await socket.until_type("final")
    await socket.send({"type": "message", "message": "what can you do?"})
    second = await socket.until_type("final")
    await socket.send({"message": "thanks!"})  # a bare {"message": ...} is accepted
    third = await socket.until_type("final")
    await socket.close()
    assert "I'm Switchboard" in second[-1]["content"]
    assert "welcome" in third[-1]["content"]
    assert second[-1]["seq"] < third[0]["seq"]
    sessions = (await client.get("/api/v1/chat/sessions", headers=alice.headers)).json()["items"]
    assert [s["session_id"] for s in sessions][:2] == [sid, older]
    assert sessions[0]["total_messages"] == 6


async def test_auth_three_ways_and_close_codes(
    client: httpx.AsyncClient, live_server: str, alice: TestUser, bob: TestUser
) -> None:
    sid = await _session(client, alice)
    header = await websockets.connect(ws_url(live_server, sid), additional_headers=alice.headers)
    assert json.loads(await header.recv())["type"] == "connection_established"
    await header.close()
    first_frame = await websockets.connect(ws_url(live_server, sid))
    await first_frame.send(json.dumps({"type": "auth", "token": alice.access_token}))
    assert json.loads(await first_frame.recv())["type"] == "connection_established"
    await first_frame.close()

    async def close_code(url: str, **kwargs: object) -> int | None:
        connection = await websockets.connect(url, **kwargs)  # type: ignore[arg-type]
        if "token=" not in url and not kwargs:
            await connection.send(json.dumps({"type": "auth", "token": "garbage"}))
        with pytest.raises(websockets.ConnectionClosed):
            await asyncio.wait_for(connection.recv(), 5)
        return connection.close_code

    assert await close_code(ws_url(live_server, sid, token="not-a-jwt")) == 4401
    assert await close_code(ws_url(live_server, sid)) == 4401
    assert await close_code(ws_url(live_server, sid, token=bob.access_token)) == 4403
    unknown = "00000000-0000-0000-0000-000000000000"
    assert await close_code(ws_url(live_server, unknown, token=alice.access_token)) == 4404


async def test_malformed_and_oversized_frames_keep_the_socket_open(
    client: httpx.AsyncClient, live_server: str, alice: TestUser
) -> None:
    sid = await _session(client, alice)
    socket = await ChatSocket.open(live_server, sid, alice.access_token)
    await socket.until_type("final")
    for bad in [
        "{not json",
        json.dumps({"type": "launch_missiles"}),
        json.dumps({"type": "message"}),
        json.dumps([1, 2, 3]),
        json.dumps({"type": "approval", "decision": "maybe"}),
    ]:
        await socket.send(bad)
        error = (await socket.until_type("error"))[-1]
        assert error["metadata"]["code"] == "invalid_frame"
    await socket.send(json.dumps({"type": "message", "message": "x" * (70 * 1024)}))
    assert (await socket.until_type("error"))[-1]["metadata"]["code"] == "frame_too_large"
    await socket.send({"type": "cancel"})
    assert (await socket.until_type("error"))[-1]["metadata"]["code"] == "no_run_in_progress"
    await socket.send({"type": "ping"})
    assert (await socket.until_type("pong"))[-1]["type"] == "pong"
    await socket.send({"type": "message", "message": "hello again"})
    _assert_turn(await socket.until_type("final"), sid)
    await socket.close()


async def test_one_run_at_a_time(slow_client: httpx.AsyncClient, slow_server: str, make_user: UserFactory) -> None:
    user = await make_user("carol")
    sid = await _session(slow_client, user, "what can you do?")
    socket = await ChatSocket.open(slow_server, sid, user.access_token)
    await socket.until_type("token")
    await socket.send({"type": "message", "message": "hello"})
    error = (await socket.until_type("error"))[-1]
    assert error["metadata"]["code"] == "run_in_progress"
    await socket.until_type("final")
    await socket.close()


async def test_cancel_from_a_second_connection_keeps_the_partial_answer(
    slow_client: httpx.AsyncClient, slow_server: str, make_user: UserFactory
) -> None:
    user = await make_user("dave")
    sid = await _session(slow_client, user, "what can you do?")
    first = await ChatSocket.open(slow_server, sid, user.access_token)
    await first.until(lambda f: f["type"] == "token" and f["metadata"]["token_index"] >= 3)
    second = await ChatSocket.open(slow_server, sid, user.access_token)
    started = time.monotonic()
    await second.send({"type": "cancel"})
    frames = await first.until_type("final")
    elapsed = time.monotonic() - started
    await first.close()
    await second.close()
    final = frames[-1]
    assert final["metadata"]["finish_reason"] == "cancelled"
    assert elapsed < 0.2, f"cancel took {elapsed * 1000:.0f} ms"
    streamed = "".join(f["content"] for f in first.frames if f["type"] == "token")
    assert final["content"] == streamed and streamed
    stored = (await slow_client.get(f"/api/v1/chat/sessions/{sid}/messages", headers=user.headers)).json()["items"]
    assert stored[-1]["role"] == "assistant"
    assert stored[-1]["content"] == streamed
    assert stored[-1]["metadata"]["finish_reason"] == "cancelled"


async def test_disconnect_mid_turn_still_stores_the_answer_and_reconnect_replays_it(
    slow_client: httpx.AsyncClient, slow_server: str, make_user: UserFactory
) -> None:
    user = await make_user("erin")
    sid = await _session(slow_client, user, "what can you do?")
    socket = await ChatSocket.open(slow_server, sid, user.access_token)
    seen = await socket.until(lambda f: f["type"] == "token" and f["metadata"]["token_index"] >= 2)
    last_seq = seen[-1]["seq"]
    await socket.close()

    # Reconnect while the turn is still running: every missed frame exactly once, then live ones.
    again = await ChatSocket.open(slow_server, sid, user.access_token, after_seq=last_seq)
    rest = await again.until_type("final")
    await again.close()
    replayed = [f for f in rest if f["type"] != "connection_established"]
    seqs = [f["seq"] for f in replayed]
    assert seqs == sorted(set(seqs)), "no frame twice"
    assert seqs[0] > last_seq
    indexes = [f["metadata"]["token_index"] for f in seen + replayed if f["type"] == "token"]
    assert indexes == list(range(len(indexes))), "nothing missed, nothing twice"
    whole = [f for f in seen if f["type"] == "token"] + [f for f in replayed if f["type"] == "token"]
    assert "".join(t["content"] for t in whole) == replayed[-1]["content"]

    # After the turn finished, a reconnect from an old seq gets non-token frames with the answer in final.
    late = await ChatSocket.open(slow_server, sid, user.access_token, after_seq=0)
    await late.send({"type": "ping"})
    frames = await late.until_type("pong")
    await late.close()
    kinds = [f["type"] for f in frames]
    assert "token" not in kinds and "final" in kinds
    assert of_type(frames, "final")[0]["content"] == replayed[-1]["content"]
    events = (await slow_client.get(f"/api/v1/chat/sessions/{sid}/events?after_seq=0", headers=user.headers)).json()
    assert [e["seq"] for e in events] == [
        f["seq"] for f in frames if f["type"] not in ("connection_established", "pong")
    ]


async def test_status_says_running_as_soon_as_the_first_turn_is_announced(
    slow_client: httpx.AsyncClient, slow_server: str, make_user: UserFactory
) -> None:
    """A client that reads the status on `connection_established` (the SDKs do, to know whether to wait
    for frames) must see the first message's turn, even before its `running` row is written."""
    user = await make_user()
    sid = await _session(slow_client, user, "what can you do?")
    socket = await websockets.connect(ws_url(slow_server, sid), additional_headers=user.headers)
    try:
        assert json.loads(await socket.recv())["type"] == "connection_established"
        status = (await slow_client.get(f"/api/v1/chat/sessions/{sid}", headers=user.headers)).json()["status"]
        assert status == "running"
        while json.loads(await socket.recv())["type"] != "final":
            pass
    finally:
        await socket.close()
    status = (await slow_client.get(f"/api/v1/chat/sessions/{sid}", headers=user.headers)).json()["status"]
    assert status == "active"  # the turn is over
