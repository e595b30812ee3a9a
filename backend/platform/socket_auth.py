"""Authenticating WebSockets with an API key (`X-API-Key` header), limited to one scope."""

from __future__ import annotations

from dataclasses import dataclass

from backend.context import AppContext
from backend.errors import AppError
from backend.models.user import User

from .api_keys import authenticate_key


@dataclass(frozen=True)
class SocketKeyResult:
    user: User | None
    close_code: int  # 4401 unknown/expired/revoked, 4403 the key lacks the scope; 0 when accepted
    reason: str


async def socket_key_auth(app: AppContext, presented: str, scope: str) -> SocketKeyResult:
    try:
        async with app.db.session() as session:
            identity = await authenticate_key(session, presented.strip())
    except AppError as exc:
        return SocketKeyResult(None, 4401, exc.code)
    if scope not in identity.scopes:
        return SocketKeyResult(None, 4403, "insufficient_scope")
    usage = app.extras.get("api_key_usage")
    if usage is not None:
        usage.record(identity.key_id)
    return SocketKeyResult(identity.owner, 0, "")


async def socket_key_user(app: AppContext, presented: str, scope: str) -> User | None:
    """The key's owner when the key is valid and holds `scope`, else None."""
    return (await socket_key_auth(app, presented, scope)).user
