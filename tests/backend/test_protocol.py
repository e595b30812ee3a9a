"""The protocol is defined once (`backend.protocol.frames`): what the server really sends fits those
models, the exported schema files are fresh, and the recorded frames every client is tested with
(`tests/fixtures/protocol/frames.jsonl`, parsed by the Python and the TypeScript clients too) still
fit them."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from pydantic import TypeAdapter
from switchboard_client.events import UnknownEvent, parse_event

from backend.config import Settings
from backend.protocol import export
from backend.protocol.frames import SERVER_FRAME_TYPES, ServerFrame
from tests.backend.chat.chat_client import ChatSocket
from tests.conftest import asgi_client, running_app, serving

FIXTURE = Path(__file__).parents[1] / "fixtures" / "protocol" / "frames.jsonl"
server_frame: TypeAdapter[Any] = TypeAdapter(ServerFrame)


def test_exported_protocol_files_are_fresh() -> None:
    """`make protocol` was run after the last change to a frame or a REST schema."""
    assert export.main(["--check"]) == 0


def test_recorded_frames_fit_the_models_and_the_python_client() -> None:
    frames = [json.loads(line) for line in FIXTURE.read_text().splitlines() if line.strip()]
    assert {frame["type"] for frame in frames} == set(SERVER_FRAME_TYPES)
    for frame in frames:
        assert server_frame.validate_python(frame).type == frame["type"]
        event = parse_event(frame)
        assert not isinstance(event, UnknownEvent) and event.seq == frame["seq"]


async def test_every_frame_the_server_sends_fits_the_protocol(settings: Settings) -> None:
    """A read turn with a tool call, a write that asks for approval, a ping and a refused frame:
    every frame of them validates against the models the clients' types are generated from."""
    async with (
        running_app(settings.model_copy(update={"demo_mode": True})) as app,
        asgi_client(app) as client,
        serving(app) as base,
    ):
        account = {"email": "proto@example.com", "username": "proto", "password": "correct horse battery"}
        assert (await client.post("/api/v1/auth/register", json=account)).status_code == 201
        token = (await client.post("/api/v1/auth/login", json=account)).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        created = await client.post(
            "/api/v1/chat/sessions", json={"message": "what are my open Jira tickets?"}, headers=headers
        )
        socket = await ChatSocket.open(base, created.json()["session_id"], token)
        try:
            await socket.until_type("final")
            await socket.send({"type": "message", "message": "create a bug in SB: protocol frames check"})
            asked = (await socket.until_type("approval_required"))[-1]
            await socket.send(
                {"type": "approval", "tool_call_id": asked["metadata"]["tool_call_id"], "decision": "approve"}
            )
            await socket.until_type("final")
            await socket.send({"type": "ping"})
            await socket.until_type("pong")
            await socket.send({"type": "no_such_frame"})
            await socket.until_type("error")
        finally:
            await socket.close()
    seen = {frame["type"] for frame in socket.frames}
    assert seen == set(SERVER_FRAME_TYPES), seen
    for frame in socket.frames:
        server_frame.validate_python(frame)
    if os.environ.get("RECORD_PROTOCOL_FRAMES"):  # refresh the shared fixture from a real run
        first_of_each = {frame["type"]: frame for frame in reversed(socket.frames)}
        FIXTURE.write_text("".join(json.dumps(first_of_each[t]) + "\n" for t in SERVER_FRAME_TYPES))
        pytest.skip(f"recorded {FIXTURE}")
