"""Chat sessions and their messages (written once per turn, never per token)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.base import Base, IdMixin, TimestampMixin, utcnow


class ChatSession(IdMixin, TimestampMixin, Base):
    __tablename__ = "chat_sessions"

    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(120), default="New chat")
    status: Mapped[str] = mapped_column(String(24), default="active")
    last_activity_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # The next `seq` to hand out for this session's stream frames; grows forever.
    next_seq: Mapped[int] = mapped_column(Integer, default=1)


class ChatMessage(IdMixin, Base):
    __tablename__ = "chat_messages"
    __table_args__ = (Index("ix_chat_messages_session_position", "session_id", "position"),)

    session_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("chat_sessions.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(16))  # user | assistant | tool
    content: Mapped[str] = mapped_column(Text, default="")
    tool_calls: Mapped[list[Any] | None]
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", default=dict)
    run_id: Mapped[str | None] = mapped_column(String(64))
    finish_reason: Mapped[str | None] = mapped_column(String(24))
    prompt_tokens: Mapped[int] = mapped_column(Integer, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0)
    total_tokens: Mapped[int] = mapped_column(Integer, default=0)
    # Superseded messages (by edit or regenerate) stay for history but leave the active thread.
    superseded: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ChatEvent(Base):
    """A non-token stream frame of a finished (or paused) turn, kept for replay after reconnects.

    Token frames are never stored: on replay they are folded into the turn's `final`.
    """

    __tablename__ = "chat_events"
    __table_args__ = (Index("ix_chat_events_session_seq", "session_id", "seq", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("chat_sessions.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    run_id: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(32))
    frame: Mapped[dict[str, Any]]
