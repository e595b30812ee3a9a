"""Streaming capacity: server CPU per streamed token over WebSocket, at C concurrent turns.

Runs the same client against three servers, each a separate process on loopback:
  bare      a FastAPI WebSocket endpoint streaming pre-made tokens (the floor)
  langgraph a FastAPI WebSocket endpoint streaming the offline model through a one-node LangGraph graph
  switchboard  the real product: auth, sessions, the full agent, persistence, the stream hub

Prints time to first token p50/p99, aggregate tokens/s, errors, server RSS and server CPU µs per token
(utime+stime from /proc of the server process). Usage: `python bench/stream.py [--concurrency 1 50 200]`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
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
TOKENS = 200
CLK_TCK = os.sysconf("SC_CLK_TCK")


# ----------------------------------------------------------------------------- baseline servers


def serve_baseline(kind: str, port: int) -> None:
    import uvicorn
    from langchain_core.messages import HumanMessage
    from langgraph.graph import END, START, MessagesState, StateGraph

    from agents.offline.model import OfflineChatModel, split_tokens

    words = " ".join(f"word{i}" for i in range(TOKENS))
    app = FastAPI()

    class Echo(OfflineChatModel):
        def _decide(self, messages: list[Any]) -> Any:
            from langchain_core.messages import AIMessage

            return AIMessage(content=words)

    model = Echo()

    async def call_model(state: MessagesState) -> dict[str, Any]:
        return {"messages": [await model.ainvoke(state["messages"])]}

    builder = StateGraph(MessagesState).add_node("model", call_model)
    graph = builder.add_edge(START, "model").add_edge("model", END).compile()
    premade = split_tokens(words)

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
            async for chunk, _ in graph.astream({"messages": [HumanMessage("go")]}, stream_mode="messages"):
                seq += 1
                text = getattr(chunk, "content", "")
                await socket.send_text(json.dumps({"type": "token", "content": text, "seq": seq}))
        await socket.send_text(json.dumps({"type": "final", "seq": seq + 1}))
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


async def one_turn(url: str, first_frame: str | None, until: str = "final") -> tuple[float, int, bool]:
    started = time.perf_counter()
    first_token = 0.0
    tokens = 0
    async with websockets.connect(url, max_size=2**22, compression=None) as socket:
        if first_frame is not None:
            await socket.send(first_frame)
        while True:
            frame = json.loads(await asyncio.wait_for(socket.recv(), 60))
            if frame["type"] == "token":
                tokens += 1
                if tokens == 1:
                    first_token = time.perf_counter() - started
            elif frame["type"] == until:
                return first_token, tokens, True
            elif frame["type"] == "error":
                return first_token, tokens, False


async def run_level(pid: int, urls: list[str], first_frame: str | None) -> dict[str, Any]:
    cpu_before, wall_before = cpu_seconds(pid), time.perf_counter()
    results = await asyncio.gather(*(one_turn(u, first_frame) for u in urls), return_exceptions=True)
    wall = time.perf_counter() - wall_before
    cpu = cpu_seconds(pid) - cpu_before
    ok = [r for r in results if isinstance(r, tuple) and r[2]]
    tokens = sum(r[1] for r in ok)
    ttft = sorted(r[0] for r in ok) or [0.0]
    return {
        "ttft_p50_ms": statistics.median(ttft) * 1000,
        "ttft_p99_ms": ttft[min(len(ttft) - 1, int(len(ttft) * 0.99))] * 1000,
        "tokens_per_s": tokens / wall if wall else 0.0,
        "errors": len(urls) - len(ok),
        "rss_mb": rss_mb(pid),
        "cpu_us_per_token": cpu * 1e6 / tokens if tokens else float("nan"),
        "tokens": tokens,
    }


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


async def bench_switchboard(levels: list[int]) -> list[dict[str, Any]]:
    port = free_port()
    data = tempfile.mkdtemp(prefix="sb-bench-")
    env = {
        **os.environ,
        "DATA_DIR": data,
        "SECRET_KEY": "bench-secret-" + "x" * 32,
        "LOG_LEVEL": "WARNING",
        "DATABASE_URL": f"sqlite+aiosqlite:///{data}/bench.db",
        "DEMO_MODE": "false",
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
    try:
        base = f"http://127.0.0.1:{port}"
        await wait_http(base + "/health")
        async with httpx.AsyncClient(base_url=base, timeout=60) as http:
            await http.post(
                "/api/v1/auth/register",
                json={"email": "b@example.com", "username": "bench", "password": "bench-password"},
            )
            token = (
                await http.post("/api/v1/auth/login", json={"username": "bench", "password": "bench-password"})
            ).json()["access_token"]
            rows = []
            for level in levels:
                sessions = [
                    (
                        await http.post(
                            "/api/v1/chat/sessions",
                            json={"message": "what can you do?"},
                            headers={"Authorization": f"Bearer {token}"},
                        )
                    ).json()["session_id"]
                    for _ in range(level)
                ]
                urls = [f"ws://127.0.0.1:{port}/api/v1/chat/ws/{sid}?token={token}" for sid in sessions]
                rows.append({"server": "switchboard", "C": level, **await run_level(server.pid, urls, None)})
            return rows
    finally:
        server.terminate()
        await asyncio.wait_for(server.wait(), 10)


async def bench_baseline(kind: str, levels: list[int]) -> list[dict[str, Any]]:
    port = free_port()
    server = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--serve", kind, "--port", str(port), cwd=ROOT
    )
    try:
        for _ in range(300):
            try:
                async with websockets.connect(f"ws://127.0.0.1:{port}/ws"):
                    break
            except OSError:
                await asyncio.sleep(0.1)
        return [
            {"server": kind, "C": level, **await run_level(server.pid, [f"ws://127.0.0.1:{port}/ws"] * level, "go")}
            for level in levels
        ]
    finally:
        server.terminate()
        await asyncio.wait_for(server.wait(), 10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 50, 200])
    parser.add_argument("--serve", choices=["bare", "langgraph"])
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    if args.serve:
        serve_baseline(args.serve, args.port)
        return
    rows: list[dict[str, Any]] = []
    for kind in ("bare", "langgraph"):
        rows += asyncio.run(bench_baseline(kind, args.concurrency))
    rows += asyncio.run(bench_switchboard(args.concurrency))
    floor = {r["C"]: r["cpu_us_per_token"] for r in rows if r["server"] == "bare"}
    print(
        f"{'server':12} {'C':>4} {'ttft p50':>9} {'ttft p99':>9} {'tok/s':>9} {'err':>4} {'RSS MB':>7} "
        f"{'µs/token':>9} {'x floor':>7}"
    )
    for r in rows:
        ratio = r["cpu_us_per_token"] / floor[r["C"]] if floor.get(r["C"]) else float("nan")
        print(
            f"{r['server']:12} {r['C']:>4} {r['ttft_p50_ms']:>8.1f}ms {r['ttft_p99_ms']:>8.1f}ms "
            f"{r['tokens_per_s']:>9.0f} {r['errors']:>4} {r['rss_mb']:>7.1f} {r['cpu_us_per_token']:>9.1f} "
            f"{ratio:>7.2f}"
        )


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
