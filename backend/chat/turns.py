"""Running turns: one at a time per session, independent of any connection.

A turn is started by a `message`, `regenerate`, `edit` or `approval` (from WebSocket, SSE or the
blocking endpoint); it runs as its own task, publishes frames through the hub, and is persisted once
when it ends (assistant message, tool messages, the non-token frames for replay, the session's seq).
A client disconnecting does not stop it; `cancel` from any of the owner's connections does.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import insert, select

from backend.audit.service import record_audit
from backend.context import AppContext
from backend.errors import AppError, Forbidden, NotFound
from backend.integrations.health import tracker_of
from backend.models.chat import ChatEvent, ChatMessage, ChatSession
from backend.models.user import User
from backend.observability.activity import activity_of
from backend.platform.sources import chat_turn_finished
from tools.tooling import call_observer

from . import service
from .agent_port import AgentPort, Decision, TurnInputs
from .approvals import pending_approvals
from .hub import Frame, RunningTurn, StreamHub
from .tool_labels import label_fields, policies_by_name

if TYPE_CHECKING:
    from .relay import ChatRelay

log = logging.getLogger("switchboard.chat")

TurnKind = Literal["message", "first", "regenerate", "edit", "approval"]
# After a crash mid-turn, the frames of the lost turn were seen by clients but never persisted;
# skipping ahead keeps `seq` strictly increasing for them.
SEQ_GAP_AFTER_CRASH = 100_000


class RunInProgress(AppError):
    status_code = 409
    code = "run_in_progress"


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


@dataclass
class _Prepared:
    run_id: str
    message: str | None
    decisions: list[Decision] | None
    assistant_message_id: uuid.UUID
    # Tool calls started before this stretch of the turn (the one paused for approval): name and args,
    # so the stored assistant message records what ran even though its `tool_call` frame came earlier.
    earlier_calls: dict[str, dict[str, Any]] = field(default_factory=dict)
    scopes: frozenset[str] | None = None


InputsFactory = Callable[[User, uuid.UUID, frozenset[str] | None], Awaitable[TurnInputs]]


class TurnManager:
    """Starts, cancels and persists turns."""

    def __init__(self, app: AppContext, hub: StreamHub, agent: AgentPort, inputs: InputsFactory) -> None:
        self.app = app
        self.hub = hub
        self.agent = agent
        self.inputs = inputs
        self.on_turn_finished: Callable[[uuid.UUID, dict[str, Any]], Awaitable[None]] | None = None
        # Across replicas (REDIS_URL): "a turn runs elsewhere", remote cancel, the frames relayed.
        self.relay: ChatRelay | None = None

    # ------------------------------------------------------------------ public API

    async def start(self, user: User, session_id: uuid.UUID, request: TurnRequest) -> RunningTurn:
        """Prepare the history and launch the turn; `RunInProgress` if one is already running."""
        key = str(session_id)
        async with self.hub.lock(key):
            current = self.hub.running(key)
            if current is not None and current.closing:
                await current.done.wait()  # the answer is out; its rows are being written
            if self.hub.running(key) is not None:
                await self._refuse_busy(user, session_id)
            if self.relay is not None and not await self.relay.claim(key, str(user.id)):
                await self._refuse_busy(user, session_id)
            try:
                return await self._launch(user, session_id, request)
            except BaseException:
                if self.relay is not None:  # the turn did not start: free the session at once
                    await self.relay.finish(key, [])
                raise

    async def _refuse_busy(self, user: User, session_id: uuid.UUID) -> None:
        """A turn runs: someone else's session is still a 404 (it must not reveal that it exists)."""
        async with self.app.db.session() as session:
            await service.get_owned(session, user.id, session_id)
        raise RunInProgress("A reply is still being generated in this session; cancel it or wait.")

    async def _launch(self, user: User, session_id: uuid.UUID, request: TurnRequest) -> RunningTurn:
        """Store the turn's input and start its task (the session is already claimed)."""
        key = str(session_id)
        async with self.app.db.session() as session:
            chat = await service.get_owned(session, user.id, session_id)
            if chat.status == "running":  # a previous process died during a turn
                chat.next_seq += SEQ_GAP_AFTER_CRASH
                chat.status = "active"
            stream = self.hub.ensure(key, chat.next_seq)
            stream.next_seq = max(stream.next_seq, chat.next_seq)
            with session.no_autoflush:  # no write before the checkpointer's rewind (SQLite lock)
                prepared = await self._prepare(session, chat, request)
            chat.status = "running"
            chat.next_seq = stream.next_seq
        run = RunningTurn(run_id=prepared.run_id, owner_id=str(user.id), api_key_id=request.api_key_id or "")
        stream.run = run
        run.task = asyncio.create_task(self._execute(user, session_id, prepared, run), name=f"turn-{key}")
        return run

    async def cancel(self, user: User, session_id: uuid.UUID) -> bool:
        """Stop the running turn of a session the user owns; True when there was one."""
        run = self.hub.running(str(session_id))
        if run is None and self.relay is not None:  # it may be running on another replica
            return await self.relay.cancel(str(session_id), str(user.id))
        if run is None or run.closing or run.owner_id != str(user.id) or run.task is None:
            return False
        run.task.cancel()
        return True

    def stop_user(self, subject: str) -> None:
        """Cancel every turn running here of this user, or started with this API key (access revoked)."""
        for stream in list(self.hub._streams.values()):
            run = stream.run
            if run is None or run.closing or run.task is None:
                continue
            if subject in (run.owner_id, run.api_key_id):
                run.task.cancel()

    async def has_unanswered_first_message(self, session_id: uuid.UUID) -> bool:
        """A session created with POST /chat/sessions whose first message nobody has answered yet."""
        if self.hub.running(str(session_id)) is not None:
            return False
        async with self.app.db.session() as session:
            roles = list(
                await session.scalars(select(ChatMessage.role).where(ChatMessage.session_id == session_id).limit(2))
            )
            chat = await session.get(ChatSession, session_id)
        return roles == ["user"] and chat is not None and chat.status == "active"

    async def shutdown(self) -> None:
        """Let running turns finish (graceful drain), bounded; cancel what is left."""
        tasks = [s.run.task for s in list(self.hub._streams.values()) if s.run and s.run.task]
        if not tasks:
            return
        _, pending = await asyncio.wait(tasks, timeout=20)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending, timeout=5)

    # ------------------------------------------------------------------ preparation

    async def _prepare(self, session: Any, chat: ChatSession, request: TurnRequest) -> _Prepared:
        run_id = uuid.uuid4().hex
        assistant_id = uuid.uuid4()
        if request.kind == "message":  # needs none of the history: a long chat costs no more per turn
            assert request.message is not None
            await service.add_message(
                session, chat, role="user", content=request.message, metadata=request.metadata, run_id=run_id
            )
            return _Prepared(run_id, request.message, None, assistant_id, scopes=request.scopes)
        active = await service.active_messages(session, chat.id)
        users = [m for m in active if m.role == "user"]
        if request.kind == "first":
            if [m.role for m in active] != ["user"]:  # none, or answered meanwhile by another connection
                raise NotFound("The session has no unanswered first message", code="nothing_to_answer")
            return _Prepared(run_id, users[-1].content, None, assistant_id, scopes=request.scopes)
        if request.kind == "regenerate":
            if not users:
                raise AppError("There is no message to regenerate an answer for", code="nothing_to_regenerate")
            last_user = users[-1]
            # The checkpointer writes on its own connection: rewind before this transaction writes,
            # or SQLite's single writer lock would make the two wait on each other.
            await self.agent.rewind(str(chat.id), keep_user_turns=len(users) - 1)
            await service.supersede_from(session, chat.id, last_user.position + 1)
            return _Prepared(run_id, last_user.content, None, assistant_id, scopes=request.scopes)
        if request.kind == "edit":
            target = next((m for m in users if m.id == request.edit_message_id), None)
            if target is None:
                raise NotFound("That message is not an active user message of this session")
            assert request.message is not None
            kept = sum(1 for m in users if m.position < target.position)
            await self.agent.rewind(str(chat.id), keep_user_turns=kept)  # before writing (see regenerate)
            await service.supersede_from(session, chat.id, target.position)
            await service.add_message(
                session,
                chat,
                role="user",
                content=request.message,
                metadata={"edited_from": str(target.id)},
                run_id=run_id,
            )
            return _Prepared(run_id, request.message, None, assistant_id, scopes=request.scopes)
        # approval: continue the paused turn under its run id
        assert request.decision is not None
        pending = await pending_approvals(session, chat) if chat.status == "awaiting_approval" else {}
        if not pending:
            raise AppError(
                "Nothing in this session is waiting for approval", code="no_pending_approval", status_code=409
            )
        paused = pending.get(request.decision.tool_call_id)
        if paused is None:
            raise AppError("Unknown tool_call_id for the pending approval", code="unknown_tool_call", status_code=422)
        asked = paused.frame.get("metadata", {})
        needed = asked.get("scope")
        if request.scopes is not None and needed not in request.scopes:
            raise Forbidden(f"This API key lacks the {needed!r} scope this approval needs", code="insufficient_scope")
        decision = request.decision
        args = decision.args if decision.decision == "edit" and decision.args is not None else asked.get("args", {})
        earlier = {decision.tool_call_id: {"name": asked.get("tool_name"), "args": args}}
        return _Prepared(paused.run_id, None, [decision], assistant_id, earlier, request.scopes)

    # ------------------------------------------------------------------ execution

    async def _execute(self, user: User, session_id: uuid.UUID, prepared: _Prepared, run: RunningTurn) -> None:
        key = str(session_id)
        run_id = prepared.run_id
        message_id = str(prepared.assistant_message_id)
        tokens: list[str] = []
        tool_calls: dict[str, dict[str, Any]] = {}
        final: Frame | None = None
        paused = False
        decisions: list[dict[str, Any]] = []
        token_index = 0
        publish = self.hub.publish
        publish_token = self.hub.publish_token
        held: list[Frame] = []  # frames delivered only after the turn's state is stored

        def close_turn(reason: str) -> Frame:
            """The turn's one `final` when the agent could not give it: the partial answer is kept."""
            meta = {"session_id": key, "message_id": message_id, "tokens_used": 0, "finish_reason": reason}
            return self.hub.build(key, run_id, "final", "".join(tokens), meta)

        turn_started = time.monotonic()
        first_token_s: float | None = None
        # Every real connector call of this turn updates its integration's live health (in memory).
        observing = call_observer.set(tracker_of(self.app).record)
        try:
            inputs = await self.inputs(user, session_id, prepared.scopes)
            policies = policies_by_name(inputs.tools)
            events = self.agent.run_turn(
                thread_id=key,
                message=prepared.message,
                decisions=prepared.decisions,
                tools=inputs.tools,
                policy=inputs.policy,
                system_prompt=inputs.system_prompt,
            )
            async with contextlib.aclosing(events):
                async for event in events:
                    kind = event.type
                    if kind == "token":
                        if first_token_s is None:
                            first_token_s = time.monotonic() - turn_started
                        tokens.append(event.content)
                        publish_token(key, run_id, event.content, token_index, message_id)
                        token_index += 1
                        continue
                    metadata = dict(event.metadata)
                    if kind == "final":
                        metadata.update(session_id=key, message_id=message_id)
                        # Built now, delivered once stored: a client that sees `final` can read the message.
                        final = self.hub.build(key, run_id, "final", event.content, metadata)
                        run.closing = True
                        break
                    if kind in ("tool_call", "tool_result"):
                        name = str(metadata.get("tool_name"))
                        call_args = metadata.get("args")
                        if kind == "tool_result":
                            call_args = tool_calls.get(str(metadata.get("tool_call_id")), {}).get("args")
                        metadata.update(label_fields(policies.get(name), call_args))
                    if kind == "tool_call":
                        tool_calls[str(metadata.get("tool_call_id"))] = {
                            "id": metadata.get("tool_call_id"),
                            "name": metadata.get("tool_name"),
                            "args": metadata.get("args", {}),
                            "status": "started",
                            "label": metadata.get("tool_label"),
                            "integration_type": metadata.get("integration_type"),
                        }
                    elif kind == "tool_result":
                        call_id = str(metadata.get("tool_call_id"))
                        started = prepared.earlier_calls.get(call_id, {})
                        call = tool_calls.setdefault(
                            call_id,
                            {"id": call_id, "name": metadata.get("tool_name"), "args": started.get("args", {})},
                        )
                        call.setdefault("label", metadata.get("tool_label"))
                        call.setdefault("integration_type", metadata.get("integration_type"))
                        call.update(status=metadata.get("status"), result=metadata.get("result"))
                    elif kind == "approval_required":
                        paused = True  # delivered once the paused state is stored, like `final`
                        held.append(self.hub.build(key, run_id, kind, event.content, metadata))
                        continue
                    elif kind == "error" and metadata.get("code") == "invalid_edit":
                        paused = True  # the approval is still pending; the client may answer again
                        held.append(self.hub.build(key, run_id, kind, event.content, metadata))
                        continue
                    elif kind == "agent_event" and metadata.get("event_type") == "approval_decision":
                        decisions.append(dict(metadata.get("details") or {}))
                    publish(key, run_id, kind, event.content, metadata)
        except asyncio.CancelledError:
            paused = False
            if final is None:
                final = close_turn("cancelled")
        except Exception:
            log.exception("turn %s of session %s failed", run_id, key)
            paused = False
            publish(
                key,
                run_id,
                "error",
                "The assistant hit an internal error while answering.",
                {"code": "agent_error", "recoverable": True},
            )
            final = close_turn("error")
        finally:
            call_observer.reset(observing)
        if final is None and not paused:
            # The agent stream ended without a final (should not happen): close the turn honestly.
            final = close_turn("error")
        run.closing = True  # nothing more will stream; a new turn waits for the rows below
        try:
            await asyncio.shield(
                self._persist(
                    user, session_id, run, prepared, final, paused, list(tool_calls.values()), decisions, held
                )
            )
        except Exception:
            log.exception("persisting turn %s of session %s failed", run_id, key)
        finally:
            closing = [*held, *([final] if final is not None else [])]
            if self.relay is not None:  # other replicas get the answer, and the session is free, first
                await self.relay.finish(key, closing)
            for frame in closing:
                self.hub.deliver(key, frame)
            stream = self.hub.stream(key)
            if stream is not None and stream.run is run:
                stream.run = None
            self._count(final, tool_calls.values(), token_index, first_token_s, decisions)
            run.done.set()

    def _count(
        self,
        final: Frame | None,
        tool_calls: Any,
        tokens: int,
        first_token_s: float | None,
        decisions: list[dict[str, Any]],
    ) -> None:
        """Prometheus counters and the admin charts' series for one finished (or paused) stretch of a turn."""
        outcomes_now = [str(c.get("status")) for c in tool_calls if c.get("status") in ("completed", "failed")]
        reason = str(final.data["metadata"].get("finish_reason", "stop")) if final is not None else None
        activity_of(self.app).record_turn(
            reason, outcomes_now, first_token_s, [str(d.get("decision")) for d in decisions]
        )
        metrics = self.app.extras.get("metrics")
        if metrics is None:
            return
        outcomes = [str(call.get("status")) for call in tool_calls if call.get("status") in ("completed", "failed")]
        if final is None:  # paused for approval: the turn goes on later, its tools ran now
            metrics.record_turn(None, tokens, outcomes)
            return
        metrics.record_turn(str(final.data["metadata"].get("finish_reason", "stop")), tokens, outcomes)

    async def _persist(
        self,
        user: User,
        session_id: uuid.UUID,
        run: RunningTurn,
        prepared: _Prepared,
        final: Frame | None,
        paused: bool,
        tool_calls: list[dict[str, Any]],
        decisions: list[dict[str, Any]],
        held: list[Frame],
    ) -> None:
        key = str(session_id)
        stream = self.hub.stream(key)
        async with self.app.db.session() as session:
            chat = await session.get(ChatSession, session_id)
            if chat is None:  # deleted while the turn ran
                return
            # Set before the first flush below, so the session row is updated once, not per statement.
            chat.status = "awaiting_approval" if paused else "active"
            chat.next_seq = stream.next_seq if stream is not None else chat.next_seq
            chat.last_activity_at = datetime.now(UTC)
            frames = [*run.frames, *held, *([final] if final is not None else [])]
            events = [
                {"session_id": session_id, "seq": f.seq, "run_id": f.data["run_id"], "type": f.type, "frame": f.data}
                for f in frames
                if f.type != "token"
            ]
            for call in tool_calls:
                if call.get("status") in ("completed", "failed"):
                    await service.add_message(
                        session,
                        chat,
                        role="tool",
                        content=_tool_text(call.get("result")),
                        metadata={
                            "tool_call_id": call.get("id"),
                            "tool_name": call.get("name"),
                            "status": call.get("status"),
                        },
                        run_id=prepared.run_id,
                    )
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
                    tool_calls=tool_calls or None,
                    run_id=prepared.run_id,
                    finish_reason=meta.get("finish_reason"),
                    usage=usage,
                    message_id=prepared.assistant_message_id,
                    metadata={"usage": usage} if usage else {},
                )
            if events:  # one executemany, no RETURNING per row; after the flushes above (no re-UPDATE)
                await session.execute(insert(ChatEvent), events)
            for decision in decisions:
                await record_audit(
                    session,
                    action="approval.decision",
                    actor=user,
                    session_id=session_id,
                    integration_id=decision.get("integration_id"),
                    outcome="success" if decision.get("decision") in ("approve", "edit", "allow") else "failure",
                    details={k: v for k, v in decision.items() if k != "args"},
                )
            # chat.message.completed / approval.required, committed with the turn's rows.
            approvals = [f.data for f in held if f.type == "approval_required"]
            await chat_turn_finished(self.app, session, user, key, final.data if final is not None else None, approvals)
        if final is not None and self.on_turn_finished is not None:
            with contextlib.suppress(Exception):
                await self.on_turn_finished(session_id, final.data)


def _tool_text(result: Any) -> str:
    if isinstance(result, str):
        return result
    import json

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
