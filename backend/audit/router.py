"""`/api/v1/audit`: the audit log, for admins, with filters."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from backend.deps import AdminUser, SessionDep
from backend.models.audit import AuditEvent
from backend.pagination import Page, PageDep, paginate

router = APIRouter(prefix="/audit", tags=["audit"])


class AuditEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    created_at: datetime
    actor_id: uuid.UUID | None
    actor: str | None
    action: str
    outcome: str
    integration_id: uuid.UUID | None
    patient_id: str | None
    session_id: uuid.UUID | None
    resource_types: list[str]
    details: dict[str, Any]
    request_id: str | None


@router.get("", response_model=Page[AuditEventOut])
async def list_audit_events(
    _: AdminUser,
    session: SessionDep,
    params: PageDep,
    actor: Annotated[str | None, Query(max_length=320, description="username or user id")] = None,
    action: Annotated[str | None, Query(max_length=64, description="exact action, or a prefix ending in *")] = None,
    integration_id: uuid.UUID | None = None,
    patient_id: Annotated[str | None, Query(max_length=128)] = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Any:
    """Audit events, newest first."""
    query = select(AuditEvent).order_by(AuditEvent.created_at.desc(), AuditEvent.id)
    if actor:
        try:
            query = query.where(AuditEvent.actor_id == uuid.UUID(actor))
        except ValueError:
            query = query.where(AuditEvent.actor == actor)
    if action:
        query = (
            query.where(AuditEvent.action.startswith(action[:-1]))
            if action.endswith("*")
            else query.where(AuditEvent.action == action)
        )
    if integration_id:
        query = query.where(AuditEvent.integration_id == integration_id)
    if patient_id:
        query = query.where(AuditEvent.patient_id == patient_id)
    if since:
        query = query.where(AuditEvent.created_at >= since)
    if until:
        query = query.where(AuditEvent.created_at <= until)
    items, total = await paginate(session, query, params)
    return Page[AuditEventOut].build([AuditEventOut.model_validate(e) for e in items], total, params)
