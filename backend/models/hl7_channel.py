"""HL7 channels (source → filter → transform → destinations) and the per-destination FIFO queues."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.base import Base, IdMixin, TimestampMixin, utcnow


class Hl7Channel(IdMixin, TimestampMixin, Base):
    """An admin-managed route: which traffic it takes, how it changes it, where it sends it."""

    __tablename__ = "hl7_channels"

    name: Mapped[str] = mapped_column(String(100), unique=True)
    enabled: Mapped[bool] = mapped_column(default=True)
    sources: Mapped[list[Any]] = mapped_column(default=list)  # "api" | "mllp"
    filter: Mapped[dict[str, Any]] = mapped_column(default=dict)  # message_types, sending_applications, ...
    transform: Mapped[list[Any]] = mapped_column(default=list)  # ordered field operations
    destination_ids: Mapped[list[Any]] = mapped_column(default=list)  # integration ids (strings)
    ordering: Mapped[str] = mapped_column(String(16), default="fifo")  # fifo | parallel
    validation: Mapped[str] = mapped_column(String(8), default="off")  # off | warn | reject
    on_negative_ack: Mapped[str] = mapped_column(String(8), default="retry")  # retry | fail (for AE)
    created_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)


class Hl7Queue(Base):
    """One FIFO queue per destination: the sequence counter, the drain lease and the admin's pause.

    The sequence is handed out by `UPDATE … next_seq = next_seq + n` inside the accepting transaction,
    so the row lock orders concurrent writers: a message's sequence number is final when it commits,
    and no later-numbered message can be visible before an earlier one.
    """

    __tablename__ = "hl7_queues"

    integration_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("integrations.id", ondelete="CASCADE"), primary_key=True
    )
    next_seq: Mapped[int] = mapped_column(BigInteger, default=1)
    paused: Mapped[bool] = mapped_column(default=False)
    paused_by: Mapped[str | None] = mapped_column(String(320))
    locked_by: Mapped[str | None] = mapped_column(String(64))
    locked_until: Mapped[datetime | None]
    # The head is backing off until then: no process needs to look at the queue before.
    next_attempt_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
