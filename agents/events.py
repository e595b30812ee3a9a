"""Events the agent runner emits, one-to-one with the protocol's WebSocket frame types.

The backend adds seq, run_id, timestamp, session_id and message_id. Metadata per type:
  agent_event        {event_type: "thinking" | "approval_decision", details}
  tool_call          {tool_name, tool_call_id, args, status: "started"}
  tool_result        {tool_name, tool_call_id, status: "completed" | "failed", result}   (content: the text)
  approval_required  ApprovalRequest fields {tool_call_id, tool_name, args, description, allowed_decisions, ...}
  token              {token_index}                                                         (content: the text)
  final              {tokens_used, finish_reason: "stop" | "error", usage: {input, output, total}}
                     (content: the whole answer of this stream = its tokens concatenated)
  error              {code, recoverable}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

EventType = Literal["agent_event", "tool_call", "tool_result", "approval_required", "token", "final", "error"]


@dataclass(slots=True)
class AgentEvent:
    """One streamed event of a turn."""

    type: EventType
    content: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)
