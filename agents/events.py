"""Events the agent runner emits, one-to-one with the protocol's frame types (minus seq/run_id)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

EventType = Literal["agent_event", "tool_call", "tool_result", "approval_required", "token", "final", "error"]


@dataclass(slots=True)
class AgentEvent:
    type: EventType
    content: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)
