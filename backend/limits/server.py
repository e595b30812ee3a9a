"""The uvicorn side of the limits: options for `uvicorn.run`, and an HTTP protocol that drops slow or
oversized request heads (uvicorn has no timeout for a request that never finishes arriving)."""

from __future__ import annotations

import asyncio
import functools
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from backend.config import Settings, load_settings

_408 = b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
_431 = b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """The limits `switchboard serve` hands to uvicorn."""
    return {
        "http": GuardedHttpToolsProtocol,
        "ws_max_size": settings.ws_max_message_bytes,
        "timeout_keep_alive": settings.http_keep_alive_timeout_s,
        "h11_max_incomplete_event_size": settings.http_max_head_bytes,  # if h11 is ever chosen instead
    }


@functools.cache
def _settings() -> Settings:
    # The protocol is instantiated by uvicorn (in each worker process): it reads the same environment
    # `switchboard serve` validated at start-up.
    return load_settings()


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, plus: a request head must arrive within `HTTP_REQUEST_HEAD_TIMEOUT_S`
    (from the connection's start, or from the end of the previous response) and stay under
    `HTTP_MAX_HEAD_BYTES`; otherwise 408 / 431 and the connection is closed."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        limits = _settings()
        self._head_timeout_s = limits.http_request_head_timeout_s
        self._max_head_bytes = limits.http_max_head_bytes
        self._head_timer: asyncio.TimerHandle | None = None
        self._await_head()

    def _await_head(self) -> None:
        self._awaiting_head = True
        self._head_bytes = 0
        self._cancel_head_timer()
        self._head_timer = self.loop.call_later(self._head_timeout_s, self._head_timed_out)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        in_flight = self.cycle is not None and not self.cycle.response_complete
        if self._awaiting_head and not in_flight and not self.transport.is_closing():
            self._refuse(_408)

    def _refuse(self, response: bytes) -> None:
        self._cancel_head_timer()
        self.transport.write(response)
        self.transport.close()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._awaiting_head and not self.transport.is_closing():
            self._head_bytes += len(data)
            if self._head_bytes > self._max_head_bytes:
                self._refuse(_431)

    def on_headers_complete(self) -> None:
        self._awaiting_head = False
        self._cancel_head_timer()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and not self.pipeline:
            self._await_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)
