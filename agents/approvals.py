"""Human approval of tool calls, as OUR versioned contract over a LangGraph interrupt.

An asking tool call pauses the run with `interrupt(ApprovalRequest)`; the caller resumes it with an
`ApprovalDecision` (approve / edit / reject). The shapes here are what the API exposes, so they do not
change when LangChain's own human-in-the-loop internals do. Denied calls never run: the model gets an
error tool result saying an administrator's policy denies them.

Why not LangChain's `HumanInTheLoopMiddleware`: its `interrupt_on` is fixed when the graph is built,
while our decisions depend on the user's integrations and admin overrides per turn (they arrive in
`TurnContext`, so compiled graphs can be cached), and every decision — including policy denials and
writes allowed by policy — must be reported for the audit log.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Awaitable, Callable
from typing import Any, Literal

from langchain.agents.middleware import AgentMiddleware
from langchain_core.messages import ToolMessage
from langchain_core.tools import BaseTool
from langgraph.config import get_stream_writer
from langgraph.prebuilt.tool_node import ToolCallRequest
from langgraph.types import Command, interrupt
from pydantic import BaseModel, Field, ValidationError

from agents.context import TurnContext
from tools.tooling import tool_policy

APPROVAL_CONTRACT_VERSION = 1
DecisionKind = Literal["approve", "edit", "reject"]


class ApprovalRequest(BaseModel):
    """What the client sees in `approval_required`."""

    version: int = APPROVAL_CONTRACT_VERSION
    tool_call_id: str
    tool_name: str
    args: dict[str, Any]
    description: str
    allowed_decisions: list[DecisionKind] = Field(default=["approve", "edit", "reject"])
    integration_id: str | None = None
    operation: str | None = None
    # The API-key scope the call needs: a key answering the approval must hold it.
    scope: str | None = None
    # In plain words, from the tool (never the model): "Move SB-4 to In Progress".
    summary: str | None = None
    risk: Literal["read", "write", "destructive", "patient_data"] | None = None
    integration_name: str | None = None
    integration_type: str | None = None
    tool_label: str | None = None
    # The tool's argument schema (JSON Schema), so a client can offer the arguments as a form.
    args_schema: dict[str, Any] | None = None


class ApprovalDecision(BaseModel):
    """What the client answers."""

    version: int = APPROVAL_CONTRACT_VERSION
    tool_call_id: str
    decision: DecisionKind
    args: dict[str, Any] | None = None
    reason: str | None = Field(default=None, max_length=2000)


class InvalidEdit(ValueError):
    """Edited arguments do not fit the tool's schema; the run stays paused."""


def validate_edit(tool: BaseTool | None, args: dict[str, Any] | None) -> dict[str, Any]:
    """The edited arguments, validated against the tool's schema (raises `InvalidEdit`)."""
    if args is None:
        raise InvalidEdit("An edit needs the new arguments.")
    schema = tool.args_schema if tool is not None else None
    if isinstance(schema, type) and issubclass(schema, BaseModel):
        try:
            return schema.model_validate(args).model_dump(mode="json", exclude_unset=True) or dict(args)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "arguments"
            raise InvalidEdit(f"Invalid edited arguments ({where}: {first['msg']}).") from None
    return dict(args)


def describe(tool: BaseTool | None, name: str, args: dict[str, Any]) -> str:
    policy = tool_policy(tool) if tool is not None else None
    what = (tool.description.split("\n")[0] if tool is not None else name).rstrip(".")
    where = f" on {policy.integration_name}" if policy and policy.integration_name else ""
    return f"{what}{where} with {json.dumps(args, ensure_ascii=False, default=str)}"


def _schema_of(tool: BaseTool) -> dict[str, Any] | None:
    schema = tool.args_schema
    if isinstance(schema, type) and issubclass(schema, BaseModel):
        return schema.model_json_schema()
    return schema if isinstance(schema, dict) else None


def _report(details: dict[str, Any]) -> None:
    try:
        get_stream_writer()({"approval_decision": details})
    except RuntimeError:  # not streaming (e.g. ainvoke in a test)
        pass


def _refusal(call_id: str, name: str, code: str, text: str) -> ToolMessage:
    return ToolMessage(content=f"Error [{code}]: {text}", tool_call_id=call_id, name=name, status="error")


class ApprovalMiddleware(AgentMiddleware[Any, TurnContext]):
    """Applies the turn's per-tool decisions (`TurnContext.decisions`) before every tool call."""

    async def awrap_tool_call(
        self,
        request: ToolCallRequest,
        handler: Callable[[ToolCallRequest], Awaitable[ToolMessage | Command[Any]]],
    ) -> ToolMessage | Command[Any]:
        call = request.tool_call
        name = str(call["name"])
        call_id = str(call["id"])
        if request.tool is None:  # a made-up name, or an integration removed while the call waited
            return _refusal(
                call_id, name, "tool_unavailable", f"{name} is not available to this user now; it was not run."
            )
        context: TurnContext | None = request.runtime.context
        policy = tool_policy(request.tool)
        args = dict(call["args"])
        base = {
            "tool_call_id": call_id,
            "tool_name": name,
            "integration_id": policy.integration_id,
            "operation": policy.operation,
            "summary": policy.summary(args),
            "risk": policy.risk,
        }
        decision = context.decisions.get(name, "ask") if context is not None else "ask"
        if decision == "allow":
            if policy.access != "read":
                _report({**base, "decision": "allow", "by": "policy"})
            return await handler(request)
        if decision == "deny":
            _report({**base, "decision": "deny", "by": "policy"})
            return _refusal(
                call_id,
                name,
                "denied_by_policy",
                f"an administrator's policy does not allow {name}. It was not run. "
                "Tell the user, and suggest asking an admin if it is needed.",
            )
        asked = ApprovalRequest(
            tool_call_id=call_id,
            tool_name=name,
            args=args,
            description=describe(request.tool, name, args),
            integration_id=policy.integration_id,
            operation=policy.operation,
            scope=policy.scope,
            summary=base["summary"],
            risk=policy.risk,
            integration_name=policy.integration_name,
            integration_type=policy.integration_type,
            tool_label=policy.label,
            args_schema=_schema_of(request.tool),
        )
        answer = ApprovalDecision.model_validate(interrupt(asked.model_dump()))
        if answer.decision == "edit":
            # Validated again here: a resume value may come from anywhere, not only from AgentRunner.
            edited = validate_edit(request.tool, answer.args)
            # The audit row says what actually runs: the summary of the edited arguments.
            _report(
                {**base, "summary": policy.summary(edited), "decision": "edit", "by": "user", "reason": answer.reason}
            )
            return await handler(dataclasses.replace(request, tool_call={**call, "args": edited}))
        _report({**base, "decision": answer.decision, "by": "user", "reason": answer.reason})
        if answer.decision == "approve":
            return await handler(request)
        because = f" Reason: {answer.reason}" if answer.reason else ""
        return _refusal(
            call_id,
            name,
            "rejected_by_user",
            f"the user rejected {name}; it was not run.{because} Do not retry it; acknowledge and ask how to proceed.",
        )
