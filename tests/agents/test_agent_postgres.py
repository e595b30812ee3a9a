"""The conversation and a pending approval survive a new runner on PostgreSQL (a scratch database per run)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

import psycopg
import pytest

from agents.approvals import ApprovalDecision
from agents.checkpoint import open_checkpointer
from agents.runtime import AgentRunner
from tests.agents.agent_helpers import NOTES, collect, make_model, notes_tools

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
pytestmark = pytest.mark.postgres


@pytest.fixture
async def scratch_database() -> AsyncIterator[str]:
    name = f"agents_{uuid.uuid4().hex[:12]}"
    try:
        admin = await psycopg.AsyncConnection.connect(ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL is not reachable at {ADMIN_URL}: {exc}")
    async with admin:
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def test_memory_and_approval_across_runners_on_postgres(scratch_database: str) -> None:
    NOTES.clear()
    NOTES["groceries"] = "milk, eggs"
    async with open_checkpointer(scratch_database) as saver:
        runner = AgentRunner(make_model(), saver)
        await collect(runner.run_turn(thread_id="pg", message="read note groceries", tools=notes_tools()))
        paused = await collect(runner.run_turn(thread_id="pg", message="save note todo: call Bob", tools=notes_tools()))
        assert paused[-1].type == "approval_required"
    async with open_checkpointer(scratch_database) as saver:  # a restarted process
        runner = AgentRunner(make_model(), saver)
        history = await runner.history("pg")
        assert [m.type for m in history][:4] == ["human", "ai", "tool", "ai"]
        assert "milk, eggs" in str(history[3].content)
        pending = await runner.pending_approvals("pg", notes_tools())
        assert [p.tool_name for p in pending] == ["notebook__write"]
        decision = ApprovalDecision(tool_call_id=pending[0].tool_call_id, decision="approve")
        events = await collect(runner.run_turn(thread_id="pg", decisions=[decision], tools=notes_tools()))
        assert events[-1].type == "final" and NOTES["todo"] == "call Bob"
        await runner.rewind("pg", keep_user_turns=1)
        assert [m.type for m in await runner.history("pg")] == ["human", "ai", "tool", "ai"]


async def test_replicas_starting_together_set_up_the_checkpointer_once(scratch_database: str) -> None:
    """Several processes opening the saver on a fresh database at the same moment all start."""

    async def open_one(stack: AsyncExitStack) -> None:
        await stack.enter_async_context(open_checkpointer(scratch_database))

    async with AsyncExitStack() as stack:
        results = await asyncio.gather(*(open_one(stack) for _ in range(4)), return_exceptions=True)
    assert [r for r in results if isinstance(r, BaseException)] == []
