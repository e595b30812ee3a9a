"""MLLP client ↔ listener over real sockets: ACKs, NAKs, mismatches, timeouts, framing abuse."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tools.errors import ConnectorTimeout, ConnectorUnreachable
from tools.hl7.ack import build_ack
from tools.hl7.mllp import END, START, MllpClient, MllpListener, frame
from tools.sandbox_server import free_port

MSG = "MSH|^~\\&|EMR|HOSP|LIS|LAB|20250101120000||ADT^A01|CTRL1|P|2.5.1\rPID|1||12345^^^HOSP^MR||DOE^JANE"


@pytest.fixture
async def listener() -> AsyncIterator[MllpListener]:
    server = MllpListener(max_frame=4096)
    await server.start()
    yield server
    await server.stop()


async def test_round_trip_and_connection_reuse(listener: MllpListener) -> None:
    client = MllpClient("127.0.0.1", listener.port, timeout_s=3)
    results = [await client.send(MSG.replace("CTRL1", f"C{i}")) for i in range(5)]
    await client.close()
    assert [r.code for r in results] == ["AA"] * 5
    assert all(r.accepted and r.acked_control_id == f"C{i}" for i, r in enumerate(results))


async def test_invalid_message_gets_ae_with_the_problem(listener: MllpListener) -> None:
    client = MllpClient("127.0.0.1", listener.port, timeout_s=3)
    result = await client.send(MSG.replace("2.5.1", "9.9"))
    await client.close()
    assert result.code == "AE" and not result.accepted
    assert result.error and "MSH-12" in result.error


async def test_reject_and_mismatched_ack_are_failures() -> None:
    async def reject(message: str, peer: str) -> str:
        return build_ack(message, "AR", "not for us")

    async def wrong_id(message: str, peer: str) -> str:
        return build_ack(message.replace("CTRL1", "OTHER"), "AA")

    for handler, code in ((reject, "AR"), (wrong_id, "AA")):
        server = MllpListener(handler)
        await server.start()
        client = MllpClient("127.0.0.1", server.port, timeout_s=3)
        result = await client.send(MSG)
        await client.close()
        await server.stop()
        assert result.code == code and not result.accepted
    assert result.error and "ack_mismatch" in result.error


async def test_timeout_and_refused() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(65536)
        await asyncio.sleep(5)

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    with pytest.raises(ConnectorTimeout):
        await MllpClient("127.0.0.1", port, timeout_s=0.3).send(MSG)
    server.close()
    with pytest.raises(ConnectorUnreachable):
        await MllpClient("127.0.0.1", free_port(), timeout_s=1).send(MSG)


async def test_partial_frames_garbage_oversize_and_several_messages(listener: MllpListener) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", listener.port)
    data = frame(MSG)
    for part in (b"garbage before", data[:10], data[10:30], data[30:]):
        writer.write(part)
        await writer.drain()
        await asyncio.sleep(0.02)
    writer.write(START + b"x" * 5000 + END + b"\r" + frame(MSG.replace("CTRL1", "CTRL2")))
    await writer.drain()
    received = b""
    while received.count(END) < 3:
        received += await asyncio.wait_for(reader.read(65536), 3)
    writer.close()
    acks = [chunk for chunk in received.split(END) if START in chunk]
    assert b"MSA|AA|CTRL1" in acks[0]
    assert b"MSA|AR" in acks[1]  # the oversize frame is rejected, the connection survives
    assert b"MSA|AA|CTRL2" in acks[2]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(noise=st.binary(max_size=512))
async def test_random_bytes_never_break_the_listener(noise: bytes) -> None:
    server = MllpListener(max_frame=1024)
    await server.start()
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(noise)
        await writer.drain()
        writer.close()
        client = MllpClient("127.0.0.1", server.port, timeout_s=3)
        assert (await client.send(MSG)).code == "AA"
        await client.close()
    finally:
        await server.stop()
