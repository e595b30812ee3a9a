"""Loopback HTTP servers for the SSRF tests: one that redirects every request, one that records hits.

Both bind loopback addresses only (127.0.0.0/8 is all local on Linux), so a client that wrongly
follows a redirect reaches a server of ours, never another machine."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class LoopbackHttp:
    """Answers every request with `status` (and `Location` when redirecting); records the paths it saw."""

    host: str = "127.0.0.1"
    status: int = 200
    location: str | None = None
    body: bytes = b'{"ok": true}'
    hits: list[str] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://{self.host}:{self.server.server_address[1]}"

    def start(self) -> LoopbackHttp:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("content-length") or "0")
                if length:
                    self.rfile.read(length)
                owner.hits.append(f"{self.command} {self.path}")
                self.send_response(owner.status)
                if owner.location:
                    self.send_header("Location", owner.location + self.path)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(owner.body)))
                self.end_headers()
                self.wfile.write(owner.body)

            def do_GET(self) -> None:
                self._answer()

            def do_POST(self) -> None:
                self._answer()

            def log_message(self, format: str, *args: object) -> None:  # quiet test output
                return

        self.server = ThreadingHTTPServer((self.host, 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
