"""MLLP over asyncio: framing (0x0B … 0x1C 0x0D), a client that reads the ACK, and a listener.

The client keeps its connection for bursts (one send at a time, reconnecting once on a broken
connection) and treats an ACK whose MSA-2 does not match the sent control id as a failure. The
listener survives partial frames, garbage between frames, oversize frames and handler crashes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import time
from collections.abc import Awaitable, Callable

from pydantic import BaseModel

from tools.errors import ConnectorTimeout, ConnectorUnreachable
from tools.hl7.ack import ACCEPTED, MEANINGS, build_ack, parse_ack
from tools.hl7.message import inspect, summarize
from tools.net import OutboundPolicy
from tools.pinning import open_pinned_connection

START, END, CR = b"\x0b", b"\x1c", b"\x0d"
DEFAULT_MAX_FRAME = 1_048_576

log = logging.getLogger("switchboard.hl7.mllp")


def frame(message: str) -> bytes:
    return START + message.encode("utf-8") + END + CR


class AckResult(BaseModel):
    """The outcome of one send."""

    code: str | None
    accepted: bool
    control_id: str | None
    acked_control_id: str | None
    meaning: str | None
    text: str | None
    error: str | None
    latency_ms: float
    raw: str


class FrameReader:
    """Pulls complete MLLP frames out of a byte stream; discards garbage, bounds memory."""

    def __init__(self, max_frame: int = DEFAULT_MAX_FRAME) -> None:
        self.buffer = bytearray()
        self.max_frame = max_frame

    def feed(self, data: bytes) -> list[bytes | None]:
        """Complete frames (None marks an oversize frame that was dropped)."""
        self.buffer.extend(data)
        frames: list[bytes | None] = []
        while True:
            start = self.buffer.find(START)
            if start < 0:
                self.buffer.clear()  # garbage between frames
                return frames
            if start:
                del self.buffer[:start]
            end = self.buffer.find(END + CR)
            if end < 0:
                if len(self.buffer) > self.max_frame:
                    self.buffer.clear()
                    frames.append(None)
                return frames
            body = bytes(self.buffer[1:end])
            del self.buffer[: end + 2]
            frames.append(None if len(body) > self.max_frame else body)


class MllpClient:
    """Sends messages to one MLLP endpoint and returns the parsed ACK."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        timeout_s: float = 10.0,
        tls: ssl.SSLContext | None = None,
        outbound: OutboundPolicy | None = None,
    ) -> None:
        self.host, self.port, self.timeout_s, self.tls = host, port, timeout_s, tls
        # With a policy, each connect resolves once, checks, and connects to that address (no rebinding).
        self.outbound = outbound
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._lock = asyncio.Lock()

    async def _connect(self) -> None:
        try:
            opening = (
                open_pinned_connection(self.outbound, self.host, self.port, tls=self.tls)
                if self.outbound is not None
                else asyncio.open_connection(self.host, self.port, ssl=self.tls)
            )
            self._reader, self._writer = await asyncio.wait_for(opening, self.timeout_s)
        except TimeoutError:
            if self.tls is not None:  # TCP may have connected; a plain-MLLP port never answers the TLS hello
                raise ConnectorTimeout(
                    f"Connecting with TLS to {self.host}:{self.port} timed out after {self.timeout_s:g} s.",
                    remediation="Check that the endpoint speaks TLS on this port (or turn TLS off), and any firewall.",
                ) from None
            raise ConnectorTimeout(
                f"Connecting to {self.host}:{self.port} timed out after {self.timeout_s:g} s.",
                remediation="Check the host, port and any firewall in between.",
            ) from None
        except ssl.SSLError as exc:
            raise ConnectorUnreachable(
                f"TLS handshake with {self.host}:{self.port} failed: {exc.reason}.",
                remediation="Check that the endpoint speaks TLS and its certificate.",
            ) from None
        except OSError as exc:
            raise ConnectorUnreachable(
                f"Cannot connect to {self.host}:{self.port}: {exc.strerror or exc}.",
                remediation="Check that the receiving system is listening on that port.",
            ) from None

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(Exception):
                await self._writer.wait_closed()
        self._reader = self._writer = None

    async def send(self, message: str) -> AckResult:
        """Send one message and wait for its ACK (raises ConnectorTimeout / ConnectorUnreachable)."""
        async with self._lock:
            for attempt in (1, 2):
                if self._writer is None:
                    await self._connect()
                try:
                    return await self._exchange(message)
                except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError) as exc:
                    await self.close()
                    if attempt == 2:
                        raise ConnectorUnreachable(f"The connection to {self.host}:{self.port} broke: {exc}.") from exc
                except TimeoutError:
                    await self.close()
                    raise ConnectorTimeout(
                        f"No ACK from {self.host}:{self.port} within {self.timeout_s:g} s.",
                        remediation="The receiver may be down or slow; it will be retried.",
                    ) from None
        raise AssertionError("unreachable")

    async def _exchange(self, message: str) -> AckResult:
        assert self._reader is not None and self._writer is not None
        sent_id = summarize(message).control_id
        started = time.perf_counter()
        self._writer.write(frame(message))
        await self._writer.drain()
        reader = FrameReader()
        # One deadline for the whole ACK: a peer trickling bytes that never make a frame must not reset it.
        deadline = asyncio.get_running_loop().time() + self.timeout_s
        while True:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise TimeoutError
            chunk = await asyncio.wait_for(self._reader.read(65536), remaining)
            if not chunk:
                raise ConnectionResetError("closed by the receiver before it acknowledged")
            frames = [f for f in reader.feed(chunk) if f is not None]
            if frames:
                raw = frames[0].decode("utf-8", errors="replace")
                break
        parsed = parse_ack(raw, sent_id)
        latency = round((time.perf_counter() - started) * 1000, 2)
        matches = parsed.acked_control_id == sent_id
        error = parsed.error or (parsed.text if parsed.code not in ACCEPTED else None)
        if not matches:
            error = f"ACK for control id {parsed.acked_control_id!r}, expected {sent_id!r} (ack_mismatch)."
        return AckResult(
            code=parsed.code,
            accepted=bool(parsed.code in ACCEPTED and matches),
            control_id=sent_id,
            acked_control_id=parsed.acked_control_id,
            meaning=MEANINGS.get(parsed.code or ""),
            text=parsed.text,
            error=error,
            latency_ms=latency,
            raw=raw,
        )


