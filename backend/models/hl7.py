"""The HL7 message store and its delivery outbox (one row per message and destination)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.base import Base, IdMixin, utcnow


class Hl7Message(IdMixin, Base):
    """Every inbound and outbound HL7 v2 message, raw and summarised."""

    __tablename__ = "hl7_messages"
    __table_args__ = (Index("ix_hl7_messages_received", "received_at"),)

    direction: Mapped[str] = mapped_column(String(8))  # inbound | outbound
    owner_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)  # who submitted it (outbound)
    source: Mapped[str | None] = mapped_column(String(200))
    message_type: Mapped[str | None] = mapped_column(String(16), index=True)  # e.g. ADT
    trigger_event: Mapped[str | None] = mapped_column(String(16))  # e.g. A01
    version: Mapped[str | None] = mapped_column(String(8))
    control_id: Mapped[str | None] = mapped_column(String(64), index=True)
    patient_id: Mapped[str | None] = mapped_column(String(128), index=True)
    status: Mapped[str] = mapped_column(String(16), default="accepted", index=True)
    raw: Mapped[str] = mapped_column(Text)
    ack: Mapped[str | None] = mapped_column(Text)
    ack_code: Mapped[str | None] = mapped_column(String(4))
    error: Mapped[str | None] = mapped_column(Text)
    problems: Mapped[list[Any]] = mapped_column(default=list)
    peer: Mapped[str | None] = mapped_column(String(200))
    sending_application: Mapped[str | None] = mapped_column(String(200))
    sending_facility: Mapped[str | None] = mapped_column(String(200))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None]
    processing_time_ms: Mapped[float | None]


class Hl7Delivery(IdMixin, Base):
    """The outbox: one destination of one message, claimed by a worker, retried with back-off."""

    __tablename__ = "hl7_deliveries"
    __table_args__ = (
        Index("ix_hl7_deliveries_due", "status", "next_attempt_at"),
        Index("ix_hl7_deliveries_queue", "integration_id", "ordering", "status", "seq"),
    )

    message_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("hl7_messages.id", ondelete="CASCADE"), index=True)
    integration_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("integrations.id", ondelete="SET NULL"), index=True
    )
    system: Mapped[str] = mapped_column(String(100))
    channel_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("hl7_channels.id", ondelete="SET NULL"), index=True
    )
    # fifo: in `seq` order per destination, one at a time; parallel: claimed and sent independently.
    ordering: Mapped[str] = mapped_column(String(16), default="parallel", server_default="parallel")
    seq: Mapped[int | None] = mapped_column(BigInteger)
    on_negative_ack: Mapped[str] = mapped_column(String(8), default="retry", server_default="retry")
    payload: Mapped[str | None] = mapped_column(Text)  # the channel's transformed message (None: the raw one)
    # queued → sent → AA | AE | AR | timeout → retrying → delivered | failed | skipped (by an admin)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    locked_until: Mapped[datetime | None]
    locked_by: Mapped[str | None] = mapped_column(String(64))
    ack_code: Mapped[str | None] = mapped_column(String(4))
    ack: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]
    latency_ms: Mapped[float | None]
