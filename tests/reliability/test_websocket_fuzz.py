"""Random and malformed WebSocket frames: the fuzzed connection answers with `error` frames (or is
closed with a proper code), and no other connection, nor the server, notices anything."""

from __future__ import annotations

import asyncio
import json
import os

import httpx
import websockets
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.backend.chat.chat_client import ChatSocket, ws_url
from tests.conftest import TestUser

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "12")) * 5
FRAME_TYPES = ["message", "cancel", "approval", "resume", "ping", "auth", "edit", "regenerate", "bogus", ""]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
protocol_like = st.fixed_dictionaries(
    {"type": st.sampled_from(FRAME_TYPES) | st.text(max_size=12)},
    optional={
        "message": json_values,
        "after_seq": json_values,
        "tool_call_id": json_values,
        "decision": st.sampled_from(["approve", "reject", "edit", "maybe"]) | json_values,
        "args": json_values,
        "metadata": json_values,
        "message_id": json_values,
    },
).map(json.dumps)
frames = st.one_of(
    protocol_like,
    json_values.map(json.dumps),
    st.text(max_size=200),
    st.binary(max_size=200),
)


async def _fuzz_one_connection(url: str, session_id: str, token: str, batch: list[str | bytes]) -> None:
    """Send a batch on a fresh connection; every reply must be a well-formed frame of the protocol."""
    async with websockets.connect(ws_url(url, session_id, token=token)) as connection:
        await connection.recv()  # connection_established
        for frame in batch:
            try:
                await connection.send(frame)
            except websockets.ConnectionClosed as closed:
                assert closed.rcvd is not None and closed.rcvd.code in (1003, 1007, 1008, 1009, 1011, 1013, 4400)
                return
        await connection.send(json.dumps({"type": "ping"}))
        while True:
            try:
                reply = json.loads(await asyncio.wait_for(connection.recv(), 10))
            except websockets.ConnectionClosed as closed:
                assert closed.rcvd is not None and closed.rcvd.code != 1011, "the server crashed on a frame"
                return
            assert {"type", "content", "metadata", "timestamp", "seq", "run_id"} <= set(reply)
            if reply["type"] == "error":
                assert isinstance(reply["metadata"].get("code"), str)
            if reply["type"] == "pong":
                return


async def test_fuzzed_frames_never_disturb_other_connections(
    client: httpx.AsyncClient, live_server: str, alice: TestUser
) -> None:
    bystander_session = (
        await client.post("/api/v1/chat/sessions", json={"message": "hello"}, headers=alice.headers)
    ).json()["session_id"]
    target_session = (await client.post("/api/v1/chat/sessions", json={"message": "hi"}, headers=alice.headers)).json()[
        "session_id"
    ]
    bystander = await ChatSocket.open(live_server, bystander_session, alice.access_token)
    await bystander.until_type("final")

    batches: list[list[str | bytes]] = []

    @given(batch=st.lists(frames, min_size=1, max_size=6))
    @settings(
        max_examples=EXAMPLES, deadline=None, database=None, derandomize=True, suppress_health_check=list(HealthCheck)
    )
    def collect(batch: list[str | bytes]) -> None:
        batches.append(batch)

    collect()
    for batch in batches:
        await _fuzz_one_connection(live_server, target_session, alice.access_token, batch)

    # The bystander's connection is alive and its session still answers.
    await bystander.send({"type": "ping"})
    await bystander.until_type("pong", timeout=5)
    await bystander.send({"type": "message", "message": "what can you do?"})
    frames_seen = await bystander.until_type("final", timeout=20)
    await bystander.close()
    assert frames_seen[-1]["metadata"]["finish_reason"] == "stop"
    assert (await client.get("/health")).status_code == 200
    after = await client.get(f"/api/v1/chat/sessions/{target_session}/messages", headers=alice.headers)
    assert after.status_code == 200
