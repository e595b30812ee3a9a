"""A loopback HTTP server whose every answer a test sets: status, body bytes, headers, delay.

Threaded and synchronous on purpose: hypothesis drives it from plain (non-async) tests, and a hostile
answer (a stall, a body cut short) must not depend on the event loop of the client under test.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Answer:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "application/json"})
    delay_s: float = 0.0
    declared_length: int | None = None  # a Content-Length other than the body's (a body cut short)

    @classmethod
    def json(cls, value: Any, status: int = 200, content_type: str = "application/json") -> Answer:
        return cls(status, json.dumps(value).encode(), {"Content-Type": content_type})


@dataclass
class ScriptedServer:
    url: str
    answer: Answer = field(default_factory=Answer)
    by_path: dict[str, Answer] = field(default_factory=dict)  # path prefix -> answer, before `answer`
    requests: list[tuple[str, str]] = field(default_factory=list)

    def answer_for(self, path: str) -> Answer:
        for prefix, answer in self.by_path.items():
            if path.startswith(prefix):
                return answer
        return self.answer


@contextmanager
def scripted_server() -> Iterator[ScriptedServer]:
    """A server on 127.0.0.1 (random port) for the duration of the block."""
    state = ScriptedServer(url="")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            state.requests.append((self.command, self.path))
            answer = state.answer_for(self.path)
            if answer.delay_s:
                time.sleep(answer.delay_s)
            try:
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                declared = answer.declared_length if answer.declared_length is not None else len(answer.body)
                self.send_header("Content-Length", str(declared))
                if answer.declared_length is not None:
                    self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(answer.body)
                if answer.declared_length is not None:
                    self.close_connection = True
            except (BrokenPipeError, ConnectionResetError):  # the client gave up first (size caps, timeouts)
                self.close_connection = True

        do_GET = do_POST = do_PUT = do_DELETE = _serve  # noqa: N815 (http.server's names)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
