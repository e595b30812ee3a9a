"""The contract between the offline model's core and its skills (one skill per domain).

On every model call the core builds a `Turn` from the conversation (the latest user message, the
tools bound to the model, the tool results so far in this turn, the earlier history), asks every
skill for its `score`, and lets the best one decide the next `step`: more tool calls, or the final
markdown reply. Skills are pure functions of the `Turn`, so a re-run is deterministic.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage

if TYPE_CHECKING:
    from agents.offline.understanding import Understanding


@dataclass(frozen=True)
class ToolInfo:
    """A tool bound to the model, with the metadata from `tools.tooling` (operation, access...)."""

    name: str
    operation: str  # e.g. "jira.search_issues"; see each connector's tools module
    integration_name: str | None
    integration_type: str | None
    access: str
    parameters: dict[str, Any]  # JSON schema of the arguments


@dataclass(frozen=True)
class ToolOutcome:
    """A tool call made earlier and what it returned."""

    tool: ToolInfo | None  # None when the tool is no longer bound
    tool_name: str
    args: dict[str, Any]
    content: str
    ok: bool
    call_id: str = ""  # the planner's id: it tells which step of a compound request made the call

    @property
    def data(self) -> Any:
        """The result parsed as JSON, or None when it is plain text (errors usually are)."""
        try:
            return json.loads(self.content)
        except (TypeError, ValueError):
            return None

    @property
    def operation(self) -> str | None:
        return self.tool.operation if self.tool else None


@dataclass(frozen=True)
class Call:
    """Ask for one tool call."""

    tool: str
    args: dict[str, Any]
    step: int = 0  # which step of a compound request asks for it (the planner sets it)


@dataclass(frozen=True)
class Reply:
    """The final answer of this turn, in markdown."""

    markdown: str


Step = list[Call] | Reply


@dataclass(frozen=True)
class Turn:
    """Everything a skill may look at to decide the next step."""

    text: str  # the user's latest message, as typed
    tools: tuple[ToolInfo, ...]
    outcomes: tuple[ToolOutcome, ...]  # tool results so far in this turn, oldest first
    history: tuple[BaseMessage, ...]  # all messages before this turn's user message
    now: datetime
    earlier_outcomes: tuple[ToolOutcome, ...] = field(default=())  # tool results of earlier turns
    capabilities: tuple[str, ...] = field(default=())  # what every skill can do with these tools (for help)
    understanding: Understanding | None = None  # set by the planner before any skill is asked

    @property
    def own_words(self) -> str:
        """The user's words without pasted content (this step's, in a compound request)."""
        return self.understanding.own_words if self.understanding is not None else self.text

    @property
    def normalized(self) -> str:
        """Lower-case, single-spaced, common typos folded (`jria` -> `jira`)."""
        return normalize(self.text)

    def tools_for(self, operation: str) -> list[ToolInfo]:
        """Bound tools implementing `operation`, in binding order (one per integration)."""
        return [t for t in self.tools if t.operation == operation]

    def has_operation(self, prefix: str) -> bool:
        return any(t.operation.startswith(prefix) for t in self.tools)

    def last_outcome(self, operation_prefix: str) -> ToolOutcome | None:
        """The latest result (this turn first, then earlier turns) of an operation family."""
        for outcome in reversed(self.earlier_outcomes + self.outcomes):
            if outcome.operation and outcome.operation.startswith(operation_prefix):
                return outcome
        return None

    def previous_user_texts(self) -> list[str]:
        return [str(m.content) for m in self.history if isinstance(m, HumanMessage)]


class Skill(Protocol):
    """A domain the offline model understands (Jira, EMR, HL7, help...).

    A skill may also expose `operations: tuple[understanding.Operation, ...]` (labels "<skill name>.<op>"
    with example utterances): the planner ranks every message against all of them (`turn.understanding`).
    """

    name: str

    def score(self, turn: Turn) -> float:
        """0.0 = not mine; 1.0 = certainly mine. Ties go to the skill registered first."""
        ...

    def step(self, turn: Turn) -> Step:
        """The next tool calls, or the final reply (grounded only in `turn.outcomes`)."""
        ...

    def capabilities(self, tools: tuple[ToolInfo, ...]) -> list[str]:
        """One line per thing this skill can do with these tools (for the help answer)."""
        ...


_TYPOS = {
    "jria": "jira",
    "jirra": "jira",
    "tickts": "tickets",
    "tiket": "ticket",
    "tikets": "tickets",
    "isues": "issues",
    "issuse": "issues",
    "pateint": "patient",
    "patinet": "patient",
    "paitent": "patient",
    "alergies": "allergies",
    "allergys": "allergies",
    "medicaitons": "medications",
    "meds": "medications",
    "vitlas": "vitals",
    "labz": "labs",
    "mesage": "message",
    "mesages": "messages",
}


def normalize(text: str) -> str:
    """Lower-case, fold whitespace and a few common typos; keep punctuation that carries meaning."""
    lowered = re.sub(r"\s+", " ", text.strip().lower())
    return re.sub(r"[a-z]+", lambda m: _TYPOS.get(m.group(0), m.group(0)), lowered)


def outcomes_from(messages: list[BaseMessage], tools: dict[str, ToolInfo]) -> list[ToolOutcome]:
    """Pair every AI tool call in `messages` with its ToolMessage result, in order."""
    calls: dict[str, tuple[str, dict[str, Any]]] = {}
    found: list[ToolOutcome] = []
    for message in messages:
        if isinstance(message, AIMessage):
            for call in message.tool_calls:
                calls[str(call["id"])] = (call["name"], dict(call["args"]))
        elif isinstance(message, ToolMessage) and message.tool_call_id in calls:
            name, args = calls[message.tool_call_id]
            content = message.content if isinstance(message.content, str) else json.dumps(message.content)
            found.append(
                ToolOutcome(
                    tool=tools.get(name),
                    tool_name=name,
                    args=args,
                    content=content,
                    ok=message.status != "error",
                    call_id=message.tool_call_id,
                )
            )
    return found
