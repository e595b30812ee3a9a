"""Building LangChain tools the same way for every connector.

Each tool carries `metadata["switchboard"]`: the stable `operation` id the offline model and the
approval policy key on, its `access` (read / write / destructive), whether it touches patient data
(`phi`), the API-key `scope` its operation needs (the backend builds a key's toolset from these: a
key reaches through the agent only what it reaches over REST), and which integration it belongs to.
Connector failures become an error tool result the model can explain (status "error"), never an
exception through the graph.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from langchain_core.tools import BaseTool, StructuredTool, ToolException
from pydantic import BaseModel

from tools.base import ToolAccess
from tools.errors import ConnectorError

METADATA_KEY = "switchboard"
_NAME_LIMIT = 64


@dataclass(frozen=True)
class ToolPolicy:
    """The approval-relevant facts a tool declares about itself."""

    operation: str
    access: ToolAccess
    phi: bool
    integration_id: str | None
    integration_name: str | None
    integration_type: str | None
    # The API-key scope the operation needs (`patients:read`, `jira:write`...; see
    # backend/platform/scopes.py). None only for tools of unknown origin: no key may use those.
    scope: str | None = None


def integration_slug(integration_name: str) -> str:
    """`"Acme Jira (prod)"` -> `"acme_jira_prod"`: safe inside a tool name."""
    slug = re.sub(r"[^a-z0-9]+", "_", integration_name.lower()).strip("_")
    return (slug or "integration")[:28]


def tool_name(integration_name: str | None, operation: str) -> str:
    """Tool names the model can tell apart: `<integration slug>__<operation>`, OpenAI-safe."""
    op = operation.split(".")[-1]
    if integration_name is None:
        return op[:_NAME_LIMIT]
    return f"{integration_slug(integration_name)}__{op}"[:_NAME_LIMIT]


def to_tool_result(value: Any) -> str:
    """Compact JSON for the model: no whitespace, dates as strings, `None`s dropped from dicts."""

    def prune(item: Any) -> Any:
        if isinstance(item, BaseModel):
            item = item.model_dump(mode="json", exclude_none=True)
        if isinstance(item, dict):
            return {k: prune(v) for k, v in item.items() if v is not None and v != [] and v != {}}
        if isinstance(item, list | tuple):
            return [prune(v) for v in item]
        return item

    return json.dumps(prune(value), separators=(",", ":"), ensure_ascii=False, default=str)


def make_tool(
    func: Callable[..., Awaitable[Any]],
    *,
    operation: str,
    description: str,
    args_schema: type[BaseModel],
    access: ToolAccess,
    scope: str,
    phi: bool = False,
    integration_id: str | None = None,
    integration_name: str | None = None,
    integration_type: str | None = None,
    name: str | None = None,
) -> BaseTool:
    """Wrap an async function as a StructuredTool with our metadata and error handling.

    `func` receives the validated arguments as keyword arguments and returns anything JSON-able
    (pydantic models included); it raises `ConnectorError` for failures.
    """

    async def run(**kwargs: Any) -> str:
        try:
            return to_tool_result(await func(**kwargs))
        except ConnectorError as exc:
            raise ToolException(exc.for_model()) from exc

    policy = ToolPolicy(
        operation=operation,
        access=access,
        phi=phi,
        integration_id=integration_id,
        integration_name=integration_name,
        integration_type=integration_type,
        scope=scope,
    )
    where = f" (integration: {integration_name})" if integration_name else ""
    return StructuredTool.from_function(
        coroutine=run,
        name=name or tool_name(integration_name, operation),
        description=description + where,
        args_schema=args_schema,
        handle_tool_error=True,
        metadata={METADATA_KEY: policy.__dict__},
    )


def tool_policy(tool: BaseTool) -> ToolPolicy:
    """Read a tool's declared policy; tools of unknown origin count as destructive, non-PHI."""
    raw = (tool.metadata or {}).get(METADATA_KEY)
    if not isinstance(raw, dict):
        return ToolPolicy(tool.name, "destructive", False, None, None, None)
    return ToolPolicy(**raw)
