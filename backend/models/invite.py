"""Registration invites: one-time, expiring tokens an admin hands out (stored hashed)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.base import Base, IdMixin, TimestampMixin


class RegistrationInvite(IdMixin, TimestampMixin, Base):
    __tablename__ = "registration_invites"

    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # When set, only this address may register with the invite.
    email: Mapped[str | None] = mapped_column(String(320))
    note: Mapped[str | None] = mapped_column(String(200))
    created_by: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("users.id", ondelete="SET NULL"))
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    used_by: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("users.id", ondelete="SET NULL"))
    revoked_at: Mapped[datetime | None]
