"""`OfflineChatModel`: a deterministic LangChain chat model that drives the real agent with real tool calls.

Token path: `astream()` yields one `AIMessageChunk` per word-ish token, as any LangChain model does.
Inside a LangGraph run without `stream_mode="messages"` (how `AgentRunner` runs it), `ainvoke()` instead
writes each token to the graph's custom stream as a `ModelToken`: that skips LangChain's per-token
callback path (`on_llm_new_token` → `StreamMessagesHandler` → a message chunk per token), which is most
of the CPU a streamed token costs.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.messages.ai import UsageMetadata
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from langgraph.config import get_stream_writer
from langgraph.types import StreamWriter
from pydantic import ConfigDict, Field

from agents.offline.planner import build_turn, call_id, next_step, tool_infos
from agents.offline.skill import Reply, Skill
from agents.offline.skills import default_skills

_TOKEN = re.compile(r"\s*\S+|\s+")


@dataclass(frozen=True, slots=True)
class ModelToken:
    """One streamed token of the answer, written to LangGraph's custom stream."""

    text: str


def split_tokens(text: str) -> list[str]:
    """Word-ish tokens that concatenate back to exactly `text`."""
    return _TOKEN.findall(text)


def count_tokens(text: str) -> int:
    return len(re.findall(r"\w+|[^\w\s]", text))


class OfflineChatModel(BaseChatModel):
    """Reads intent with skills, calls the bound tools, answers from their results. No network."""

    writes_tokens_to_stream: ClassVar[bool] = True  # see the module docstring

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
        message = self._decide(messages)
        write = _stream_writer()
        if write is not None and not message.tool_calls:
            for token in split_tokens(str(message.content)):
                if self.token_delay_s:
                    await asyncio.sleep(self.token_delay_s)
                write(ModelToken(token))
        return ChatResult(generations=[ChatGeneration(message=message)])

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


def _stream_writer() -> StreamWriter | None:
    try:
        return get_stream_writer()
    except RuntimeError:  # called outside a LangGraph run
        return None


def _usage(prompt: int, completion: int) -> UsageMetadata:
    return UsageMetadata(input_tokens=prompt, output_tokens=completion, total_tokens=prompt + completion)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)
