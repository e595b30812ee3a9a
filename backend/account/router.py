"""`/api/v1/auth/setup`, `/api/v1/auth/password-reset` (public), `/api/v1/account/password`, and the
admin's `/api/v1/admin/users/{id}/password-reset` link."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from backend.deps import AdminUser, CurrentUser, SessionDep

from . import service
from .schemas import PasswordChange, PasswordReset, ResetLink, SetupState

router = APIRouter(tags=["auth"])


@router.get("/auth/setup", response_model=SetupState)
async def setup_state(session: SessionDep) -> SetupState:
    """Public: whether the first account (the administrator) still has to be created."""
    return SetupState(needs_admin=await service.needs_admin(session))


@router.post("/account/password", status_code=status.HTTP_204_NO_CONTENT)
async def change_password(body: PasswordChange, user: CurrentUser, session: SessionDep) -> None:
    """Change the caller's password; every other session's refresh token is revoked."""
    await service.change_password(session, user, body.current_password, body.new_password, body.refresh_token)


@router.post("/admin/users/{user_id}/password-reset", response_model=ResetLink, tags=["admin"])
async def create_reset_link(user_id: uuid.UUID, admin: AdminUser, session: SessionDep) -> ResetLink:
    """A one-time link (24 hours) for the admin to pass on; earlier unused links of the user stop working."""
    token, expires_at = await service.create_reset_link(session, admin, user_id)
    return ResetLink(token=token, path=f"/reset-password#token={token}", expires_at=expires_at)


@router.post("/auth/password-reset", status_code=status.HTTP_204_NO_CONTENT)
async def reset_password(body: PasswordReset, session: SessionDep) -> None:
    """Public: set a new password with a reset link's token (once); every session is signed out."""
    await service.reset_password(session, body.token, body.new_password)
