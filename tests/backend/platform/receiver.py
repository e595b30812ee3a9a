"""An independent webhook receiver for tests: a stdlib HTTP server on loopback that checks signatures
with its own HMAC code (nothing imported from the backend), and can fail on purpose."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    signature_ok: bool
    status_sent: int

    @property
    def json(self) -> dict[str, Any]:
        return dict(json.loads(self.body))


@dataclass
class Receiver:
    """Answers 200, or `failure_status` for the first `fail_first` requests (or always)."""

    secret: str = ""
    fail_first: int = 0
    always_fail: bool = False
    failure_status: int = 500
    redirect_to: str | None = None
    received: list[Received] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def verify(self, headers: dict[str, str], body: bytes) -> bool:
        timestamp = headers.get("x-switchboard-timestamp", "")
        mac = hmac.new(self.secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
        expected = "sha256=" + mac.hexdigest()
        return bool(self.secret) and hmac.compare_digest(expected, headers.get("x-switchboard-signature", ""))

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                headers = {k.lower(): v for k, v in self.headers.items()}
                failing = receiver.always_fail or len(receiver.received) < receiver.fail_first
                status = 302 if receiver.redirect_to else (receiver.failure_status if failing else 200)
                receiver.received.append(Received(headers, body, receiver.verify(headers, body), status))
                self.send_response(status)
                if receiver.redirect_to:
                    self.send_header("Location", receiver.redirect_to)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    async def wait_for(self, count: int, timeout: float = 10) -> list[Received]:
        deadline = time.monotonic() + timeout
        # The server thread appends; polling keeps it free of event-loop plumbing.
        while len(self.received) < count and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.02)
        assert len(self.received) >= count, f"expected {count} deliveries, got {len(self.received)}"
        return self.received
