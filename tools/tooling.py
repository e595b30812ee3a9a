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
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Literal

from langchain_core.tools import BaseTool, StructuredTool, ToolException
from pydantic import BaseModel

from tools.base import ToolAccess
from tools.errors import ConnectorBadRequest, ConnectorError, ConnectorNotFound

METADATA_KEY = "switchboard"
_NAME_LIMIT = 64
# The code of an error result for a failure inside Switchboard (not the external system's refusal).
TOOL_FAILED = "tool_failed"
_SYSTEMS = {"jira": "Jira", "emr": "the EMR", "hl7": "the HL7 system"}

log = logging.getLogger("switchboard.tools")

Risk = Literal["read", "write", "destructive", "patient_data"]
# One line in plain words of what a call will do with these (validated) arguments, written by the
# connector, never by the model: "Move SB-4 to In Progress".
Summarizer = Callable[[dict[str, Any]], str]
# Told of every real call a connector tool makes: (integration id, ok, error text or None).
CallObserver = Callable[[str, bool, str | None], None]

# Reads a call's result for the integration's health: None (the system was not reached, e.g. input
# refused before sending), or (ok, error). Without one, a call that returns counts as a success.
OutcomeJudge = Callable[[Any], tuple[bool, str | None] | None]

call_observer: ContextVar[CallObserver | None] = ContextVar("switchboard_tool_call_observer", default=None)


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
    # Human wording (browser app, approval cards, audit): the operation's title ("my open issues")
    # and the summary of one call. Optional so tools of other origins still load.
    title: str | None = None
    summarize: Summarizer | None = None

    @property
    def risk(self) -> Risk:
        """What a person approving a call should weigh: destructive > patient data > write > read."""
        if self.access == "destructive":
            return "destructive"
        if self.access == "write":
            return "patient_data" if self.phi else "write"
        return "read"

    @property
    def label(self) -> str:
        """`Demo Jira · my open issues`: what the UI shows instead of the tool's internal name."""
        title = self.title or self.operation.split(".")[-1].replace("_", " ")
        where = self.integration_name or _FAMILY.get(self.operation.split(".")[0], "")
        return f"{where} · {title}" if where else title

    def summary(self, args: dict[str, Any]) -> str:
        """The one-line summary of a call with `args`; the label when the tool has no summarizer."""
        if self.summarize is not None:
            try:
                text = self.summarize(args).strip()
            except (KeyError, TypeError, ValueError, AttributeError):  # arguments the model got wrong
                text = ""
            if text:
                return text[:300]
        return self.label


# Prefix of a tool not bound to one integration (`hl7_explain`), by its operation's family.
_FAMILY = {"hl7": "HL7", "emr": "EMR", "jira": "Jira"}


def quoted(text: Any, limit: int = 80) -> str:
    """A model-supplied text inside a summary: one line, trimmed, in typographic quotes."""
    line = " ".join(str(text).split())
    if len(line) > limit:
        line = line[: limit - 1] + "\u2026"
    return "\u201c" + line + "\u201d"


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
    title: str | None = None,
    summarize: Summarizer | None = None,
    judge: OutcomeJudge | None = None,
) -> BaseTool:
    """Wrap an async function as a StructuredTool with our metadata and error handling.

    `func` receives the validated arguments as keyword arguments and returns anything JSON-able
    (pydantic models included); it raises `ConnectorError` for failures. A call of a tool bound to an
    integration is reported to the `call_observer` of the running context (the integration's health).
    """

    policy = ToolPolicy(
        operation=operation,
        access=access,
        phi=phi,
        integration_id=integration_id,
        integration_name=integration_name,
        integration_type=integration_type,
        scope=scope,
        title=title,
        summarize=summarize,
    )

    async def run(**kwargs: Any) -> str:
        observer = call_observer.get() if integration_id is not None else None
        try:
            value = await func(**kwargs)
            result = to_tool_result(value)
        except ConnectorError as exc:
            if observer is not None and integration_id is not None:
                # A missing record or a request the system refused still shows the system answering.
                answered = isinstance(exc, ConnectorNotFound | ConnectorBadRequest)
                observer(integration_id, answered, None if answered else f"{exc.code}: {exc.message}")
            raise ToolException(exc.for_model()) from exc
        except Exception as exc:  # a connector bug or an unreadable answer: an answer, not a crash
            log.exception("tool %s (%s) failed unexpectedly", operation, integration_name or "no integration")
            if observer is not None and integration_id is not None:
                observer(integration_id, False, f"{TOOL_FAILED}: {type(exc).__name__}")
            raise ToolException(unexpected_failure_text(policy, exc)) from exc
        if observer is not None and integration_id is not None:
            verdict = judge(value) if judge is not None else (True, None)
            if verdict is not None:
                observer(integration_id, *verdict)
        return result

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
