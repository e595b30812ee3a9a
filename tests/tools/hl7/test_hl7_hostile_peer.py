"""A hostile HL7 peer over real sockets: silence, a trickle of bytes that never make a frame, an HTML
page, a hang-up, a frame past the size limit. Each send ends, within the timeout, in a ConnectorError
the tool turns into a sentence (never another exception, never a hang)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import pytest

from tools.errors import ConnectorError, ConnectorTimeout, ConnectorUnreachable
from tools.hl7.mllp import DEFAULT_MAX_FRAME, END, START, MllpClient

MSG = "MSH|^~\\&|EMR|HOSP|LIS|LAB|20250101120000||ADT^A01|CTRL9|P|2.5.1\rPID|1||12345^^^HOSP^MR||DOE^JANE"
Peer = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.readuntil(END + b"\r")
    await asyncio.sleep(5)


async def trickle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.readuntil(END + b"\r")
    for _ in range(50):
        writer.write(b"noise ")
        await writer.drain()
        await asyncio.sleep(0.1)


async def html(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.readuntil(END + b"\r")
    writer.write(b"HTTP/1.1 400 Bad Request\r\n\r\n<html>not MLLP</html>")
    await writer.drain()
    await asyncio.sleep(5)


async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.readuntil(END + b"\r")
    writer.close()


async def oversized(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.readuntil(END + b"\r")
    writer.write(START + b"MSH|" + b"x" * (DEFAULT_MAX_FRAME + 10) + END + b"\r")
    await writer.drain()
    await asyncio.sleep(5)


PEERS: dict[str, tuple[Peer, type[ConnectorError]]] = {
    "silence": (silent, ConnectorTimeout),
    "a trickle that never makes a frame": (trickle, ConnectorTimeout),
    "an HTML answer": (html, ConnectorTimeout),
    "a hang-up before the ACK": (hang_up, ConnectorUnreachable),
    "a frame past the size limit": (oversized, ConnectorTimeout),
}


@pytest.mark.parametrize("case", list(PEERS))
async def test_a_hostile_peer_ends_in_a_connector_error_within_the_timeout(case: str) -> None:
    peer, expected = PEERS[case]
    server = await asyncio.start_server(peer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = MllpClient("127.0.0.1", port, timeout_s=0.5)
    started = time.perf_counter()
    try:
        with pytest.raises(expected) as failure:
            await client.send(MSG)
    finally:
        await client.close()
        server.close()
    assert time.perf_counter() - started < 3.0
    assert failure.value.message and f"127.0.0.1:{port}" in failure.value.message
