"""Access to shared integrations: groups of users and the grants an admin gives (users or groups)."""

from __future__ import annotations

import uuid

from sqlalchemy import CheckConstraint, ForeignKey, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.base import Base, IdMixin, TimestampMixin


class UserGroup(IdMixin, TimestampMixin, Base):
    """A named set of users (e.g. "Ward 7 nurses"), granted integrations as one."""

    __tablename__ = "user_groups"

    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str | None] = mapped_column(String(500))


class UserGroupMember(Base):
    __tablename__ = "user_group_members"

    group_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("user_groups.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class IntegrationGrant(IdMixin, TimestampMixin, Base):
    """One user or one group may use a shared integration whose `access` is "restricted"."""

    __tablename__ = "integration_grants"
    # Exactly one grantee; the admin's PUT replaces the whole set, so no duplicates are written.
    __table_args__ = (CheckConstraint("(user_id IS NULL) <> (group_id IS NULL)", name="one_grantee"),)

    integration_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("integrations.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    group_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("user_groups.id", ondelete="CASCADE"), index=True
    )
