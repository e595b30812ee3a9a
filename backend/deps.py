"""Typed dependency aliases shared by every router (`SessionDep`, `CurrentUser`, `AdminUser`...)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncSession

from backend.context import AppContext
from backend.errors import Forbidden, Unauthorized
from backend.models.user import User
from backend.security.tokens import InvalidToken, decode_access_token


def get_context(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx


ContextDep = Annotated[AppContext, Depends(get_context)]


async def get_session(ctx: ContextDep) -> AsyncIterator[AsyncSession]:
    """The request's unit of work: committed when the endpoint returns, rolled back on error."""
    async with ctx.db.session() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]

_bearer = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/login", auto_error=False)


async def user_from_token(session: AsyncSession, ctx: AppContext, token: str) -> User:
    """Resolve an access token to an active user or raise `Unauthorized`."""
    try:
        claims = decode_access_token(token, ctx.settings.jwt_secret)
    except InvalidToken:
        raise Unauthorized("Invalid or expired access token", code="invalid_token") from None
    user = await session.get(User, claims.user_id)
    if user is None or not user.is_active:
        raise Unauthorized("The account is disabled or no longer exists", code="invalid_token")
    return user


async def get_current_user(
    session: SessionDep, ctx: ContextDep, token: Annotated[str | None, Depends(_bearer)]
) -> User:
    if not token:
        raise Unauthorized("Not authenticated")
    return await user_from_token(session, ctx, token)


CurrentUser = Annotated[User, Depends(get_current_user)]


async def require_admin(user: CurrentUser) -> User:
    if not user.is_admin:
        raise Forbidden("This action requires the admin role")
    return user


AdminUser = Annotated[User, Depends(require_admin)]
