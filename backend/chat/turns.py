"""Running turns: one at a time per session, independent of any connection.

A turn is started by a `message`, `regenerate`, `edit` or `approval` (from WebSocket, SSE or the
blocking endpoint); it runs as its own task, publishes frames through the hub, and is persisted once
when it ends (assistant message, tool messages, the non-token frames for replay, the session's seq).
A client disconnecting does not stop it; `cancel` from any of the owner's connections does.

The pieces: `preparation` (what the request means for the session), `recorder` (the stream folded
into an outcome), `persistence` (the rows), `admission` (first tokens before more tokens); this
module is the lifecycle that ties them together. The first token waits only on what it needs: the
session check, the user's tools and the agent's start. A new message's rows are written beside the
agent's start and committed before the turn's first frame goes out (so a restart after a crash
still knows the turn existed); the answer's rows before its `final` is delivered.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from backend.context import AppContext
from backend.errors import AppError
from backend.integrations.health import tracker_of
from backend.models.chat import ChatSession
from backend.models.user import User
from backend.observability.activity import activity_of
from tools.tooling import call_observer

from . import service
from .admission import StartingTurn, StreamPacer, TurnAdmission
from .agent_port import AgentPort, TurnInputs
from .hub import Frame, RunningTurn, StreamHub
from .persistence import FinishedTurn, latest_assistant_message, persist_turn
from .preparation import PreparedTurn, TurnKind, TurnRequest, prepare_turn
from .recorder import Disposition, TurnRecorder
from .start_writes import StartWriter
from .tool_labels import label_fields, policies_by_name

if TYPE_CHECKING:
    from .relay import ChatRelay

__all__ = ["RunInProgress", "TurnKind", "TurnManager", "TurnRequest", "latest_assistant_message"]

log = logging.getLogger("switchboard.chat")

# After a crash mid-turn, the frames of the lost turn were seen by clients but never persisted;
# skipping ahead keeps `seq` strictly increasing for them.
SEQ_GAP_AFTER_CRASH = 100_000


class RunInProgress(AppError):
    status_code = 409
    code = "run_in_progress"


InputsFactory = Callable[[User, uuid.UUID, frozenset[str] | None], Awaitable[TurnInputs]]


class TurnManager:
    """Starts, cancels and persists turns."""

    def __init__(self, app: AppContext, hub: StreamHub, agent: AgentPort, inputs: InputsFactory) -> None:
        self.app = app
        self.hub = hub
        self.agent = agent
        self.inputs = inputs
        self.admission = TurnAdmission()
        # SQLite has one writer: turns' writes queue here, not in SQLite's sleeping busy handler while
        # holding a pooled connection. PostgreSQL takes a few at once.
        self.write_slot = asyncio.Semaphore(1 if app.db.url.startswith("sqlite") else 4)
        self.start_writer = StartWriter(app, self.write_slot)
        self.on_turn_finished: Callable[[uuid.UUID, dict[str, Any]], Awaitable[None]] | None = None
        # Across replicas (REDIS_URL): "a turn runs elsewhere", remote cancel, the frames relayed.
        self.relay: ChatRelay | None = None

    # ------------------------------------------------------------------ public API

    async def start(self, user: User, session_id: uuid.UUID, request: TurnRequest) -> RunningTurn:
        """Prepare the turn and launch it; `RunInProgress` if one is already running."""
        key = str(session_id)
        starting = self.admission.start_turn()  # released by the turn's first token (or its failure)
        try:
            async with self.hub.lock(key):
                current = self.hub.running(key)
                if current is not None and current.closing:
                    await current.done.wait()  # the answer is out; its rows are being written
                if self.hub.running(key) is not None:
                    await self._refuse_busy(user, session_id)
                if self.relay is not None and not await self.relay.claim(key, str(user.id)):
                    await self._refuse_busy(user, session_id)
                await starting.take_slot()
                try:
                    return await self._launch(user, session_id, request, starting)
                except BaseException:
                    if self.relay is not None:  # the turn did not start: free the session at once
                        await self.relay.finish(key, [])
                    raise
        except BaseException:
            starting.release()
            raise

    async def _refuse_busy(self, user: User, session_id: uuid.UUID) -> None:
        """A turn runs: someone else's session is still a 404 (it must not reveal that it exists)."""
        async with self.app.db.session() as session:
            await service.get_owned(session, user.id, session_id)
        raise RunInProgress("A reply is still being generated in this session; cancel it or wait.")

    def stop_user(self, subject: str) -> None:
        """Cancel every turn running here of this user, or started with this API key (access revoked)."""
        for run in self.hub.running_turns():
            if not run.closing and run.task is not None and subject in (run.owner_id, run.api_key_id):
                run.task.cancel()

    async def cancel(self, user: User, session_id: uuid.UUID) -> bool:
        """Stop the running turn of a session the user owns; True when there was one."""
        run = self.hub.running(str(session_id))
        if run is None and self.relay is not None:  # it may be running on another replica
            return await self.relay.cancel(str(session_id), str(user.id))
        if run is None or run.closing or run.owner_id != str(user.id) or run.task is None:
            return False
        run.task.cancel()
        return True

    async def has_unanswered_first_message(self, session_id: uuid.UUID) -> bool:
        """A session created with POST /chat/sessions whose first message nobody has answered yet."""
        if self.hub.running(str(session_id)) is not None:
            return False
        async with self.app.db.session() as session:
            chat = await session.get(ChatSession, session_id)
            return chat is not None and await service.first_unanswered(session, chat)

    async def shutdown(self) -> None:
        """Let running turns finish (graceful drain), bounded; cancel what is left."""
        tasks = self.hub.running_tasks()
        if not tasks:
            return
        _, pending = await asyncio.wait(tasks, timeout=20)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending, timeout=5)

    # ------------------------------------------------------------------ start

    async def _launch(
        self, user: User, session_id: uuid.UUID, request: TurnRequest, starting: StartingTurn
    ) -> RunningTurn:
        """Check and prepare the turn, then start its task (the session is already claimed)."""
        key = str(session_id)
        async with self.app.db.session() as session:
            chat = await service.get_owned(session, user.id, session_id)
            crashed = chat.status == "running"  # a previous process died during a turn
            if crashed:
                chat.next_seq += SEQ_GAP_AFTER_CRASH
            with session.no_autoflush:  # no write before the checkpointer's rewind (SQLite lock)
                prepared = await prepare_turn(session, chat, request, self.agent)
            next_seq = max(self.hub.next_seq(key) or 0, chat.next_seq)
            if crashed or prepared.start_write is None:
                # Written here, in one transaction with the seq gap or the rewritten history.
                write = prepared.start_write
                if write is not None and write.user_message is not None:
                    await service.add_message(
                        session,
                        chat,
                        role="user",
                        content=write.user_message,
                        metadata=write.metadata,
                        run_id=prepared.run_id,
                    )
                prepared.start_write = None
                chat.status = "running"
                chat.next_seq = next_seq
        # Committed: from here on the session runs this turn.
        run = RunningTurn(run_id=prepared.run_id, owner_id=str(user.id), api_key_id=request.api_key_id or "")
        self.hub.begin_run(key, run, next_seq)
        run.task = asyncio.create_task(self._run(user, session_id, prepared, run, starting), name=f"turn-{key}")
        return run

    # ------------------------------------------------------------------ run

    async def _run(
        self, user: User, session_id: uuid.UUID, prepared: PreparedTurn, run: RunningTurn, starting: StartingTurn
    ) -> None:
        key = str(session_id)
        run_id = prepared.run_id
        message_id = str(prepared.assistant_message_id)
        recorder = TurnRecorder(prepared.earlier_calls)
        final: Frame | None = None
        held: list[Frame] = []  # frames delivered only after the turn's state is stored
        start_write: asyncio.Future[None] | None = None
        if prepared.start_write is not None:
            start_write = self.start_writer.submit(session_id, run_id, prepared.start_write)

        def close_turn(reason: str) -> Frame:
            """The turn's one `final` when the agent could not give it: the partial answer is kept."""
            meta = {"session_id": key, "message_id": message_id, "tokens_used": 0, "finish_reason": reason}
            return self.hub.build(key, run_id, "final", recorder.outcome.text, meta)

        # Every real connector call of this turn updates its integration's live health (in memory).
        observing = call_observer.set(tracker_of(self.app).record)
        try:
            final = await self._stream(user, session_id, prepared, run, recorder, starting, start_write, held)
        except asyncio.CancelledError:
            recorder.interrupted()
            final = close_turn("cancelled")
        except Exception:
            log.exception("turn %s of session %s failed", run_id, key)
            recorder.interrupted()
            self.hub.publish(
                key,
                run_id,
                "error",
                "The assistant hit an internal error while answering.",
                {"code": "agent_error", "recoverable": True},
            )
            final = close_turn("error")
        finally:
            call_observer.reset(observing)
            starting.release()
        if final is None and not recorder.outcome.paused:
            # The agent stream ended without a final (should not happen): close the turn honestly.
            final = close_turn("error")
        run.closing = True  # nothing more will stream; a new turn waits for the rows below
        try:
            await asyncio.shield(self._store(user, session_id, prepared, run, recorder, final, held, start_write))
        except Exception:
            log.exception("persisting turn %s of session %s failed", run_id, key)
        finally:
            closing = [*held, *([final] if final is not None else [])]
            if self.relay is not None:  # other replicas get the answer, and the session is free, first
                await self.relay.finish(key, closing)
            for frame in closing:
                self.hub.deliver(key, frame)
            self.hub.end_run(key, run)
            self._count(final, recorder, len(recorder.outcome.tokens))
            run.done.set()

    async def _stream(
        self,
        user: User,
        session_id: uuid.UUID,
        prepared: PreparedTurn,
        run: RunningTurn,
        recorder: TurnRecorder,
        starting: StartingTurn,
        start_write: asyncio.Future[None] | None,
        held: list[Frame],
    ) -> Frame | None:
        """Run the agent and publish its frames; the `final` to deliver once stored (None: paused).

        Frames to deliver only after the turn's state is stored go to `held`."""
        key = str(session_id)
        run_id = prepared.run_id
        message_id = str(prepared.assistant_message_id)
        hub = self.hub
        publish_token = hub.publish_token
        pacer = StreamPacer(self.admission)
        inputs = await self.inputs(user, session_id, prepared.scopes)
        policies = policies_by_name(inputs.tools)
        events = self.agent.run_turn(
            thread_id=key,
            message=prepared.message,
            decisions=prepared.decisions,
            tools=inputs.tools,
            policy=inputs.policy,
            system_prompt=inputs.system_prompt,
            on_model_call=starting.model_called,
        )
        async with contextlib.aclosing(events):
            async for event in events:
                if start_write is not None:  # nothing goes out before the turn is known to the database
                    if not start_write.done():
                        starting.leave_slot()  # waiting on a commit is not set-up work
                        await asyncio.shield(start_write)
                    start_write.result()
                    start_write = None
                    starting.agent_started()
                kind = event.type
                if kind == "token":
                    publish_token(key, run_id, event.content, recorder.token(event.content), message_id)
                    if not starting.released:
                        starting.release()  # this turn's first token is out: it no longer holds others
                    else:
                        await pacer.between_tokens()
                    continue
                metadata = dict(event.metadata)
                if kind in ("tool_call", "tool_result"):  # the tool in people's words (labels, summary)
                    call_args = metadata.get("args")
                    if kind == "tool_result":
                        call_args = recorder.outcome.tool_calls.get(str(metadata.get("tool_call_id")), {}).get("args")
                    metadata.update(label_fields(policies.get(str(metadata.get("tool_name"))), call_args))
                disposition = recorder.fold(kind, event.content, metadata)
                if disposition is Disposition.FINAL:
                    metadata.update(session_id=key, message_id=message_id)
                    # Built now, delivered once stored: a client that sees `final` can read the message.
                    final = hub.build(key, run_id, "final", event.content, metadata)
                    run.closing = True
                    return final
                if disposition is Disposition.HOLD:
                    held.append(hub.build(key, run_id, kind, event.content, metadata))
                else:
                    hub.publish(key, run_id, kind, event.content, metadata)
                starting.agent_started()
        return None

    async def _store(
        self,
        user: User,
        session_id: uuid.UUID,
        prepared: PreparedTurn,
        run: RunningTurn,
        recorder: TurnRecorder,
        final: Frame | None,
        held: list[Frame],
        start_write: asyncio.Future[None] | None,
    ) -> None:
        """The turn's rows, after its start's rows (a turn cut short before its first frame has them too)."""
        await self.admission.yield_to_starting()  # storing a finished answer can wait for a first token
        if start_write is not None:
            await start_write  # a turn cut short before its first frame: its start rows first (or its failure)
        finished = FinishedTurn(
            session_id=session_id,
            run_id=prepared.run_id,
            assistant_message_id=prepared.assistant_message_id,
            outcome=recorder.outcome,
            frames=[*run.frames, *held, *([final] if final is not None else [])],
            held=held,
            final=final,
            next_seq=self.hub.next_seq(str(session_id)),
        )
        async with self.write_slot:
            stored = await persist_turn(self.app, user, finished)
        if stored and final is not None and self.on_turn_finished is not None:
            with contextlib.suppress(Exception):
                await self.on_turn_finished(session_id, final.data)

    def _count(self, final: Frame | None, recorder: TurnRecorder, tokens: int) -> None:
        """Prometheus counters and the admin charts' series for one finished (or paused) stretch of a turn."""
        outcome = recorder.outcome
        reason = str(final.data["metadata"].get("finish_reason", "stop")) if final is not None else None
        activity_of(self.app).record_turn(
            reason,
            [str(call.get("status")) for call in outcome.finished_calls()],
            recorder.first_token_s,
            [str(decision.get("decision")) for decision in outcome.decisions],
        )
        metrics = self.app.extras.get("metrics")
        if metrics is None:
            return
        outcomes = [str(call.get("status")) for call in recorder.outcome.finished_calls()]
        if final is None:  # paused for approval: the turn goes on later, its tools ran now
            metrics.record_turn(None, tokens, outcomes)
            return
        metrics.record_turn(str(final.data["metadata"].get("finish_reason", "stop")), tokens, outcomes)
