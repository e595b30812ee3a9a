"""MLLP over real sockets: commit-mode NAKs, ACKs that arrive in pieces, and TLS with a self-signed
certificate made by the test."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.tools.hl7.certificates import self_signed_certificate, server_context
from tools.base import IntegrationContext
from tools.errors import ConnectorUnreachable
from tools.hl7.ack import AckCode, build_ack
from tools.hl7.config import Hl7Config, Hl7Credentials, client_for
from tools.hl7.mllp import END, START, MllpClient, MllpListener, frame
from tools.net import OutboundPolicy

MSG = "MSH|^~\\&|EMR|HOSP|LIS|LAB|20250101120000||ADT^A01|CTRL9|P|2.5.1\rPID|1||12345^^^HOSP^MR||DOE^JANE"


def answering(code: AckCode, text: str = ""):  # type: ignore[no-untyped-def]
    async def handler(message: str, peer: str) -> str:
        return build_ack(message, code, text)

    return handler


@pytest.mark.parametrize(
    ("code", "accepted", "meaning"),
    [
        ("CA", True, "Commit Accept"),
        ("CE", False, "Commit Error"),
        ("CR", False, "Commit Reject"),
        ("AE", False, "Application Error"),
    ],
)
async def test_every_ack_code_maps_to_a_clear_result(code: AckCode, accepted: bool, meaning: str) -> None:
    server = MllpListener(answering(code, "PID-3 unknown patient"))
    await server.start()
    client = MllpClient("127.0.0.1", server.port, timeout_s=3)
    try:
        result = await client.send(MSG)
    finally:
        await client.close()
        await server.stop()
    assert (result.code, result.accepted, result.meaning, result.acked_control_id) == (code, accepted, meaning, "CTRL9")
    if not accepted:  # MSA-3 / ERR details reach the caller
        assert result.error and "PID-3 unknown patient" in result.error
    else:
        assert result.error is None


async def test_ack_in_pieces_after_garbage_is_read_whole() -> None:
    async def dribble(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        data = await reader.readuntil(END + b"\r")
        ack = frame(build_ack(data[1:-2].decode(), "AA", "ok"))
        for part in (b"\x00noise\r\n", ack[:7], ack[7:40], ack[40:]):
            writer.write(part)
            await writer.drain()
            await asyncio.sleep(0.02)
        await reader.read()

    server = await asyncio.start_server(dribble, "127.0.0.1", 0)
    client = MllpClient("127.0.0.1", server.sockets[0].getsockname()[1], timeout_s=3)
    try:
        result = await client.send(MSG)
    finally:
        await client.close()
        server.close()
    assert result.code == "AA" and result.accepted and result.text == "ok"


async def test_receiver_closing_mid_ack_reconnects_once_then_reports() -> None:
    calls = 0

    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal calls
        calls += 1
        await reader.readuntil(END + b"\r")
        writer.write(START + b"MSH|^~\\&|half an ack")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(hang_up, "127.0.0.1", 0)
    client = MllpClient("127.0.0.1", server.sockets[0].getsockname()[1], timeout_s=3)
    try:
        with pytest.raises(ConnectorUnreachable, match="broke"):
            await client.send(MSG)
    finally:
        await client.close()
        server.close()
    assert calls == 2


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    return self_signed_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture
async def tls_listener(certificate: tuple[Path, Path, str]) -> AsyncIterator[MllpListener]:
    key_file, cert_file, _ = certificate
    server = MllpListener(tls=server_context(key_file, cert_file))
    await server.start()
    yield server
    await server.stop()


async def test_tls_round_trip_with_the_integrations_private_ca(
    tls_listener: MllpListener, certificate: tuple[Path, Path, str]
) -> None:
    ctx = IntegrationContext(
        id="i1",
        name="Secure LIS",
        integration_type="hl7",
        config=Hl7Config(host="127.0.0.1", port=tls_listener.port, tls=True, timeout_s=3),
        credentials=Hl7Credentials(tls_ca_pem=certificate[2]),
        outbound=OutboundPolicy.from_entries(["127.0.0.1/32"]),  # connections are pinned to checked addresses
    )
    client = client_for(ctx)
    try:
        results = [await client.send(MSG.replace("CTRL9", f"T{i}")) for i in range(3)]  # one TLS connection
    finally:
        await client.close()
    assert [(r.code, r.acked_control_id) for r in results] == [("AA", "T0"), ("AA", "T1"), ("AA", "T2")]


async def test_tls_with_an_untrusted_certificate_is_a_clear_error(tls_listener: MllpListener) -> None:
    client = MllpClient("127.0.0.1", tls_listener.port, timeout_s=3, tls=ssl.create_default_context())
    with pytest.raises(ConnectorUnreachable, match="TLS handshake") as caught:
        await client.send(MSG)
    assert caught.value.remediation and "certificate" in caught.value.remediation


async def test_plain_client_against_a_tls_listener_does_not_hang(tls_listener: MllpListener) -> None:
    client = MllpClient("127.0.0.1", tls_listener.port, timeout_s=2)
    with pytest.raises(ConnectorUnreachable, match="broke"):  # the listener drops the non-TLS bytes
        await client.send(MSG)
    await client.close()
