"""The agent runner with the offline model and real (in-memory) tools: event sequence, tool errors,
approvals (approve / edit / reject / deny / always-ask), persistence across runners, rewind, cancel."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Literal

import pytest
from langchain_core.tools import BaseTool

from agents.approvals import ApprovalDecision
from agents.checkpoint import open_checkpointer
from agents.events import AgentEvent
from agents.graph import NOT_RUN
from agents.offline.model import OfflineChatModel
from agents.offline.skill import Call, Reply, Step, ToolInfo, Turn
from agents.policy import ApprovalPolicy, PolicyOverride
from agents.runtime import AgentRunner
from tests.agents.agent_helpers import NOTES, collect, make_model, notes_tools


@pytest.fixture
async def runner(tmp_path: Path) -> AsyncIterator[AgentRunner]:
    NOTES.clear()
    NOTES["groceries"] = "milk, eggs"
    async with open_checkpointer(f"sqlite+aiosqlite:///{tmp_path / 'checkpoints.db'}") as saver:
        yield AgentRunner(make_model(), saver)


async def test_tool_turn_event_sequence(runner: AgentRunner) -> None:
    events = await collect(runner.run_turn(thread_id="t", message="read note groceries", tools=notes_tools()))
    kinds = [e.type for e in events]
    assert kinds[0] == "agent_event" and kinds[1:3] == ["tool_call", "tool_result"]
    assert kinds[-1] == "final" and set(kinds[3:-1]) == {"token"}
    call, result, final = events[1], events[2], events[-1]
    assert call.metadata["tool_name"] == "notebook__read" and call.metadata["args"] == {"key": "groceries"}
    assert result.metadata["tool_call_id"] == call.metadata["tool_call_id"]
    assert result.metadata["status"] == "completed"
    assert result.metadata["result"] == {"key": "groceries", "text": "milk, eggs"}
    assert "".join(e.content for e in events if e.type == "token") == final.content
    assert "milk, eggs" in final.content
    assert final.metadata["finish_reason"] == "stop" and final.metadata["usage"]["total"] > 0


async def test_tool_error_becomes_failed_result_and_honest_answer(runner: AgentRunner) -> None:
    events = await collect(runner.run_turn(thread_id="t", message="read note nothing", tools=notes_tools()))
    result = next(e for e in events if e.type == "tool_result")
    assert result.metadata["status"] == "failed"
    assert "no note called 'nothing'" in events[-1].content
    assert events[-1].type == "final"


async def test_help_lists_capabilities_and_unknown_requests_are_refused(runner: AgentRunner) -> None:
    help_events = await collect(runner.run_turn(thread_id="h", message="what can you do?", tools=notes_tools()))
    assert "Read and save notes" in help_events[-1].content
    assert "Notebook" in help_events[-1].content
    refusal = await collect(runner.run_turn(thread_id="h", message="book me a flight to Paris", tools=notes_tools()))
    assert "can't do that yet" in refusal[-1].content
    assert not [e for e in refusal if e.type == "tool_call"]


async def _pause(
    runner: AgentRunner, thread: str, tools: list[BaseTool], policy: ApprovalPolicy | None = None
) -> AgentEvent:
    events = await collect(
        runner.run_turn(thread_id=thread, message="save note todo: call Bob", tools=tools, policy=policy)
    )
    assert events[-1].type == "approval_required", [e.type for e in events]
    assert "final" not in [e.type for e in events]
    return events[-1]


async def test_write_asks_then_approve_runs_it(runner: AgentRunner) -> None:
    tools = notes_tools()
    request = await _pause(runner, "a", tools)
    assert request.metadata["tool_name"] == "notebook__write"
    assert request.metadata["allowed_decisions"] == ["approve", "edit", "reject"]
    assert "todo" not in NOTES
    pending = await runner.pending_approvals("a", tools)
    assert [p.tool_call_id for p in pending] == [request.metadata["tool_call_id"]]
    decision = ApprovalDecision(tool_call_id=request.metadata["tool_call_id"], decision="approve")
    events = await collect(runner.run_turn(thread_id="a", decisions=[decision], tools=tools))
    assert [e.type for e in events if e.type != "token"] == ["agent_event", "agent_event", "tool_result", "final"]
    assert events[1].metadata["details"]["decision"] == "approve"
    assert NOTES["todo"] == "call Bob"
    assert await runner.pending_approvals("a", tools) == []


async def test_edit_validates_arguments(runner: AgentRunner) -> None:
    tools = notes_tools()
    request = await _pause(runner, "e", tools)
    call_id = request.metadata["tool_call_id"]
    invalid = await collect(
        runner.run_turn(
            thread_id="e",
            tools=tools,
            decisions=[ApprovalDecision(tool_call_id=call_id, decision="edit", args={"key": "", "text": "x"})],
        )
    )
    assert invalid[0].type == "error" and invalid[0].metadata["code"] == "invalid_edit"
    assert invalid[-1].type == "approval_required"  # still paused
    edited = await collect(
        runner.run_turn(
            thread_id="e",
            tools=tools,
            decisions=[
                ApprovalDecision(tool_call_id=call_id, decision="edit", args={"key": "todo", "text": "call Alice"})
            ],
        )
    )
    assert edited[-1].type == "final"
    assert NOTES["todo"] == "call Alice"


async def test_reject_is_explained_and_nothing_runs(runner: AgentRunner) -> None:
    tools = notes_tools()
    request = await _pause(runner, "r", tools)
    events = await collect(
        runner.run_turn(
            thread_id="r",
            tools=tools,
            decisions=[
                ApprovalDecision(tool_call_id=request.metadata["tool_call_id"], decision="reject", reason="not now")
            ],
        )
    )
    result = next(e for e in events if e.type == "tool_result")
    assert result.metadata["status"] == "failed" and "rejected" in result.content
    assert "not now" in events[-1].content
    assert "todo" not in NOTES


async def test_policy_deny_allow_and_phi_always_asks(runner: AgentRunner) -> None:
    deny = ApprovalPolicy(overrides=[PolicyOverride(tool="notes.write", decision="deny")])
    denied = await collect(runner.run_turn(thread_id="d", message="save note x: y", tools=notes_tools(), policy=deny))
    assert [e.type for e in denied if e.type not in ("token",)][-1] == "final"
    assert "denied_by_policy" in next(e for e in denied if e.type == "tool_result").content
    assert "x" not in NOTES

    allow = ApprovalPolicy(overrides=[PolicyOverride(integration_id="int-1", tool="*", decision="allow")])
    allowed = await collect(
        runner.run_turn(thread_id="al", message="save note x: y", tools=notes_tools(), policy=allow)
    )
    assert allowed[-1].type == "final" and NOTES["x"] == "y"

    # An admin "allow" cannot remove the question from a write that touches patient data.
    await _pause(runner, "phi", notes_tools(phi=True), allow)


async def test_pending_approval_survives_a_restart(tmp_path: Path) -> None:
    NOTES.clear()
    url = f"sqlite+aiosqlite:///{tmp_path / 'restart.db'}"
    async with open_checkpointer(url) as saver:
        request = await _pause(AgentRunner(make_model(), saver), "s", notes_tools())
    async with open_checkpointer(url) as saver:  # a new process: new saver, new runner
        runner = AgentRunner(make_model(), saver)
        pending = await runner.pending_approvals("s", notes_tools())
        assert [p.tool_call_id for p in pending] == [request.metadata["tool_call_id"]]
        events = await collect(
            runner.run_turn(
                thread_id="s",
                tools=notes_tools(),
                decisions=[ApprovalDecision(tool_call_id=pending[0].tool_call_id, decision="approve")],
            )
        )
        assert events[-1].type == "final" and NOTES["todo"] == "call Bob"


async def test_memory_rewind_and_moving_on_from_a_pending_approval(runner: AgentRunner) -> None:
    tools = notes_tools()
    await collect(runner.run_turn(thread_id="m", message="hello", tools=tools))
    await _pause(runner, "m", tools)
    # The user ignores the approval and asks something else: the dangling call is answered, history stays valid.
    events = await collect(runner.run_turn(thread_id="m", message="read note groceries", tools=tools))
    assert events[-1].type == "final" and "milk" in events[-1].content
    history = await runner.history("m")
    assert sum(1 for m in history if m.type == "human") == 3
    # The dangling call's result follows the message that asked for it, before the new question.
    asked = next(i for i, m in enumerate(history) if m.type == "ai" and getattr(m, "tool_calls", None))
    answer = history[asked + 1]
    assert answer.type == "tool" and answer.content == NOT_RUN
    assert answer.tool_call_id == history[asked].tool_calls[0]["id"]  # type: ignore[attr-defined]
    assert history[asked + 2].type == "human"
    await runner.rewind("m", keep_user_turns=1)
    assert sum(1 for m in (await runner.history("m")) if m.type == "human") == 1


async def test_cancel_mid_stream_keeps_the_partial_answer_and_a_usable_thread(tmp_path: Path) -> None:
    async with open_checkpointer(f"sqlite+aiosqlite:///{tmp_path / 'c.db'}") as saver:
        runner = AgentRunner(OfflineChatModel(token_delay_s=0.02), saver)
        seen: list[str] = []
        streaming = asyncio.Event()

        async def consume() -> None:
            async for event in runner.run_turn(thread_id="c", message="what can you do?", tools=[]):
                if event.type == "token":
                    seen.append(event.content)
                    if len(seen) >= 3:
                        streaming.set()

        task = asyncio.create_task(consume())
        await asyncio.wait_for(streaming.wait(), 10)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        history = await runner.history("c")
        assert [m.type for m in history] == ["human", "ai"]
        assert history[-1].content == "".join(seen)  # exactly what the user saw, no more
        assert history[-1].response_metadata["finish_reason"] == "cancelled"
        after = await collect(runner.run_turn(thread_id="c", message="hello", tools=[]))
        assert after[-1].type == "final" and "Switchboard" in after[-1].content
        assert [m.type for m in await runner.history("c")] == ["human", "ai", "human", "ai"]


async def test_destructive_always_asks_even_when_an_admin_allows(runner: AgentRunner) -> None:
    allow = ApprovalPolicy(overrides=[PolicyOverride(tool="*", decision="allow")])
    NOTES["old"] = "x"
    events = await collect(
        runner.run_turn(thread_id="del", message="delete note old", tools=notes_tools(), policy=allow)
    )
    assert events[-1].type == "approval_required" and events[-1].metadata["tool_name"] == "notebook__delete"
    assert NOTES["old"] == "x"
    deny_one = ApprovalPolicy(overrides=[allow.overrides[0], PolicyOverride(tool="notebook__delete", decision="deny")])
    denied = await collect(
        runner.run_turn(thread_id="del2", message="delete note old", tools=notes_tools(), policy=deny_one)
    )
    assert "denied_by_policy" in next(e for e in denied if e.type == "tool_result").content
    decision = next(e for e in denied if e.type == "agent_event" and e.metadata["event_type"] == "approval_decision")
    assert decision.metadata["details"]["decision"] == "deny" and decision.metadata["details"]["by"] == "policy"
    assert NOTES["old"] == "x" and denied[-1].type == "final"


async def test_each_turn_runs_its_own_tool_instances(runner: AgentRunner) -> None:
    """Graphs are cached by tool names; the tools that run are always the ones of this turn."""
    alice: dict[str, str] = {"plan": "alice's plan"}
    bob: dict[str, str] = {"plan": "bob's plan"}
    first = await collect(runner.run_turn(thread_id="u1", message="read note plan", tools=notes_tools(store=alice)))
    second = await collect(runner.run_turn(thread_id="u2", message="read note plan", tools=notes_tools(store=bob)))
    assert "alice's plan" in first[-1].content
    assert "bob's plan" in second[-1].content and "alice" not in second[-1].content
    assert len(runner.graphs._cache) == 1


async def test_a_call_to_a_tool_no_longer_available_is_answered_not_run(runner: AgentRunner) -> None:
    request = await _pause(runner, "gone", notes_tools())
    decision = ApprovalDecision(tool_call_id=request.metadata["tool_call_id"], decision="approve")
    events = await collect(runner.run_turn(thread_id="gone", decisions=[decision], tools=notes_tools()[:1]))
    result = next(e for e in events if e.type == "tool_result")
    assert result.metadata["status"] == "failed" and "tool_unavailable" in result.content
    assert "todo" not in NOTES and events[-1].type == "final"


def test_unknown_tools_default_to_ask() -> None:
    from langchain_core.tools import tool

    from agents.policy import decisions_for

    @tool
    def mystery(x: int) -> int:
        """A tool without our metadata."""
        return x

    assert decisions_for([mystery], ApprovalPolicy()) == {"mystery": "ask"}


class TwoSaves:
    """Test skill: saves two notes in one step, then reports every result."""

    name = "two-saves"

    def score(self, turn: Turn) -> float:
        return 1.0

    def step(self, turn: Turn) -> Step:
        if turn.outcomes:
            return Reply("Results: " + "; ".join(o.content for o in turn.outcomes))
        write = next(t.name for t in turn.tools if t.operation == "notes.write")
        return [Call(write, {"key": "a", "text": "1"}), Call(write, {"key": "b", "text": "2"})]

    def capabilities(self, tools: tuple[ToolInfo, ...]) -> list[str]:
        return []


def decide(tool_call_id: str, decision: Literal["approve", "reject"]) -> ApprovalDecision:
    return ApprovalDecision(tool_call_id=tool_call_id, decision=decision)


async def test_two_approvals_answered_one_at_a_time_report_each_result_once(tmp_path: Path) -> None:
    NOTES.clear()
    tools = notes_tools()
    async with open_checkpointer(f"sqlite+aiosqlite:///{tmp_path / 'two.db'}") as saver:
        runner = AgentRunner(OfflineChatModel(skills=(TwoSaves(),)), saver)
        first = await collect(runner.run_turn(thread_id="two", message="go", tools=tools))
        asks = [e.metadata["tool_call_id"] for e in first if e.type == "approval_required"]
        assert len(asks) == 2 and [e.type for e in first].count("tool_call") == 2
        second = await collect(
            runner.run_turn(
                thread_id="two", tools=tools, decisions=[ApprovalDecision(tool_call_id=asks[0], decision="approve")]
            )
        )
        assert [e.type for e in second].count("tool_result") == 1 and second[-1].type != "final"
        assert [p.tool_call_id for p in await runner.pending_approvals("two", tools)] == [asks[1]]
        third = await collect(
            runner.run_turn(
                thread_id="two", tools=tools, decisions=[ApprovalDecision(tool_call_id=asks[1], decision="reject")]
            )
        )
    results = [e.metadata["tool_call_id"] for e in [*first, *second, *third] if e.type == "tool_result"]
    assert sorted(results) == sorted(asks)  # every tool_call exactly one tool_result across the turn
    assert NOTES == {"a": "1"} and third[-1].type == "final" and "rejected_by_user" in third[-1].content


async def test_a_decision_for_an_unknown_call_is_refused_and_the_turn_stays_paused(runner: AgentRunner) -> None:
    request = await _pause(runner, "unk", notes_tools())
    events = await collect(
        runner.run_turn(thread_id="unk", tools=notes_tools(), decisions=[decide("call_nope", "approve")])
    )
    assert [e.type for e in events] == ["error", "approval_required"]
    assert events[0].metadata["code"] == "invalid_edit" and "call_nope" in events[0].content
    assert events[1].metadata["tool_call_id"] == request.metadata["tool_call_id"]
    bad_kind = {"tool_call_id": request.metadata["tool_call_id"], "decision": "maybe"}
    events = await collect(runner.run_turn(thread_id="unk", tools=notes_tools(), decisions=[bad_kind]))
    assert events[0].type == "error" and events[-1].type == "approval_required"
    assert "todo" not in NOTES


async def test_closing_the_stream_early_also_keeps_the_partial_answer(tmp_path: Path) -> None:
    async with open_checkpointer(f"sqlite+aiosqlite:///{tmp_path / 'close.db'}") as saver:
        runner = AgentRunner(OfflineChatModel(token_delay_s=0.01), saver)
        seen: list[str] = []
        stream = runner.run_turn(thread_id="x", message="what can you do?", tools=[])
        async with contextlib.aclosing(stream):
            async for event in stream:
                if event.type == "token":
                    seen.append(event.content)
                    if len(seen) == 4:
                        break
        history = await runner.history("x")
        assert [m.type for m in history] == ["human", "ai"] and history[-1].content == "".join(seen)
        assert (await collect(runner.run_turn(thread_id="x", message="thanks", tools=[])))[-1].type == "final"
