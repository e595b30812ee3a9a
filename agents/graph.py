"""The agent graph: LangChain `create_agent` compiled once per set of tool names, fed per turn.

Compiling costs ~4 ms, which is a real share of a turn's CPU, so graphs are cached by the names of the
tools. Everything that differs per user and per turn (the tool instances with their credentials, the
approval decisions, the system prompt) reaches the graph as a `TurnContext` at run time and
`TurnInputsMiddleware` puts it in place; the cached graph only holds schema-only stand-ins that refuse
to run, so one user's tools can never run in another user's turn.
"""

from __future__ import annotations

import dataclasses
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from langchain.agents import create_agent
from langchain.agents.middleware import AgentMiddleware, ModelRequest, ModelResponse
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, SystemMessage, ToolMessage
from langchain_core.tools import BaseTool, StructuredTool
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph.state import CompiledStateGraph
from langgraph.prebuilt.tool_node import ToolCallRequest
from langgraph.types import Command

from agents.approvals import ApprovalMiddleware
from agents.context import TurnContext

AgentGraph = CompiledStateGraph[Any, TurnContext, Any, Any]
GRAPH_CACHE_SIZE = 256


class ToolNotBound(RuntimeError):
    """A cached graph's stand-in tool was asked to run: the turn's own tool was not supplied."""


def _stand_in(tool: BaseTool) -> BaseTool:
    async def refuse(**_: Any) -> str:
        raise ToolNotBound(f"{tool.name} is not available in this turn.")

    return StructuredTool.from_function(
        coroutine=refuse, name=tool.name, description=tool.description, args_schema=tool.args_schema
    )


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
            request = request.override(tools=list(context.tools), system_message=prompt)
            if context.on_model_call is not None:
                context.on_model_call()
        return await handler(request)

    async def awrap_tool_call(
        self, request: ToolCallRequest, handler: Callable[[ToolCallRequest], Awaitable[ToolMessage | Command[Any]]]
    ) -> ToolMessage | Command[Any]:
        context: TurnContext | None = request.runtime.context
        current = context.tools_by_name.get(str(request.tool_call["name"])) if context is not None else None
        return await handler(dataclasses.replace(request, tool=current))


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
                middleware=[TurnInputsMiddleware(), ApprovalMiddleware()],
                context_schema=TurnContext,
                checkpointer=self.checkpointer,
            )
            self._cache[key] = graph
            if len(self._cache) > GRAPH_CACHE_SIZE:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(key)
        return graph
