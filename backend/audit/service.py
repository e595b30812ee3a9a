"""Writing audit rows."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from backend.logging import request_id_var
from backend.models.audit import AuditEvent
from backend.models.user import User


def _uuid(value: uuid.UUID | str | None) -> uuid.UUID | None:
    if value is None or isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


async def record_audit(
    session: AsyncSession,
    *,
    action: str,
    actor: User | None = None,
    actor_label: str | None = None,
    outcome: str = "success",
    integration_id: uuid.UUID | str | None = None,
    patient_id: str | None = None,
    session_id: uuid.UUID | str | None = None,
    resource_types: Sequence[str] = (),
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add an audit row to the session (committed with the surrounding unit of work)."""
    event = AuditEvent(
        actor_id=actor.id if actor else None,
        actor=actor.username if actor else (actor_label or "system"),
        action=action,
        outcome=outcome,
        integration_id=_uuid(integration_id),
        patient_id=patient_id,
        session_id=_uuid(session_id),
        resource_types=list(resource_types),
        details=details or {},
        request_id=request_id_var.get(),
    )
    session.add(event)
    await session.flush()
    return event
