"""`openai:` models through a local OpenAI-compatible server drive the same runner, tool call included."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from langchain_core.utils.function_calling import convert_to_openai_tool

from agents.checkpoint import open_checkpointer
from agents.graph import _tools_for
from agents.providers import load_chat_model
from agents.runtime import AgentRunner
from tests.agents.agent_helpers import NOTES, collect, notes_tools
from tests.agents.openai_compat_server import create_app
from tools.sandbox_server import serve_app


async def test_openai_compatible_server_end_to_end(tmp_path: Path) -> None:
    NOTES.clear()
    NOTES["groceries"] = "milk, eggs"
    app = create_app("notebook__read", {"key": "groceries"}, ["The ", "note ", "says ", "milk, ", "eggs."])
    async with serve_app(app) as base_url, open_checkpointer(f"sqlite+aiosqlite:///{tmp_path / 'o.db'}") as saver:
        model = load_chat_model("openai:gpt-test", api_key="sk-test", base_url=f"{base_url}/v1")
        runner = AgentRunner(model, saver)
        events = await collect(
            runner.run_turn(
                thread_id="o",
                message="what is on my groceries note?",
                tools=notes_tools(),
                system_prompt="You are a test.",
            )
        )
    kinds = [e.type for e in events]
    assert kinds[:3] == ["agent_event", "tool_call", "tool_result"]
    assert events[1].metadata["tool_name"] == "notebook__read"
    assert events[2].metadata["result"] == {"key": "groceries", "text": "milk, eggs"}
    tokens = [e.content for e in events if e.type == "token"]
    assert tokens == ["The ", "note ", "says ", "milk, ", "eggs."]
    assert events[-1].type == "final" and events[-1].content == "The note says milk, eggs."
    assert events[-1].metadata["usage"]["total"] == 38  # two model calls of 19 tokens each
    first, second = app.state.requests
    assert first["stream"] is True and first["tools"][0]["function"]["name"] == "notebook__read"
    assert first["messages"][0] == {"role": "system", "content": "You are a test."}
    assert second["messages"][-1]["role"] == "tool"
    assert '"milk, eggs"' in second["messages"][-1]["content"]


async def test_a_failing_model_provider_ends_the_turn_with_error_and_final(tmp_path: Path) -> None:
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def refuse() -> JSONResponse:
        return JSONResponse({"error": {"message": "model overloaded", "type": "invalid_request_error"}}, 400)

    async with serve_app(app) as base_url, open_checkpointer(f"sqlite+aiosqlite:///{tmp_path / 'f.db'}") as saver:
        runner = AgentRunner(load_chat_model("openai:gpt-test", api_key="sk-test", base_url=f"{base_url}/v1"), saver)
        events = await collect(runner.run_turn(thread_id="f", message="hello", tools=notes_tools()))
        assert [e.type for e in events] == ["agent_event", "error", "final"]
        assert events[1].metadata == {"code": "agent_error", "recoverable": True}
        assert "could not finish this answer" in events[1].content and "sk-test" not in events[1].content
        assert events[2].metadata["finish_reason"] == "error" and events[2].content == ""


async def test_a_provider_turn_sends_the_same_tool_schemas_without_regenerating_them(tmp_path: Path) -> None:
    app = create_app("notebook__read", {"key": "groceries"}, ["Done."])
    async with serve_app(app) as base_url, open_checkpointer(f"sqlite+aiosqlite:///{tmp_path / 'c.db'}") as saver:
        runner = AgentRunner(load_chat_model("openai:gpt-test", api_key="sk-test", base_url=f"{base_url}/v1"), saver)
        first_tools, second_tools = notes_tools(), notes_tools()  # a new toolset per turn, as the backend builds
        await collect(runner.run_turn(thread_id="a", message="read my groceries note", tools=first_tools))
        await collect(runner.run_turn(thread_id="b", message="read my groceries note", tools=second_tools))
    sent = [body["tools"] for body in app.state.requests if body["messages"][-1]["role"] == "user"]
    assert len(sent) == 2 and sent[0] == sent[1]
    assert sent[0] == [convert_to_openai_tool(tool) for tool in first_tools]
    # Converted once per tool, not once per model call: the second turn's tools map to the same schemas.
    first, second = _tools_for(runner.model, first_tools), _tools_for(runner.model, second_tools)
    assert len(first) == len(second) == 3 and all(a is b for a, b in zip(first, second, strict=True))
