"""Users: people who sign in. The first account on an empty database is the admin."""

from __future__ import annotations

from typing import Literal

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.base import Base, IdMixin, TimestampMixin

Role = Literal["admin", "user"]
# approved: may use the service; pending: registered under REGISTRATION=approval, waits for an admin
# (may sign in and see that it waits, nothing else); rejected: an admin said no (cannot sign in).
ApprovalStatus = Literal["approved", "pending", "rejected"]


class User(IdMixin, TimestampMixin, Base):
    __tablename__ = "users"

    email: Mapped[str] = mapped_column(String(320), unique=True, index=True)
    username: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    full_name: Mapped[str | None] = mapped_column(String(200))
    hashed_password: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default="user")
    is_active: Mapped[bool] = mapped_column(default=True)
    is_verified: Mapped[bool] = mapped_column(default=False)
    approval_status: Mapped[str] = mapped_column(String(16), default="approved", server_default="approved")

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def is_approved(self) -> bool:
        return self.approval_status == "approved"
