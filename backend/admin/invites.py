"""`/api/v1/admin/invites`: one-time, expiring registration invites (admins only, audited).

The token is shown once, when the invite is created, and stored as a SHA-256 hash. Registering with
it works under every policy but `closed` and skips the wait under `approval`.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, EmailStr, Field
from sqlalchemy import select

from backend.audit.service import record_audit
from backend.auth.registration import new_invite_token
from backend.deps import AdminUser, SessionDep
from backend.errors import Conflict, NotFound
from backend.models.invite import RegistrationInvite
from backend.pagination import Page, PageDep, paginate
from backend.security.tokens import hash_token

router = APIRouter(prefix="/admin/invites", tags=["admin"])


class InviteCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailStr | None = Field(default=None, description="Only this address may use the invite")
    note: str | None = Field(default=None, max_length=200)
    expires_in_hours: int = Field(default=72, ge=1, le=24 * 30)


class InviteOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    email: str | None
    note: str | None
    expires_at: datetime
    used_at: datetime | None
    revoked_at: datetime | None
    created_at: datetime


class InviteCreated(InviteOut):
    token: str = Field(description="Shown once: give it to the person, who registers with `invite_token`")


@router.post("", status_code=status.HTTP_201_CREATED, response_model=InviteCreated)
async def create_invite(body: InviteCreate, admin: AdminUser, session: SessionDep) -> InviteCreated:
    token = new_invite_token()
    invite = RegistrationInvite(
        token_hash=hash_token(token),
        email=body.email.lower() if body.email else None,
        note=body.note,
        created_by=admin.id,
        expires_at=datetime.now(UTC) + timedelta(hours=body.expires_in_hours),
    )
    session.add(invite)
    await session.flush()
    await record_audit(
        session,
        action="invite.created",
        actor=admin,
        details={"invite_id": str(invite.id), "email": invite.email, "expires_at": invite.expires_at.isoformat()},
    )
    return InviteCreated(**InviteOut.model_validate(invite).model_dump(), token=token)


@router.get("", response_model=Page[InviteOut])
async def list_invites(_: AdminUser, session: SessionDep, params: PageDep) -> Any:
    """Every invite, newest first (without tokens)."""
    query = select(RegistrationInvite).order_by(RegistrationInvite.created_at.desc(), RegistrationInvite.id)
    items, total = await paginate(session, query, params)
    return Page[InviteOut].build([InviteOut.model_validate(i) for i in items], total, params)


@router.delete("/{invite_id}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_invite(invite_id: uuid.UUID, admin: AdminUser, session: SessionDep) -> None:
    """Revoke an unused invite."""
    invite = await session.get(RegistrationInvite, invite_id)
    if invite is None:
        raise NotFound("Invite not found")
    if invite.used_at is not None:
        raise Conflict("This invite was already used", code="invite_used")
    if invite.revoked_at is None:
        invite.revoked_at = datetime.now(UTC)
        await record_audit(session, action="invite.revoked", actor=admin, details={"invite_id": str(invite.id)})
    await session.flush()
