"""Which approvals a paused turn still waits for, read from the session's stored frames.

A turn that pauses on several writes emits one `approval_required` per call; each may be answered on
its own, in any order. Answering one resumes the turn, which pauses again for the rest (re-emitting
their `approval_required`). So a call is pending while its latest `approval_required` is newer than
its latest `approval_decision`.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.models.chat import ChatEvent, ChatSession


async def pending_approvals(session: AsyncSession, chat: ChatSession) -> dict[str, ChatEvent]:
    """tool_call_id → its latest `approval_required` event, for every call still waiting."""
    latest = await session.scalar(
        select(ChatEvent.run_id)
        .where(ChatEvent.session_id == chat.id, ChatEvent.type == "approval_required")
        .order_by(ChatEvent.seq.desc())
        .limit(1)
    )
    if latest is None:
        return {}
    rows = await session.scalars(
        select(ChatEvent)
        .where(
            ChatEvent.session_id == chat.id,
            ChatEvent.run_id == latest,
            ChatEvent.type.in_(("approval_required", "agent_event")),
        )
        .order_by(ChatEvent.seq)
    )
    asked: dict[str, ChatEvent] = {}
    decided: dict[str, int] = {}
    for row in rows:
        metadata = row.frame.get("metadata") or {}
        if row.type == "approval_required":
            asked[str(metadata.get("tool_call_id"))] = row
        elif metadata.get("event_type") == "approval_decision":
            decided[str((metadata.get("details") or {}).get("tool_call_id"))] = row.seq
    return {call_id: row for call_id, row in asked.items() if row.seq > decided.get(call_id, -1)}
