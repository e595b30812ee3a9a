"""Accounts and tokens: the rules of registration, login and refresh-token rotation."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from backend.audit.service import record_audit
from backend.config import Settings
from backend.errors import Conflict, Unauthorized
from backend.models.refresh_token import RefreshToken
from backend.models.user import User
from backend.security.passwords import hash_password, verify_password
from backend.security.tokens import create_access_token, hash_token, new_refresh_token

from .registration import admission
from .schemas import RegisterRequest, TokenPair


async def create_user(
    session: AsyncSession,
    *,
    email: str,
    username: str,
    password: str,
    full_name: str | None = None,
    role: str | None = None,
) -> User:
    """Create an account; the first one on an empty database becomes admin unless `role` says so."""
    email = email.strip().lower()
    taken = await session.scalar(
        select(User.id).where(or_(func.lower(User.email) == email, func.lower(User.username) == username.lower()))
    )
    if taken is not None:
        raise Conflict("An account with this email or username already exists", code="user_exists")
    if role is None:
        role = "admin" if not await session.scalar(select(func.count()).select_from(User)) else "user"
    user = User(
        email=email,
        username=username,
        full_name=full_name,
        hashed_password=await hash_password(password),
        role=role,
    )
    session.add(user)
    try:
        await session.flush()
    except IntegrityError:
        raise Conflict("An account with this email or username already exists", code="user_exists") from None
    return user


async def register(session: AsyncSession, body: RegisterRequest, settings: Settings) -> User:
    """Create an account under the registration policy (pending under `approval`)."""
    status, invite = await admission(session, settings, email=body.email, invite_token=body.invite_token)
    user = await create_user(
        session, email=body.email, username=body.username, password=body.password, full_name=body.full_name
    )
    user.approval_status = status
    if invite is not None:
        invite.used_by = user.id
    await session.flush()
    details = {"role": user.role, "approval_status": status, "policy": settings.registration_policy}
    if invite is not None:
        details["invite_id"] = str(invite.id)
    await record_audit(session, action="user.registered", actor=user, details=details)
    return user


async def authenticate(session: AsyncSession, login: str, password: str) -> User:
    """The active user with this username/email and password, or `Unauthorized`."""
    login = login.strip()
    user = await session.scalar(
        select(User).where(or_(func.lower(User.username) == login.lower(), User.email == login.lower()))
    )
    if not await verify_password(password, user.hashed_password if user else None) or user is None:
        raise Unauthorized("Incorrect username or password", code="invalid_credentials")
    if not user.is_active:
        raise Unauthorized("This account is disabled", code="account_disabled")
    if user.approval_status == "rejected":
        raise Unauthorized("An administrator declined this account", code="account_rejected")
    return user  # a pending account signs in: /auth/me tells it that it waits


async def issue_tokens(
    session: AsyncSession, user: User, settings: Settings, *, family_id: uuid.UUID | None = None
) -> TokenPair:
    """A new access token and a new refresh token (in `family_id`, or a new family)."""
    access, expires_in = create_access_token(user.id, settings.jwt_secret, minutes=settings.access_token_expire_minutes)
    refresh = new_refresh_token()
    session.add(
        RefreshToken(
            user_id=user.id,
            family_id=family_id or uuid.uuid4(),
            token_hash=hash_token(refresh),
            expires_at=datetime.now(UTC) + timedelta(days=settings.refresh_token_expire_days),
        )
    )
    await session.flush()
    return TokenPair(access_token=access, refresh_token=refresh, expires_in=expires_in)


async def rotate_refresh_token(session: AsyncSession, token: str, settings: Settings) -> TokenPair:
    """Exchange a refresh token for a new pair. A token used twice revokes its whole family."""
    now = datetime.now(UTC)
    stored = await session.scalar(select(RefreshToken).where(RefreshToken.token_hash == hash_token(token)))
    if stored is None:
        raise Unauthorized("Invalid refresh token", code="invalid_refresh_token")
    # Mark it used atomically, so two concurrent refreshes with one token cannot both succeed.
    claimed = await session.execute(
        update(RefreshToken)
        .where(RefreshToken.id == stored.id, RefreshToken.used_at.is_(None), RefreshToken.revoked_at.is_(None))
        .values(used_at=now)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        await _revoke_family(session, stored.family_id, now)
        await record_audit(
            session,
            action="auth.refresh_reuse",
            outcome="failure",
            actor_label=str(stored.user_id),
            details={"family_id": str(stored.family_id)},
        )
        await session.commit()  # the revocation must stick even though the request fails
        raise Unauthorized("Refresh token reuse detected; please sign in again", code="refresh_token_reused")
    if stored.expires_at < now:
        raise Unauthorized("Refresh token expired", code="refresh_token_expired")
    user = await session.get(User, stored.user_id)
    if user is None or not user.is_active or user.approval_status == "rejected":
        raise Unauthorized("The account is disabled or no longer exists", code="invalid_refresh_token")
    return await issue_tokens(session, user, settings, family_id=stored.family_id)


async def revoke_refresh_token(session: AsyncSession, token: str, user: User) -> None:
    """Logout: revoke the refresh token's family (only the caller's own tokens)."""
    stored = await session.scalar(
        select(RefreshToken).where(RefreshToken.token_hash == hash_token(token), RefreshToken.user_id == user.id)
    )
    if stored is not None:
        await _revoke_family(session, stored.family_id, datetime.now(UTC))


async def revoke_all_refresh_tokens(session: AsyncSession, user_id: uuid.UUID) -> None:
    """Every refresh token of the user stops working (the account was disabled or rejected)."""
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
    )


async def _revoke_family(session: AsyncSession, family_id: uuid.UUID, now: datetime) -> None:
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
