"""Pure ASGI middleware (cheap, and safe for WebSockets): request ids, access log, security headers."""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.logging import request_id_var

log = logging.getLogger("switchboard.access")
_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
# A patient id in a path identifies a person: the access log keeps the route, not the id.
_PATIENT_IN_PATH = re.compile(r"(/patients/)(?!search$|aggregate$)[^/]+")

_SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
]
_APP_CSP = (
    b"default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    b"connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)
# Swagger UI and ReDoc load their bundles from a CDN and run an inline bootstrap script.
_DOCS_CSP = (
    b"default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    b"style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
    b"img-src 'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly; "
    b"font-src 'self' https://fonts.gstatic.com; "
    b"worker-src 'self' blob:; frame-ancestors 'none'"
)
_DOCS_PATHS = {"/docs", "/redoc", "/docs/oauth2-redirect"}


class RequestContextMiddleware:
    """Give every request an id (or accept the caller's), echo it, log one access line."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        incoming = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _VALID_ID.match(incoming) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status_holder = {"status": 0}

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                present = {name.lower() for name, _ in headers}
                headers.extend(h for h in _SECURITY_HEADERS if h[0] not in present)
                if b"content-security-policy" not in present:
                    csp = _DOCS_CSP if scope["path"] in _DOCS_PATHS else _APP_CSP
                    headers.append((b"content-security-policy", csp))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            if scope["type"] == "http":
                log.info(
                    "%s %s %s %.1fms",
                    scope["method"],
                    _PATIENT_IN_PATH.sub(r"\1{patient}", scope["path"]),
                    status_holder["status"],
                    (time.perf_counter() - started) * 1000,
                )
            request_id_var.reset(token)
