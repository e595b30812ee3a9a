"""The SSRF guard: public addresses pass; private, loopback, link-local and mapped forms need an allow-list."""

from __future__ import annotations

import pytest

from tools.errors import ConnectorUnreachable, OutboundBlocked
from tools.net import OutboundPolicy

BLOCKED = [
    "http://127.0.0.1/",
    "http://localhost:8000/",
    "http://10.0.0.5/",
    "http://172.16.3.4/",
    "http://192.168.1.1/",
    "http://169.254.169.254/latest/meta-data",
    "http://[::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://0.0.0.0/",
    "http://[fe80::1]/",
]


@pytest.mark.parametrize("url", BLOCKED)
async def test_private_targets_are_blocked_by_default(url: str) -> None:
    with pytest.raises(OutboundBlocked) as info:
        await OutboundPolicy().check_url(url)
    assert info.value.code == "outbound_blocked"
    assert info.value.remediation and "OUTBOUND_ALLOWLIST" in info.value.remediation


async def test_public_address_passes() -> None:
    assert [str(a) for a in await OutboundPolicy().check_url("https://93.184.216.34/rest")] == ["93.184.216.34"]


async def test_allowlist_by_network_and_hostname() -> None:
    policy = OutboundPolicy.from_entries(["127.0.0.0/8", "10.2.0.0/16", "localhost"])
    await policy.check_url("http://127.0.0.1:9000/")
    await policy.check_url("http://10.2.3.4/")
    await policy.check_url("http://localhost:1234/")
    with pytest.raises(OutboundBlocked):
        await policy.check_url("http://10.3.0.1/")


async def test_non_http_and_unresolvable_targets() -> None:
    with pytest.raises(OutboundBlocked):
        await OutboundPolicy().check_url("file:///etc/passwd")
    with pytest.raises(OutboundBlocked):
        await OutboundPolicy().check_url("gopher://example.com")
    with pytest.raises(ConnectorUnreachable):
        await OutboundPolicy().check_url("http://no-such-host.invalid/")
