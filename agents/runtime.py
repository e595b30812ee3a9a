"""`AgentRunner`: runs one chat turn through a LangChain `create_agent` graph and streams `AgentEvent`s.

Usage (the backend's chat turns):

    runner = AgentRunner(model, checkpointer)
    async for event in runner.run_turn(thread_id=session_id, message="hi", tools=tools,
                                       policy=ApprovalPolicy(), system_prompt=prompt):
        ...  # agent_event, tool_call, tool_result, approval_required, token, final, error

A turn ends with exactly one `final`, unless it pauses for approval: then the stream ends after
`approval_required` and `run_turn(thread_id=..., decisions=[...])` continues the same turn. Token
contents of one stream concatenate to that stream's `final` content. The conversation lives in the
checkpointer (keyed by thread id), so it survives reconnects and restarts.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Sequence
from typing import Any

from langchain.agents import create_agent
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, HumanMessage, RemoveMessage, ToolMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.types import Command

from agents.approvals import ApprovalDecision, ApprovalMiddleware, ApprovalRequest, InvalidEdit, validate_edit
from agents.events import AgentEvent
from agents.policy import ApprovalPolicy, decisions_for

RESULT_PREVIEW_CHARS = 20_000
RECURSION_LIMIT = 40


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(part.get("text", "") if isinstance(part, dict) else str(part) for part in content)
    return ""


def _result(content: Any) -> Any:
    text = _text(content)
    try:
        return json.loads(text)
    except ValueError:
        return text[:RESULT_PREVIEW_CHARS]


class AgentRunner:
    """One per process; builds the agent graph per turn for the user's tools and policy."""

    def __init__(self, model: BaseChatModel, checkpointer: BaseCheckpointSaver[str]) -> None:
        self.model = model
        self.checkpointer = checkpointer

    def _graph(self, tools: Sequence[BaseTool], policy: ApprovalPolicy, system_prompt: str) -> Any:
        return create_agent(
            self.model,
            list(tools),
            system_prompt=system_prompt,
            middleware=[ApprovalMiddleware(decisions_for(tools, policy))],
            checkpointer=self.checkpointer,
        )

    @staticmethod
    def _config(thread_id: str) -> RunnableConfig:
        return {"configurable": {"thread_id": thread_id}, "recursion_limit": RECURSION_LIMIT}

    async def run_turn(
        self,
        *,
        thread_id: str,
        message: str | None = None,
        decisions: Sequence[ApprovalDecision | Any] | None = None,
        tools: Sequence[BaseTool],
        policy: ApprovalPolicy | None = None,
        system_prompt: str = "",
    ) -> AsyncGenerator[AgentEvent, None]:
        """Stream one turn (a new user message) or its continuation (approval decisions)."""
        graph = self._graph(tools, policy or ApprovalPolicy(), system_prompt)
        config = self._config(thread_id)
        if decisions:
            try:
                payload: Any = await self._resume_command(graph, config, decisions, tools)
            except InvalidEdit as exc:
                yield AgentEvent("error", str(exc), {"code": "invalid_edit", "recoverable": True})
                for pending in await self.pending_approvals(thread_id, tools):
                    yield self._approval_event(pending)
                return
        else:
            await self._close_dangling_calls(graph, config)
            payload = {"messages": [HumanMessage(message or "")]}
        yield AgentEvent("agent_event", "", {"event_type": "thinking", "details": {}})
        tokens: list[str] = []
        usage = {"input": 0, "output": 0, "total": 0}
        calls: dict[str, str] = {}
        paused = False
        async for mode, chunk in graph.astream(payload, config, stream_mode=["messages", "updates", "custom"]):
            if mode == "messages":
                piece, meta = chunk
                if isinstance(piece, AIMessageChunk) and meta.get("langgraph_node") == "model":
                    text = _text(piece.content)
                    if text:
                        tokens.append(text)
                        yield AgentEvent("token", text, {"token_index": len(tokens) - 1})
            elif mode == "custom":
                if isinstance(chunk, dict) and "approval_decision" in chunk:
                    yield AgentEvent(
                        "agent_event", "", {"event_type": "approval_decision", "details": chunk["approval_decision"]}
                    )
            else:
                for node, update in chunk.items():
                    if node == "__interrupt__":
                        for item in update:
                            paused = True
                            yield self._approval_event(ApprovalRequest.model_validate(item.value))
                        continue
                    for event in self._update_events(update, calls, usage):
                        yield event
        if paused:
            return
        content = "".join(tokens)
        yield AgentEvent("final", content, {"tokens_used": usage["total"], "finish_reason": "stop", "usage": usage})

    def _update_events(self, update: Any, calls: dict[str, str], usage: dict[str, int]) -> list[AgentEvent]:
        events: list[AgentEvent] = []
        messages = update.get("messages", []) if isinstance(update, dict) else []
        for message in messages if isinstance(messages, list) else [messages]:
            if isinstance(message, AIMessage):
                if message.usage_metadata:
                    usage["input"] += message.usage_metadata.get("input_tokens", 0)
                    usage["output"] += message.usage_metadata.get("output_tokens", 0)
                    usage["total"] += message.usage_metadata.get("total_tokens", 0)
                for call in message.tool_calls:
                    calls[str(call["id"])] = call["name"]
                    events.append(
                        AgentEvent(
                            "tool_call",
                            "",
                            {
                                "tool_name": call["name"],
                                "tool_call_id": call["id"],
                                "args": call["args"],
                                "status": "started",
                            },
                        )
                    )
            elif isinstance(message, ToolMessage):
                status = "failed" if message.status == "error" else "completed"
                events.append(
                    AgentEvent(
                        "tool_result",
                        _text(message.content)[:RESULT_PREVIEW_CHARS],
                        {
                            "tool_name": message.name or calls.get(message.tool_call_id, ""),
                            "tool_call_id": message.tool_call_id,
                            "status": status,
                            "result": _result(message.content),
                        },
                    )
                )
        return events

    @staticmethod
    def _approval_event(request: ApprovalRequest) -> AgentEvent:
        return AgentEvent("approval_required", request.description, request.model_dump())

    async def _resume_command(
        self, graph: Any, config: RunnableConfig, decisions: Sequence[Any], tools: Sequence[BaseTool]
    ) -> Command[Any]:
        state = await graph.aget_state(config)
        pending = {ApprovalRequest.model_validate(i.value).tool_call_id: i for i in state.interrupts}
        by_name = {t.name: t for t in tools}
        resume: dict[str, Any] = {}
        for raw in decisions:
            decision = (
                raw
                if isinstance(raw, ApprovalDecision)
                else ApprovalDecision(
                    tool_call_id=raw.tool_call_id, decision=raw.decision, args=raw.args, reason=raw.reason
                )
            )
            item = pending.get(decision.tool_call_id)
            if item is None:
                raise InvalidEdit(f"No pending approval for tool call {decision.tool_call_id}.")
            request = ApprovalRequest.model_validate(item.value)
            if decision.decision == "edit":
                decision = decision.model_copy(
                    update={"args": validate_edit(by_name.get(request.tool_name), decision.args)}
                )
            resume[item.id] = decision.model_dump()
        return Command(resume=resume)

    async def _close_dangling_calls(self, graph: Any, config: RunnableConfig) -> None:
        """A turn cancelled mid-tool or abandoned at an approval leaves tool calls without results;
        answer them so the history stays valid for every model provider."""
        state = await graph.aget_state(config)
        messages: list[BaseMessage] = list(state.values.get("messages", [])) if state.values else []
        answered = {m.tool_call_id for m in messages if isinstance(m, ToolMessage)}
        missing = [
            ToolMessage(
                content="Not run: the user moved on before this call completed or was approved.",
                tool_call_id=str(call["id"]),
                name=call["name"],
                status="error",
            )
            for m in messages
            if isinstance(m, AIMessage)
            for call in m.tool_calls
            if call["id"] not in answered
        ]
        if missing:
            await graph.aupdate_state(config, {"messages": missing}, as_node="tools")

    async def pending_approvals(self, thread_id: str, tools: Sequence[BaseTool] = ()) -> list[ApprovalRequest]:
        """Approvals the thread is waiting for (read back from the checkpoint, e.g. after a restart)."""
        graph = self._graph(tools, ApprovalPolicy(), "")
        state = await graph.aget_state(self._config(thread_id))
        return [ApprovalRequest.model_validate(i.value) for i in state.interrupts]

    async def history(self, thread_id: str) -> list[BaseMessage]:
        graph = self._graph((), ApprovalPolicy(), "")
        state = await graph.aget_state(self._config(thread_id))
        return list(state.values.get("messages", [])) if state.values else []

    async def rewind(self, thread_id: str, keep_user_turns: int) -> None:
        """Drop user turn number `keep_user_turns` (0-based) and everything after it."""
        graph = self._graph((), ApprovalPolicy(), "")
        config = self._config(thread_id)
        messages = await self.history(thread_id)
        user_indexes = [i for i, m in enumerate(messages) if isinstance(m, HumanMessage)]
        if keep_user_turns >= len(user_indexes):
            return
        cut = user_indexes[keep_user_turns]
        removals = [RemoveMessage(id=str(m.id)) for m in messages[cut:] if m.id]
        if removals:
            await graph.aupdate_state(config, {"messages": removals}, as_node="model")
