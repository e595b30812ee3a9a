"""Memory exhaustion (finding 5): bodies capped while streaming, before rate limiting; request heads that
never finish are dropped; WebSocket frames capped at the protocol layer; sockets per user and per IP.

The server-layer limits are checked against a real `switchboard serve` process (they live in its
uvicorn configuration); the app-layer ones in process."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets

from backend.config import Settings
from tests.conftest import asgi_client, empty_database, running_app, serving
from tests.server_process import ServerProcess

MIB = 1024 * 1024
REGISTER = "/api/v1/auth/register"


async def _chunks(total: int, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    sent = 0
    while sent < total:
        yield b"x" * min(size, total - sent)
        sent += size


async def test_bodies_over_the_cap_are_refused_before_anything_reads_them(settings: Settings) -> None:
    strict = settings.model_copy(update={"rate_limit_auth": "1/minute"})
    async with running_app(strict) as app, asgi_client(app) as http:
        declared = await http.post(REGISTER, content=b"{" + b" " * (100 * 1024) + b"}")
        assert declared.status_code == 413 and declared.json()["code"] == "request_too_large", declared.text
        streamed = await http.post("/api/v1/chat/sessions", content=_chunks(2 * MIB))  # chunked: no length
        assert streamed.status_code == 413 and streamed.json()["code"] == "request_too_large"
        # Refused bodies never reached the rate limiter: the one registration a minute is still there.
        account = {"email": "a@example.com", "username": "alice", "password": "correct horse battery"}
        assert (await http.post(REGISTER, json=account)).status_code == 201


async def test_chat_metadata_is_bounded(client: httpx.AsyncClient, alice: Any) -> None:
    big = {"note": "x" * (17 * 1024)}
    refused = await client.post("/api/v1/chat/sessions", headers=alice.headers, json={"message": "hi", "metadata": big})
    assert refused.status_code == 422 and "metadata" in refused.text
    many = {f"k{i}": i for i in range(51)}
    refused = await client.post(
        "/api/v1/chat/sessions", headers=alice.headers, json={"message": "hi", "metadata": many}
    )
    assert refused.status_code == 422
    fine = await client.post(
        "/api/v1/chat/sessions", headers=alice.headers, json={"message": "hi", "metadata": {"a": 1}}
    )
    assert fine.status_code == 201, fine.text


def _rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


@pytest.fixture
async def server(database_url: str, data_dir: Path) -> AsyncIterator[ServerProcess]:
    await empty_database(database_url)
    env = {"HTTP_REQUEST_HEAD_TIMEOUT_S": "1", "WS_MAX_MESSAGE_BYTES": str(64 * 1024 + 1024)}
    process = ServerProcess(database_url, data_dir, **env)
    try:
        await process.start(timeout=120)  # start-up on a busy CI machine can take a while
        yield process
    finally:
        await process.stop()


async def test_big_unauthenticated_bodies_cost_no_memory(server: ServerProcess) -> None:
    assert server.process is not None
    before = _rss_bytes(server.process.pid)
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:

        async def upload() -> httpx.Response:
            return await http.post(REGISTER, content=_chunks(24 * MIB), headers={"content-type": "application/json"})

        started = asyncio.get_running_loop().time()
        responses = await asyncio.gather(*(upload() for _ in range(8)), return_exceptions=True)
        elapsed = asyncio.get_running_loop().time() - started
    statuses = [r.status_code if isinstance(r, httpx.Response) else type(r).__name__ for r in responses]
    # The server answers 413 and closes as soon as the cap is passed; a client still sending its body
    # sees the connection close instead of reading the answer.
    assert all(s in (413, "RemoteProtocolError", "WriteError", "ReadError") for s in statuses), statuses
    assert elapsed < 20, elapsed
    growth = _rss_bytes(server.process.pid) - before
    assert growth < 40 * MIB, f"the process grew by {growth // MIB} MiB for 8 bodies of 24 MiB"
    # What such a client is told, read over a raw socket: 413 with a code, for a declared length and
    # for a chunked body that grows past the cap.
    for head in (b"Content-Length: 100000000\r\n", b"Transfer-Encoding: chunked\r\n"):
        reader, writer = await _raw(server)
        writer.write(b"POST " + REGISTER.encode() + b" HTTP/1.1\r\nHost: x\r\n" + head + b"\r\n")
        if b"chunked" in head:
            writer.write(b"5000\r\n" + b"x" * 0x5000 + b"\r\n")  # 20 KiB: over the 16 KiB sign-in cap
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), timeout=5)
        writer.close()
        assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
        assert b'"code": "request_too_large"' in answer


async def _raw(server: ServerProcess) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", server.port)


async def test_a_request_head_that_never_finishes_is_dropped(server: ServerProcess) -> None:
    reader, writer = await _raw(server)
    writer.write(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ")  # and nothing more: slowloris
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), timeout=5)  # HTTP_REQUEST_HEAD_TIMEOUT_S=1 here
    assert answer.startswith(b"HTTP/1.1 408"), answer
    writer.close()
    # A connection that never sends a byte is dropped too.
    reader, writer = await _raw(server)
    assert (await asyncio.wait_for(reader.read(), timeout=5)).startswith(b"HTTP/1.1 408")
    writer.close()
    # An ordinary keep-alive client is unaffected.
    async with httpx.AsyncClient(base_url=server.url) as http:
        assert (await http.get("/health")).status_code == 200
        await asyncio.sleep(0.5)
        assert (await http.get("/health")).status_code == 200


async def test_an_oversized_request_head_is_refused(server: ServerProcess) -> None:
    reader, writer = await _raw(server)
    writer.write(b"GET /health HTTP/1.1\r\nHost: x\r\n" + b"X-Filler: " + b"a" * (80 * 1024))
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), timeout=5)
    assert answer.startswith(b"HTTP/1.1 431"), answer[:80]
    writer.close()


async def test_websocket_frames_are_capped_at_the_protocol_layer(server: ServerProcess) -> None:
    async with httpx.AsyncClient(base_url=server.url) as http:
        account = {"email": "w@example.com", "username": "wsuser", "password": "correct horse battery"}
        assert (await http.post(REGISTER, json=account)).status_code == 201
        token = (await http.post("/api/v1/auth/login", json=account)).json()["access_token"]
    url = server.url.replace("http://", "ws://") + f"/api/v1/events/ws?token={token}"
    async with websockets.connect(url, max_size=None) as ws:
        assert json.loads(await ws.recv())["event"] == "connection.established"
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await ws.send("x" * (2 * MIB))  # uvicorn never buffers it: WS_MAX_MESSAGE_BYTES is 65 KiB here
            await asyncio.wait_for(ws.recv(), timeout=5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009


async def _events_socket(url: str, token: str) -> Any:
    """The socket and its first frame (None when the server closed it instead)."""
    ws = await websockets.connect(url.replace("http://", "ws://") + f"/api/v1/events/ws?token={token}")
    try:
        return ws, json.loads(await ws.recv())
    except websockets.ConnectionClosed:
        return ws, None


async def test_sockets_per_user_and_per_ip_are_capped(settings: Settings) -> None:
    capped = settings.model_copy(update={"ws_max_per_user": 2, "ws_max_per_ip": 3})
    async with running_app(capped) as app, serving(app) as url, httpx.AsyncClient(base_url=url) as http:
        tokens = []
        for name in ("alice", "bobby"):
            account = {"email": f"{name}@example.com", "username": name, "password": "correct horse battery"}
            assert (await http.post(REGISTER, json=account)).status_code == 201
            tokens.append((await http.post("/api/v1/auth/login", json=account)).json()["access_token"])
        alice, bob = tokens
        opened = [await _events_socket(url, alice) for _ in range(2)]
        assert all(frame["event"] == "connection.established" for _, frame in opened)
        extra, frame = await _events_socket(url, alice)
        assert extra.close_code == 4409 and "too_many_sockets" in (extra.close_reason or ""), frame
        bob_first, frame = await _events_socket(url, bob)  # the third socket from this address
        assert frame["event"] == "connection.established"
        fourth = await websockets.connect(url.replace("http://", "ws://") + f"/api/v1/events/ws?token={bob}")
        with pytest.raises(websockets.ConnectionClosed):
            await fourth.recv()
        assert fourth.close_code == 4409 and "address" in (fourth.close_reason or "")
        # Closing a socket frees its slot.
        await opened[0][0].close()
        await bob_first.close()
        await asyncio.sleep(0.2)
        again, frame = await _events_socket(url, alice)
        assert frame["event"] == "connection.established"
        for ws in (opened[1][0], again):
            await ws.close()
