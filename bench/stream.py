"""Streaming capacity: server CPU per streamed token over WebSocket, at C concurrent turns.

Every turn streams the offline model's detailed guide ("Give me a detailed guide to Switchboard", 200+
tokens, no tool call). The baselines stream the guide as written for the shared tools a new user has
(the product's user also has the HL7 message-store tools, so its guide is a line longer: see tok/turn).
The same client runs against three servers, each its own process on loopback:
  bare         a FastAPI WebSocket endpoint streaming that answer's tokens, pre-made (the floor)
  langgraph    a FastAPI WebSocket endpoint streaming the offline model through a one-node LangGraph
               graph (`stream_mode="messages"`)
  switchboard  the product (`switchboard serve`): auth, sessions, the user's toolset, the full agent with
               the SQLite checkpointer, the stream hub, one persistence transaction per turn

A turn counts as an error unless its tokens concatenate exactly to its `final` and number at least 200.
A level of C runs max(1, ceil(20 / C)) successive waves of C concurrent turns (C=1: 20 turns in a row).
Prints time to first token p50/p99, aggregate tokens/s, errors, server RSS and server CPU µs per token
(utime+stime of the server process from /proc), each the median over `--rounds`, and the ratio to the
floor. `--profile DIR` records the switchboard server with py-spy while it is measured (collapsed
stacks, one file per level).

Usage: `python bench/stream.py [--concurrency 1 50 200] [--rounds 3] [--servers bare langgraph switchboard]`
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import websockets
from fastapi import FastAPI, WebSocket, WebSocketDisconnect

ROOT = Path(__file__).resolve().parent.parent
QUESTION = "Give me a detailed guide to Switchboard"
MIN_TOKENS = 200
MIN_TURNS = 20
CLK_TCK = os.sysconf("SC_CLK_TCK")
SERVERS = ("bare", "langgraph", "switchboard")


# ----------------------------------------------------------------------------- baseline servers


def serve_baseline(kind: str, port: int) -> None:
    """A bare endpoint streaming the guide: pre-made tokens, or the offline model in a one-node graph."""
    import uvicorn
    from langchain_core.messages import HumanMessage
    from langgraph.graph import END, START, MessagesState, StateGraph

    from agents.offline.model import OfflineChatModel, split_tokens
    from tools.base import ToolServices
    from tools.registry import connectors

    async def no_audit(_: Any) -> None:
        return None

    # The shared tools a new product user has, so the answer is the product's guide (less the HL7 store line).
    services = ToolServices(user_id="bench", audit=no_audit, hl7_store=None)
    shared = [tool for c in connectors().values() for tool in c.build_shared_tools([], services)]
    model = OfflineChatModel().bind_tools(shared)
    answer = str(model.invoke([HumanMessage(QUESTION)]).content)
    premade = split_tokens(answer)

    async def call_model(state: MessagesState) -> dict[str, Any]:
        return {"messages": [await model.ainvoke(state["messages"])]}

    builder = StateGraph(MessagesState).add_node("model", call_model)
    graph = builder.add_edge(START, "model").add_edge("model", END).compile()
    app = FastAPI()

    @app.websocket("/ws")
    async def ws(socket: WebSocket) -> None:
        await socket.accept()
        try:
            await socket.receive_text()
        except WebSocketDisconnect:  # the readiness probe
            return
        seq = 0
        if kind == "bare":
            for token in premade:
                seq += 1
                await socket.send_text(json.dumps({"type": "token", "content": token, "seq": seq}))
        else:
            stream = graph.astream({"messages": [HumanMessage(QUESTION)]}, stream_mode="messages")
            async for chunk, _ in stream:
                text = getattr(chunk, "content", "")
                if text:
                    seq += 1
                    await socket.send_text(json.dumps({"type": "token", "content": text, "seq": seq}))
        await socket.send_text(json.dumps({"type": "final", "content": answer, "seq": seq + 1}))
        await socket.close()

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", ws_per_message_deflate=False)


# ----------------------------------------------------------------------------- measurement


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def one_turn(url: str, first_frame: str | None) -> tuple[float, int, bool]:
    """(time to first token, tokens, ok): ok only if the tokens make up exactly the final answer."""
    started = time.perf_counter()
    first_token = 0.0
    parts: list[str] = []
    async with websockets.connect(url, max_size=2**22, compression=None) as socket:
        if first_frame is not None:
            await socket.send(first_frame)
        while True:
            frame = json.loads(await asyncio.wait_for(socket.recv(), 120))
            if frame["type"] == "token":
                if not parts:
                    first_token = time.perf_counter() - started
                parts.append(frame["content"])
            elif frame["type"] == "final":
                ok = "".join(parts) == frame["content"] and len(parts) >= MIN_TOKENS
                return first_token, len(parts), ok
            elif frame["type"] == "error":
                return first_token, len(parts), False


def waves(level: int) -> int:
    """Successive waves of `level` concurrent turns in one measurement: at least 20 turns, so the CPU
    time of a small level spans enough 10 ms clock ticks of /proc to mean something."""
    return max(1, -(-MIN_TURNS // level))


async def run_level(pid: int, waves_of_urls: list[list[str]], first_frame: str | None) -> dict[str, Any]:
    cpu_before, wall_before = cpu_seconds(pid), time.perf_counter()
    results: list[Any] = []
    for urls in waves_of_urls:
        results += await asyncio.gather(*(one_turn(u, first_frame) for u in urls), return_exceptions=True)
    wall = time.perf_counter() - wall_before
    cpu = cpu_seconds(pid) - cpu_before
    ok = [r for r in results if isinstance(r, tuple) and r[2]]
    tokens = sum(r[1] for r in ok)
    ttft = sorted(r[0] for r in ok) or [0.0]
    return {
        "ttft_p50_ms": statistics.median(ttft) * 1000,
        "ttft_p99_ms": ttft[min(len(ttft) - 1, int(len(ttft) * 0.99))] * 1000,
        "tokens_per_s": tokens / wall if wall else 0.0,
        "errors": len(results) - len(ok),
        "rss_mb": rss_mb(pid),
        "cpu_us_per_token": cpu * 1e6 / tokens if tokens else float("nan"),
        "tokens_per_turn": tokens / len(ok) if ok else 0.0,
    }


def median_row(server: str, level: int, runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Each metric's median over the rounds; errors are summed (zero means zero in every round)."""
    row: dict[str, Any] = {"server": server, "C": level}
    for key in runs[0]:
        values = [r[key] for r in runs]
        row[key] = sum(values) if key == "errors" else statistics.median(values)
    return row


