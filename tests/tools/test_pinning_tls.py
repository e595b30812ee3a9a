"""Pinned connections keep TLS honest: the socket goes to the checked IP, while SNI and certificate
verification use the URL's host name (httpx and requests)."""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tools.net import IPAddress, OutboundPolicy
from tools.pinning import AddressPins, guarded_async_client, mount_pinned

HOST = "emr.rebind.test"
ADDRESS = "127.0.0.2"


def certificate_for(name: str, folder: Path) -> tuple[Path, Path, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    key_file, cert_file = folder / f"{name}.key", folder / f"{name}.pem"
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    cert_file.write_text(pem)
    return key_file, cert_file, pem


class TlsServer:
    """HTTPS on 127.0.0.2 with a certificate for `name`; records the SNI each handshake asked for."""

    def __init__(self, key_file: Path, cert_file: Path) -> None:
        self.sni: list[str | None] = []
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.context.load_cert_chain(cert_file, key_file)
        self.context.sni_callback = lambda _sock, name, _ctx: self.sni.append(name)  # type: ignore[assignment,misc]
        self.server: asyncio.Server | None = None
        self.port = 0

    async def __aenter__(self) -> TlsServer:
        async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                await reader.readuntil(b"\r\n\r\n")
                writer.write(
                    b'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 11\r\n\r\n{"ok":true}'
                )
                await writer.drain()
            except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
                pass
            finally:
                writer.close()

        self.server = await asyncio.start_server(answer, ADDRESS, 0, ssl=self.context)
        self.port = int(self.server.sockets[0].getsockname()[1])
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()


async def resolve(name: str, port: int | None) -> list[IPAddress]:
    assert name == HOST  # the name, never the address, is what gets resolved and checked
    return [ipaddress.ip_address(ADDRESS)]


POLICY = OutboundPolicy(networks=(ipaddress.ip_network(f"{ADDRESS}/32"),), resolver=resolve)


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[tuple[TlsServer, str, Path]]:
    key_file, cert_file, pem = certificate_for(HOST, tmp_path)
    async with TlsServer(key_file, cert_file) as running:
        yield running, pem, cert_file


async def test_httpx_pins_the_address_and_verifies_the_host_name(server: tuple[TlsServer, str, Path]) -> None:
    running, pem, _ = server
    trusted = ssl.create_default_context(cadata=pem)
    async with guarded_async_client(POLICY, verify=trusted) as http:
        response = await http.get(f"https://{HOST}:{running.port}/fhir/metadata")
    assert response.status_code == 200 and response.json() == {"ok": True}
    assert running.sni == [HOST]


async def test_requests_adapter_pins_the_address_and_verifies_the_host_name(
    server: tuple[TlsServer, str, Path],
) -> None:
    running, _, cert_file = server
    url = f"https://{HOST}:{running.port}/rest/api/3/serverInfo"
    pins = AddressPins()
    await pins.check_url(POLICY, url)
    session = requests.Session()
    mount_pinned(session, pins)
    response = await asyncio.to_thread(session.get, url, verify=str(cert_file), timeout=5)
    assert response.status_code == 200 and running.sni == [HOST]
    # A host the check never saw is refused, not resolved.
    with pytest.raises(requests.ConnectionError, match="not checked"):
        await asyncio.to_thread(session.get, f"https://other.rebind.test:{running.port}/", timeout=5)


async def test_a_certificate_for_another_name_is_refused(tmp_path: Path) -> None:
    key_file, cert_file, pem = certificate_for("someone-else.test", tmp_path)
    trusted = ssl.create_default_context(cadata=pem)
    async with TlsServer(key_file, cert_file) as running, guarded_async_client(POLICY, verify=trusted) as http:
        with pytest.raises(httpx.ConnectError, match=r"certificate|hostname"):
            await http.get(f"https://{HOST}:{running.port}/")
