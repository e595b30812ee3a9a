"""Storing a turn once it ends: one transaction for its messages, its replayable frames and its events.

Written before the turn's closing frames (`final`, `approval_required`) are delivered, so a client
that sees the answer complete can read it back, and a reconnect after the turn replays it from here.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select

from backend.audit.service import record_audit
from backend.context import AppContext
from backend.models.chat import ChatEvent, ChatMessage, ChatSession
from backend.models.user import User
from backend.platform.sources import chat_turn_finished

from . import service
from .hub import Frame
from .recorder import TurnOutcome


@dataclass(frozen=True)
class FinishedTurn:
    """Everything a turn's rows are made of."""

    session_id: uuid.UUID
    run_id: str
    assistant_message_id: uuid.UUID
    outcome: TurnOutcome
    frames: list[Frame]  # every frame of this stretch, in seq order (tokens are skipped when stored)
    held: list[Frame]  # `approval_required` / `invalid_edit`, delivered after storing
    final: Frame | None  # None: paused for approval
    next_seq: int | None  # the session's next seq in this process (None: keep the stored one)


async def persist_turn(app: AppContext, user: User, turn: FinishedTurn) -> bool:
    """Write the turn's rows; False when the session was deleted while it ran."""
    outcome = turn.outcome
    async with app.db.session() as session:
        chat = await session.get(ChatSession, turn.session_id)
        if chat is None:
            return False
        # Set before the first flush below, so the session row is updated once, not per statement.
        chat.status = "awaiting_approval" if outcome.paused else "active"
        chat.next_seq = turn.next_seq if turn.next_seq is not None else chat.next_seq
        chat.last_activity_at = datetime.now(UTC)
        events = [
            {"session_id": turn.session_id, "seq": f.seq, "run_id": f.data["run_id"], "type": f.type, "frame": f.data}
            for f in turn.frames
            if f.type != "token"
        ]
        calls = list(outcome.tool_calls.values())
        for call in outcome.finished_calls():
            await service.add_message(
                session,
                chat,
                role="tool",
                content=_tool_text(call.get("result")),
                metadata={"tool_call_id": call.get("id"), "tool_name": call.get("name"), "status": call.get("status")},
                run_id=turn.run_id,
            )
        final = turn.final
        if final is not None:
            meta = final.data["metadata"]
            usage = meta.get("usage") or {}
            if not usage.get("total") and meta.get("tokens_used"):
                usage = {"output": meta["tokens_used"], "total": meta["tokens_used"]}
            await service.add_message(
                session,
                chat,
                role="assistant",
                content=final.data["content"],
                tool_calls=calls or None,
                run_id=turn.run_id,
                finish_reason=meta.get("finish_reason"),
                usage=usage,
                message_id=turn.assistant_message_id,
                metadata={"usage": usage} if usage else {},
            )
        if events:  # one executemany, no RETURNING per row; after the flushes above (no re-UPDATE)
            await session.execute(insert(ChatEvent), events)
        for decision in outcome.decisions:
            await record_audit(
                session,
                action="approval.decision",
                actor=user,
                session_id=turn.session_id,
                integration_id=decision.get("integration_id"),
                outcome="success" if decision.get("decision") in ("approve", "edit", "allow") else "failure",
                details={k: v for k, v in decision.items() if k != "args"},
            )
        # chat.message.completed / approval.required, committed with the turn's rows.
        approvals = [f.data for f in turn.held if f.type == "approval_required"]
        key = str(turn.session_id)
        await chat_turn_finished(app, session, user, key, final.data if final is not None else None, approvals)
    return True


def _tool_text(result: Any) -> str:
    if isinstance(result, str):
        return result
    return json.dumps(result, ensure_ascii=False, default=str)


async def latest_assistant_message(app: AppContext, session_id: uuid.UUID) -> ChatMessage | None:
    async with app.db.session() as session:
        return await session.scalar(
            select(ChatMessage)
            .where(
                ChatMessage.session_id == session_id,
                ChatMessage.role == "assistant",
                ChatMessage.superseded.is_(False),
            )
            .order_by(ChatMessage.position.desc())
            .limit(1)
        )