Handler = Callable[[str, str], Awaitable[str]]


async def default_handler(message: str, peer: str) -> str:
    """AA for a valid message, AE with the problems otherwise."""
    result = inspect(message)
    if result.errors:
        return build_ack(message, "AE", "; ".join(f"{e['location']}: {e['message']}" for e in result.errors))
    return build_ack(message, "AA", "Message accepted")


class MllpListener:
    """An MLLP server: each complete frame goes to `handler(message, peer)`, whose ACK is sent back."""

    def __init__(
        self,
        handler: Handler = default_handler,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        max_frame: int = DEFAULT_MAX_FRAME,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.handler, self.host, self.port, self.max_frame, self.tls = handler, host, port, max_frame, tls
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.StreamWriter] = set()

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._serve, self.host, self.port, ssl=self.tls)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self.port

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for writer in list(self._connections):  # let each handler end on EOF instead of being cancelled
                writer.close()
            await asyncio.sleep(0)
            await self._server.wait_closed()
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = ":".join(str(p) for p in (writer.get_extra_info("peername") or ("?",))[:2])
        frames = FrameReader(self.max_frame)
        self._connections.add(writer)
        try:
            while data := await reader.read(65536):
                for body in frames.feed(data):
                    writer.write(frame(await self._answer(body, peer)))
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            pass
        finally:
            self._connections.discard(writer)
            writer.close()
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await writer.wait_closed()

    async def _answer(self, body: bytes | None, peer: str) -> str:
        if body is None:
            return build_ack("", "AR", f"Frame larger than {self.max_frame} bytes rejected")
        message = body.decode("utf-8", errors="replace")
        try:
            return await self.handler(message, peer)
        except Exception:
            log.exception("HL7 handler failed for a message from %s", peer)
            return build_ack(message, "AE", "The receiver failed to process the message")
