"""A small WebSocket chat client for tests: collects frames until a condition holds."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import websockets

Frame = dict[str, Any]


def ws_url(base: str, session_id: str, **params: Any) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return base.replace("http://", "ws://") + f"/api/v1/chat/ws/{session_id}" + (f"?{query}" if query else "")


class ChatSocket:
    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self.frames: list[Frame] = []

    @classmethod
    async def open(cls, base: str, session_id: str, token: str, **params: Any) -> ChatSocket:
        connection = await websockets.connect(ws_url(base, session_id, token=token, **params), max_size=2**22)
        return cls(connection)

    async def send(self, frame: Frame | str) -> None:
        await self.connection.send(frame if isinstance(frame, str) else json.dumps(frame))

    async def until(self, done: Callable[[Frame], bool], timeout: float = 20) -> list[Frame]:
        """Receive frames until one satisfies `done`; returns the frames received by this call."""
        received: list[Frame] = []

        async def loop() -> None:
            while True:
                frame = json.loads(await self.connection.recv())
                received.append(frame)
                self.frames.append(frame)
                if done(frame):
                    return

        await asyncio.wait_for(loop(), timeout)
        return received

    async def until_type(self, frame_type: str, timeout: float = 20) -> list[Frame]:
        return await self.until(lambda f: f["type"] == frame_type, timeout)

    async def close(self) -> None:
        await self.connection.close()


def of_type(frames: list[Frame], frame_type: str) -> list[Frame]:
    return [f for f in frames if f["type"] == frame_type]
