"""What one turn brings to a compiled agent graph: its tools, their approval decisions, the prompt."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from langchain_core.tools import BaseTool

from agents.policy import ApprovalPolicy, PolicyDecision, decisions_for


@dataclass(frozen=True, slots=True)
class TurnContext:
    """Passed as LangGraph runtime context; never stored in the checkpoint."""

    tools: tuple[BaseTool, ...] = ()
    decisions: Mapping[str, PolicyDecision] = field(default_factory=dict)
    system_prompt: str = ""
    tools_by_name: Mapping[str, BaseTool] = field(default_factory=dict)
    # Called as each model call of the turn begins (the caller's scheduling: from here the turn may be
    # waiting on a hosted model rather than using the CPU).
    on_model_call: Callable[[], None] | None = None

    @classmethod
    def build(
        cls,
        tools: Sequence[BaseTool],
        policy: ApprovalPolicy,
        system_prompt: str,
        on_model_call: Callable[[], None] | None = None,
    ) -> TurnContext:
        """The context of a turn with these tools under this policy."""
        return cls(
            tools=tuple(tools),
            decisions=decisions_for(tools, policy),
            system_prompt=system_prompt,
            tools_by_name={tool.name: tool for tool in tools},
            on_model_call=on_model_call,
        )
