"""API key scopes and which requests each one allows.

The same scopes bind REST routes (`require_scope` on each router) and the agent: every tool declares
the scope its operation needs (`tools.tooling.ToolPolicy.scope`), and a turn started with a key gets
only the tools its scopes allow, so a key reaches through the agent exactly what it reaches over REST.
"""

from __future__ import annotations

from typing import Literal, get_args

Scope = Literal[
    "chat",
    "integrations:read",
    "integrations:write",
    "patients:read",
    "messages:read",
    "messages:write",
    "jira:read",
    "jira:write",
    "events",
]
ALL_SCOPES: tuple[str, ...] = get_args(Scope)

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def allows_tool(scopes: frozenset[str] | None, tool_scope: str | None) -> bool:
    """A person's own session (no scopes) may use every tool; a key only those whose scope it holds."""
    return scopes is None or (tool_scope is not None and tool_scope in scopes)