class Profiler:
    """py-spy attached to the server while one level is measured (collapsed stacks for reading)."""

    def __init__(self, out_dir: Path | None, pid: int) -> None:
        self.out_dir, self.pid = out_dir, pid
        self.process: asyncio.subprocess.Process | None = None

    async def start(self, name: str) -> None:
        if self.out_dir is None:
            return
        py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
        self.out_dir.mkdir(parents=True, exist_ok=True)
        args = ["record", "--pid", str(self.pid), "--format", "raw", "--rate", "250", "--gil"]
        self.process = await asyncio.create_subprocess_exec(
            py_spy, *args, "-o", str(self.out_dir / f"{name}.txt"), stdout=subprocess.DEVNULL
        )
        await asyncio.sleep(1)  # attached before the level starts

    async def stop(self) -> None:
        if self.process is not None:
            if self.process.returncode is None:
                self.process.send_signal(2)  # SIGINT: py-spy writes its output and exits
            await asyncio.wait_for(self.process.wait(), 30)
            self.process = None


async def wait_http(url: str) -> None:
    async with httpx.AsyncClient(timeout=1) as http:
        for _ in range(300):
            try:
                if (await http.get(url)).status_code < 500:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def bench_switchboard(levels: list[int], rounds: int, message: str, profile: Path | None) -> list[dict[str, Any]]:
    port = free_port()
    data = tempfile.mkdtemp(prefix="sb-bench-")
    env = {
        **os.environ,
        "DATA_DIR": data,
        "SECRET_KEY": "bench-secret-" + "x" * 32,
        "LOG_LEVEL": "WARNING",
        "DATABASE_URL": f"sqlite+aiosqlite:///{data}/bench.db",
        "DEMO_MODE": "false",
        # The bench creates hundreds of sessions a minute for one user; it measures streaming, not limits.
        "RATE_LIMIT_DEFAULT": "1000000/minute",
        "RATE_LIMIT_AUTH": "1000000/minute",
        "RATE_LIMIT_CHAT": "1000000/minute",
    }
    server = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "backend.cli",
        "serve",
        "--port",
        str(port),
        "--migrate",
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    profiler = Profiler(profile, server.pid)
    try:
        base = f"http://127.0.0.1:{port}"
        await wait_http(base + "/health")
        async with httpx.AsyncClient(base_url=base, timeout=60) as http:
            await http.post(
                "/api/v1/auth/register",
                json={"email": "b@example.com", "username": "bench", "password": "bench-password"},
            )
            login = {"username": "bench", "password": "bench-password"}
            token = (await http.post("/api/v1/auth/login", json=login)).json()["access_token"]
            headers = {"Authorization": f"Bearer {token}"}

            async def session_urls(count: int) -> list[str]:
                # A session created with its first message; opening its WebSocket starts the answer.
                ids = [
                    (await http.post("/api/v1/chat/sessions", json={"message": message}, headers=headers)).json()[
                        "session_id"
                    ]
                    for _ in range(count)
                ]
                return [f"ws://127.0.0.1:{port}/api/v1/chat/ws/{sid}?token={token}" for sid in ids]

            await run_level(server.pid, [await session_urls(2)], None)  # warm-up: imports, graph compile
            rows = []
            for level in levels:
                runs = []
                for round_no in range(rounds):
                    urls = [await session_urls(level) for _ in range(waves(level))]
                    await profiler.start(f"switchboard-c{level}-r{round_no}")
                    runs.append(await run_level(server.pid, urls, None))
                    await profiler.stop()
                rows.append(median_row("switchboard", level, runs))
            return rows
    finally:
        await profiler.stop()
        if server.returncode is None:
            server.terminate()
            await asyncio.wait_for(server.wait(), 30)
        shutil.rmtree(data, ignore_errors=True)


