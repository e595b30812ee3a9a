"""`AsyncEventSubscription`: platform events as an async iterator (mirrors `EventSubscription`)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from types import TracebackType
from typing import TYPE_CHECKING

from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from ._errors import StreamError
from ._stream import close_error
from ._subscription import CONTROL_EVENTS, EVENTS_PATH, check_acknowledgement, subscription_frame
from .events import PlatformEvent, parse_platform_event

if TYPE_CHECKING:
    from ._async_client import AsyncSwitchboard


class AsyncEventSubscription:
    """Iterate the events of resources the caller may see; opens on `async with` or the first event."""

    def __init__(self, client: AsyncSwitchboard, patterns: Sequence[str], idle_timeout: float | None) -> None:
        self._client = client
        self._initial: Sequence[str] | None = list(patterns)
        self.idle_timeout = idle_timeout
        self._socket: ClientConnection | None = None

    async def _opened(self) -> None:
        if self._initial is not None:
            patterns, self._initial = self._initial, None
            self._socket, _ = await self._client._connect_ws(EVENTS_PATH, 30.0)  # connection.established
            await self.subscribe(patterns)

    async def subscribe(self, patterns: Sequence[str]) -> None:
        """Add patterns (`hl7.*`, `integration.created`, ...); waits for the server's confirmation."""
        await self._send_and_confirm(subscription_frame("subscribe", patterns))

    async def unsubscribe(self, patterns: Sequence[str]) -> None:
        await self._send_and_confirm(subscription_frame("unsubscribe", patterns))

    async def _send_and_confirm(self, frame: str) -> None:
        await self._opened()
        await self._live().send(frame)
        while not check_acknowledgement(await self._receive(30.0)):
            pass

    def __aiter__(self) -> AsyncEventSubscription:
        return self

    async def __anext__(self) -> PlatformEvent:
        await self._opened()
        while True:
            event = await self._receive(self.idle_timeout)
            if event.event not in CONTROL_EVENTS:
                return event

    def _live(self) -> ClientConnection:
        if self._socket is None:
            raise StreamError("the subscription is closed", code="stream_closed")
        return self._socket

    async def _receive(self, wait_s: float | None) -> PlatformEvent:
        try:
            return parse_platform_event(await asyncio.wait_for(self._live().recv(), wait_s))
        except ConnectionClosed as exc:
            self._socket = None
            raise close_error(exc.rcvd.code if exc.rcvd else None, exc.rcvd.reason if exc.rcvd else "") from None
        except TimeoutError:
            raise StreamError(f"no event for {wait_s} s", code="stream_timeout") from None

    async def aclose(self) -> None:
        self._initial = None
        if self._socket is not None:
            await self._socket.close()
            self._socket = None

    async def __aenter__(self) -> AsyncEventSubscription:
        await self._opened()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()
