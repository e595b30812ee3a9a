"""Folding one turn's agent events into its outcome: no I/O, no hub, no database.

The turn's lifecycle feeds every event it streams to `TurnRecorder.fold`, which says what to do with
the event's frame (publish it now, hold it until the turn's state is stored, or treat it as the
answer's `final`) and keeps what the turn's rows need: the answer's text, the tool calls with their
results, the approval decisions to audit, and whether the turn paused for approval.
"""

from __future__ import annotations

import enum
import time
from dataclasses import dataclass, field
from typing import Any


class Disposition(enum.Enum):
    PUBLISH = "publish"  # deliver the frame now
    HOLD = "hold"  # deliver it once the turn's state is stored (a client acting on it can rely on that)
    FINAL = "final"  # the answer is complete: build the `final` frame, stream no more


@dataclass
class TurnOutcome:
    """What one stretch of a turn produced, as its rows record it."""

    tokens: list[str] = field(default_factory=list)
    tool_calls: dict[str, dict[str, Any]] = field(default_factory=dict)
    decisions: list[dict[str, Any]] = field(default_factory=list)
    paused: bool = False
    # The `final` the agent gave: its content and metadata (None until then, or if it never came).
    final_content: str | None = None
    final_metadata: dict[str, Any] | None = None

    @property
    def text(self) -> str:
        return "".join(self.tokens)

    def finished_calls(self) -> list[dict[str, Any]]:
        return [c for c in self.tool_calls.values() if c.get("status") in ("completed", "failed")]


def _wording(metadata: dict[str, Any]) -> dict[str, Any]:
    """The people's words for a tool call kept on the stored message (the UI labels it with them)."""
    fields = {"label": metadata.get("tool_label"), "integration_type": metadata.get("integration_type")}
    return {key: value for key, value in fields.items() if value is not None}


class TurnRecorder:
    """Folds a turn's events; `earlier_calls` are the calls started before an approval pause."""

    def __init__(self, earlier_calls: dict[str, dict[str, Any]] | None = None) -> None:
        self.outcome = TurnOutcome()
        self._earlier = earlier_calls or {}
        self.started = time.monotonic()
        self.first_token_s: float | None = None  # seconds from the turn's start to its first token

    def token(self, content: str) -> int:
        """Record a streamed token; its index in the answer."""
        tokens = self.outcome.tokens
        if not tokens:
            self.first_token_s = time.monotonic() - self.started
        tokens.append(content)
        return len(tokens) - 1

    def fold(self, kind: str, content: str, metadata: dict[str, Any]) -> Disposition:
        """Record any other event (`metadata` is the caller's copy: it may be kept)."""
        outcome = self.outcome
        if kind == "final":
            outcome.final_content, outcome.final_metadata = content, metadata
            return Disposition.FINAL
        if kind == "tool_call":
            call_id = str(metadata.get("tool_call_id"))
            outcome.tool_calls[call_id] = {
                "id": metadata.get("tool_call_id"),
                "name": metadata.get("tool_name"),
                "args": metadata.get("args", {}),
                "status": "started",
                **_wording(metadata),
            }
        elif kind == "tool_result":
            call_id = str(metadata.get("tool_call_id"))
            started = self._earlier.get(call_id, {})
            call = outcome.tool_calls.setdefault(
                call_id, {"id": call_id, "name": metadata.get("tool_name"), "args": started.get("args", {})}
            )
            for key, value in _wording(metadata).items():
                call.setdefault(key, value)
            call.update(status=metadata.get("status"), result=metadata.get("result"))
        elif kind == "approval_required":
            outcome.paused = True  # delivered once the paused state is stored, like `final`
            return Disposition.HOLD
        elif kind == "error" and metadata.get("code") == "invalid_edit":
            outcome.paused = True  # the approval is still pending; the client may answer again
            return Disposition.HOLD
        elif kind == "agent_event" and metadata.get("event_type") == "approval_decision":
            outcome.decisions.append(dict(metadata.get("details") or {}))
        return Disposition.PUBLISH

    def interrupted(self) -> None:
        """The stream stopped early (cancelled, failed): the turn is not paused any more."""
        self.outcome.paused = False
