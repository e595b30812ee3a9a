"""Request bodies are capped while they stream in, before any route parses them or a rate limit counts
them: a `Content-Length` over the cap is refused before a byte is read, a body that grows past it
(chunked, or lying about its length) as soon as it does, and a body that trickles in slower than
`REQUEST_BODY_TIMEOUT_S` is dropped. Memory per request is therefore at most the cap."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send


@dataclass(frozen=True)
class RouteCap:
    """Bodies of requests whose path starts with `prefix` may be at most `max_bytes`."""

    prefix: str
    max_bytes: int


class BodyTooLarge(Exception):
    pass


async def _refuse(send: Send, status: int, code: str, detail: str) -> None:
    body = json.dumps({"detail": detail, "code": code}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BodyLimitMiddleware:
    """Pure ASGI: buffers the body up to its cap (the longest matching `RouteCap`, else `default_max`),
    then replays it to the app; refuses with 413 `request_too_large` / 408 `request_timeout`."""

    def __init__(
        self, app: ASGIApp, *, default_max: int, routes: Sequence[RouteCap] = (), timeout_s: float = 30.0
    ) -> None:
        self.app = app
        self.default_max = default_max
        self.routes = sorted(routes, key=lambda r: len(r.prefix), reverse=True)
        self.timeout_s = timeout_s

    def cap_for(self, path: str) -> int:
        return next((r.max_bytes for r in self.routes if path.startswith(r.prefix)), self.default_max)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        cap = self.cap_for(scope["path"])
        detail = f"The request body is limited to {cap} bytes here."
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > cap):
            await _refuse(send, 413, "request_too_large", detail)
            return
        try:
            async with asyncio.timeout(self.timeout_s):
                chunks, disconnected = await self._read(receive, cap)
        except BodyTooLarge:
            await _refuse(send, 413, "request_too_large", detail)
            return
        except TimeoutError:
            await _refuse(send, 408, "request_timeout", f"The request body did not arrive within {self.timeout_s:g} s.")
            return
        if disconnected:
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()  # after the body: only the disconnect is left to wait for

        await self.app(scope, replay, send)

    @staticmethod
    async def _read(receive: Receive, cap: int) -> tuple[list[bytes], bool]:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return chunks, True
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > cap:
                raise BodyTooLarge
            if chunk:
                chunks.append(chunk)
            if not message.get("more_body", False):
                return chunks, False
