"""`AsyncSwitchboard`: the asynchronous client (httpx.AsyncClient), a thin driver over the shared core."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from types import TracebackType
from typing import Any, TypeVar

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from ._async_resources import (
    ApiKeysResource,
    AuthResource,
    ChatResource,
    EventsResource,
    IntegrationsResource,
    MessagesResource,
    SessionsResource,
    WebhooksResource,
)
from ._core import AuthState, Call, Core, Flow, RetryPolicy, Send, Sleep, renew_tokens, run_call
from ._errors import APIConnectionError, StreamError, error_from_response
from ._stream import MAX_FRAME_BYTES, close_error
from ._version import USER_AGENT
from .models import Page

T = TypeVar("T")


class AsyncSwitchboard:
    """Asynchronous Switchboard client; the same resources and options as `Switchboard`, awaited."""

    def __init__(
        self,
        base_url: str = "http://127.0.0.1:8000",
        *,
        api_key: str | None = None,
        username: str | None = None,
        password: str | None = None,
        access_token: str | None = None,
        refresh_token: str | None = None,
        timeout: float | httpx.Timeout = 30.0,
        retry: RetryPolicy | None = None,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        auth = AuthState(
            api_key=api_key,
            username=username,
            password=password,
            access_token=access_token,
            refresh_token=refresh_token,
        )
        self._core = Core(base_url, auth, retry or RetryPolicy(), USER_AGENT)
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(timeout=timeout)
        self._renew_lock: asyncio.Lock | None = None  # made on first use, inside the running loop
        self.auth = AuthResource(self)
        self.sessions = SessionsResource(self)
        self.chat = ChatResource(self)
        self.integrations = IntegrationsResource(self)
        self.messages = MessagesResource(self)
        self.api_keys = ApiKeysResource(self)
        self.webhooks = WebhooksResource(self)
        self.events = EventsResource(self)

    @property
    def credentials(self) -> AuthState:
        """The current credentials (tokens rotate as the client refreshes them)."""
        return self._core.auth

    # ---------------------------------------------------------------- driver

    async def _run(self, call: Call[T]) -> T:
        return await self._drive(run_call(self._core, call))

    async def _drive(self, flow: Flow[T]) -> T:
        value: Any = None
        error: BaseException | None = None
        while True:
            try:
                action = flow.throw(error) if error is not None else flow.send(value)
            except StopIteration as stop:
                result: T = stop.value
                return result
            value, error = None, None
            if isinstance(action, Send):
                try:
                    value = await self._send(action)
                except httpx.TransportError as exc:
                    error = exc
            elif isinstance(action, Sleep):
                await asyncio.sleep(action.seconds)
            else:
                await self._renew(action.stale_token)

    async def _send(self, action: Send) -> httpx.Response:
        response = await self._http.send(action.request, stream=action.stream)
        if action.stream and response.is_error:
            await response.aread()
            await response.aclose()
        return response

    async def _renew(self, stale_token: str | None) -> None:
        if self._renew_lock is None:
            self._renew_lock = asyncio.Lock()
        async with self._renew_lock:
            await self._drive(renew_tokens(self._core, stale_token))

    async def _iterate(self, fetch: Callable[[int], Awaitable[Page[T]]]) -> AsyncIterator[T]:
        number: int | None = 1
        while number is not None:
            page = await fetch(number)
            for item in page.items:
                yield item
            number = page.next_page

    async def _connect_ws(self, path: str, wait_s: float) -> tuple[ClientConnection, str]:
        """Open a socket and read its first frame (raw); renew the token once if the server says 4401."""
        auth = self._core.auth
        for attempt in (1, 2):
            if auth.needs_login:
                await self._renew(None)
            stale = auth.access_token
            try:
                socket = await connect(
                    self._core.ws_url(path),
                    additional_headers=auth.headers(),
                    user_agent_header=USER_AGENT,
                    max_size=MAX_FRAME_BYTES,
                    open_timeout=wait_s,
                )
            except InvalidStatus as exc:
                refused = httpx.Response(
                    exc.response.status_code,
                    headers=list(exc.response.headers.raw_items()),
                    content=bytes(exc.response.body or b""),
                )
                raise error_from_response(refused) from None
            except OSError as exc:
                raise APIConnectionError(f"cannot open the socket: {exc}") from exc
            try:
                first = await asyncio.wait_for(socket.recv(), wait_s)
                return socket, first if isinstance(first, str) else first.decode()
            except ConnectionClosed as exc:
                await socket.close()
                code = exc.rcvd.code if exc.rcvd else None
                if code == 4401 and attempt == 1 and auth.can_renew:
                    await self._renew(stale)
                    continue
                raise close_error(code, exc.rcvd.reason if exc.rcvd else "") from None
            except TimeoutError:
                await socket.close()
                raise StreamError("the socket sent nothing", code="stream_timeout") from None
        raise AssertionError("unreachable")

    # ---------------------------------------------------------------- lifecycle

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> AsyncSwitchboard:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()
