"""A chat with the offline model in which every tool call it makes runs for real (the tests' stand-in
for the agent graph; approvals are the backend's business and are tested there)."""

from __future__ import annotations

import json
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.tools import BaseTool

from agents.offline.model import OfflineChatModel


class Conversation:
    """A chat with the offline model; every tool call it makes runs for real (approval is the backend's)."""

    def __init__(self, tools: list[BaseTool]) -> None:
        self.tools = {t.name: t for t in tools}
        self.model = OfflineChatModel().bind_tools(tools)
        self.messages: list[BaseMessage] = []
        self.calls: list[dict[str, Any]] = []

    async def say(self, text: str) -> str:
        self.messages.append(HumanMessage(text))
        for _ in range(10):
            reply = await self.model.ainvoke(self.messages)
            assert isinstance(reply, AIMessage)
            self.messages.append(reply)
            if not reply.tool_calls:
                return str(reply.content)
            for call in reply.tool_calls:
                self.calls.append(call)
                result = await self.tools[call["name"]].ainvoke(call["args"])
                content = result if isinstance(result, str) else json.dumps(result)
                self.messages.append(ToolMessage(content, tool_call_id=str(call["id"]), name=call["name"]))
        raise AssertionError("the model kept calling tools")

    def called(self, suffix: str) -> list[dict[str, Any]]:
        return [c for c in self.calls if c["name"].endswith(suffix)]
