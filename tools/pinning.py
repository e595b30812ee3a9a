"""Connections to the exact address the outbound guard checked (no DNS rebinding between check and connect).

Checking a name and then letting the HTTP library resolve it again leaves a window: a DNS server with
a zero TTL answers "public" to the check and "127.0.0.1" to the connect. Every outbound client here
resolves once, judges the answer with the `OutboundPolicy`, and opens the socket to that IP itself;
the request keeps its host name for the `Host` header, TLS SNI and certificate verification.

- httpx (FHIR, SMART token endpoints, webhooks): `guarded_async_client()` — an httpcore network
  backend that checks inside `connect_tcp`, so every new connection (redirect targets and
  `link[next]` hosts included) is judged at the moment it is opened.
- requests (the `jira` library, in a worker thread): `PinnedAdapter` — connections to addresses
  checked on the event loop just before the call (`AddressPins.check_url`); a host that was not
  checked is refused.
- asyncio streams (MLLP, TCP/TLS probes): `open_pinned_connection()`.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx
from requests.adapters import HTTPAdapter
from urllib3 import HTTPConnectionPool, HTTPSConnectionPool, PoolManager
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
from urllib3.util.connection import create_connection

from tools.net import IPAddress, OutboundPolicy

# --------------------------------------------------------------------------- httpx


class GuardedNetworkBackend(httpcore.AsyncNetworkBackend):
    """Resolves and checks in `connect_tcp`, then connects to the checked address (never the name)."""

    def __init__(self, policy: OutboundPolicy | Callable[[], OutboundPolicy]) -> None:
        # A callable is read at each connect, so a long-lived client follows the app's current policy.
        self._policy = policy
        self._inner = httpcore.AnyIOBackend()

    @property
    def policy(self) -> OutboundPolicy:
        return self._policy if isinstance(self._policy, OutboundPolicy) else self._policy()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            async with asyncio.timeout(timeout):
                addresses = await self.policy.check_host(host, port)  # OutboundBlocked propagates as is
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"resolving {host} timed out") from exc
        last: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(str(address), port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        assert last is not None  # check_host never returns an empty list
        raise last

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("Unix sockets are not an outbound destination.")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's own transport (its exception mapping, pooling, TLS) over `GuardedNetworkBackend`."""

    def __init__(
        self, policy: OutboundPolicy | Callable[[], OutboundPolicy], *, verify: ssl.SSLContext | bool = True
    ) -> None:
        super().__init__(verify=verify, trust_env=False)
        ssl_context = verify if isinstance(verify, ssl.SSLContext) else httpx.create_ssl_context(verify=verify)
        limits = httpx.Limits()
        # httpx has no public hook for the network backend: rebuild its pool with ours (same settings).
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedNetworkBackend(policy),
        )


def guarded_async_client(
    policy: OutboundPolicy | Callable[[], OutboundPolicy], *, verify: ssl.SSLContext | bool = True, **kwargs: Any
) -> httpx.AsyncClient:
    """An `httpx.AsyncClient` whose every connection goes to an address `policy` allowed.

    No environment proxies (`trust_env=False`): through a proxy the check would judge the proxy, not
    the destination.
    """
    return httpx.AsyncClient(transport=GuardedTransport(policy, verify=verify), trust_env=False, **kwargs)


# --------------------------------------------------------------------------- asyncio streams


async def open_pinned_connection(
    policy: OutboundPolicy,
    host: str,
    port: int,
    *,
    tls: ssl.SSLContext | None = None,
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """`asyncio.open_connection` to the checked address; TLS verifies the certificate for `host`."""
    addresses = await policy.check_host(host, port)
    last: OSError | None = None
    for address in addresses:
        try:
            return await asyncio.open_connection(
                str(address), port, ssl=tls, server_hostname=host.strip("[]") if tls else None
            )
        except ssl.SSLError:
            raise
        except OSError as exc:
            last = exc
    assert last is not None
    raise last


# --------------------------------------------------------------------------- requests


class AddressPins:
    """Addresses checked on the event loop, by (host, port), for connections opened in a worker thread."""

    def __init__(self) -> None:
        self._pins: dict[tuple[str, int], list[IPAddress]] = {}
        self._lock = threading.Lock()

    async def check_url(self, policy: OutboundPolicy, url: str) -> list[IPAddress]:
        """Check `url`'s host now and pin the answer for the connections that follow."""
        addresses = await policy.check_url(url)
        parts = urlsplit(url)
        key = (_host_key(parts.hostname or ""), parts.port or (443 if parts.scheme == "https" else 80))
        with self._lock:
            self._pins[key] = addresses
        return addresses

    def addresses(self, host: str, port: int) -> list[IPAddress]:
        with self._lock:
            return list(self._pins.get((_host_key(host), port), ()))


def _host_key(host: str) -> str:
    return host.strip("[]").lower().rstrip(".")


class _PinnedConnectionMixin:
    pins: AddressPins
    host: str
    port: int
    timeout: Any
    source_address: Any
    socket_options: Any

    def _new_conn(self) -> socket.socket:
        addresses = self.pins.addresses(self.host, self.port)
        if not addresses:
            raise NewConnectionError(self, f"{self.host}:{self.port} was not checked by the outbound guard")  # type: ignore[arg-type]
        last: Exception | None = None
        for address in addresses:
            # The socket goes to the checked address; `host` stays the name (Host header, SNI, certificate).
            try:
                return create_connection(
                    (str(address), self.port),
                    self.timeout,
                    source_address=self.source_address,
                    socket_options=self.socket_options,
                )
            except TimeoutError as exc:
                raise ConnectTimeoutError(self, f"Connection to {self.host} timed out.") from exc
            except OSError as exc:
                last = NewConnectionError(self, f"Failed to establish a new connection: {exc}")  # type: ignore[arg-type]
        assert last is not None
        raise last


class PinnedAdapter(HTTPAdapter):
    """A requests adapter whose connections go only to addresses in `pins`; proxies are refused."""

    def __init__(self, pins: AddressPins, **kwargs: Any) -> None:
        self.pins = pins
        super().__init__(**kwargs)

    def init_poolmanager(self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any) -> None:
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)
        pins = self.pins
        http_connection = type("PinnedHTTPConnection", (_PinnedConnectionMixin, HTTPConnection), {"pins": pins})
        https_connection = type("PinnedHTTPSConnection", (_PinnedConnectionMixin, HTTPSConnection), {"pins": pins})
        manager: PoolManager = self.poolmanager
        manager.pool_classes_by_scheme = {
            "http": type("PinnedHTTPPool", (HTTPConnectionPool,), {"ConnectionCls": http_connection}),
            "https": type("PinnedHTTPSPool", (HTTPSConnectionPool,), {"ConnectionCls": https_connection}),
        }

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        raise NewConnectionError(None, "Outbound calls do not go through proxies.")  # type: ignore[arg-type]


def mount_pinned(session: Any, pins: AddressPins) -> None:
    """Route every http(s) request of a `requests.Session` through a `PinnedAdapter`."""
    session.trust_env = False  # no environment proxies: the check must judge the destination
    for prefix in ("http://", "https://"):
        session.mount(prefix, PinnedAdapter(pins))
