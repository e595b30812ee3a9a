"""Applying the limits to API requests: which limit, for whom, and the `X-RateLimit-*` headers.

`enforce_rate_limit` runs first on every `/api/v1` route. Registration counts per client IP
(`RATE_LIMIT_AUTH`); login and refresh are not counted up front — their *failures* are, per account
and per IP, by `login_throttle` (successful sign-ins of colleagues behind one NAT cost nobody
anything); everything else per API key (its own limit, else `RATE_LIMIT_DEFAULT`) or per user;
requests that start chat turns also count against `RATE_LIMIT_CHAT` per user. Credentials that fail
to authenticate count against the caller's IP (`RATE_LIMIT_DEFAULT`), so a flood of bad keys or tokens
is cut off; not the tight sign-in limit, because a browser with an expired token legitimately sends a
few 401-bound requests at once before it refreshes. The middleware copies the tightest window's numbers
onto the response.
"""

from __future__ import annotations

from fastapi import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.deps import ContextDep, SessionDep, resolve_principal
from backend.errors import AppError, Unauthorized

from .rate_limits import LimitState, RateLimiter

# Public or credential-checking writes limited per IP under the auth limit (a password change checks
# the current password, a reset redeems a token): both are guessing targets.
AUTH_LIMITED_PATHS = frozenset({"/api/v1/auth/register", "/api/v1/auth/password-reset", "/api/v1/account/password"})
SIGN_IN_PATHS = frozenset({"/api/v1/auth/login", "/api/v1/auth/refresh"})  # throttled on failure only
_CHAT_WRITE_METHODS = frozenset({"POST", "PUT"})
_STATE_KEY = "rate_limit"


class RateLimitExceeded(AppError):
    status_code = 429
    code = "rate_limit_exceeded"

    def __init__(self, state: LimitState) -> None:
        super().__init__(f"Too many requests; retry in {state.retry_after} s.")
        self.state = state

    def headers(self) -> dict[str, str] | None:
        return {**self.state.headers(), "Retry-After": str(self.state.retry_after)}


def client_ip(request: Request) -> str:
    # The direct peer, or the forwarded client when the peer is in TRUSTED_PROXIES (`switchboard serve`
    # passes them to uvicorn's proxy-headers middleware; nothing else is believed).
    return request.client.host if request.client else "unknown"


async def enforce_rate_limit(request: Request, ctx: ContextDep, session: SessionDep) -> None:
    limiter: RateLimiter | None = ctx.extras.get("rate_limiter")
    if limiter is None:
        return
    path = request.url.path
    ip = client_ip(request)
    if request.method == "POST" and path in AUTH_LIMITED_PATHS:
        await _check(request, [await limiter.hit(limiter.auth, f"auth:{ip}")])
        return
    if request.method == "POST" and path in SIGN_IN_PATHS:
        return
    try:
        principal = await resolve_principal(request, session, ctx)
    except Unauthorized:
        await _check(request, [await limiter.hit(limiter.default, f"auth-failure:{ip}")])
        raise
    if principal is None:
        states = [await limiter.hit(limiter.default, f"ip:{ip}")]
    elif principal.api_key_id is not None:
        item = limiter.per_minute(principal.rate_limit_per_minute) if principal.rate_limit_per_minute else None
        states = [await limiter.hit(item or limiter.default, f"key:{principal.api_key_id}")]
    else:
        states = [await limiter.hit(limiter.default, f"user:{principal.user.id}")]
    if principal is not None and path.startswith("/api/v1/chat/") and request.method in _CHAT_WRITE_METHODS:
        states.append(await limiter.hit(limiter.chat, f"chat:{principal.user.id}"))
    await _check(request, states)


async def _check(request: Request, states: list[LimitState]) -> None:
    refused = [s for s in states if not s.allowed]
    if refused:
        raise RateLimitExceeded(max(refused, key=lambda s: s.reset_at))
    request.state.rate_limit = min(states, key=lambda s: s.remaining)


class RateLimitHeadersMiddleware:
    """Pure ASGI: adds the `X-RateLimit-*` headers recorded by `enforce_rate_limit` to the response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state: dict[str, object] = scope.setdefault("state", {})

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                limit = state.get(_STATE_KEY)
                if isinstance(limit, LimitState):
                    headers = list(message.get("headers", []))
                    present = {name.lower() for name, _ in headers}
                    for name, value in limit.headers().items():
                        if name.lower().encode() not in present:
                            headers.append((name.lower().encode(), value.encode()))
                    message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
