"""`OfflineChatModel`: a deterministic LangChain chat model that drives the real agent with real tool calls."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.messages.ai import UsageMetadata
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from pydantic import ConfigDict, Field

from agents.offline.planner import build_turn, call_id, next_step, tool_infos
from agents.offline.skill import Reply, Skill
from agents.offline.skills import default_skills

_TOKEN = re.compile(r"\s*\S+|\s+")


def split_tokens(text: str) -> list[str]:
    """Word-ish tokens that concatenate back to exactly `text`."""
    return _TOKEN.findall(text)


def count_tokens(text: str) -> int:
    return len(re.findall(r"\w+|[^\w\s]", text))


class OfflineChatModel(BaseChatModel):
    """Reads intent with skills, calls the bound tools, answers from their results. No network."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    skills: tuple[Any, ...] = Field(default_factory=default_skills)
    bound_tools: tuple[Any, ...] = ()
    token_delay_s: float = 0.0  # pacing for demos and cancel tests; 0 streams as fast as possible

    @property
    def _llm_type(self) -> str:
        return "switchboard-offline"

    def bind_tools(
        self, tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool], **kwargs: Any
    ) -> Runnable[LanguageModelInput, AIMessage]:
        return self.model_copy(update={"bound_tools": tuple(tools)})

    def _decide(self, messages: list[BaseMessage]) -> AIMessage:
        turn = build_turn(messages, tool_infos(self.bound_tools))
        skills: tuple[Skill, ...] = self.skills
        step = next_step(skills, turn)
        prompt_tokens = sum(count_tokens(str(m.content)) for m in messages)
        if isinstance(step, Reply):
            completion = count_tokens(step.markdown)
            return AIMessage(content=step.markdown, usage_metadata=_usage(prompt_tokens, completion))
        calls = [
            {"name": c.tool, "args": c.args, "id": call_id(turn, i, c), "type": "tool_call"} for i, c in enumerate(step)
        ]
        completion = sum(count_tokens(str(c["args"])) + 1 for c in calls)
        return AIMessage(content="", tool_calls=calls, usage_metadata=_usage(prompt_tokens, completion))

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=self._decide(messages))])

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return self._generate(messages)

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        for chunk in self._chunks(self._decide(messages)):
            if run_manager is not None and isinstance(chunk.message.content, str) and chunk.message.content:
                run_manager.on_llm_new_token(chunk.message.content, chunk=chunk)
            yield chunk

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        for chunk in self._chunks(self._decide(messages)):
            if self.token_delay_s:
                await asyncio.sleep(self.token_delay_s)
            if run_manager is not None and isinstance(chunk.message.content, str) and chunk.message.content:
                await run_manager.on_llm_new_token(chunk.message.content, chunk=chunk)
            yield chunk

    def _chunks(self, message: AIMessage) -> Iterator[ChatGenerationChunk]:
        usage = message.usage_metadata
        if message.tool_calls:
            chunks = [
                {"name": c["name"], "args": _json(c["args"]), "id": c["id"], "index": i, "type": "tool_call_chunk"}
                for i, c in enumerate(message.tool_calls)
            ]
            yield ChatGenerationChunk(message=AIMessageChunk(content="", tool_call_chunks=chunks, usage_metadata=usage))  # type: ignore[arg-type]
            return
        tokens = split_tokens(str(message.content)) or [""]
        last = len(tokens) - 1
        for i, token in enumerate(tokens):
            yield ChatGenerationChunk(
                message=AIMessageChunk(content=token, usage_metadata=usage if i == last else None)
            )


def _usage(prompt: int, completion: int) -> UsageMetadata:
    return UsageMetadata(input_tokens=prompt, output_tokens=completion, total_tokens=prompt + completion)


def _json(value: Any) -> str:
    import json

    return json.dumps(value, ensure_ascii=False)
