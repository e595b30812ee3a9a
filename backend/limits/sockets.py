"""Open WebSockets per client IP (checked at the handshake, before the app) and per user (claimed by an
endpoint once it knows who the socket belongs to). Over either cap the socket is accepted and closed
at once with 4409 `too_many_sockets`, so the client can tell it apart from an auth failure.

Counts are per process: with replicas behind a balancer each one enforces its own caps.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

CLOSE_TOO_MANY_SOCKETS = 4409
_USER_KEY = "socket_limit_user"


class SocketCounts:
    """Open sockets by IP and by user; `SocketLimitMiddleware` and `claim_user_socket` share one."""

    def __init__(self, *, per_ip: int, per_user: int) -> None:
        self.per_ip = per_ip
        self.per_user = per_user
        self.by_ip: Counter[str] = Counter()
        self.by_user: Counter[str] = Counter()

    @staticmethod
    def _release(counter: Counter[str], key: str) -> None:
        counter[key] -= 1
        if counter[key] <= 0:
            del counter[key]


async def _accept_and_close(receive: Receive, send: Send, reason: str) -> None:
    message = await receive()
    if message["type"] != "websocket.connect":
        return
    await send({"type": "websocket.accept"})
    await send({"type": "websocket.close", "code": CLOSE_TOO_MANY_SOCKETS, "reason": reason})


class SocketLimitMiddleware:
    """Pure ASGI: refuses a WebSocket past the per-IP cap; releases both counts when the socket ends."""

    def __init__(self, app: ASGIApp, counts: SocketCounts) -> None:
        self.app = app
        self.counts = counts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            await self.app(scope, receive, send)
            return
        counts = self.counts
        ip = scope["client"][0] if scope.get("client") else "unknown"
        if counts.by_ip[ip] >= counts.per_ip:
            await _accept_and_close(receive, send, "too_many_sockets: this address has too many open sockets")
            return
        counts.by_ip[ip] += 1
        state: dict[str, Any] = scope.setdefault("state", {})
        try:
            await self.app(scope, receive, send)
        finally:
            counts._release(counts.by_ip, ip)
            user = state.pop(_USER_KEY, None)
            if user is not None:
                counts._release(counts.by_user, user)


async def claim_user_socket(websocket: Any, user_id: object) -> bool:
    """Count this socket against its user; past the cap close it (4409) and return False.

    `websocket` is an accepted Starlette WebSocket; the middleware releases the claim when it ends.
    """
    counts: SocketCounts | None = getattr(websocket.app.state, "socket_counts", None)
    if counts is None:
        return True
    key = str(user_id)
    if counts.by_user[key] >= counts.per_user:
        await websocket.close(
            code=CLOSE_TOO_MANY_SOCKETS, reason="too_many_sockets: this user has too many open sockets"
        )
        return False
    counts.by_user[key] += 1
    websocket.scope.setdefault("state", {})[_USER_KEY] = key
    return True
