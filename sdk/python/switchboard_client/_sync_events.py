"""`EventSubscription`: platform events (`hl7.*`, `integration.*`, ...) as a synchronous iterator."""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType
from typing import TYPE_CHECKING

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection

from ._errors import StreamError
from ._stream import close_error
from ._subscription import CONTROL_EVENTS, EVENTS_PATH, check_acknowledgement, subscription_frame
from .events import PlatformEvent, parse_platform_event

if TYPE_CHECKING:
    from ._sync_client import Switchboard


class EventSubscription:
    """Iterate the events of resources the caller may see; `subscribe`/`unsubscribe` change the patterns."""

    def __init__(self, client: Switchboard, idle_timeout: float | None) -> None:
        self._client = client
        self.idle_timeout = idle_timeout
        self._socket: ClientConnection | None = None

    def open(self, patterns: Sequence[str]) -> EventSubscription:
        self._socket, _ = self._client._connect_ws(EVENTS_PATH, 30.0)  # connection.established
        self.subscribe(patterns)
        return self

    def subscribe(self, patterns: Sequence[str]) -> None:
        """Add patterns (`hl7.*`, `integration.created`, ...); waits for the server's confirmation."""
        self._send_and_confirm(subscription_frame("subscribe", patterns))

    def unsubscribe(self, patterns: Sequence[str]) -> None:
        self._send_and_confirm(subscription_frame("unsubscribe", patterns))

    def _send_and_confirm(self, frame: str) -> None:
        socket = self._live()
        socket.send(frame)
        while not check_acknowledgement(self._receive(30.0)):
            pass

    def __iter__(self) -> EventSubscription:
        return self

    def __next__(self) -> PlatformEvent:
        while True:
            event = self._receive(self.idle_timeout)
            if event.event not in CONTROL_EVENTS:
                return event

    def _live(self) -> ClientConnection:
        if self._socket is None:
            raise StreamError("the subscription is closed", code="stream_closed")
        return self._socket

    def _receive(self, timeout: float | None) -> PlatformEvent:
        try:
            return parse_platform_event(self._live().recv(timeout=timeout))
        except ConnectionClosed as exc:
            self._socket = None
            raise close_error(exc.rcvd.code if exc.rcvd else None, exc.rcvd.reason if exc.rcvd else "") from None
        except TimeoutError:
            raise StreamError(f"no event for {timeout} s", code="stream_timeout") from None

    def close(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None

    def __enter__(self) -> EventSubscription:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
