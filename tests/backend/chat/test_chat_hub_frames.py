"""Frames built on the per-token fast path are byte-for-byte what the generic encoder writes, and a
session opened by two sockets at once is answered once."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from backend.chat.hub import Frame, StreamHub, now_iso
from tests.backend.chat.chat_client import ChatSocket, of_type
from tests.conftest import TestUser

MESSAGE_ID = "5b1f7f8e-1d3c-4a40-9d0a-3f1c2e9b7a10"


@pytest.mark.parametrize(
    "content",
    [" hello", 'a "quote" and a \\ backslash', "tab\tnew\nline\r", "ünïcödé → ✓ \u2028 \x00 \x1f", "😀", ""],
)
def test_token_frames_encode_exactly_like_the_generic_frame(content: str) -> None:
    fast = Frame.token(seq=42, run_id="ab" * 16, content=content, token_index=7, message_id=MESSAGE_ID)
    generic = json.dumps(fast.data, separators=(",", ":"), ensure_ascii=False)
    assert fast.text == generic
    assert json.loads(fast.text) == {
        "type": "token",
        "content": content,
        "metadata": {"token_index": 7, "message_id": MESSAGE_ID},
        "timestamp": fast.data["timestamp"],
        "seq": 42,
        "run_id": "ab" * 16,
    }


def test_published_tokens_take_the_next_seq_and_reach_every_subscriber() -> None:
    hub = StreamHub()
    first, _ = hub.subscribe("s", 10)
    second, _ = hub.subscribe("s", 10)
    hub.publish("s", "run", "agent_event", "", {"event_type": "thinking"})
    hub.publish_token("s", "run", " hi", 0, MESSAGE_ID)
    frames = [first.queue.get_nowait(), first.queue.get_nowait()]
    assert [f.seq for f in frames] == [10, 11] and frames[1].type == "token"
    assert second.queue.qsize() == 2


def test_timestamps_are_utc_milliseconds() -> None:
    stamp = now_iso()
    assert stamp.endswith("Z") and len(stamp) == len("2026-01-01T00:00:00.000Z")


async def test_two_sockets_opening_a_new_session_together_get_one_answer(
    client: httpx.AsyncClient, live_server: str, alice: TestUser
) -> None:
    response = await client.post("/api/v1/chat/sessions", json={"message": "hello"}, headers=alice.headers)
    sid = str(response.json()["session_id"])
    sockets = await asyncio.gather(*(ChatSocket.open(live_server, sid, alice.access_token) for _ in range(2)))
    seen = await asyncio.gather(*(s.until_type("final") for s in sockets))
    await asyncio.sleep(0.3)  # a second, duplicate turn would have started by now
    for socket in sockets:
        await socket.close()
    for frames in seen:
        assert of_type(frames, "error") == []
    assert seen[0][-1]["run_id"] == seen[1][-1]["run_id"]
    messages = (await client.get(f"/api/v1/chat/sessions/{sid}/messages", headers=alice.headers)).json()["items"]
    assert [m["role"] for m in messages] == ["user", "assistant"]
