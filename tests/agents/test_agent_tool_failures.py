"""A tool that raises is an answer, not a crash: `tool_result` failed + `final` stop, offline and OpenAI paths.

The injected bug is a `KeyError` inside a connector function (what an unexpected vendor shape does to
code that indexes a dict). Before the fix it escaped the tool, ended the run in `agent_error` and left
the user with an empty `final`.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from langchain_core.tools import BaseTool, StructuredTool

from agents.checkpoint import open_checkpointer
from agents.offline.model import OfflineChatModel
from agents.providers import load_chat_model
from agents.runtime import AgentRunner
from tests.agents.agent_helpers import collect
from tests.agents.openai_compat_server import create_app
from tools.jira.tools import IssueArgs
from tools.sandbox_server import serve_app
from tools.tooling import METADATA_KEY, ToolPolicy, make_tool


def broken_jira_tool() -> BaseTool:
    """`jira.get_issue` whose connector code indexes a field the answer does not have."""

    async def get_issue(key: str) -> dict[str, Any]:
        answer: dict[str, Any] = {"key": key}
        return {"key": key, "summary": answer["fields"]["summary"]}

    return make_tool(
        get_issue,
        operation="jira.get_issue",
        description="Show one Jira issue.",
        args_schema=IssueArgs,
        access="read",
        scope="jira:read",
        integration_id="int-jira",
        integration_name="Acme Jira",
        integration_type="jira",
    )


def assert_failed_then_answered(events: list[Any]) -> tuple[Any, Any]:
    kinds = [e.type for e in events]
    assert "error" not in kinds, [e.content for e in events if e.type == "error"]
    assert kinds.count("final") == 1 and kinds[-1] == "final"
    result = next(e for e in events if e.type == "tool_result")
    assert result.metadata["status"] == "failed"
    final = events[-1]
    assert final.metadata["finish_reason"] == "stop"
    return result, final


def tracebacks(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.ERROR and r.exc_info]


async def test_offline_model_tells_the_user_what_failed(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    async with open_checkpointer(f"sqlite+aiosqlite:///{tmp_path / 'a.db'}") as saver:
        runner = AgentRunner(OfflineChatModel(), saver)
        events = await collect(
            runner.run_turn(thread_id="t", message="show me jira issue OPS-1", tools=[broken_jira_tool()])
        )
    result, final = assert_failed_then_answered(events)
    assert "tool_failed" in result.content and "KeyError" in result.content
    assert "Acme Jira" in result.content and "get issue" in result.content
    assert final.content.startswith("I could not open OPS-1:")
    assert "Jira said" not in final.content  # Jira said nothing: our connector failed
    assert "try again" in final.content
    logged = tracebacks(caplog)
    assert len(logged) == 1 and logged[0].exc_info is not None and logged[0].exc_info[0] is KeyError


async def test_a_tool_of_any_origin_that_raises_is_answered_too(tmp_path: Path) -> None:
    """The graph's own backstop: a tool not built by make_tool (no error handling of its own)."""

    async def explode(key: str) -> str:
        raise KeyError(key)

    policy = ToolPolicy("jira.get_issue", "read", False, "int-jira", "Acme Jira", "jira")
    raw = StructuredTool.from_function(
        coroutine=explode,
        name="acme_jira__get_issue",
        description="Show one Jira issue.",
        args_schema=IssueArgs,
        metadata={METADATA_KEY: policy.__dict__},  # a read, so it runs without asking
    )
    async with open_checkpointer(f"sqlite+aiosqlite:///{tmp_path / 'b.db'}") as saver:
        app = create_app("acme_jira__get_issue", {"key": "OPS-1"}, ["It ", "failed."])
        async with serve_app(app) as base_url:
            model = load_chat_model("openai:gpt-test", api_key="sk-test", base_url=f"{base_url}/v1")
            events = await collect(AgentRunner(model, saver).run_turn(thread_id="b", message="OPS-1?", tools=[raw]))
    result, _ = assert_failed_then_answered(events)
    assert "tool_failed" in result.content and "KeyError" in result.content


async def test_openai_compatible_model_gets_the_error_and_answers(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    words = ["Jira ", "could ", "not ", "be ", "read ", "just ", "now."]
    app = create_app("acme_jira__get_issue", {"key": "OPS-1"}, words)
    async with serve_app(app) as base_url, open_checkpointer(f"sqlite+aiosqlite:///{tmp_path / 'c.db'}") as saver:
        model = load_chat_model("openai:gpt-test", api_key="sk-test", base_url=f"{base_url}/v1")
        runner = AgentRunner(model, saver)
        events = await collect(runner.run_turn(thread_id="c", message="show OPS-1", tools=[broken_jira_tool()]))
    result, final = assert_failed_then_answered(events)
    assert final.content == "".join(words)
    # The model was given the error text, marked as a tool message for that call.
    follow_up = app.state.requests[1]["messages"][-1]
    assert follow_up["role"] == "tool" and follow_up["tool_call_id"] == "call_test_1"
    assert "tool_failed" in follow_up["content"] and "Acme Jira" in follow_up["content"]
    assert result.metadata["tool_call_id"] == "call_test_1"
    assert len(tracebacks(caplog)) == 1
