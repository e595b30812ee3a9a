"""In-process CPU per streamed token: the agent layer alone, without a web server.

Streams C concurrent 200-token answers (no tool call) through four paths and prints CPU µs per token
(process CPU time, all threads, divided by tokens received):
  bare            an async generator yielding 200 pre-made tokens (the floor)
  langgraph       a one-node LangGraph graph calling the offline model, `stream_mode="messages"`
  runner/memory   `AgentRunner` (full `create_agent` graph, approvals middleware) on an in-memory checkpointer
  runner/sqlite   the same on `AsyncSqliteSaver` (a file, as in the app)
  runner/help     the product's offline help answer (~45 tokens, so per-turn costs weigh more), SQLite

Usage: `.venv/bin/python bench/agent_tokens.py [--concurrency 1 50 200] [--rounds 3]`.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from langchain_core.messages import BaseMessage, HumanMessage  # noqa: E402
from langgraph.checkpoint.memory import InMemorySaver  # noqa: E402
from langgraph.graph import END, START, MessagesState, StateGraph  # noqa: E402

from agents.checkpoint import open_checkpointer  # noqa: E402
from agents.offline.model import OfflineChatModel, split_tokens  # noqa: E402
from agents.offline.skill import Reply, Step, ToolInfo, Turn  # noqa: E402
from agents.policy import ApprovalPolicy  # noqa: E402
from agents.runtime import AgentRunner  # noqa: E402

TOKENS = 200
ANSWER = " ".join(f"word{i}" for i in range(TOKENS))
Stream = Callable[[], Awaitable[int]]


class LongAnswer:
    """A skill that always answers with the same 200-token reply."""

    name = "long-answer"

    def score(self, turn: Turn) -> float:
        return 1.0

    def step(self, turn: Turn) -> Step:
        return Reply(ANSWER)

    def capabilities(self, tools: tuple[ToolInfo, ...]) -> list[str]:
        return []


def bench_model() -> OfflineChatModel:
    return OfflineChatModel(skills=(LongAnswer(),))


async def bare_tokens() -> AsyncIterator[str]:
    for token in split_tokens(ANSWER):
        yield token


async def bare_stream() -> int:
    return sum([1 async for _ in bare_tokens()])


def langgraph_stream() -> Stream:
    model = bench_model()

    async def call_model(state: MessagesState) -> dict[str, list[BaseMessage]]:
        return {"messages": [await model.ainvoke(state["messages"])]}

    graph = StateGraph(MessagesState).add_node("model", call_model)
    compiled = graph.add_edge(START, "model").add_edge("model", END).compile()

    async def one() -> int:
        count = 0
        async for chunk, _ in compiled.astream({"messages": [HumanMessage("go")]}, stream_mode="messages"):
            count += bool(getattr(chunk, "content", ""))
        return count

    return one


def runner_stream(runner: AgentRunner, message: str = "go") -> Stream:
    policy = ApprovalPolicy()

    async def one() -> int:
        count = 0
        thread = uuid.uuid4().hex
        events = runner.run_turn(thread_id=thread, message=message, tools=(), policy=policy, system_prompt="")
        async for event in events:
            count += event.type == "token"
        return count

    return one


async def measure(stream: Stream, concurrency: int, rounds: int) -> dict[str, float]:
    await stream()  # warm-up: imports, first compile
    cpu_before, wall_before = time.process_time(), time.perf_counter()
    tokens = 0
    for _ in range(rounds):
        tokens += sum(await asyncio.gather(*(stream() for _ in range(concurrency))))
    cpu, wall = time.process_time() - cpu_before, time.perf_counter() - wall_before
    return {"tokens": tokens, "us_per_token": cpu / tokens * 1e6, "tokens_per_s": tokens / wall}


async def main(concurrencies: list[int], rounds: int) -> None:
    rows: list[tuple[str, int, dict[str, float]]] = []
    with tempfile.TemporaryDirectory(prefix="sb-agent-bench-") as tmp:
        async with open_checkpointer(f"sqlite+aiosqlite:///{tmp}/bench.db") as sqlite_saver:
            paths: list[tuple[str, Stream]] = [
                ("bare", bare_stream),
                ("langgraph", langgraph_stream()),
                ("runner/memory", runner_stream(AgentRunner(bench_model(), InMemorySaver()))),
                ("runner/sqlite", runner_stream(AgentRunner(bench_model(), sqlite_saver))),
                ("runner/help", runner_stream(AgentRunner(OfflineChatModel(), sqlite_saver), "what can you do?")),
            ]
            for name, stream in paths:
                for concurrency in concurrencies:
                    rows.append((name, concurrency, await measure(stream, concurrency, rounds)))
    floor = {c: r["us_per_token"] for n, c, r in rows if n == "bare"}
    print(f"{'path':<15}{'C':>5}{'tokens':>9}{'CPU µs/token':>14}{'x floor':>9}{'tokens/s':>11}")
    for name, concurrency, result in rows:
        print(
            f"{name:<15}{concurrency:>5}{result['tokens']:>9.0f}{result['us_per_token']:>14.1f}"
            f"{result['us_per_token'] / floor[concurrency]:>9.0f}{result['tokens_per_s']:>11.0f}"
        )


def parse_args(argv: list[str] | None = None) -> Any:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 50, 200])
    parser.add_argument("--rounds", type=int, default=3)
    return parser.parse_args(argv)


if __name__ == "__main__":
    args = parse_args()
    asyncio.run(main(args.concurrency, args.rounds))
