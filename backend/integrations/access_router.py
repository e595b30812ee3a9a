"""`/api/v1/integrations/{id}/access`: who may use a shared integration (admins only, audited)."""

from __future__ import annotations

import uuid
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy import delete, func, select

from backend.audit.service import record_audit
from backend.deps import AdminUser, SessionDep
from backend.errors import AppError, ValidationFailed
from backend.models.access import IntegrationGrant, UserGroup
from backend.models.integration import Integration
from backend.models.user import User

from . import service

router = APIRouter(prefix="/integrations", tags=["integrations"])

AccessMode = Literal["all", "restricted"]


class AccessIn(BaseModel):
    access: AccessMode = Field(description="all: every user; restricted: only the users and groups listed")
    user_ids: list[uuid.UUID] = Field(default_factory=list, max_length=1000)
    group_ids: list[uuid.UUID] = Field(default_factory=list, max_length=200)


class AccessOut(BaseModel):
    integration_id: uuid.UUID
    access: AccessMode
    user_ids: list[uuid.UUID]
    group_ids: list[uuid.UUID]


async def _access_out(session: SessionDep, integration: Integration) -> AccessOut:
    grants = list(
        await session.scalars(select(IntegrationGrant).where(IntegrationGrant.integration_id == integration.id))
    )
    return AccessOut(
        integration_id=integration.id,
        access=integration.access,  # type: ignore[arg-type]
        user_ids=sorted(g.user_id for g in grants if g.user_id is not None),
        group_ids=sorted(g.group_id for g in grants if g.group_id is not None),
    )


async def _shared(session: SessionDep, admin: User, integration_id: uuid.UUID) -> Integration:
    integration = await service.get_visible(session, admin, integration_id)
    if integration.visibility != "shared":
        raise AppError(
            "Only shared integrations have access grants; a private one is its owner's alone",
            code="not_shared",
            status_code=409,
        )
    return integration


async def _count_missing(session: SessionDep, model: type[User] | type[UserGroup], ids: set[uuid.UUID]) -> int:
    if not ids:
        return 0
    found = await session.scalar(select(func.count()).select_from(model).where(model.id.in_(ids)))
    return len(ids) - int(found or 0)


@router.get("/{integration_id}/access", response_model=AccessOut)
async def get_access(integration_id: uuid.UUID, admin: AdminUser, session: SessionDep) -> AccessOut:
    """Who may use this shared integration."""
    return await _access_out(session, await _shared(session, admin, integration_id))


@router.put("/{integration_id}/access", response_model=AccessOut)
async def replace_access(integration_id: uuid.UUID, body: AccessIn, admin: AdminUser, session: SessionDep) -> AccessOut:
    """Replace who may use this shared integration: everyone, or only the listed users and groups."""
    integration = await _shared(session, admin, integration_id)
    users, groups = set(body.user_ids), set(body.group_ids)
    if body.access == "all" and (users or groups):
        raise ValidationFailed("access=all takes no user_ids or group_ids", code="grants_need_restricted")
    if await _count_missing(session, User, users) or await _count_missing(session, UserGroup, groups):
        raise ValidationFailed("Some user_ids or group_ids do not exist", code="unknown_grantee")
    before = await _access_out(session, integration)
    await session.execute(delete(IntegrationGrant).where(IntegrationGrant.integration_id == integration.id))
    session.add_all(
        [IntegrationGrant(integration_id=integration.id, user_id=u) for u in users]
        + [IntegrationGrant(integration_id=integration.id, group_id=g) for g in groups]
    )
    integration.access = body.access
    await session.flush()
    after = await _access_out(session, integration)
    await record_audit(
        session,
        action="integration.access_changed",
        actor=admin,
        integration_id=integration.id,
        details={
            "before": before.model_dump(mode="json", exclude={"integration_id"}),
            "after": after.model_dump(mode="json", exclude={"integration_id"}),
        },
    )
    return after
