"""What the chat backend needs from the agent layer, as a narrow typed port.

`agents.runtime.AgentRunner` satisfies it; tests of the backend use the real runner with the offline
model, never a fake.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from langchain_core.tools import BaseTool


@dataclass(frozen=True)
class Decision:
    """A client's answer to `approval_required` (our versioned contract)."""

    tool_call_id: str
    decision: str  # approve | reject | edit
    args: dict[str, Any] | None = None
    reason: str | None = None


@dataclass(frozen=True)
class TurnInputs:
    """Per-user inputs of a turn: the tools from their integrations, the policy, the system prompt."""

    tools: Sequence[BaseTool]
    policy: Any
    system_prompt: str


class AgentEventLike(Protocol):
    @property
    def type(self) -> str: ...

    @property
    def content(self) -> str: ...

    @property
    def metadata(self) -> dict[str, Any]: ...


class AgentPort(Protocol):
    def run_turn(
        self,
        *,
        thread_id: str,
        message: str | None = None,
        decisions: Sequence[Any] | None = None,
        tools: Sequence[BaseTool],
        policy: Any = None,
        system_prompt: str = "",
        on_model_call: Callable[[], None] | None = None,
    ) -> AsyncGenerator[AgentEventLike, None]: ...

    async def rewind(self, thread_id: str, keep_user_turns: int) -> None: ...
