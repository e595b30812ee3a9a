"""The transport-independent heart of both clients (sans-IO).

A request is a `Call` (what to send and how to read the answer). `run_call` is a generator that
holds every policy once — authentication headers, refresh on 401, retry on 429 and on connection
errors — and yields *actions* (`Send`, `Sleep`, `Refresh`) that a driver performs: `Switchboard`
with `httpx.Client` and `time.sleep`, `AsyncSwitchboard` with `httpx.AsyncClient` and
`asyncio.sleep`. The drivers are a few lines each, so sync and async cannot drift apart.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import httpx

from ._errors import APIConnectionError, AuthenticationError, error_from_response, parse_retry_after
from .models import TokenPair

T = TypeVar("T")

API_PREFIX = "/api/v1"
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry. `max_attempts` counts the first try."""

    max_attempts: int = 3
    backoff_s: float = 0.5
    max_backoff_s: float = 8.0
    max_retry_after_s: float = 60.0  # a longer Retry-After is raised as RateLimitError instead

    def backoff(self, attempt: int) -> float:
        """Exponential back-off with jitter for connection errors (attempt 1 = first retry)."""
        base: float = min(self.max_backoff_s, self.backoff_s * 2 ** (attempt - 1))
        return base / 2 + random.uniform(0, base / 2)

    def rate_limit_delay(self, response: httpx.Response, attempt: int) -> float | None:
        """Seconds to wait before retrying a 429, or None to give up."""
        if attempt >= self.max_attempts:
            return None
        wait = parse_retry_after(response.headers.get("retry-after"))
        if wait is None:
            wait = self.backoff(attempt)
        return wait if wait <= self.max_retry_after_s else None

    def transport_delay(self, exc: httpx.TransportError, method: str, attempt: int) -> float | None:
        """Seconds to wait before retrying after a connection failure, or None to give up.

        A request that never reached the server (connect failed) is safe to repeat whatever its
        method; one that may have been processed is repeated only when idempotent.
        """
        if attempt >= self.max_attempts:
            return None
        never_sent = isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)
        if never_sent or method.upper() in IDEMPOTENT_METHODS:
            return self.backoff(attempt)
        return None


class AuthState:
    """Credentials of one client: an API key, or access/refresh tokens (optionally with a password)."""

    def __init__(
        self,
        *,
        api_key: str | None = None,
        username: str | None = None,
        password: str | None = None,
        access_token: str | None = None,
        refresh_token: str | None = None,
    ) -> None:
        self.api_key = api_key
        self.username = username
        self.password = password
        self.access_token = access_token
        self.refresh_token = refresh_token
        self.on_tokens: Callable[[TokenPair], None] | None = None

    @property
    def can_renew(self) -> bool:
        return self.api_key is None and (self.refresh_token is not None or self.password is not None)

    @property
    def needs_login(self) -> bool:
        return self.api_key is None and self.access_token is None and self.password is not None

    def headers(self) -> dict[str, str]:
        if self.api_key is not None:
            return {"X-API-Key": self.api_key}
        if self.access_token is not None:
            return {"Authorization": f"Bearer {self.access_token}"}
        return {}

    def store(self, tokens: TokenPair) -> None:
        self.access_token, self.refresh_token = tokens.access_token, tokens.refresh_token
        if self.on_tokens is not None:
            self.on_tokens(tokens)

    def clear(self) -> None:
        self.access_token = self.refresh_token = None


@dataclass(frozen=True)
class Call(Generic[T]):
    """One API request and how to read its successful response."""

    method: str
    path: str
    parse: Callable[[httpx.Response], T]
    params: Mapping[str, Any] | None = None
    json: Any = None
    form: Mapping[str, str] | None = None
    authenticated: bool = True
    stream: bool = False  # the driver hands back an unread response (SSE)
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Send:
    request: httpx.Request
    stream: bool = False


@dataclass(frozen=True)
class Sleep:
    seconds: float


@dataclass(frozen=True)
class Refresh:
    """Renew the access token unless another caller already replaced `stale_token`."""

    stale_token: str | None


Action = Send | Sleep | Refresh
Flow = Generator[Action, Any, T]


class Core:
    """Configuration and state shared by a client's resources; builds requests, holds the policies."""

    def __init__(self, base_url: str, auth: AuthState, retry: RetryPolicy, user_agent: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.auth = auth
        self.retry = retry
        self.user_agent = user_agent
        self.thread_lock = threading.Lock()  # the sync client's refresh lock

    def url(self, path: str) -> str:
        return f"{self.base_url}{API_PREFIX}{path}"

    def ws_url(self, path: str) -> str:
        return self.url(path).replace("https://", "wss://", 1).replace("http://", "ws://", 1)

    def build_request(self, call: Call[Any]) -> httpx.Request:
        headers = {"User-Agent": self.user_agent, "Accept": "application/json", **call.headers}
        if call.authenticated:
            headers.update(self.auth.headers())
        params = {k: v for k, v in (call.params or {}).items() if v is not None}
        return httpx.Request(
            call.method, self.url(call.path), params=params, json=call.json, data=call.form, headers=headers
        )


def run_call(core: Core, call: Call[T]) -> Flow[T]:
    """Send `call` under the retry and refresh policies; return its parsed result or raise."""
    attempt = 1
    renewed = False
    while True:
        if call.authenticated and core.auth.needs_login:
            yield Refresh(None)
        token_used = core.auth.access_token
        request = core.build_request(call)
        try:
            response: httpx.Response = yield Send(request, stream=call.stream)
        except httpx.TransportError as exc:
            delay = core.retry.transport_delay(exc, request.method, attempt)
            if delay is None:
                raise APIConnectionError(f"{type(exc).__name__}: {exc or 'connection failed'}") from exc
            attempt += 1
            yield Sleep(delay)
            continue
        if response.status_code == 429:
            delay = core.retry.rate_limit_delay(response, attempt)
            if delay is not None:
                attempt += 1
                yield Sleep(delay)
                continue
        if response.status_code == 401 and call.authenticated and not renewed and core.auth.can_renew:
            renewed = True
            yield Refresh(token_used)
            continue
        if response.is_error:
            raise error_from_response(response)
        return call.parse(response)


def _token_pair(response: httpx.Response) -> TokenPair:
    return TokenPair.model_validate_json(response.content)


def login_call(username: str, password: str) -> Call[TokenPair]:
    return Call(
        "POST", "/auth/login", _token_pair, json={"username": username, "password": password}, authenticated=False
    )


def refresh_call(refresh_token: str) -> Call[TokenPair]:
    return Call("POST", "/auth/refresh", _token_pair, json={"refresh_token": refresh_token}, authenticated=False)


def renew_tokens(core: Core, stale_token: str | None) -> Flow[None]:
    """Refresh the access token (or sign in again with the stored password). Run under a lock:
    refresh tokens rotate and a reused one revokes its family, so only one caller may refresh."""
    auth = core.auth
    if auth.access_token is not None and auth.access_token != stale_token:
        return  # someone else renewed it while this caller waited for the lock
    if auth.refresh_token is not None:
        try:
            auth.store((yield from run_call(core, refresh_call(auth.refresh_token))))
            return
        except AuthenticationError:
            if auth.password is None:
                auth.clear()
                raise
    if auth.username is None or auth.password is None:
        raise AuthenticationError("Not signed in: call auth.login() or pass api_key=", status_code=401)
    auth.store((yield from run_call(core, login_call(auth.username, auth.password))))
