"""Human approval of tool calls, as OUR versioned contract over a LangGraph interrupt.

An asking tool call pauses the run with `interrupt(ApprovalRequest)`; the caller resumes it with an
`ApprovalDecision` (approve / edit / reject). The shapes here are what the API exposes, so they do not
change when LangChain's own human-in-the-loop internals do. Denied calls never run: the model gets an
error tool result saying an administrator's policy denies them.
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

from agents.policy import PolicyDecision
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


def _report(details: dict[str, Any]) -> None:
    try:
        get_stream_writer()({"approval_decision": details})
    except RuntimeError:  # not streaming (e.g. ainvoke in a test)
        pass


class ApprovalMiddleware(AgentMiddleware):  # type: ignore[type-arg]
    """Applies the per-tool decisions computed from the policy before every tool call."""

    def __init__(self, decisions: dict[str, PolicyDecision]) -> None:
        super().__init__()
        self.decisions = decisions

    async def awrap_tool_call(
        self,
        request: ToolCallRequest,
        handler: Callable[[ToolCallRequest], Awaitable[ToolMessage | Command[Any]]],
    ) -> ToolMessage | Command[Any]:
        call = request.tool_call
        name = str(call["name"])
        call_id = str(call["id"])
        policy = tool_policy(request.tool) if request.tool is not None else None
        base = {
            "tool_call_id": call_id,
            "tool_name": name,
            "integration_id": policy.integration_id if policy else None,
            "operation": policy.operation if policy else None,
        }
        decision = self.decisions.get(name, "ask")
        if decision == "allow":
            if policy is not None and policy.access != "read":
                _report({**base, "decision": "allow", "by": "policy"})
            return await handler(request)
        if decision == "deny":
            _report({**base, "decision": "deny", "by": "policy"})
            return ToolMessage(
                content=f"Error [denied_by_policy]: an administrator's policy does not allow {name}. "
                "It was not run. Tell the user, and suggest asking an admin if it is needed.",
                tool_call_id=call_id,
                name=name,
                status="error",
            )
        request_body = ApprovalRequest(
            tool_call_id=call_id,
            tool_name=name,
            args=dict(call["args"]),
            description=describe(request.tool, name, dict(call["args"])),
            integration_id=base["integration_id"],
            operation=base["operation"],
        )
        answer = ApprovalDecision.model_validate(interrupt(request_body.model_dump()))
        _report({**base, "decision": answer.decision, "by": "user", "reason": answer.reason})
        if answer.decision == "approve":
            return await handler(request)
        if answer.decision == "edit":
            edited = validate_edit(request.tool, answer.args)
            return await handler(dataclasses.replace(request, tool_call={**call, "args": edited}))
        because = f" Reason: {answer.reason}" if answer.reason else ""
        return ToolMessage(
            content=f"Error [rejected_by_user]: the user rejected {name}; it was not run.{because} "
            "Do not retry it; acknowledge and ask how to proceed.",
            tool_call_id=call_id,
            name=name,
            status="error",
        )
