"""`/api/v1/admin/users`: list users, change their role and active flag, approve or reject sign-ups.

Every change that takes rights away reaches the user's open channels at once (`principal_changed`,
after the commit): a disabled or rejected user's refresh tokens are revoked, their sockets and SSE
streams closed and their running turns stopped; a demoted admin's channels are closed (4403).
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sqlalchemy import func, or_, select

from backend.audit.service import record_audit
from backend.auth.schemas import UserOut
from backend.auth.service import revoke_all_refresh_tokens
from backend.deps import AdminUser, ContextDep, SessionDep
from backend.errors import Conflict, NotFound
from backend.models.user import User
from backend.pagination import Page, PageDep, paginate
from backend.security.principals import principal_changed

router = APIRouter(prefix="/admin/users", tags=["admin"])


class UserUpdate(BaseModel):
    role: Literal["admin", "user"] | None = None
    is_active: bool | None = None


class RejectRequest(BaseModel):
    reason: str | None = Field(default=None, max_length=500)


@router.get("", response_model=Page[UserOut])
async def list_users(
    _: AdminUser,
    session: SessionDep,
    params: PageDep,
    q: Annotated[str | None, Query(max_length=100)] = None,
    approval_status: Literal["approved", "pending", "rejected"] | None = None,
) -> Any:
    """Every user, newest first; `q` matches username, email or name; `approval_status=pending` lists
    the sign-ups waiting for a decision."""
    query = select(User).order_by(User.created_at.desc(), User.id)
    if q:
        pattern = f"%{q.lower()}%"
        query = query.where(
            or_(
                func.lower(User.username).like(pattern),
                func.lower(User.email).like(pattern),
                func.lower(User.full_name).like(pattern),
            )
        )
    if approval_status:
        query = query.where(User.approval_status == approval_status)
    items, total = await paginate(session, query, params)
    return Page[UserOut].build([UserOut.model_validate(u) for u in items], total, params)


async def _get(session: SessionDep, user_id: uuid.UUID) -> User:
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound("User not found")
    return user


@router.patch("/{user_id}", response_model=UserOut)
async def update_user(
    user_id: uuid.UUID, body: UserUpdate, admin: AdminUser, session: SessionDep, ctx: ContextDep
) -> Any:
    """Change a user's role or active flag; the last active admin cannot be demoted or disabled.
    Disabling revokes the user's refresh tokens, closes their channels and stops their turns."""
    user = await _get(session, user_id)
    loses_admin = (
        user.is_admin
        and user.is_active
        and ((body.role is not None and body.role != "admin") or body.is_active is False)
    )
    if loses_admin:
        active_admins = await session.scalar(
            select(func.count()).select_from(User).where(User.role == "admin", User.is_active.is_(True))
        )
        if (active_admins or 0) <= 1:
            raise Conflict("The last active admin cannot be demoted or deactivated", code="last_admin")
    changes = body.model_dump(exclude_none=True)
    disabled = user.is_active and body.is_active is False
    changed = any(getattr(user, field) != value for field, value in changes.items())
    for field, value in changes.items():
        setattr(user, field, value)
    if disabled:
        await revoke_all_refresh_tokens(session, user.id)
    await record_audit(session, action="user.updated", actor=admin, details={"user_id": str(user.id), **changes})
    await session.commit()  # the channels re-read the user: the change must be visible first
    if changed:
        await principal_changed(ctx, user.id, lost_access=disabled)
    return user


@router.post("/{user_id}/approve", response_model=UserOut)
async def approve_user(user_id: uuid.UUID, admin: AdminUser, session: SessionDep, ctx: ContextDep) -> Any:
    """Let a pending (or earlier rejected) account use the service."""
    user = await _get(session, user_id)
    if user.approval_status == "approved":
        raise Conflict("This account is already approved", code="already_approved")
    previous = user.approval_status
    user.approval_status = "approved"
    await record_audit(
        session, action="user.approved", actor=admin, details={"user_id": str(user.id), "previous": previous}
    )
    await session.commit()
    await principal_changed(ctx, user.id, lost_access=False)
    return user


@router.post("/{user_id}/reject", response_model=UserOut)
async def reject_user(
    user_id: uuid.UUID, admin: AdminUser, session: SessionDep, ctx: ContextDep, body: RejectRequest | None = None
) -> Any:
    """Decline a pending account: it can no longer sign in (disable approved accounts instead)."""
    user = await _get(session, user_id)
    if user.approval_status != "pending":
        raise Conflict("Only pending accounts can be rejected; disable an approved one", code="not_pending")
    user.approval_status = "rejected"
    await revoke_all_refresh_tokens(session, user.id)
    reason = body.reason or "" if body is not None else ""
    await record_audit(
        session, action="user.rejected", actor=admin, details={"user_id": str(user.id), "reason": reason}
    )
    await session.commit()
    await principal_changed(ctx, user.id, lost_access=True)
    return user
