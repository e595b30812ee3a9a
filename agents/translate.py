"""Turns LangGraph stream chunks (`updates`, `messages`, `custom`) into `AgentEvent`s for one stream."""

from __future__ import annotations

import json
from typing import Any

from langchain_core.messages import AIMessage, AIMessageChunk, ToolMessage

from agents.approvals import ApprovalRequest
from agents.events import AgentEvent
from agents.offline.model import ModelToken

RESULT_PREVIEW_CHARS = 20_000


def message_text(content: Any) -> str:
    """The text of a message's content (a string, or a list of content blocks)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(part.get("text", "")) if isinstance(part, dict) else str(part) for part in content if part)
    return ""


def _result(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text[:RESULT_PREVIEW_CHARS]


def approval_event(request: ApprovalRequest) -> AgentEvent:
    """The `approval_required` event for a pending approval."""
    return AgentEvent("approval_required", request.description, request.model_dump())


class StreamTranslator:
    """Keeps what one stream needs to close cleanly: the tokens so far, usage, tool names, pauses."""

    def __init__(self) -> None:
        self.tokens: list[str] = []
        self.unsaved_tokens = 0  # tokens of a model call whose message is not in the state yet
        self.usage = {"input": 0, "output": 0, "total": 0}
        self.paused = False
        self.reported_results: set[str] = set()  # tool results an earlier stream of this turn already sent
        self._tool_names: dict[str, str] = {}

    @property
    def text(self) -> str:
        """Everything streamed as tokens so far."""
        return "".join(self.tokens)

    @property
    def unsaved_text(self) -> str:
        """The tokens the checkpoint does not hold yet (a model call cut short)."""
        return "".join(self.tokens[len(self.tokens) - self.unsaved_tokens :]) if self.unsaved_tokens else ""

    def token(self, text: str) -> AgentEvent:
        """A `token` event, counted."""
        self.tokens.append(text)
        self.unsaved_tokens += 1
        return AgentEvent("token", text, {"token_index": len(self.tokens) - 1})

    def translate(self, mode: str, chunk: Any) -> list[AgentEvent]:
        """The events for one `(mode, chunk)` of `graph.astream(stream_mode=[...])`."""
        if mode == "custom":
            if type(chunk) is ModelToken:
                return [self.token(chunk.text)]
            if isinstance(chunk, dict) and "approval_decision" in chunk:
                details = chunk["approval_decision"]
                return [AgentEvent("agent_event", "", {"event_type": "approval_decision", "details": details})]
            return []
        if mode == "messages":
            piece, meta = chunk
            if isinstance(piece, AIMessageChunk) and meta.get("langgraph_node") == "model":
                text = message_text(piece.content)
                if text:
                    return [self.token(text)]
            return []
        events: list[AgentEvent] = []
        for node, update in chunk.items():
            if node == "__interrupt__":
                for item in update:
                    self.paused = True
                    events.append(approval_event(ApprovalRequest.model_validate(item.value)))
            elif isinstance(update, dict):
                messages = update.get("messages", [])
                for message in messages if isinstance(messages, list) else [messages]:
                    events.extend(self._message_events(message))
        return events

    def _message_events(self, message: Any) -> list[AgentEvent]:
        if isinstance(message, AIMessage):
            self.unsaved_tokens = 0
            if message.usage_metadata:
                self.usage["input"] += message.usage_metadata.get("input_tokens", 0)
                self.usage["output"] += message.usage_metadata.get("output_tokens", 0)
                self.usage["total"] += message.usage_metadata.get("total_tokens", 0)
            events = []
            for call in message.tool_calls:
                call_id = str(call["id"])
                self._tool_names[call_id] = call["name"]
                meta = {"tool_name": call["name"], "tool_call_id": call_id, "args": call["args"], "status": "started"}
                events.append(AgentEvent("tool_call", "", meta))
            return events
        if isinstance(message, ToolMessage):
            if message.tool_call_id in self.reported_results:
                return []
            self.reported_results.add(message.tool_call_id)
            text = message_text(message.content)
            meta = {
                "tool_name": message.name or self._tool_names.get(message.tool_call_id, ""),
                "tool_call_id": message.tool_call_id,
                "status": "failed" if message.status == "error" else "completed",
                "result": _result(text),
            }
            return [AgentEvent("tool_result", text[:RESULT_PREVIEW_CHARS], meta)]
        return []

    def final(self, finish_reason: str = "stop") -> AgentEvent:
        """The stream's one `final`: the whole text, usage and why it ended."""
        usage = dict(self.usage)
        meta = {"tokens_used": usage["total"], "finish_reason": finish_reason, "usage": usage}
        return AgentEvent("final", self.text, meta)
