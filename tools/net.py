"""Outbound network guard (SSRF) shared by every connector and by webhooks.

Integrations reach only public addresses unless an allow-list (hostnames, IPs or CIDRs) says
otherwise. Checked when an integration is saved and again right before each call, because DNS
answers can change between the two (rebinding).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from tools.errors import ConnectorUnreachable, OutboundBlocked

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
# Resolves (host name, port) to addresses. The default asks the system resolver; tests inject one to
# play a DNS server that changes its answer between save time and call time (rebinding).
Resolver = Callable[[str, int | None], Awaitable[list[IPAddress]]]


def _is_public(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        # IPv6 forms that carry an IPv4 address (mapped, 6to4, Teredo) are judged by that address.
        embedded = address.ipv4_mapped or address.sixtofour or (address.teredo[1] if address.teredo else None)
        if embedded is not None:
            return _is_public(embedded)
    # `is_global` also excludes shared (100.64/10 carrier NAT) and other special-purpose ranges.
    return address.is_global and not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


@dataclass(frozen=True)
class OutboundPolicy:
    """Which non-public destinations are allowed. The empty policy allows public addresses only."""

    hostnames: frozenset[str] = field(default_factory=frozenset)
    networks: tuple[IPNetwork, ...] = ()
    # Exact `host:port` destinations (e.g. the demo sandboxes): that port only, not the whole host.
    endpoints: frozenset[tuple[str, int]] = field(default_factory=frozenset)
    allow_all: bool = False  # only for tests of the connectors themselves
    resolver: Resolver | None = field(default=None, compare=False)

    @classmethod
    def from_entries(cls, entries: Iterable[str]) -> OutboundPolicy:
        """Build from `OUTBOUND_ALLOWLIST`-style entries: hostnames, IPs, CIDRs, or `host:port` pairs."""
        hostnames: set[str] = set()
        networks: list[IPNetwork] = []
        endpoints: set[tuple[str, int]] = set()
        for raw in entries:
            entry = raw.strip().lower()
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
                continue
            except ValueError:
                pass
            host, _, port = entry.rpartition(":")
            if host and port.isdigit():
                endpoints.add((host.strip("[]").rstrip("."), int(port)))
            else:
                hostnames.add(entry.rstrip("."))
        return cls(frozenset(hostnames), tuple(networks), frozenset(endpoints))

    def merged(self, other: OutboundPolicy) -> OutboundPolicy:
        return OutboundPolicy(
            self.hostnames | other.hostnames,
            self.networks + other.networks,
            self.endpoints | other.endpoints,
            self.allow_all or other.allow_all,
            self.resolver or other.resolver,
        )

    def lists(self, host: str, port: int | None, addresses: Iterable[IPAddress] = ()) -> bool:
        """Whether the allow-list itself names this destination: its host name, its `host:port`, or
        (every one of) its addresses inside an allow-listed network. Public addresses do not count."""
        name = host.strip("[]").lower().rstrip(".")
        if self.allow_all or name in self.hostnames or (name, port) in self.endpoints:
            return True
        try:
            addresses = [ipaddress.ip_address(name)]
        except ValueError:
            addresses = list(addresses)
        return bool(addresses) and all(
            any(a in network for network in self.networks) or (str(a), port) in self.endpoints for a in addresses
        )

    def address_allowed(self, address: IPAddress) -> bool:
        if self.allow_all or _is_public(address):
            return True
        return any(address in network for network in self.networks)

    async def check_host(self, host: str, port: int | None = None) -> list[IPAddress]:
        """Resolve `host` and refuse it unless every address it resolves to is allowed."""
        name = host.strip("[]").lower().rstrip(".")
        if not name:
            raise OutboundBlocked("The address has no host name.")
        try:
            addresses: list[IPAddress] = [ipaddress.ip_address(name)]
        except ValueError:
            addresses = await (self.resolver or system_resolve)(name, port)
        if self.allow_all or name in self.hostnames or (name, port) in self.endpoints:
            return addresses
        blocked = [a for a in addresses if not self.address_allowed(a) and (str(a), port) not in self.endpoints]
        if blocked:
            raise OutboundBlocked(
                f"{host} resolves to {blocked[0]}, a private, loopback or link-local address.",
                remediation="Ask an admin to add this host or network to OUTBOUND_ALLOWLIST.",
            )
        return addresses

    async def check_url(self, url: str) -> list[IPAddress]:
        """`check_host` for the host of an http(s) URL."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise OutboundBlocked(f"{url!r} is not an http(s) URL.")
        return await self.check_host(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))


async def system_resolve(name: str, port: int | None) -> list[IPAddress]:
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(name, port or 0, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise ConnectorUnreachable(
            f"The host name {name!r} could not be resolved (DNS: {exc.strerror}).",
            remediation="Check the spelling of the URL and that this server can resolve it.",
        ) from exc
    return list(dict.fromkeys(ipaddress.ip_address(info[4][0]) for info in infos))
