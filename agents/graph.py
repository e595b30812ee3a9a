"""The agent graph: LangChain `create_agent` compiled once per set of tool names, fed per turn.

Compiling costs ~4 ms, which is a real share of a turn's CPU, so graphs are cached by the names of the
tools. Everything that differs per user and per turn (the tool instances with their credentials, the
approval decisions, the system prompt) reaches the graph as a `TurnContext` at run time and
`TurnInputsMiddleware` puts it in place; the cached graph only holds schema-only stand-ins that refuse
to run, so one user's tools can never run in another user's turn.
"""

from __future__ import annotations

import dataclasses
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from langchain.agents import create_agent
from langchain.agents.middleware import AgentMiddleware, ModelRequest, ModelResponse
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AnyMessage, RemoveMessage, SystemMessage, ToolMessage
from langchain_core.tools import BaseTool, StructuredTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.errors import GraphBubbleUp
from langgraph.graph.message import REMOVE_ALL_MESSAGES
from langgraph.graph.state import CompiledStateGraph
from langgraph.prebuilt.tool_node import ToolCallRequest
from langgraph.runtime import Runtime
from langgraph.types import Command

from agents.approvals import ApprovalMiddleware
from agents.context import TurnContext

AgentGraph = CompiledStateGraph[Any, TurnContext, Any, Any]
GRAPH_CACHE_SIZE = 256
log = logging.getLogger("switchboard.agent")
NOT_RUN = "Not run: the user moved on before this call completed or was approved."


class ToolNotBound(RuntimeError):
    """A cached graph's stand-in tool was asked to run: the turn's own tool was not supplied."""


def _stand_in(tool: BaseTool) -> BaseTool:
    async def refuse(**_: Any) -> str:
        raise ToolNotBound(f"{tool.name} is not available in this turn.")

    return StructuredTool.from_function(
        coroutine=refuse, name=tool.name, description=tool.description, args_schema=tool.args_schema
    )


_schemas: dict[tuple[str, str, Any], dict[str, Any]] = {}
SCHEMA_CACHE_SIZE = 4096


def _tools_for(model: Any, tools: Sequence[BaseTool]) -> list[Any]:
    """The turn's tools as the model call binds them: OpenAI-format schemas, converted once per tool.

    A provider model's `bind_tools` regenerates every tool's JSON schema on every call (pydantic schema
    generation, ~1 ms per tool) — a hosted model's turn paid that before its request went out. The
    schemas depend only on a tool's name, description and argument model, so they are cached by those;
    the offline model reads the tool objects themselves (and caches their schemas in its planner)."""
    if getattr(model, "writes_tokens_to_stream", False):
        return list(tools)
    converted = []
    for tool in tools:
        key = (tool.name, tool.description, tool.args_schema)
        try:
            schema = _schemas.get(key)
        except TypeError:  # an argument schema given as a dict: not cacheable by value here
            converted.append(convert_to_openai_tool(tool))
            continue
        if schema is None:
            if len(_schemas) >= SCHEMA_CACHE_SIZE:
                _schemas.clear()
            schema = _schemas[key] = convert_to_openai_tool(tool)
        converted.append(schema)
    return converted


class TurnInputsMiddleware(AgentMiddleware[Any, TurnContext]):
    """Binds this turn's tools and system prompt to the model call, and runs this turn's tool instances."""

    async def awrap_model_call(
        self,
        request: ModelRequest[TurnContext],
        handler: Callable[[ModelRequest[TurnContext]], Awaitable[ModelResponse]],
    ) -> ModelResponse | AIMessage:
        context = request.runtime.context
        if context is not None:
            prompt = SystemMessage(context.system_prompt) if context.system_prompt else None
            request = request.override(tools=_tools_for(request.model, context.tools), system_message=prompt)
            if context.on_model_call is not None:
                context.on_model_call()
        return await handler(request)

    async def awrap_tool_call(
        self, request: ToolCallRequest, handler: Callable[[ToolCallRequest], Awaitable[ToolMessage | Command[Any]]]
    ) -> ToolMessage | Command[Any]:
        context: TurnContext | None = request.runtime.context
        name = str(request.tool_call["name"])
        current = context.tools_by_name.get(name) if context is not None else None
        try:
            return await handler(dataclasses.replace(request, tool=current))
        except GraphBubbleUp:  # an approval interrupt: LangGraph's control flow, not a failure
            raise
        except Exception as exc:
            # Tools built by `tools.tooling.make_tool` never get here; a tool of any other origin that
            # raises still becomes an answer the model can explain, never the end of the turn.
            log.exception("tool %s raised into the graph", name)
            text = (
                f"Error [tool_failed]: the tool {name} failed ({type(exc).__name__}), so there is no result. "
                "Suggested fix: try again; if it keeps failing, ask an admin (the server log has the details)."
            )
            return ToolMessage(text, tool_call_id=str(request.tool_call["id"]), name=name, status="error")


class OpenToolCallsMiddleware(AgentMiddleware[Any, TurnContext]):
    """Answers the tool calls an earlier turn left open, before the model sees the new message.

    A turn cancelled mid-call, or an approval the user moved on from, leaves an AI message whose calls
    have no result; every provider refuses such a history. Done here, on the state the run loaded
    anyway, rather than by reading the checkpoint once more before each turn."""

    def before_agent(self, state: Any, runtime: Runtime[TurnContext]) -> dict[str, Any] | None:
        messages: list[AnyMessage] = list(state.get("messages", []))
        answered = {m.tool_call_id for m in messages if isinstance(m, ToolMessage)}
        if all(call["id"] in answered for m in messages if isinstance(m, AIMessage) for call in m.tool_calls):
            return None
        repaired: list[AnyMessage] = []
        for message in messages:
            repaired.append(message)
            if isinstance(message, AIMessage):
                repaired.extend(
                    ToolMessage(NOT_RUN, tool_call_id=str(call["id"]), name=call["name"], status="error")
                    for call in message.tool_calls
                    if call["id"] not in answered
                )
        return {"messages": [RemoveMessage(id=REMOVE_ALL_MESSAGES), *repaired]}


class AgentGraphs:
    """Compiled agent graphs for one model and checkpointer, cached by tool names (LRU)."""

    def __init__(self, model: BaseChatModel, checkpointer: BaseCheckpointSaver[str]) -> None:
        self.model = model
        self.checkpointer = checkpointer
        self._cache: OrderedDict[tuple[str, ...], AgentGraph] = OrderedDict()

    def for_tools(self, tools: Sequence[BaseTool]) -> AgentGraph:
        """The graph that can call tools with these names (compiled on first use)."""
        key = tuple(sorted(tool.name for tool in tools))
        graph = self._cache.get(key)
        if graph is None:
            graph = create_agent(
                self.model,
                [_stand_in(tool) for tool in tools],
                middleware=[OpenToolCallsMiddleware(), TurnInputsMiddleware(), ApprovalMiddleware()],
                context_schema=TurnContext,
                checkpointer=self.checkpointer,
            )
            self._cache[key] = graph
            if len(self._cache) > GRAPH_CACHE_SIZE:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(key)
        return graph
