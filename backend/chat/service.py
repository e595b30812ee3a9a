"""Chat sessions and messages in the database: ownership, listing, titles, history edits, export."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend.errors import NotFound
from backend.models.chat import ChatEvent, ChatMessage, ChatSession
from backend.models.user import User

from .schemas import MessageOut, SessionOut

TITLE_LIMIT = 60


def title_from(message: str) -> str:
    """The first user message, on one line, trimmed to 60 characters."""
    line = " ".join(message.split())
    return line if len(line) <= TITLE_LIMIT else line[: TITLE_LIMIT - 1].rstrip() + "…"


async def get_owned(session: AsyncSession, user_id: uuid.UUID, session_id: uuid.UUID) -> ChatSession:
    """The user's chat session; another user's session is indistinguishable from a missing one."""
    chat = await session.get(ChatSession, session_id)
    if chat is None or chat.user_id != user_id:
        raise NotFound("Chat session not found")
    return chat


async def create_session(
    session: AsyncSession, user: User, message: str, metadata: dict[str, Any]
) -> tuple[ChatSession, ChatMessage]:
    chat = ChatSession(user_id=user.id, title=title_from(message))
    session.add(chat)
    await session.flush()
    first = await add_message(session, chat, role="user", content=message, metadata=metadata)
    return chat, first


async def add_message(
    session: AsyncSession,
    chat: ChatSession,
    *,
    role: str,
    content: str,
    metadata: dict[str, Any] | None = None,
    tool_calls: list[dict[str, Any]] | None = None,
    run_id: str | None = None,
    finish_reason: str | None = None,
    usage: dict[str, int] | None = None,
    message_id: uuid.UUID | None = None,
) -> ChatMessage:
    # Every add_message ends with a flush, so no message is pending here; not autoflushing lets the
    # session row's pending changes go out in the one UPDATE below instead of two.
    with session.no_autoflush:
        position = await session.scalar(
            select(func.coalesce(func.max(ChatMessage.position), 0)).where(ChatMessage.session_id == chat.id)
        )
    usage = usage or {}
    message = ChatMessage(
        id=message_id or uuid.uuid4(),
        session_id=chat.id,
        position=int(position or 0) + 1,
        role=role,
        content=content,
        tool_calls=tool_calls,
        metadata_=metadata or {},
        run_id=run_id,
        finish_reason=finish_reason,
        prompt_tokens=usage.get("input", 0),
        completion_tokens=usage.get("output", 0),
        total_tokens=usage.get("total", 0),
    )
    session.add(message)
    now = datetime.now(UTC)
    chat.last_activity_at = now
    chat.updated_at = now
    await session.flush()
    return message


async def first_unanswered(session: AsyncSession, chat: ChatSession) -> bool:
    """A session created with its first message (POST /chat/sessions) that nobody has answered yet."""
    if chat.status != "active":
        return False
    roles = await session.scalars(select(ChatMessage.role).where(ChatMessage.session_id == chat.id).limit(2))
    return list(roles) == ["user"]


async def active_messages(session: AsyncSession, chat_id: uuid.UUID) -> list[ChatMessage]:
    rows = await session.scalars(
        select(ChatMessage)
        .where(ChatMessage.session_id == chat_id, ChatMessage.superseded.is_(False))
        .order_by(ChatMessage.position)
    )
    return list(rows)


async def supersede_from(session: AsyncSession, chat_id: uuid.UUID, position: int) -> None:
    """Take the messages at and after `position` out of the active thread (kept for history)."""
    await session.execute(
        update(ChatMessage)
        .where(ChatMessage.session_id == chat_id, ChatMessage.position >= position)
        .values(superseded=True)
    )


def session_out(chat: ChatSession, total: int, preview: str | None) -> SessionOut:
    return SessionOut(
        session_id=chat.id,
        title=chat.title,
        status=chat.status,
        total_messages=total,
        created_at=chat.created_at,
        updated_at=chat.last_activity_at,
        last_message_preview=(preview[:120] if preview else None),
    )


async def list_sessions(
    session: AsyncSession, user: User, *, q: str | None, offset: int, limit: int
) -> tuple[list[SessionOut], int]:
    """The user's sessions, most recent activity first; `q` searches titles and message text."""
    query = select(ChatSession).where(ChatSession.user_id == user.id)
    if q:
        pattern = f"%{q.lower()}%"
        query = query.where(
            or_(
                func.lower(ChatSession.title).like(pattern),
                exists().where(ChatMessage.session_id == ChatSession.id, func.lower(ChatMessage.content).like(pattern)),
            )
        )
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    chats = list(
        await session.scalars(
            query.order_by(ChatSession.last_activity_at.desc(), ChatSession.id).offset(offset).limit(limit)
        )
    )
    out = []
    for chat in chats:
        count = await session.scalar(
            select(func.count()).where(
                ChatMessage.session_id == chat.id,
                ChatMessage.superseded.is_(False),
                ChatMessage.role != "tool",
            )
        )
        preview = await session.scalar(
            select(ChatMessage.content)
            .where(
                ChatMessage.session_id == chat.id,
                ChatMessage.superseded.is_(False),
                ChatMessage.role != "tool",
            )
            .order_by(ChatMessage.position.desc())
            .limit(1)
        )
        out.append(session_out(chat, int(count or 0), preview))
    return out, int(total)


def message_out(message: ChatMessage) -> MessageOut:
    metadata = dict(message.metadata_ or {})
    if message.role == "assistant":
        metadata.setdefault("finish_reason", message.finish_reason)
        metadata.setdefault("run_id", message.run_id)
        metadata["tokens_used"] = message.total_tokens
    if message.superseded:
        metadata["superseded"] = True
    return MessageOut(
        message_id=message.id,
        role=message.role,  # type: ignore[arg-type]
        content=message.content,
        tool_calls=message.tool_calls,
        metadata=metadata,
        created_at=message.created_at,
    )


async def events_after(session: AsyncSession, chat_id: uuid.UUID, after_seq: int) -> list[dict[str, Any]]:
    rows = await session.scalars(
        select(ChatEvent).where(ChatEvent.session_id == chat_id, ChatEvent.seq > after_seq).order_by(ChatEvent.seq)
    )
    return [row.frame for row in rows]


def export_markdown(chat: ChatSession, messages: list[ChatMessage]) -> str:
    lines = [f"# {chat.title}", "", f"_Exported {datetime.now(UTC):%Y-%m-%d %H:%M} UTC_", ""]
    for message in messages:
        if message.role == "tool":
            continue
        speaker = "You" if message.role == "user" else "Switchboard"
        lines += [f"## {speaker} · {message.created_at:%Y-%m-%d %H:%M}", ""]
        for call in message.tool_calls or []:
            lines.append(
                f"> Tool `{call.get('name')}` ({call.get('status', 'completed')}) "
                f"with `{json.dumps(call.get('args', {}), ensure_ascii=False)}`"
            )
        if message.tool_calls:
            lines.append("")
        lines += [message.content, ""]
    return "\n".join(lines)


def export_json(chat: ChatSession, messages: list[ChatMessage]) -> dict[str, Any]:
    return {
        "session_id": str(chat.id),
        "title": chat.title,
        "created_at": chat.created_at.isoformat().replace("+00:00", "Z"),
        "messages": [message_out(m).model_dump(mode="json") for m in messages],
    }
