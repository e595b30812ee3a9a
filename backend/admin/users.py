"""`/api/v1/admin/users`: list and change users' role and active flag."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy import func, or_, select

from backend.audit.service import record_audit
from backend.auth.schemas import UserOut
from backend.deps import AdminUser, SessionDep
from backend.errors import Conflict, NotFound
from backend.models.user import User
from backend.pagination import Page, PageDep, paginate

router = APIRouter(prefix="/admin/users", tags=["admin"])


class UserUpdate(BaseModel):
    role: Literal["admin", "user"] | None = None
    is_active: bool | None = None


@router.get("", response_model=Page[UserOut])
async def list_users(
    _: AdminUser, session: SessionDep, params: PageDep, q: Annotated[str | None, Query(max_length=100)] = None
) -> Any:
    """Every user, newest first; `q` matches username, email or name."""
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
    items, total = await paginate(session, query, params)
    return Page[UserOut].build([UserOut.model_validate(u) for u in items], total, params)


@router.patch("/{user_id}", response_model=UserOut)
async def update_user(user_id: uuid.UUID, body: UserUpdate, admin: AdminUser, session: SessionDep) -> Any:
    """Change a user's role or active flag; the last active admin cannot be demoted or disabled."""
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound("User not found")
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
    for field, value in changes.items():
        setattr(user, field, value)
    await record_audit(session, action="user.updated", actor=admin, details={"user_id": str(user.id), **changes})
    await session.flush()
    return user
