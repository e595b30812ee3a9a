"""Typed dependency aliases shared by every router (`SessionDep`, `CurrentUser`, `AdminUser`...)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncSession

from backend.context import AppContext
from backend.errors import Forbidden, Unauthorized
from backend.models.user import User
from backend.platform.api_keys import authenticate_key
from backend.platform.scopes import READ_METHODS, Scope
from backend.security.tokens import InvalidToken, decode_access_token


def get_context(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx


ContextDep = Annotated[AppContext, Depends(get_context)]


async def get_session(ctx: ContextDep) -> AsyncIterator[AsyncSession]:
    """The request's unit of work: committed when the endpoint returns, rolled back on error."""
    async with ctx.db.session() as session:
        yield session


# scope="function": commit before the response is sent. With FastAPI's default ("request") the commit ran
# after the response, so a client on a real socket could read its own write back as missing (create a
# session, then open its WebSocket: 4404) or act on a revoked key that still worked.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]

_bearer = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/login", auto_error=False)


async def token_principal(session: AsyncSession, ctx: AppContext, token: str) -> tuple[User, datetime]:
    """Resolve an access token to an active user and the token's expiry, or raise `Unauthorized`."""
    try:
        claims = decode_access_token(token, ctx.settings.jwt_secret)
    except InvalidToken:
        raise Unauthorized("Invalid or expired access token", code="invalid_token") from None
    user = await session.get(User, claims.user_id)
    if user is None or not user.is_active or user.approval_status == "rejected":
        raise Unauthorized("The account is disabled or no longer exists", code="invalid_token")
    return user, claims.expires_at


async def user_from_token(session: AsyncSession, ctx: AppContext, token: str) -> User:
    """Resolve an access token to an active user or raise `Unauthorized`."""
    return (await token_principal(session, ctx, token))[0]


_UNRESOLVED = object()
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="An API key (`sb_...`) with scopes")


@dataclass(frozen=True)
class Principal:
    """Who is calling: a person (bearer token, all their rights) or an API key (its owner, its scopes)."""

    user: User
    api_key_id: uuid.UUID | None = None
    scopes: frozenset[str] | None = None  # None: a person's own session, not limited by scopes
    rate_limit_per_minute: int | None = None
    expires_at: datetime | None = None  # the access token's exp or the key's expiry (long-lived streams)


async def resolve_principal(request: Request, session: AsyncSession, ctx: AppContext) -> Principal | None:
    """The caller from `X-API-Key` or `Authorization: Bearer` (None when neither is sent); once per request."""
    cached: Principal | object | None = getattr(request.state, "principal", _UNRESOLVED)
    if cached is not _UNRESOLVED:
        assert cached is None or isinstance(cached, Principal)
        return cached
    presented = request.headers.get("x-api-key")
    authorization = request.headers.get("authorization", "")
    principal: Principal | None = None
    if presented:
        identity = await authenticate_key(session, presented.strip())
        principal = Principal(
            identity.owner, identity.key_id, identity.scopes, identity.rate_limit_per_minute, identity.expires_at
        )
        usage = ctx.extras.get("api_key_usage")
        if usage is not None:
            usage.record(identity.key_id)
    elif authorization.lower().startswith("bearer ") and authorization[7:].strip():
        user, expires_at = await token_principal(session, ctx, authorization[7:].strip())
        principal = Principal(user, expires_at=expires_at)
    request.state.principal = principal
    return principal


async def get_principal(
    request: Request,
    session: SessionDep,
    ctx: ContextDep,
    _token: Annotated[str | None, Depends(_bearer)],
    _key: Annotated[str | None, Depends(_api_key)],
) -> Principal:
    principal = await resolve_principal(request, session, ctx)
    if principal is None:
        raise Unauthorized("Not authenticated")
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


async def get_signed_in_user(request: Request, principal: PrincipalDep) -> User:
    """The caller, approved or still pending (only /auth/me and /auth/logout take a pending account)."""
    # An API key reaches only routes that declare a scope it holds (`require_scope` on the router);
    # everything else (key management, admin, audit...) is closed to keys.
    if principal.scopes is not None and not getattr(request.state, "scope_granted", False):
        raise Forbidden("This API key's scopes do not allow this request", code="insufficient_scope")
    return principal.user


SignedInUser = Annotated[User, Depends(get_signed_in_user)]


async def get_current_user(user: SignedInUser) -> User:
    """The caller, who must be an approved account."""
    if not user.is_approved:
        raise Forbidden("This account is waiting for an administrator's approval", code="account_pending")
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


def require_scope(read: Scope, write: Scope | None = None) -> Callable[..., Awaitable[None]]:
    """Router dependency: API keys need `read` for GET/HEAD and `write` (default `read`) for the rest."""

    async def check(request: Request, principal: PrincipalDep) -> None:
        if principal.scopes is None:
            return
        needed = read if request.method in READ_METHODS else (write or read)
        if needed not in principal.scopes:
            raise Forbidden(f"This API key lacks the {needed!r} scope", code="insufficient_scope")
        request.state.scope_granted = True

    return check


async def require_admin(user: CurrentUser) -> User:
    if not user.is_admin:
        raise Forbidden("This action requires the admin role")
    return user


AdminUser = Annotated[User, Depends(require_admin)]
