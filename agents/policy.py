"""Approval policy: which tool calls run, which ask the user first, which are denied.

Defaults come from what each tool declares: reads run; writes ask; destructive calls and writes that
touch patient data (PHI) always ask. Admins override per integration and tool (allow / ask / deny);
deny wins, and an "allow" cannot remove the ask from a destructive or PHI write.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from langchain_core.tools import BaseTool
from pydantic import BaseModel, Field

from tools.tooling import ToolPolicy, tool_policy

PolicyDecision = Literal["allow", "ask", "deny"]
_RANK = {"allow": 0, "ask": 1, "deny": 2}


class PolicyOverride(BaseModel):
    integration_id: str | None = Field(default=None, description="None: every integration")
    tool: str = Field(default="*", description="operation id (jira.create_issue), tool name, or *")
    decision: PolicyDecision


class ApprovalPolicy(BaseModel):
    overrides: list[PolicyOverride] = Field(default_factory=list)

    def default_for(self, policy: ToolPolicy) -> PolicyDecision:
        if policy.access == "read":
            return "allow"
        return "ask"

    def decide(self, tool: BaseTool) -> PolicyDecision:
        """The effective decision for a tool under this policy."""
        declared = tool_policy(tool)
        decision = self.default_for(declared)
        matching = [
            o.decision
            for o in self.overrides
            if (o.integration_id is None or o.integration_id == declared.integration_id)
            and o.tool in ("*", declared.operation, tool.name)
        ]
        if "deny" in matching:
            return "deny"
        if matching:
            decision = max(matching, key=lambda d: _RANK[d]) if "ask" in matching else matching[0]
        must_ask = declared.access == "destructive" or (declared.access == "write" and declared.phi)
        if must_ask and decision == "allow":
            return "ask"
        return decision


def decisions_for(tools: Sequence[BaseTool], policy: ApprovalPolicy) -> dict[str, PolicyDecision]:
    """The effective decision for each tool, by tool name."""
    return {tool.name: policy.decide(tool) for tool in tools}
