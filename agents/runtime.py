"""`AgentRunner`: runs chat turns through the LangChain `create_agent` graph and streams `AgentEvent`s.

Usage (the backend's chat turns):

    async with open_checkpointer(database_url) as checkpointer:
        runner = AgentRunner(load_chat_model("offline"), checkpointer)
        async for event in runner.run_turn(thread_id=session_id, message="hi", tools=tools,
                                           policy=ApprovalPolicy(), system_prompt=prompt):
            ...  # agent_event, tool_call, tool_result, approval_required, token, final, error

    run_turn(thread_id, message=..., tools, policy, system_prompt)  a new user message
    run_turn(thread_id, decisions=[ApprovalDecision...], ...)     continues a turn paused for approval
    pending_approvals(thread_id, tools) -> list[ApprovalRequest]  read back from the checkpoint
    history(thread_id) -> list[BaseMessage]                       the stored conversation
    rewind(thread_id, keep_user_turns)                            drop that user turn (0-based) and after

Stream invariants (see `agents.events` for each event's metadata):
- It starts with `agent_event` {event_type: "thinking"}. Every `tool_call` gets exactly one `tool_result`.
- It ends with exactly one `final`, unless the turn pauses for approval: then it ends after one
  `approval_required` per waiting call and WITHOUT `final`; the stream of `run_turn(decisions=...)`
  continues the same turn and ends with its `final`. The `token` contents of one stream concatenate
  exactly to that stream's `final` content.
- An invalid decision (an edit that does not fit the tool's schema, an unknown tool_call_id) yields
  `error` {code: "invalid_edit", recoverable: true} and the `approval_required` events again; nothing
  runs and the turn stays paused.
- Every approval decision — the user's, a policy denial, a write allowed by policy — is reported as
  `agent_event` {event_type: "approval_decision", details: {tool_call_id, tool_name, integration_id,
  operation, decision, by: "user" | "policy", reason?}} so the caller can audit it.
- A failure inside the graph (model provider down, recursion limit) yields `error` {code} and
  `final` {finish_reason: "error"} with the text streamed so far.
- Cancelling (cancel the consuming task, or `aclose()` the generator) ends the stream without `final`;
  the tokens already yielded are the partial answer. Before the cancellation propagates the runner
  stores that partial answer as the thread's AI message, so the history reads as the user saw it; tool
  calls left without a result are answered "not run" when the next turn starts. The thread stays usable.

The conversation lives in the checkpointer under `thread_id` (the chat session id), so it survives
reconnects and restarts, including a turn waiting for approval.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, Callable, Sequence
from typing import Any, cast

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, RemoveMessage, ToolMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.errors import GraphRecursionError
from langgraph.types import Command, StreamMode
from pydantic import ValidationError

from agents.approvals import ApprovalDecision, ApprovalRequest, InvalidEdit, validate_edit
from agents.context import TurnContext
from agents.events import AgentEvent
from agents.graph import AgentGraph, AgentGraphs
from agents.policy import ApprovalPolicy
from agents.translate import StreamTranslator, approval_event

log = logging.getLogger("switchboard.agent")
RECURSION_LIMIT = 40


def _as_decision(raw: Any) -> ApprovalDecision:
    if isinstance(raw, ApprovalDecision):
        return raw
    if isinstance(raw, dict):
        return ApprovalDecision.model_validate(raw)
    return ApprovalDecision(
        tool_call_id=raw.tool_call_id, decision=raw.decision, args=getattr(raw, "args", None), reason=raw.reason
    )


def _stream_modes(model: BaseChatModel) -> list[StreamMode]:
    # The offline model writes tokens to the custom stream; "messages" would add LangChain's costly
    # per-token callback path for nothing. Other models stream their tokens through "messages".
    if getattr(model, "writes_tokens_to_stream", False):
        return ["updates", "custom"]
    return ["messages", "updates", "custom"]


class AgentRunner:
    """One per process (per model and checkpointer); safe for concurrent turns on different threads."""

    def __init__(self, model: BaseChatModel, checkpointer: BaseCheckpointSaver[str]) -> None:
        self.model = model
        self.checkpointer = checkpointer
        self.graphs = AgentGraphs(model, checkpointer)
        self._stream_modes = _stream_modes(model)

    @staticmethod
    def _config(thread_id: str) -> RunnableConfig:
        return {"configurable": {"thread_id": thread_id}, "recursion_limit": RECURSION_LIMIT}

    async def run_turn(
        self,
        *,
        thread_id: str,
        message: str | None = None,
        decisions: Sequence[ApprovalDecision | Any] | None = None,
        tools: Sequence[BaseTool] = (),
        policy: ApprovalPolicy | None = None,
        system_prompt: str = "",
        on_model_call: Callable[[], None] | None = None,
    ) -> AsyncGenerator[AgentEvent, None]:
        """Stream one turn (a new user `message`) or its continuation (approval `decisions`).

        `on_model_call` is called as each model call begins (see `TurnContext`)."""
        if message is None and not decisions:
            raise ValueError("run_turn needs a user message or approval decisions")
        graph = self.graphs.for_tools(tools)
        config = self._config(thread_id)
        context = TurnContext.build(tools, policy or ApprovalPolicy(), system_prompt, on_model_call)
        payload: Any
        turn = StreamTranslator()
        if decisions:
            try:
                payload, turn.reported_results = await self._resume_command(graph, config, decisions, context)
            except InvalidEdit as exc:
                yield AgentEvent("error", str(exc), {"code": "invalid_edit", "recoverable": True})
                for pending in await self.pending_approvals(thread_id, tools):
                    yield approval_event(pending)
                return
        else:  # calls an earlier turn left open are answered inside the run (OpenToolCallsMiddleware)
            payload = {"messages": [HumanMessage(message or "")]}
        yield AgentEvent("agent_event", "", {"event_type": "thinking", "details": {}})
        # durability="exit": one checkpoint when the run ends (answered, paused for approval, failed or
        # cancelled) instead of one per step. A turn is the unit the backend persists too, and a turn
        # lost to a crash is not resumed step by step; it saves ~30% of the agent's CPU per turn.
        stream = cast(
            "AsyncGenerator[tuple[str, Any], None]",
            graph.astream(payload, config, context=context, stream_mode=self._stream_modes, durability="exit"),
        )
        try:
            async with contextlib.aclosing(stream):
                async for mode, chunk in stream:
                    for event in turn.translate(mode, chunk):
                        yield event
        except (asyncio.CancelledError, GeneratorExit):
            await self._keep_partial_answer(graph, config, turn)
            raise
        except Exception as exc:  # the model provider, a bug: the turn still ends with one final
            log.exception("agent turn failed on thread %s", thread_id)
            code = "recursion_limit" if isinstance(exc, GraphRecursionError) else "agent_error"
            await self._keep_partial_answer(graph, config, turn)
            yield AgentEvent("error", _failure_text(exc), {"code": code, "recoverable": True})
            yield turn.final("error")
            return
        if not turn.paused:
            yield turn.final()

    async def _keep_partial_answer(self, graph: AgentGraph, config: RunnableConfig, turn: StreamTranslator) -> None:
        """Store the tokens the user saw of a model call that did not finish, as the AI message."""
        partial = turn.unsaved_text
        if not partial:
            return
        message = AIMessage(partial, response_metadata={"finish_reason": "cancelled"})
        try:
            await asyncio.shield(graph.aupdate_state(config, {"messages": [message]}, as_node="model"))
        except Exception:  # never mask the cancellation or the original failure
            log.exception("could not store the partial answer")

    async def _resume_command(
        self, graph: AgentGraph, config: RunnableConfig, decisions: Sequence[Any], context: TurnContext
    ) -> tuple[Command[Any], set[str]]:
        """The resume command, and the tool calls whose results an earlier stream already reported."""
        state = await graph.aget_state(config)
        waiting = {ApprovalRequest.model_validate(i.value).tool_call_id: i for i in state.interrupts}
        resume: dict[str, Any] = {}
        for raw in decisions:
            try:
                decision = _as_decision(raw)
            except (ValidationError, AttributeError) as exc:
                raise InvalidEdit(f"Invalid approval decision: {exc}") from None
            item = waiting.get(decision.tool_call_id)
            if item is None:
                raise InvalidEdit(f"No approval is waiting for tool call {decision.tool_call_id}.")
            if decision.decision == "edit":
                tool = context.tools_by_name.get(ApprovalRequest.model_validate(item.value).tool_name)
                decision = decision.model_copy(update={"args": validate_edit(tool, decision.args)})
            resume[item.id] = decision.model_dump()
        # Calls of the same step that finished while others waited: LangGraph replays their results.
        reported = {
            message.tool_call_id
            for task in state.tasks
            if isinstance(task.result, dict)
            for message in task.result.get("messages", [])
            if isinstance(message, ToolMessage)
        }
        return Command(resume=resume), reported

    async def pending_approvals(self, thread_id: str, tools: Sequence[BaseTool] = ()) -> list[ApprovalRequest]:
        """Approvals the thread is waiting for, read back from the checkpoint (e.g. after a restart)."""
        state = await self.graphs.for_tools(tools).aget_state(self._config(thread_id))
        return [ApprovalRequest.model_validate(i.value) for i in state.interrupts]

    async def history(self, thread_id: str) -> list[BaseMessage]:
        """The thread's stored messages, oldest first."""
        state = await self.graphs.for_tools(()).aget_state(self._config(thread_id))
        return list(state.values.get("messages", [])) if state.values else []

    async def rewind(self, thread_id: str, keep_user_turns: int) -> None:
        """Drop user turn number `keep_user_turns` (0-based) and everything after it."""
        messages = await self.history(thread_id)
        user_indexes = [i for i, m in enumerate(messages) if isinstance(m, HumanMessage)]
        if keep_user_turns < 0 or keep_user_turns >= len(user_indexes):
            return
        removals = [RemoveMessage(id=str(m.id)) for m in messages[user_indexes[keep_user_turns] :] if m.id]
        if removals:
            graph = self.graphs.for_tools(())
            await graph.aupdate_state(self._config(thread_id), {"messages": removals}, as_node="model")


def _failure_text(exc: BaseException) -> str:
    if isinstance(exc, GraphRecursionError):
        return "I stopped: this request took too many steps. Please narrow it down."
    return f"The assistant could not finish this answer ({type(exc).__name__}). Please try again."
