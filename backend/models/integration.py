"""Integrations: a configured connection to a Jira site, an EMR or an HL7 endpoint."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.base import Base, IdMixin, TimestampMixin


class Integration(IdMixin, TimestampMixin, Base):
    __tablename__ = "integrations"

    # NULL owner: a shared integration made by the system (demo mode).
    owner_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    integration_type: Mapped[str] = mapped_column(String(32), index=True)
    visibility: Mapped[str] = mapped_column(String(16), default="private")  # private | shared
    description: Mapped[str | None] = mapped_column(String(500))
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Fernet token of the credentials JSON; never returned by the API.
    credentials_encrypted: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="untested")  # untested | ok | degraded | error | disabled
    is_active: Mapped[bool] = mapped_column(default=True)
    is_demo: Mapped[bool] = mapped_column(default=False)
    last_test: Mapped[dict[str, Any] | None]
    last_test_at: Mapped[datetime | None]
    last_sync: Mapped[datetime | None]
    # Live health from real calls (backend/integrations/health.py): last success / failure and error,
    # calls and failures of the last hour, as flushed by the health tracker.
    health: Mapped[dict[str, Any] | None]
    # Admin approval overrides: [{"tool": "<operation|tool name|*>", "decision": "allow|ask|deny"}]
    approval_overrides: Mapped[list[Any]] = mapped_column(default=list)
    # Who may use a shared integration: "all" users, or "restricted" to its grants (named users and
    # groups, `integration_grants`). Admins always may (they manage it). Private ones: the owner only.
    access: Mapped[str] = mapped_column(String(16), default="all", server_default="all")
