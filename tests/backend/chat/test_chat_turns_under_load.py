"""Many turns at once: first tokens before more tokens, and every turn's rows intact (real sockets)."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
import websockets

from tests.backend.chat.chat_client import ws_url
from tests.conftest import TestUser

GUIDE = "Give me a detailed guide to Switchboard"  # a 200+-token offline answer, no tool call


async def _sessions(client: httpx.AsyncClient, user: TestUser, count: int, message: str) -> list[str]:
    ids = []
    for _ in range(count):
        response = await client.post("/api/v1/chat/sessions", json={"message": message}, headers=user.headers)
        assert response.status_code == 201, response.text
        ids.append(str(response.json()["session_id"]))
    return ids


async def _timed_turn(url: str, send: dict[str, Any] | None = None) -> dict[str, Any]:
    """Stream one turn: when its first token and its final arrived, and its frames."""
    seen: dict[str, Any] = {"frames": []}
    async with websockets.connect(url, max_size=2**22) as socket:
        if send is not None:
            await socket.send(json.dumps(send))
        async with asyncio.timeout(60):
            while True:
                frame = json.loads(await socket.recv())
                seen["frames"].append(frame)
                if frame["type"] == "token":
                    seen.setdefault("first", time.monotonic())
                elif frame["type"] == "final":
                    seen["final"] = time.monotonic()
                    return seen


async def test_a_burst_of_turns_gets_every_first_token_before_any_answer_completes(
    client: httpx.AsyncClient, live_server: str, alice: TestUser
) -> None:
    ids = await _sessions(client, alice, 20, GUIDE)
    turns = await asyncio.gather(*(_timed_turn(ws_url(live_server, sid, token=alice.access_token)) for sid in ids))
    # Streams pause between tokens while other turns set up: nobody's first token waits behind a whole
    # answer (each is 200+ tokens long).
    assert max(t["first"] for t in turns) < min(t["final"] for t in turns)
    for sid, turn in zip(ids, turns, strict=True):
        tokens = [f["content"] for f in turn["frames"] if f["type"] == "token"]
        final = turn["frames"][-1]
        assert len(tokens) >= 200 and "".join(tokens) == final["content"]
        assert final["metadata"]["finish_reason"] == "stop" and final["metadata"]["session_id"] == sid


async def test_concurrent_messages_store_each_user_message_before_its_answer(
    client: httpx.AsyncClient, live_server: str, alice: TestUser
) -> None:
    ids = await _sessions(client, alice, 6, "hello")
    for sid in ids:  # answer the first messages, so the next ones are follow-ups (`message` turns)
        answered = await client.post(
            f"/api/v1/chat/sessions/{sid}/messages", json={"message": "hi"}, headers=alice.headers
        )
        assert answered.status_code == 200, answered.text

    async def follow_up(sid: str) -> list[dict[str, Any]]:
        url = ws_url(live_server, sid, token=alice.access_token)
        async with websockets.connect(url, max_size=2**22) as socket:
            await socket.send(json.dumps({"type": "message", "message": f"what can you do for {sid[:8]}?"}))
            frames = []
            async with asyncio.timeout(60):
                while True:
                    frame = json.loads(await socket.recv())
                    frames.append(frame)
                    if frame["type"] == "agent_event" and len([f for f in frames if f["type"] == "agent_event"]) == 1:
                        # The turn's first frame: its user message is stored by now.
                        stored = await client.get(f"/api/v1/chat/sessions/{sid}/messages", headers=alice.headers)
                        contents = [m["content"] for m in stored.json()["items"] if m["role"] == "user"]
                        assert contents[-1] == f"what can you do for {sid[:8]}?"
                    if frame["type"] == "final":
                        return frames

    results = await asyncio.gather(*(follow_up(sid) for sid in ids))
    for sid, frames in zip(ids, results, strict=True):
        assert frames[-1]["metadata"]["finish_reason"] == "stop"
        items = (await client.get(f"/api/v1/chat/sessions/{sid}/messages", headers=alice.headers)).json()["items"]
        assert [m["role"] for m in items] == ["user", "assistant", "user", "assistant", "user", "assistant"]
        assert items[4]["content"] == f"what can you do for {sid[:8]}?"
        assert items[5]["message_id"] == frames[-1]["metadata"]["message_id"]
        session = (await client.get(f"/api/v1/chat/sessions/{sid}", headers=alice.headers)).json()
        assert session["status"] == "active"
