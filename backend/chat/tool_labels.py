"""What a client shows for a tool instead of its internal name, added to `tool_call` / `tool_result`.

The label ("Demo Jira · my open issues"), the integration's name and type (for its icon) and the
one-line summary of the call come from the tool's own metadata, so every client words tools the
same way and none has to parse names.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.tools import BaseTool

from tools.tooling import ToolPolicy, tool_policy


def policies_by_name(tools: Sequence[BaseTool]) -> dict[str, ToolPolicy]:
    """The declared policy of each tool of a turn, by the name the model calls it by."""
    return {tool.name: tool_policy(tool) for tool in tools}


def label_fields(policy: ToolPolicy | None, args: dict[str, Any] | None) -> dict[str, Any]:
    """Metadata fields for a tool frame (`tool_label`, `integration_name`, `integration_type`, `summary`)."""
    if policy is None:
        return {}
    fields: dict[str, Any] = {
        "tool_label": policy.label,
        "integration_name": policy.integration_name,
        "integration_type": policy.integration_type or policy.operation.split(".")[0],
        "risk": policy.risk,
    }
    if args is not None:
        fields["summary"] = policy.summary(args)
    return fields
