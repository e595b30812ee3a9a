"""Preparing a turn: what the request means for this session, checked before anything runs.

`prepare_turn` is the one place a turn's request meets the session's stored state (history, the
pending approval): it refuses what cannot run (`nothing_to_answer`, `no_pending_approval`, …) and
says what the agent gets. Checks that gate every turn belong here.

What must be written before the answer streams differs by kind. A new message (`message`, `first`)
needs nothing written for the agent to start, so its writes — the user's message and the session's
"a turn is running" mark — are a `StartWrite` done beside the agent's own start and committed before
the turn's first frame goes out (`start_writes.StartWriter`). A `regenerate`, `edit` or `approval` rewrites
history or continues a stored state, so it writes in the preparing transaction, as before.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from backend.errors import AppError, Forbidden, NotFound
from backend.models.chat import ChatSession

from . import service
from .agent_port import AgentPort, Decision
from .approvals import pending_approvals

TurnKind = Literal["message", "first", "regenerate", "edit", "approval"]


@dataclass
class TurnRequest:
    kind: TurnKind
    message: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    edit_message_id: uuid.UUID | None = None
    decision: Decision | None = None
    # An API key's scopes (None: a person's own session): they bound the turn's tools and approvals.
    scopes: frozenset[str] | None = None
    api_key_id: str | None = None  # the key that started the turn: revoking it stops the turn


@dataclass(frozen=True)
class StartWrite:
    """The rows a new turn writes beside its agent's start: the user's message (if new) and the mark."""

    user_message: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass
class PreparedTurn:
    run_id: str
    message: str | None
    decisions: list[Decision] | None
    assistant_message_id: uuid.UUID
    # Tool calls started before this stretch of the turn (the one paused for approval): name and args,
    # so the stored assistant message records what ran even though its `tool_call` frame came earlier.
    earlier_calls: dict[str, dict[str, Any]] = field(default_factory=dict)
    # None: the preparing transaction wrote what the turn needs (it marks the session itself).
    start_write: StartWrite | None = None
    scopes: frozenset[str] | None = None


async def prepare_turn(
    session: AsyncSession, chat: ChatSession, request: TurnRequest, agent: AgentPort
) -> PreparedTurn:
    """Check the request against the session and say what the agent runs (see the module docstring)."""
    prepared = await _prepare(session, chat, request, agent)
    prepared.scopes = request.scopes
    return prepared


async def _prepare(session: AsyncSession, chat: ChatSession, request: TurnRequest, agent: AgentPort) -> PreparedTurn:
    run_id = uuid.uuid4().hex
    assistant_id = uuid.uuid4()
    if request.kind == "message":  # needs none of the history: a long chat costs no more per turn
        assert request.message is not None
        start = StartWrite(user_message=request.message, metadata=request.metadata)
        return PreparedTurn(run_id, request.message, None, assistant_id, start_write=start)
    if request.kind == "approval":
        return await _continue_after_approval(session, chat, request, assistant_id)
    active = await service.active_messages(session, chat.id)
    users = [m for m in active if m.role == "user"]
    if request.kind == "first":
        if [m.role for m in active] != ["user"]:  # none, or answered meanwhile by another connection
            raise NotFound("The session has no unanswered first message", code="nothing_to_answer")
        return PreparedTurn(run_id, users[-1].content, None, assistant_id, start_write=StartWrite())
    if request.kind == "regenerate":
        if not users:
            raise AppError("There is no message to regenerate an answer for", code="nothing_to_regenerate")
        last_user = users[-1]
        # The checkpointer writes on its own connection: rewind before this transaction writes,
        # or SQLite's single writer lock would make the two wait on each other.
        await agent.rewind(str(chat.id), keep_user_turns=len(users) - 1)
        await service.supersede_from(session, chat.id, last_user.position + 1)
        return PreparedTurn(run_id, last_user.content, None, assistant_id)
    target = next((m for m in users if m.id == request.edit_message_id), None)
    if target is None:
        raise NotFound("That message is not an active user message of this session")
    assert request.message is not None
    kept = sum(1 for m in users if m.position < target.position)
    await agent.rewind(str(chat.id), keep_user_turns=kept)  # before writing (see regenerate)
    await service.supersede_from(session, chat.id, target.position)
    await service.add_message(
        session, chat, role="user", content=request.message, metadata={"edited_from": str(target.id)}, run_id=run_id
    )
    return PreparedTurn(run_id, request.message, None, assistant_id)


async def _continue_after_approval(
    session: AsyncSession, chat: ChatSession, request: TurnRequest, assistant_id: uuid.UUID
) -> PreparedTurn:
    """Continue the paused turn under its run id, with the user's decision on its pending call."""
    assert request.decision is not None
    pending = await pending_approvals(session, chat) if chat.status == "awaiting_approval" else {}
    if not pending:
        raise AppError("Nothing in this session is waiting for approval", code="no_pending_approval", status_code=409)
    paused = pending.get(request.decision.tool_call_id)  # every pending approval answers, in any order
    if paused is None:
        raise AppError("Unknown tool_call_id for the pending approval", code="unknown_tool_call", status_code=422)
    asked = paused.frame.get("metadata", {})
    needed = asked.get("scope")
    if request.scopes is not None and needed not in request.scopes:
        raise Forbidden(f"This API key lacks the {needed!r} scope this approval needs", code="insufficient_scope")
    decision = request.decision
    args = decision.args if decision.decision == "edit" and decision.args is not None else asked.get("args", {})
    earlier = {decision.tool_call_id: {"name": asked.get("tool_name"), "args": args}}
    return PreparedTurn(paused.run_id, None, [decision], assistant_id, earlier)
