"""The SSRF guard: public addresses pass; private, loopback, link-local and mapped forms need an allow-list."""

from __future__ import annotations

import ipaddress

import pytest

from tools.errors import ConnectorUnreachable, OutboundBlocked
from tools.net import IPAddress, OutboundPolicy

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


async def test_allowlist_by_exact_endpoint() -> None:
    policy = OutboundPolicy.from_entries(["127.0.0.1:8089", "localhost:9000", "[::1]:7000"])
    await policy.check_url("http://127.0.0.1:8089/rest")
    await policy.check_url("http://localhost:9000/")
    await policy.check_host("::1", 7000)
    for url in ("http://127.0.0.1:5432/", "http://127.0.0.1/", "http://localhost:9001/", "http://[::1]:7001/"):
        with pytest.raises(OutboundBlocked):
            await policy.check_url(url)


async def test_non_http_and_unresolvable_targets() -> None:
    with pytest.raises(OutboundBlocked):
        await OutboundPolicy().check_url("file:///etc/passwd")
    with pytest.raises(OutboundBlocked):
        await OutboundPolicy().check_url("gopher://example.com")
    with pytest.raises(ConnectorUnreachable):
        await OutboundPolicy().check_url("http://no-such-host.invalid/")


ENCODED = [
    "http://2130706433/",  # decimal 127.0.0.1
    "http://0177.0.0.1/",  # octal
    "http://0x7f.0.0.1/",  # hex
    "http://127.1/",  # short form
    "http://0251.0376.0251.0376/",  # octal 169.254.169.254
    "http://3232235777/",  # decimal 192.168.1.1
    "http://[::ffff:a9fe:a9fe]/",  # mapped 169.254.169.254, hex form
    "http://[2002:7f00:1::]/",  # 6to4 around 127.0.0.1
    "http://[2001::ffff:80ff:fefe]/",  # Teredo whose client is 127.0.1.1
    "http://100.64.0.1/",  # shared carrier-NAT space
    "http://[fc00::1]/",  # unique local
    "http://LOCALHOST./",
]


@pytest.mark.parametrize("url", ENCODED)
async def test_other_spellings_of_private_addresses_are_blocked(url: str) -> None:
    with pytest.raises(OutboundBlocked):
        await OutboundPolicy().check_url(url)


async def test_a_public_6to4_address_passes() -> None:
    await OutboundPolicy().check_url("http://[2002:5db8:d822::]/")  # 6to4 around 93.184.216.34


async def test_names_are_judged_by_what_they_resolve_to() -> None:
    answers: dict[str, list[IPAddress]] = {
        "intranet.example.com": [ipaddress.ip_address("93.184.216.34"), ipaddress.ip_address("10.0.0.7")],
        "public.example.com": [ipaddress.ip_address("93.184.216.34")],
    }

    async def resolver(name: str, port: int | None) -> list[IPAddress]:
        return answers[name]

    policy = OutboundPolicy(resolver=resolver)
    # One private answer among public ones is enough to refuse: the client may pick any of them.
    with pytest.raises(OutboundBlocked):
        await policy.check_url("https://intranet.example.com/")
    assert [str(a) for a in await policy.check_url("https://public.example.com/")] == ["93.184.216.34"]
    allowed = OutboundPolicy.from_entries(["intranet.example.com"]).merged(policy)
    await allowed.check_url("https://intranet.example.com/")
