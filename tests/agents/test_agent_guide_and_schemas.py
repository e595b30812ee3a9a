"""The offline model's long guide answer (what the streaming benchmark measures) and cached tool schemas."""

from __future__ import annotations

from langchain_core.messages import HumanMessage
from langchain_core.utils.function_calling import convert_to_openai_tool

from agents.offline.model import OfflineChatModel, split_tokens
from agents.offline.planner import tool_infos
from agents.runtime import AgentRunner
from tests.agents.agent_helpers import collect, make_model, notes_tools


async def test_guide_is_a_long_tool_free_answer_naming_the_users_systems() -> None:
    model = make_model().bind_tools(notes_tools())
    reply = await model.ainvoke([HumanMessage("Give me a detailed guide to Switchboard")])
    text = str(reply.content)
    assert not reply.tool_calls
    assert len(split_tokens(text)) >= 150
    assert "**Notebook**" in text  # the connected system, by name
    assert "Read and save notes" in text  # what the user's tools allow
    assert "approve, edit or reject" in text


async def test_guide_without_integrations_explains_how_to_connect_and_what_becomes_possible() -> None:
    reply = await OfflineChatModel().ainvoke([HumanMessage("how do I use switchboard, step by step?")])
    text = str(reply.content)
    assert "None yet" in text and "Test connection" in text
    assert "Jira, once connected" in text and "EMR (FHIR R4), once connected" in text
    assert len(split_tokens(text)) >= 200


async def test_short_help_stays_short_and_points_to_the_guide() -> None:
    reply = await OfflineChatModel().ainvoke([HumanMessage("what can you do?")])
    text = str(reply.content)
    assert "Ask me for a guide" in text and "## " not in text
    assert len(split_tokens(text)) < 100


async def test_detail_about_something_else_is_not_the_guide() -> None:
    reply = await OfflineChatModel().ainvoke([HumanMessage("show the weather in detail")])
    assert "## " not in str(reply.content) and "can't do that yet" in str(reply.content)


async def test_guide_streams_through_the_runner_exactly() -> None:
    from langgraph.checkpoint.memory import InMemorySaver

    runner = AgentRunner(make_model(), InMemorySaver())
    events = await collect(runner.run_turn(thread_id="g", message="a detailed guide please", tools=notes_tools()))
    tokens = [e.content for e in events if e.type == "token"]
    assert [e.type for e in events if e.type in ("tool_call", "tool_result")] == []
    assert events[-1].type == "final" and "".join(tokens) == events[-1].content
    assert len(tokens) >= 150


def test_cached_tool_schemas_match_langchains_for_every_build() -> None:
    first, second = notes_tools(), notes_tools()  # tools are rebuilt per turn; their argument models are not
    for tool in [*first, *second]:
        info = next(i for i in tool_infos([tool]))
        assert info.parameters == convert_to_openai_tool(tool)["function"]["parameters"]
    a, b = tool_infos(first)[1], tool_infos(second)[1]
    assert a.parameters == b.parameters and set(a.parameters["properties"]) == {"key", "text"}
    a.parameters["properties"].clear()  # a skill scribbling on its copy does not reach the next turn
    assert set(tool_infos(second)[1].parameters["properties"]) == {"key", "text"}
