"""Audit events: who did what to which integration or patient, and how it went."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.base import Base, IdMixin, utcnow


class AuditEvent(IdMixin, Base):
    __tablename__ = "audit_events"

    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    actor: Mapped[str | None] = mapped_column(String(320))  # username or "system" / "api_key:<prefix>"
    action: Mapped[str] = mapped_column(String(64), index=True)
    outcome: Mapped[str] = mapped_column(String(16), default="success")
    integration_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    patient_id: Mapped[str | None] = mapped_column(String(128), index=True)
    session_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    resource_types: Mapped[list[Any]] = mapped_column(default=list)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    request_id: Mapped[str | None] = mapped_column(String(64))
