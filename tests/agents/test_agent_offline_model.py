"""The offline model on its own: streamed tokens, usage, deterministic tool calls, skills and their failures."""

from __future__ import annotations

from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage, ToolMessage

from agents.offline.model import OfflineChatModel, split_tokens
from agents.offline.skill import Step, ToolInfo, Turn
from agents.offline.skills import SKILL_MODULES, default_skills
from tests.agents.agent_helpers import NotesSkill, make_model, notes_tools


def test_tokens_concatenate_back_to_the_text() -> None:
    text = "Hello **there**,\n\n| a | b |\n|---|---|\n  trailing  "
    assert "".join(split_tokens(text)) == text
    assert len(split_tokens(text)) > 5


async def test_astream_yields_word_tokens_with_usage_on_the_last() -> None:
    chunks = [c async for c in OfflineChatModel().astream([HumanMessage("hello")])]
    assert all(isinstance(c, AIMessageChunk) for c in chunks) and len(chunks) > 5
    text = "".join(str(c.content) for c in chunks)
    assert text.startswith("Hello! I'm Switchboard")
    with_usage = [c.usage_metadata for c in chunks if c.usage_metadata]
    assert len(with_usage) == 1  # counted once, so adding the chunks up does not multiply it
    usage = with_usage[0]
    assert usage["output_tokens"] > 10
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]


async def test_bound_tools_get_real_deterministic_tool_calls() -> None:
    model = make_model().bind_tools(notes_tools())
    first = await model.ainvoke([HumanMessage("read note groceries")])
    again = await model.ainvoke([HumanMessage("read note groceries")])
    assert isinstance(first, AIMessage) and first.content == ""
    assert first.tool_calls == again.tool_calls
    call = first.tool_calls[0]
    assert call["name"] == "notebook__read" and call["args"] == {"key": "groceries"}
    assert str(call["id"]).startswith("call_")
    answered = await model.ainvoke(
        [
            HumanMessage("read note groceries"),
            first,
            ToolMessage('{"key": "groceries", "text": "milk"}', tool_call_id=str(call["id"]), name=call["name"]),
        ]
    )
    assert "milk" in str(answered.content) and not answered.tool_calls


async def test_no_integrations_help_says_how_to_connect_one() -> None:
    reply = await OfflineChatModel().ainvoke([HumanMessage("help")])
    assert "no integrations connected" in str(reply.content) and "Integrations" in str(reply.content)


async def test_fallback_is_honest_and_suggests_what_it_can_do() -> None:
    model = make_model().bind_tools(notes_tools())
    reply = await model.ainvoke([HumanMessage("what's the weather in Lisbon?")])
    assert "can't do that yet" in str(reply.content)
    assert "Read and save notes" in str(reply.content)


class BrokenSkill:
    name = "broken"

    def score(self, turn: Turn) -> float:
        return 1.0

    def step(self, turn: Turn) -> Step:
        raise KeyError("bug in a skill")

    def capabilities(self, tools: tuple[ToolInfo, ...]) -> list[str]:
        return []


async def test_a_failing_skill_gives_an_honest_answer_not_a_crash() -> None:
    reply = await OfflineChatModel(skills=(BrokenSkill(), NotesSkill())).ainvoke([HumanMessage("read note x")])
    assert "something went wrong" in str(reply.content)


def test_skill_modules_are_listed_and_general_comes_last() -> None:
    assert SKILL_MODULES[-1] == "agents.offline.skills.general"
    skills = default_skills()
    assert skills[-1].name == "general"
    assert len(skills) >= 2  # general plus at least one connector skill (hl7 exists today)