async def bench_baseline(kind: str, levels: list[int], rounds: int) -> list[dict[str, Any]]:
    port = free_port()
    server = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--serve", kind, "--port", str(port), cwd=ROOT
    )
    url = f"ws://127.0.0.1:{port}/ws"
    try:
        for _ in range(300):
            if server.returncode is not None:
                raise RuntimeError(f"the {kind} server exited with {server.returncode}")
            try:
                async with websockets.connect(url):
                    break
            except OSError:
                await asyncio.sleep(0.1)
        await run_level(server.pid, [[url] * 2], "go")  # warm-up
        rows = []
        for level in levels:
            urls = [[url] * level] * waves(level)
            runs = [await run_level(server.pid, urls, "go") for _ in range(rounds)]
            rows.append(median_row(kind, level, runs))
        return rows
    finally:
        if server.returncode is None:
            server.terminate()
            await asyncio.wait_for(server.wait(), 10)


def print_table(rows: list[dict[str, Any]]) -> None:
    floor = {r["C"]: r["cpu_us_per_token"] for r in rows if r["server"] == "bare"}
    print(
        f"{'server':12} {'C':>4} {'ttft p50':>10} {'ttft p99':>10} {'tok/s':>7} {'tok/turn':>8} {'err':>4} "
        f"{'RSS MB':>7} {'µs/token':>9} {'ms/turn':>8} {'x floor':>7}"
    )
    for r in rows:
        ratio = r["cpu_us_per_token"] / floor[r["C"]] if floor.get(r["C"]) else float("nan")
        print(
            f"{r['server']:12} {r['C']:>4} {r['ttft_p50_ms']:>8.1f}ms {r['ttft_p99_ms']:>8.1f}ms "
            f"{r['tokens_per_s']:>7.0f} {r['tokens_per_turn']:>8.0f} {r['errors']:>4} {r['rss_mb']:>7.1f} "
            f"{r['cpu_us_per_token']:>9.1f} {r['cpu_us_per_token'] * r['tokens_per_turn'] / 1000:>8.1f} {ratio:>7.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 50, 200])
    parser.add_argument("--rounds", type=int, default=3, help="runs per level; the table shows medians")
    parser.add_argument("--servers", nargs="+", choices=SERVERS, default=list(SERVERS))
    parser.add_argument("--message", default=QUESTION, help="the switchboard turn's user message")
    parser.add_argument("--profile", type=Path, help="py-spy the switchboard server into this directory")
    parser.add_argument("--serve", choices=["bare", "langgraph"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve_baseline(args.serve, args.port)
        return
    rows: list[dict[str, Any]] = []
    for kind in ("bare", "langgraph"):
        if kind in args.servers:
            rows += asyncio.run(bench_baseline(kind, args.concurrency, args.rounds))
    if "switchboard" in args.servers:
        rows += asyncio.run(bench_switchboard(args.concurrency, args.rounds, args.message, args.profile))
    print_table(rows)


if __name__ == "__main__":
    # Run as a script, Python puts bench/ first on the path; the project root serves better there (the
    # checkout's packages, and no sibling script can shadow a library).
    sys.path[0] = str(ROOT)
    main()
