"""Building LangChain tools the same way for every connector.

Each tool carries `metadata["switchboard"]`: the stable `operation` id the offline model and the
approval policy key on, its `access` (read / write / destructive), whether it touches patient data
(`phi`), the API-key `scope` its operation needs (the backend builds a key's toolset from these: a
key reaches through the agent only what it reaches over REST), and which integration it belongs to.

A tool never raises into the graph. A `ConnectorError` (the system said no, was down, timed out)
becomes its own sentence; any other exception — a connector bug, an answer shaped like nothing we
expected — becomes an error tool result too (status "error"), naming the system, the operation, what
went wrong and what the user can do, with its traceback logged once (the log line carries the request
id). The model then explains the failure instead of the turn ending in `agent_error`.
"""

from __future__ import annotations

import json
import logging
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
# The code of an error result for a failure inside Switchboard (not the external system's refusal).
TOOL_FAILED = "tool_failed"
_SYSTEMS = {"jira": "Jira", "emr": "the EMR", "hl7": "the HL7 system"}

log = logging.getLogger("switchboard.tools")


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

    policy = ToolPolicy(
        operation=operation,
        access=access,
        phi=phi,
        integration_id=integration_id,
        integration_name=integration_name,
        integration_type=integration_type,
        scope=scope,
    )

    async def run(**kwargs: Any) -> str:
        try:
            return to_tool_result(await func(**kwargs))
        except ConnectorError as exc:
            raise ToolException(exc.for_model()) from exc
        except Exception as exc:  # a connector bug or an unreadable answer: an answer, not a crash
            log.exception("tool %s (%s) failed unexpectedly", operation, integration_name or "no integration")
            raise ToolException(unexpected_failure_text(policy, exc)) from exc

    where = f" (integration: {integration_name})" if integration_name else ""
    return StructuredTool.from_function(
        coroutine=run,
        name=name or tool_name(integration_name, operation),
        description=description + where,
        args_schema=args_schema,
        handle_tool_error=True,
        metadata={METADATA_KEY: policy.__dict__},
    )


def system_label(policy: ToolPolicy) -> str:
    """`Jira ("Acme Jira")`: the system a person would recognise, and which integration of it."""
    kind = _SYSTEMS.get(policy.integration_type or "", policy.integration_type or "the system")
    return f'{kind} ("{policy.integration_name}")' if policy.integration_name else kind


def unexpected_failure_text(policy: ToolPolicy, exc: BaseException) -> str:
    """The error result for an exception that is not a `ConnectorError`: short, actionable, no internals.

    It names the system and the operation, says what went wrong in a sentence and what the user can
    do; the exception's type (never its message: it may quote the system's data) helps an admin match
    the logged traceback.
    """
    what = policy.operation.split(".")[-1].replace("_", " ")
    system = system_label(policy)
    if isinstance(exc, TimeoutError):
        return (
            f"Error [integration_timeout]: {system} did not finish {what} in time. "
            "Suggested fix: try again in a moment; if it keeps happening, ask an admin to check that the "
            "system is up or to raise the integration's timeout."
        )
    changed = (
        f" It may or may not have taken effect: check in {system} before trying again."
        if policy.access != "read"
        else ""
    )
    return (
        f"Error [{TOOL_FAILED}]: {what} on {system} failed inside Switchboard's connector "
        f"({type(exc).__name__}), so there is no result to show.{changed} Suggested fix: try again; if it "
        "keeps failing, ask an admin to check the integration (the server log has the details)."
    )


def tool_policy(tool: BaseTool) -> ToolPolicy:
    """Read a tool's declared policy; tools of unknown origin count as destructive, non-PHI."""
    raw = (tool.metadata or {}).get(METADATA_KEY)
    if not isinstance(raw, dict):
        return ToolPolicy(tool.name, "destructive", False, None, None, None)
    return ToolPolicy(**raw)
