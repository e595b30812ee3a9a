"""Builds a `Turn` from the conversation and hands it to the conductor (understanding + skills)."""

from __future__ import annotations

import copy
import dataclasses
import functools
import hashlib
import json
import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from langchain_core.messages import BaseMessage, HumanMessage
from langchain_core.tools import BaseTool, StructuredTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import BaseModel

from agents.offline.conductor import conduct
from agents.offline.skill import Call, Reply, Skill, Step, ToolInfo, Turn, outcomes_from
from tools.tooling import tool_policy

log = logging.getLogger("switchboard.offline")


@functools.lru_cache(maxsize=1024)
def _schema_parameters(tool_class: type[BaseTool], name: str, description: str, schema: type[BaseModel]) -> Any:
    """The JSON schema of a tool's arguments, computed once per argument model.

    Deriving it costs milliseconds of pydantic schema generation per tool, and tools are rebuilt for
    every turn, while their argument models are classes that live as long as the process."""
    tool = tool_class(name=name, description=description, args_schema=schema, func=_never_called)
    return convert_to_openai_tool(tool)["function"].get("parameters", {})


def _never_called(**_: Any) -> None:
    raise RuntimeError("schema-only tool")


def _parameters(tool: BaseTool) -> dict[str, Any]:
    schema = tool.args_schema
    if isinstance(tool, StructuredTool) and isinstance(schema, type) and issubclass(schema, BaseModel):
        return copy.deepcopy(_schema_parameters(StructuredTool, tool.name, tool.description, schema))
    parameters: dict[str, Any] = convert_to_openai_tool(tool)["function"].get("parameters", {})
    return parameters


def tool_infos(tools: Sequence[BaseTool | dict[str, Any]]) -> tuple[ToolInfo, ...]:
    infos = []
    for tool in tools:
        if not isinstance(tool, BaseTool):
            continue
        policy = tool_policy(tool)
        parameters = _parameters(tool)
        infos.append(
            ToolInfo(
                name=tool.name,
                operation=policy.operation,
                integration_name=policy.integration_name,
                integration_type=policy.integration_type,
                access=policy.access,
                parameters=parameters,
            )
        )
    return tuple(infos)


def build_turn(messages: Sequence[BaseMessage], tools: tuple[ToolInfo, ...], now: datetime | None = None) -> Turn:
    last_user = max((i for i, m in enumerate(messages) if isinstance(m, HumanMessage)), default=-1)
    by_name = {t.name: t for t in tools}
    text = str(messages[last_user].content) if last_user >= 0 else ""
    history = tuple(messages[:last_user]) if last_user >= 0 else ()
    return Turn(
        text=text,
        tools=tools,
        outcomes=tuple(outcomes_from(list(messages[last_user + 1 :]), by_name)),
        history=history,
        now=now or datetime.now(UTC),
        earlier_outcomes=tuple(outcomes_from(list(history), by_name)),
    )


def next_step(skills: Sequence[Skill], turn: Turn) -> Step:
    abilities = tuple(line for s in skills for line in s.capabilities(turn.tools))
    turn = dataclasses.replace(turn, capabilities=abilities)
    try:
        return conduct(skills, turn)
    except Exception:
        log.exception("offline model failed on a turn")
        return Reply(
            "Sorry — something went wrong while I worked on that, so I stopped rather than guess. "
            "Please try rephrasing."
        )


def call_id(turn: Turn, index: int, call: Call) -> str:
    """Deterministic per conversation position, unique within the thread; carries the step of the request."""
    step = call.step
    seed = json.dumps(
        [turn.text, len(turn.history), len(turn.outcomes), index, call.tool, call.args, step],
        sort_keys=True,
        default=str,
    )
    return f"call_s{step}_" + hashlib.sha1(seed.encode()).hexdigest()[:16]
