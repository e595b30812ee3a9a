"""Password change and reset: verify, re-hash, revoke refresh tokens, audit."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend.audit.service import record_audit
from backend.errors import AppError, Forbidden, NotFound
from backend.models.password_reset import PasswordResetToken
from backend.models.refresh_token import RefreshToken
from backend.models.user import User
from backend.security.passwords import hash_password, verify_password
from backend.security.tokens import hash_token, new_refresh_token

RESET_LIFETIME = timedelta(hours=24)


async def needs_admin(session: AsyncSession) -> bool:
    """True on an empty database: the first registered account becomes the admin."""
    return not await session.scalar(select(func.count()).select_from(User))


async def _revoke_sessions(session: AsyncSession, user_id: uuid.UUID, keep_family: uuid.UUID | None) -> int:
    query = update(RefreshToken).where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
    if keep_family is not None:
        query = query.where(RefreshToken.family_id != keep_family)
    result = await session.execute(query.values(revoked_at=datetime.now(UTC)))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def change_password(session: AsyncSession, user: User, current: str, new: str, refresh_token: str | None) -> int:
    """Set a new password after checking the current one; returns how many other sessions were signed out."""
    if not await verify_password(current, user.hashed_password):
        await record_audit(session, action="auth.password_changed", actor=user, outcome="failure")
        await session.commit()  # the failed attempt is audited although the request fails
        # 403, not 401: the session is fine (a client must not take this for an expired token).
        raise Forbidden("The current password is not correct", code="invalid_current_password")
    if current == new:
        raise AppError("The new password must differ from the current one", code="password_unchanged", status_code=422)
    keep: uuid.UUID | None = None
    if refresh_token:
        keep = await session.scalar(
            select(RefreshToken.family_id).where(
                RefreshToken.token_hash == hash_token(refresh_token), RefreshToken.user_id == user.id
            )
        )
    user.hashed_password = await hash_password(new)
    revoked = await _revoke_sessions(session, user.id, keep)
    await record_audit(session, action="auth.password_changed", actor=user, details={"sessions_revoked": revoked})
    return revoked


async def create_reset_link(session: AsyncSession, admin: User, user_id: uuid.UUID) -> tuple[str, datetime]:
    """A one-time token for `user_id` (earlier unused links of theirs stop working)."""
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound("User not found")
    now = datetime.now(UTC)
    await session.execute(
        update(PasswordResetToken)
        .where(PasswordResetToken.user_id == user.id, PasswordResetToken.used_at.is_(None))
        .values(used_at=now)
    )
    token = new_refresh_token()  # 256 bits from `secrets`, URL-safe
    expires_at = now + RESET_LIFETIME
    session.add(
        PasswordResetToken(user_id=user.id, created_by_id=admin.id, token_hash=hash_token(token), expires_at=expires_at)
    )
    await record_audit(
        session,
        action="auth.password_reset_link",
        actor=admin,
        details={"user_id": str(user.id), "username": user.username, "expires_at": expires_at.isoformat()},
    )
    await session.flush()
    return token, expires_at


async def reset_password(session: AsyncSession, token: str, new: str) -> User:
    """Use a reset link once: new password, every session signed out."""
    now = datetime.now(UTC)
    stored = await session.scalar(select(PasswordResetToken).where(PasswordResetToken.token_hash == hash_token(token)))
    if stored is None or stored.used_at is not None or stored.expires_at < now:
        raise AppError(
            "This reset link is not valid (used, replaced or expired); ask an admin for a new one",
            code="invalid_reset_token",
            status_code=400,
        )
    # Claimed atomically: two requests with one link cannot both set a password.
    claimed = await session.execute(
        update(PasswordResetToken)
        .where(PasswordResetToken.id == stored.id, PasswordResetToken.used_at.is_(None))
        .values(used_at=now)
    )
    user = await session.get(User, stored.user_id)
    if claimed.rowcount != 1 or user is None or not user.is_active:  # type: ignore[attr-defined]
        raise AppError("This reset link is not valid", code="invalid_reset_token", status_code=400)
    user.hashed_password = await hash_password(new)
    revoked = await _revoke_sessions(session, user.id, None)
    await record_audit(session, action="auth.password_reset", actor=user, details={"sessions_revoked": revoked})
    return user
