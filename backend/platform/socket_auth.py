"""Authenticating WebSockets: an access token, or an API key (`X-API-Key` header) limited to one scope.

Both give a `ChannelPrincipal` for the socket's `ChannelGuard` (backend/security/principals.py), which
re-checks it for as long as the socket lives.
"""

from __future__ import annotations

from dataclasses import dataclass

from backend.context import AppContext
from backend.deps import token_principal
from backend.errors import AppError
from backend.models.user import User
from backend.security.principals import CLOSE_FORBIDDEN, CLOSE_UNAUTHENTICATED, ChannelPrincipal, refusal_for

from .api_keys import authenticate_key


@dataclass(frozen=True)
class SocketKeyResult:
    user: User | None
    close_code: int  # 4401 unknown/expired/revoked, 4403 the key lacks the scope; 0 when accepted
    reason: str
    principal: ChannelPrincipal | None = None


async def socket_key_auth(app: AppContext, presented: str, scope: str) -> SocketKeyResult:
    try:
        async with app.db.session() as session:
            identity = await authenticate_key(session, presented.strip())
    except AppError as exc:
        return SocketKeyResult(None, CLOSE_UNAUTHENTICATED, exc.code)
    if scope not in identity.scopes:
        return SocketKeyResult(None, CLOSE_FORBIDDEN, "insufficient_scope")
    usage = app.extras.get("api_key_usage")
    if usage is not None:
        usage.record(identity.key_id)
    principal = ChannelPrincipal(
        identity.owner, identity.key_id, identity.scopes, identity.expires_at, channel_scope=scope
    )
    return SocketKeyResult(identity.owner, 0, "", principal)


async def socket_key_user(app: AppContext, presented: str, scope: str) -> User | None:
    """The key's owner when the key is valid and holds `scope`, else None."""
    return (await socket_key_auth(app, presented, scope)).user


async def socket_token_auth(app: AppContext, token: str) -> SocketKeyResult:
    """An access token: the user and the token's expiry; a pending account is refused with 4403."""
    try:
        async with app.db.session() as session:
            user, expires_at = await token_principal(session, app, token)
    except AppError as exc:
        return SocketKeyResult(None, CLOSE_UNAUTHENTICATED, exc.code)
    refusal = refusal_for(user)
    if refusal is not None:
        return SocketKeyResult(None, refusal.code, refusal.reason)
    return SocketKeyResult(user, 0, "", ChannelPrincipal(user, expires_at=expires_at))
